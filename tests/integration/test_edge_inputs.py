"""Valid but unusual inputs through extract -> score -> clean: empty samples, odd GFF3 ids, BAMs without XS."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pysam
import pytest

from splamflow.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
BAM = DATA / "chr20_slice.bam"
GENOME = DATA / "chr20_slice.fa.gz"


def _run(*argv) -> int:
    return main([str(a) for a in argv])


def _records(path: Path) -> list[pysam.AlignedSegment]:
    with pysam.AlignmentFile(str(path), "rb") as bam:
        return list(bam)


def _identity(r: pysam.AlignedSegment) -> tuple:
    return (r.query_name, r.flag, r.reference_start, r.cigarstring)


def _write_bam(path: Path, keep) -> Path:
    """The slice's header and the records for which `keep(record)` is true."""
    with pysam.AlignmentFile(str(BAM)) as src, pysam.AlignmentFile(str(path), "wb", template=src) as out:
        for read in src:
            if keep(read):
                out.write(read)
    pysam.index(str(path))
    return path


@pytest.mark.parametrize("sample", ["no-records", "no-spliced-records"])
def test_a_sample_without_junctions_gives_empty_valid_outputs(tmp_path, random_model, sample):
    if sample == "no-records":
        bam = _write_bam(tmp_path / "empty.bam", lambda r: False)
    else:
        bam = _write_bam(tmp_path / "unspliced.bam", lambda r: "N" not in (r.cigarstring or ""))
    n_records = len(_records(bam))
    junctions, scores, stats = tmp_path / "j.bed", tmp_path / "s.bed", tmp_path / "s.json"
    assert _run("extract", bam, "-o", junctions) == 0
    header = "#splamflow strand_source=XS,ts spliced_records=0 unstranded_records=0\n"
    assert junctions.read_text() == header  # no rows
    assert _run("score", junctions, "--genome", GENOME, "--model", random_model, "-o", scores,
                "--stats", stats, "--quiet") == 0
    assert scores.read_text() == header
    assert json.loads(stats.read_text())["rows"] == 0
    kept, gone = tmp_path / "k.bam", tmp_path / "d.bam"
    assert _run("clean", bam, "--scores", scores, "-o", kept, "--discarded", gone, "--stats", tmp_path / "c.json") == 0
    assert len(_records(kept)) == n_records and _records(gone) == []
    assert json.loads((tmp_path / "c.json").read_text())["counts"]["records_in"] == n_records


def test_scores_where_every_row_was_skipped_are_valid_for_clean(tmp_path, random_model):
    """A BED of unstranded junctions only: score skips every row and writes an empty file; clean keeps all."""
    junctions, scores = tmp_path / "j.bed", tmp_path / "s.bed"
    assert _run("extract", BAM, "-o", tmp_path / "all.bed", "--infer-strand", "none") == 0
    rows = [line.split("\t") for line in (tmp_path / "all.bed").read_text().splitlines()]
    junctions.write_text("".join("\t".join([*r[:5], "."]) + "\n" for r in rows))
    assert _run("score", junctions, "--genome", GENOME, "--model", random_model, "-o", scores, "--quiet") == 0
    assert scores.stat().st_size == 0
    assert _run("clean", BAM, "--scores", scores, "-o", tmp_path / "k.bam", "--discarded", tmp_path / "d.bam") == 0
    assert len(_records(tmp_path / "k.bam")) == 5238


GFF3 = """##gff-version 3
20\ttest\tgene\t200001\t210000\t.\t+\t.\tID=gene%2C1
20\ttest\tmRNA\t200001\t210000\t.\t+\t.\tID=tx%091;Parent=gene%2C1
20\ttest\texon\t200001\t200300\t.\t+\t.\tParent=tx%091
20\ttest\texon\t201001\t201300\t.\t+\t.\tParent=tx%091
20\ttest\texon\t209001\t210000\t.\t+\t.\tParent=tx%091
20\ttest\tmRNA\t200001\t210000\t.\t+\t.\tID=tx%0A2;Parent=gene%2C1
20\ttest\texon\t200001\t200300\t.\t+\t.\tParent=tx%0A2
20\ttest\texon\t209001\t210000\t.\t+\t.\tParent=tx%0A2
20\ttest\tmRNA\t200001\t210000\t.\t+\t.\tID=tx%2C3;Parent=gene%2C1
20\ttest\texon\t200001\t200300\t.\t+\t.\tParent=tx%2C3
20\ttest\texon\t201001\t201300\t.\t+\t.\tParent=tx%2C3
20\ttest\texon\t209001\t210000\t.\t+\t.\tParent=tx%2C3
"""


