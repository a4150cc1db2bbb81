"""clean of a sorted, indexed BAM chunk by chunk: the same bytes at any --threads, nothing lost.

On the committed chr20 slice cut into many chunks (`--chunk-records`), with mates and the hits of
multi-mapped reads in other chunks; and on a BAM with several contigs, empty and small ones and
unplaced unmapped records, against the one-pass clean of the same BAM without its index.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pysam
import pytest

from splamflow.clean.alignments import clean_alignments
from splamflow.clean.options import CleanOptions
from splamflow.clean.scores import read_scores
from splamflow.cli import main
from splamflow.io.bam_chunks import chunk_records, plan_chunks

DATA = Path(__file__).resolve().parents[1] / "data"
BAM = DATA / "chr20_slice.bam"
SCORES = DATA / "golden" / "scores.bed"  # the CLI's scores of the slice's junctions
OUTPUTS = ("kept.bam", "kept.bam.bai", "gone.bam", "gone.bam.bai", "stats.json")


def _records(path: Path) -> list[str]:
    with pysam.AlignmentFile(str(path), "rb") as bam:
        return [r.to_string() for r in bam.fetch(until_eof=True)]


def _clean(folder: Path, bam: Path, *extra: str) -> dict[str, bytes]:
    """Run clean in `folder` under the same output names every time (the @PG line holds them as
    given); its outputs."""
    folder.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        argv = ["clean", str(bam), "--scores", str(SCORES), "-o", "kept.bam", "--discarded", "gone.bam",
                "--stats", "stats.json", *extra]
        assert main(argv) == 0
    return {name: (folder / name).read_bytes() for name in OUTPUTS if (folder / name).exists()}


@pytest.mark.parametrize("mode", [["--paired"], ["--drop-pairs", "--mark-unmapped"]])
def test_threads_give_the_same_bytes(tmp_path, mode):
    with pysam.AlignmentFile(str(BAM)) as bam:
        assert len(plan_chunks(bam, 400)) >= 10  # the slice really is cut
    runs = {t: _clean(tmp_path / f"t{t}", BAM, *mode, "--threads", str(t), "--chunk-records", "400")
            for t in (1, 2)}
    assert set(runs[1]) == set(OUTPUTS)
    assert runs[2] == runs[1]
    # the chunks change where BGZF blocks end, not a record: the one-chunk (default) run holds the same ones
    whole = tmp_path / "whole"
    _clean(whole, BAM, *mode)
    for name in ("kept.bam", "gone.bam"):
        assert _records(tmp_path / "t2" / name) == _records(whole / name)
    kept, gone = _records(whole / "kept.bam"), _records(whole / "gone.bam")
    assert len(gone) > 50 and len(kept) + len(gone) == len(_records(BAM))


def test_three_workers_through_the_api(tmp_path):
    """The CLI caps --threads at the CPUs (2 on the test machine): three workers through the API."""
    scores = read_scores(SCORES)
    out = {}
    for threads in (1, 3):
        folder = tmp_path / f"t{threads}"
        folder.mkdir()
        kept, gone = (folder / "k.bam", folder / "k.bai"), (folder / "g.bam", folder / "g.bai")
        stats = clean_alignments(BAM, scores, kept, gone,
                                 CleanOptions(paired=True, threads=threads, chunk_records=300))
        out[threads] = ([p.read_bytes() for p in (*kept, *gone)], stats.as_dict())
    assert out[3] == out[1]
    assert out[1][1]["records_in"] == 5238 and out[1][1]["records_discarded"] > 50


def _many_contigs(path: Path) -> Path:
    """The slice's records on contig '20', a few of them copied to a small contig before it and one
    after it, an empty contig, and unplaced unmapped records at the end; sorted and indexed."""
    with pysam.AlignmentFile(str(BAM)) as src:
        records = [r.to_dict() for r in src.fetch(until_eof=True)]
    header = {"HD": {"VN": "1.6", "SO": "coordinate"},
              "SQ": [{"SN": "small1", "LN": 2_000_000}, {"SN": "20", "LN": 2_000_000},
                     {"SN": "empty", "LN": 1000}, {"SN": "small2", "LN": 2_000_000}]}
    out_header = pysam.AlignmentHeader.from_dict(header)
    with pysam.AlignmentFile(str(path), "wb", header=out_header) as out:
        for contig, chosen in (("small1", records[:40]), ("20", records), ("small2", records[100:130])):
            for fields in chosen:
                copy = dict(fields, ref_name=contig)
                if contig != "20":
                    copy["name"] = f"{contig}.{fields['name']}"
                    if copy["next_ref_name"] not in ("*", "="):
                        copy["next_ref_name"] = contig
                out.write(pysam.AlignedSegment.from_dict(copy, out_header))
        for i in range(7):
            unplaced = pysam.AlignedSegment(out_header)
            unplaced.query_name, unplaced.flag, unplaced.query_sequence = f"unplaced{i}", 4, "ACGTACGT"
            out.write(unplaced)
    pysam.index(str(path))
    return path


def test_contigs_small_empty_and_unplaced(tmp_path):
    bam = _many_contigs(tmp_path / "many.bam")
    with pysam.AlignmentFile(str(bam)) as handle:
        chunks = plan_chunks(handle, 300)
    contigs = [[region.contig for region in chunk] for chunk in chunks]
    assert contigs[0] == ["small1"]  # a contig that is cut ends the chunk before it
    assert contigs[-1] == ["small2", "*"]  # small neighbours share a chunk
    assert not any("empty" in c for c in contigs)
    assert sum(c == ["20"] for c in contigs) >= 15
    chunked = _clean(tmp_path / "chunked", bam, "--paired", "--threads", "2", "--chunk-records", "300")
    # the same BAM without its index is cleaned in one pass
    plain = tmp_path / "plain" / "many.bam"
    plain.parent.mkdir()
    shutil.copy(bam, plain)
    _clean(tmp_path / "one_pass", plain, "--paired")
    for name in ("kept.bam", "gone.bam"):
        assert _records(tmp_path / "chunked" / name) == _records(tmp_path / "one_pass" / name)
    kept, gone = _records(tmp_path / "chunked" / "kept.bam"), _records(tmp_path / "chunked" / "gone.bam")
    assert Counter(r.split("\t")[0] for r in kept + gone) == Counter(r.split("\t")[0] for r in _records(bam))
    assert sum(r.startswith("unplaced") for r in kept) == 7
    assert "kept.bam.bai" in chunked


def test_an_index_of_another_bam_is_an_error(tmp_path, capsys):
    """An index that counts other records than the BAM holds would lose or invent records: refused."""
    bam = tmp_path / "slice.bam"
    with pysam.AlignmentFile(str(BAM)) as src, pysam.AlignmentFile(str(bam), "wb", template=src) as out:
        for read in src.fetch(until_eof=True):
            out.write(read)
            out.write(read)  # every record twice: an index of the slice counts half of them
    shutil.copy(DATA / "chr20_slice.bam.bai", tmp_path / "slice.bam.bai")
    argv = ["clean", str(bam), "--scores", str(SCORES), "-o", str(tmp_path / "kept.bam")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "index it again with `samtools index`" in err and str(bam) in err
    assert not (tmp_path / "kept.bam").exists()


def test_a_short_contig_with_many_records_is_cut_per_base_at_most(tmp_path):
    header = pysam.AlignmentHeader.from_dict({"HD": {"VN": "1.6", "SO": "coordinate"},
                                              "SQ": [{"SN": "tiny", "LN": 5}]})
    bam = tmp_path / "tiny.bam"
    with pysam.AlignmentFile(str(bam), "wb", header=header) as out:
        for i in range(50):
            read = pysam.AlignedSegment(header)
            read.query_name, read.reference_id, read.reference_start = f"r{i:02d}", 0, i // 10
            read.cigarstring, read.query_sequence = "1M", "A"
            out.write(read)
    pysam.index(str(bam))
    with pysam.AlignmentFile(str(bam)) as handle:
        chunks = plan_chunks(handle, 3)
        assert [[(r.start, r.end) for r in chunk] for chunk in chunks] == [[(0, 1)], [(1, 2)], [(2, 3)], [(3, 4)],
                                                                           [(4, None)]]
        names = [read.query_name for chunk in chunks for read in chunk_records(handle, chunk)]
    assert names == [f"r{i:02d}" for i in range(50)]


def test_a_record_placed_at_pos_0_is_not_lost(tmp_path):
    """An unmapped record with RNAME set and POS 0 (legal SAM) is counted by the index but returned by no
    region query: the chunked read misses it, so the file is read in one pass instead, losing nothing."""
    bam = tmp_path / "pos0.bam"
    with pysam.AlignmentFile(str(BAM)) as src, pysam.AlignmentFile(str(bam), "wb", template=src) as out:
        odd = pysam.AlignedSegment(out.header)
        odd.query_name, odd.flag, odd.reference_id, odd.reference_start = "pos0", 4, 0, -1
        odd.query_sequence, odd.query_qualities = "ACGT", pysam.qualitystring_to_array("IIII")
        out.write(odd)  # sorts first: POS 0 before any position of the contig
        for read in src.fetch(until_eof=True):
            out.write(read)
    pysam.index(str(bam))
    with pysam.AlignmentFile(str(bam)) as handle:
        assert sum(1 for chunk in plan_chunks(handle, 400) for _ in chunk_records(handle, chunk)) == \
            len(_records(bam)) - 1
    chunked = _clean(tmp_path / "chunked", bam, "--paired", "--threads", "2", "--chunk-records", "400")
    plain = tmp_path / "plain" / "pos0.bam"
    plain.parent.mkdir()
    shutil.copy(bam, plain)
    _clean(tmp_path / "one_pass", plain, "--paired")
    for name in ("kept.bam", "gone.bam"):  # the records of the one-pass clean of the unindexed copy
        assert _records(tmp_path / "chunked" / name) == _records(tmp_path / "one_pass" / name)
    kept, gone = _records(tmp_path / "chunked" / "kept.bam"), _records(tmp_path / "chunked" / "gone.bam")
    assert Counter(r.split("\t")[0] for r in kept + gone) == Counter(r.split("\t")[0] for r in _records(bam))
    assert kept[0].startswith("pos0\t4\t20\t0\t") and "kept.bam.bai" in chunked
