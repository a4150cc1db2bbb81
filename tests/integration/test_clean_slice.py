"""extract -> clean on the committed chr20 slice (paired, multi-mapped, dUTP RNA-seq with spurious junctions).

Scores come from the slice's truth table (annotated junctions score high, the simulated spurious ones
low) so the test does not depend on the model: it checks the clean-up end to end on a real BAM.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from pathlib import Path

import pysam
import pytest

from splamflow.cli import main
from splamflow.io.alignments import read_introns
from splamflow.io.annotation import read_transcripts

DATA = Path(__file__).resolve().parents[1] / "data"
BAM = DATA / "chr20_slice.bam"
FASTA = DATA / "chr20_slice.fa.gz"
GTF = DATA / "chr20_slice.gtf"
TRUTH = DATA / "chr20_slice.truth.tsv"

pytestmark = pytest.mark.skipif(not BAM.exists(), reason="tests/data slice not present")


def _truth() -> dict[tuple, bool]:
    with open(TRUTH) as handle:
        return {
            (r["chrom"], int(r["start"]), int(r["end"]), r["strand"]): r["is_annotated"] == "1"
            for r in csv.DictReader(handle, delimiter="\t")
        }


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> tuple[Path, dict]:
    """Extract the slice's junctions, then give them truth-based scores in the score-output layout."""
    tmp = tmp_path_factory.mktemp("slice")
    junctions = tmp / "junctions.bed"
    assert main(["extract", str(BAM), "-o", str(junctions)]) == 0
    truth = _truth()
    scores = tmp / "scores.bed"
    with open(junctions) as src, open(scores, "w") as out:
        for line in src:
            if line.startswith("#splamflow "):  # the strand source, which clean checks, as score copies it
                out.write(line)
                continue
            f = line.rstrip("\n").split("\t")
            good = truth[(f[0], int(f[1]), int(f[2]), f[5])]
            donor, acceptor = (0.97, 0.93) if good else (0.02, 0.71)
            out.write("\t".join([*f[:4], f"{min(donor, acceptor):.10f}", f[5],
                                 f"{donor:.10f}", f"{acceptor:.10f}"]) + "\n")
    return scores, truth


def _records(path: Path) -> list[pysam.AlignedSegment]:
    with pysam.AlignmentFile(str(path), "rb") as bam:
        return list(bam)


def _identity(r: pysam.AlignedSegment) -> tuple:
    return (r.query_name, r.is_read1, r.reference_start, r.cigarstring, r.get_tag("HI"), r.is_secondary)


def _spurious(r: pysam.AlignedSegment, truth: dict) -> bool:
    strand = r.get_tag("XS") if r.has_tag("XS") else "."
    return any(truth.get(("20", s, e, strand)) is False for s, e in read_introns(r))


@pytest.mark.parametrize("mode", [["--paired"], ["--drop-pairs"], []])
def test_slice_clean(tmp_path, scored, mode):
    scores, truth = scored
    kept, dropped, stats = tmp_path / "kept.bam", tmp_path / "dropped.bam", tmp_path / "stats.json"
    rc = main(["clean", str(BAM), "--scores", str(scores), "-o", str(kept), "--discarded", str(dropped),
               "--stats", str(stats), "--threads", "2", *mode])
    assert rc == 0
    before, k, d = _records(BAM), _records(kept), _records(dropped)
    # kept + discarded = input, record for record
    assert Counter(map(_identity, before)) == Counter(map(_identity, k)) + Counter(map(_identity, d))
    # the rule: exactly the records crossing a spurious junction (plus their mates with --drop-pairs)
    by_rule = {_identity(r) for r in before if _spurious(r, truth)}
    assert by_rule and by_rule <= {_identity(r) for r in d}
    assert not any(_spurious(r, truth) for r in k)
    mates_of_removed = {(r.query_name, r.is_read1, r.get_tag("HI")) for r in d}
    for r in d:
        if _identity(r) not in by_rule:
            assert mode == ["--drop-pairs"]
            assert (r.query_name, not r.is_read1, r.get_tag("HI")) in mates_of_removed
    # NH = records left per read; HI = 1..NH; surviving mates share HI
    per_read = defaultdict(list)
    for r in k:
        per_read[(r.query_name, r.is_read1)].append(r)
    for records in per_read.values():
        assert all(r.get_tag("NH") == len(records) for r in records)
        assert sorted(r.get_tag("HI") for r in records) == list(range(1, len(records) + 1))
    kept_at = {(r.query_name, r.is_read1, r.reference_start, r.get_tag("HI")) for r in k}
    for r in k:
        mate_there = (r.query_name, not r.is_read1, r.next_reference_start, r.get_tag("HI")) in kept_at
        if mode:
            assert mate_there or r.mate_is_unmapped
    counts = json.loads(stats.read_text())["counts"]
    assert counts["records_in"] == len(before)
    assert counts["records_kept"] == len(k) and counts["records_discarded"] == len(d)
    assert counts["records_discarded_by_rule"] == len(by_rule)
    assert counts["junctions_spurious"] == sum(not v for v in truth.values())
    for out in (kept, dropped):
        with pysam.AlignmentFile(str(out), "rb") as bam:
            assert bam.check_index()
            assert sum(1 for _ in bam.fetch("20")) == len(_records(out))