def test_gff3_ids_with_escaped_tab_newline_and_comma_stay_one_field(tmp_path, random_model):
    gff = tmp_path / "a.gff3"
    gff.write_text(GFF3)
    bed, counts = tmp_path / "introns.bed", tmp_path / "counts.tsv"
    assert _run("extract", gff, "-o", bed, "--intron-counts", counts) == 0
    rows = [line.split("\t") for line in bed.read_text().splitlines()]
    assert [r[6] for r in rows] == ["tx%091,tx%2C3", "tx%0A2", "tx%091,tx%2C3"]
    assert [r[4] for r in rows] == ["2", "1", "2"]  # transcripts per intron, matching the id lists
    table = [line.split("\t") for line in counts.read_text().splitlines()]
    assert table == [["transcript_id", "gene_id", "introns"], ["tx%091", "gene%2C1", "2"],
                     ["tx%0A2", "gene%2C1", "1"], ["tx%2C3", "gene%2C1", "2"]]
    scores = tmp_path / "s.bed"
    assert _run("score", bed, "--genome", GENOME, "--model", random_model, "-o", scores, "--quiet") == 0
    assert [line.split("\t")[8] for line in scores.read_text().splitlines()] == [r[6] for r in rows]
    report = tmp_path / "report.tsv"
    assert _run("clean", gff, "--scores", scores, "-o", tmp_path / "c.gff3", "--report", report,
                "--min-introns", "1") == 0
    ids = [line.split("\t")[0] for line in report.read_text().splitlines()[1:]]
    assert ids == ["tx%091", "tx%0A2", "tx%2C3"]
    assert all(len(line.split("\t")) == 9 for line in report.read_text().splitlines())


@pytest.fixture(scope="module")
def no_xs(tmp_path_factory) -> tuple[Path, Path]:
    """The slice without XS tags (as STAR writes without --outSAMstrandField) and real `score` output for
    the junctions `extract --infer-strand motif` finds in it (shipped model)."""
    tmp = tmp_path_factory.mktemp("noxs")
    bam = tmp / "noxs.bam"
    with pysam.AlignmentFile(str(BAM)) as src, pysam.AlignmentFile(str(bam), "wb", template=src) as dst:
        for read in src:
            read.set_tag("XS", None)
            dst.write(read)
    junctions, scores = tmp / "j.bed", tmp / "s.bed"
    assert _run("extract", bam, "-o", junctions, "--infer-strand", "motif", "--genome", GENOME) == 0
    assert _run("score", junctions, "--genome", GENOME, "-o", scores, "--stats", tmp / "s.json", "--quiet") == 0
    return bam, scores


@pytest.mark.slow
def test_clean_infers_strands_of_records_without_xs_like_extract(tmp_path, no_xs):
    bam, scores = no_xs
    lines = scores.read_text().splitlines()
    assert lines[0] == "#splamflow strand_source=XS,ts,motif spliced_records=788 unstranded_records=788"
    table = np.array([[float(x) for x in line.split("\t")[6:8]] for line in lines[1:]])
    assert len(table) > 100
    # The shipped model scores every canonical junction of the slice high (its spurious junctions are
    # non-canonical, which no strand can be inferred for), so a threshold at the median score is used to
    # flag half of the scored junctions.
    threshold = f"{np.median(table.min(axis=1)):.6f}"

    def clean(source: Path, name: str, *extra) -> tuple[set, dict]:
        kept, gone, stats = tmp_path / f"{name}.bam", tmp_path / f"{name}.gone.bam", tmp_path / f"{name}.json"
        assert _run("clean", source, "--scores", scores, "-o", kept, "--discarded", gone, "--paired",
                    "--threshold", threshold, "--stats", stats, *extra) == 0
        assert len(_records(kept)) + len(_records(gone)) == 5238
        return {_identity(r) for r in _records(gone)}, json.loads(stats.read_text())["counts"]

    # without the genome, clean would look these records up as '.', find nothing and keep them all: refused
    for refused in ((), ("--infer-strand", "none")):
        assert _run("clean", bam, "--scores", scores, "-o", tmp_path / "k.bam", "--discarded", tmp_path / "d.bam",
                    *refused) == 2
    assert not (tmp_path / "k.bam").exists()
    by_motif, counts = clean(bam, "motif", "--infer-strand", "motif", "--genome", GENOME)
    assert counts["records_unkeyed_strand"] == 0 and counts["records_motif_strand"] == counts["spliced_records"]
    assert len(by_motif) > 100
    score_stats = json.loads(scores.with_suffix(".json").read_text())
    assert (score_stats["strand_source"], score_stats["unstranded_records"]) == ("XS,ts,motif", 788)
    assert json.loads((tmp_path / "motif.json").read_text())["strand_source"] == "XS,ts,motif"
    by_auto, _ = clean(bam, "auto", "--genome", GENOME)
    assert by_auto == by_motif
    # the same records go as when the aligner's XS tags key them (XS agrees with every canonical motif)
    by_xs, _ = clean(BAM, "xs", "--genome", GENOME)
    assert by_motif == by_xs