def _without_md_nm(r: pysam.AlignedSegment) -> str:
    r.set_tag("MD", None)
    r.set_tag("NM", None)
    return r.to_string()


def test_slice_clean_cram_equals_bam(tmp_path, scored, capsys):
    """A CRAM of the slice, read with its reference, is cleaned into the same records as the BAM
    (apart from the MD and NM tags that htslib computes when it decodes a CRAM)."""
    scores, _ = scored
    cram = tmp_path / "slice.cram"
    with (
        pysam.AlignmentFile(str(BAM), "rb") as src,
        pysam.AlignmentFile(str(cram), "wc", template=src, reference_filename=str(FASTA)) as out,
    ):
        for record in src:
            out.write(record)
    outputs = {}
    for name, inp, extra in (("bam", BAM, []), ("cram", cram, ["--reference", str(FASTA)])):
        kept, dropped = tmp_path / f"{name}_kept.bam", tmp_path / f"{name}_dropped.bam"
        rc = main(["clean", str(inp), "--scores", str(scores), "-o", str(kept), "--discarded", str(dropped),
                   "--paired", *extra])
        assert rc == 0
        outputs[name] = [[_without_md_nm(r) for r in _records(p)] for p in (kept, dropped)]
        with pysam.AlignmentFile(str(kept), "rb") as bam:
            assert bam.is_bam and bam.check_index()
    assert outputs["cram"] == outputs["bam"]
    assert outputs["bam"][1], "some records were removed"
    capsys.readouterr()

    kept, dropped = tmp_path / "k.bam", tmp_path / "d.bam"
    rc = main(["clean", str(cram), "--scores", str(scores), "-o", str(kept), "--discarded", str(dropped)])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1
    assert "CRAM input needs --reference" in err and "Traceback" not in err
    assert not kept.exists() and not dropped.exists()


def test_reference_applies_to_alignments_only(tmp_path, capsys):
    scores = tmp_path / "scores.bed"
    scores.write_text("20\t100\t200\tJ1\t1\t+\t0.5\t0.5\n")
    rc = main(["clean", str(GTF), "--scores", str(scores), "-o", str(tmp_path / "out.gtf"),
               "--reference", str(FASTA)])
    assert rc == 2
    assert "--reference applies to BAM input only" in capsys.readouterr().err


def test_slice_annotation_clean(tmp_path):
    introns = tmp_path / "introns.bed"
    assert main(["extract", str(GTF), "-o", str(introns)]) == 0
    transcripts = read_transcripts(GTF)
    victim = next(t for t in transcripts if len(t.introns) >= 3)
    bad = {(victim.contig, s, e, victim.strand) for s, e in victim.introns}
    scores = tmp_path / "scores.bed"
    with open(introns) as src, open(scores, "w") as out:
        for line in src:
            f = line.rstrip("\n").split("\t")
            v = 0.01 if (f[0], int(f[1]), int(f[2]), f[5]) in bad else 0.9
            out.write("\t".join([*f[:6], f"{v:.10f}", f"{v:.10f}", *f[6:]]) + "\n")
    cleaned, report = tmp_path / "cleaned.gtf", tmp_path / "report.tsv"
    assert main(["clean", str(GTF), "--scores", str(scores), "-o", str(cleaned), "--report", str(report)]) == 0
    left = read_transcripts(cleaned)
    assert {t.id for t in left} == {t.id for t in transcripts} - {victim.id}
    text = cleaned.read_text()
    assert victim.id not in text
    assert f'gene_id "{victim.gene_id}"' not in text  # its gene had only this transcript
    assert len(report.read_text().splitlines()) == len(transcripts) + 1


def test_discarded_is_optional(tmp_path, scored):
    """Without --discarded only the cleaned BAM and its index are written: the same records as with it,
    and the stats still count the removed records."""
    scores, _ = scored
    both, alone = tmp_path / "both", tmp_path / "alone"
    both.mkdir()
    alone.mkdir()
    assert main(["clean", str(BAM), "--scores", str(scores), "-o", str(both / "kept.bam"),
                 "--discarded", str(both / "dropped.bam"), "--paired"]) == 0
    assert main(["clean", str(BAM), "--scores", str(scores), "-o", str(alone / "kept.bam"), "--paired",
                 "--stats", str(alone / "stats.json")]) == 0
    assert sorted(p.name for p in alone.iterdir()) == ["kept.bam", "kept.bam.bai", "stats.json"]
    assert [r.to_string() for r in _records(alone / "kept.bam")] == [r.to_string() for r in _records(both / "kept.bam")]
    counts = json.loads((alone / "stats.json").read_text())["counts"]
    assert counts["records_discarded"] == len(_records(both / "dropped.bam")) > 0
