"""A cohort scored once: unite -> score per chunk -> project gives each sample (and the annotation)
the scores, and after clean the cleaned BAM/GTF, byte for byte that scoring it alone gives."""

from __future__ import annotations

from pathlib import Path

import pysam
import pytest

from splamflow.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
GENOME = str(DATA / "chr20_slice.fa.gz")
SAMPLES = ("a", "b", "c")
REGION = ("--region", "20:1-900000")  # keeps the scoring short


def _run(*argv) -> None:
    assert main([str(a) for a in argv]) == 0


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    """Three samples of the slice (each leaves out a different third of the read names: overlapping but
    different junctions) and the annotation, extracted."""
    root = tmp_path_factory.mktemp("cohort")
    for k, name in enumerate(SAMPLES):
        with pysam.AlignmentFile(str(DATA / "chr20_slice.bam")) as src, \
                pysam.AlignmentFile(str(root / f"{name}.bam"), "wb", template=src) as out:
            for read in src:
                if sum(read.query_name.encode()) % 3 != k:
                    out.write(read)
        pysam.index(str(root / f"{name}.bam"))
        _run("extract", root / f"{name}.bam", "-o", root / f"{name}.bed", *REGION, "--quiet")
    _run("extract", DATA / "chr20_slice.gtf", "-o", root / "genes.bed", "--quiet")
    return root


def _keys(path: Path) -> set[tuple]:
    return {tuple(line.split("\t")[:3] + line.split("\t")[5:6])
            for line in path.read_text().splitlines() if not line.startswith("#")}


def test_cohort_scores_and_cleaned_outputs_are_those_of_each_sample_alone(cohort, monkeypatch):
    beds = [cohort / f"{name}.bed" for name in (*SAMPLES, "genes")]
    keys = [_keys(bed) for bed in beds]
    assert all(keys[0] != other and keys[0] & other for other in keys[1:3])  # overlapping, different
    union = cohort / "union"
    _run("unite", *beds, "-o", union, "--chunk-size", "100")
    chunks = sorted(union.glob("chunk_*.bed"))
    distinct = set().union(*keys)
    assert set().union(*map(_keys, chunks)) == distinct
    sizes = [len(_keys(c)) for c in chunks]
    assert sum(sizes) == len(distinct) and len(chunks) == -(-len(distinct) // 100) >= 2
    assert max(sizes) - min(sizes) <= 1
    scores = [union / f"scores_{k}.bed" for k in range(len(chunks))]
    for chunk, out in zip(chunks, scores):
        _run("score", chunk, "--genome", GENOME, "--device", "cpu", "-o", out, "--quiet")
    for mode in ("alone", "cohort"):
        (cohort / mode).mkdir()
    _run("project", *beds, "--union", *chunks, "--scores", *scores,
         "-o", *(cohort / "cohort" / f"{bed.stem}.scores.bed" for bed in beds), "--quiet")
    for bed in beds:
        _run("score", bed, "--genome", GENOME, "--device", "cpu", "-o", cohort / "alone" / f"{bed.stem}.scores.bed",
             "--quiet")
    for mode in ("alone", "cohort"):  # relative names: the cleaned BAM's @PG line records them
        monkeypatch.chdir(cohort / mode)
        for name in SAMPLES:
            _run("clean", cohort / f"{name}.bam", "--scores", f"{name}.scores.bed", "-o", f"{name}.cleaned.bam",
                 "--quiet")
        _run("clean", DATA / "chr20_slice.gtf", "--scores", "genes.scores.bed", "-o", "genes.cleaned.gtf", "--quiet")
    for bed in beds:
        alone = (cohort / "alone" / f"{bed.stem}.scores.bed").read_bytes()
        assert alone.count(b"\n") >= 30
        assert (cohort / "cohort" / f"{bed.stem}.scores.bed").read_bytes() == alone, bed.stem
    for name in (*(f"{s}.cleaned.bam" for s in SAMPLES), "genes.cleaned.gtf"):
        assert (cohort / "cohort" / name).read_bytes() == (cohort / "alone" / name).read_bytes(), name


def test_a_sample_off_the_genome_stops_the_cohort_as_it_stops_scoring_alone(cohort, tmp_path, capsys):
    # a sample aligned to another naming of the contigs ('chr20' where the genome says '20'): scoring it
    # alone stops; the cohort must not give it an empty scores file (its BAM would be "cleaned" of nothing)
    lines = (cohort / "a.bed").read_text().splitlines(keepends=True)
    renamed = tmp_path / "renamed.bed"
    renamed.write_text("".join(line if line.startswith("#") else "chr" + line for line in lines[:21]))
    assert sum(not line.startswith("#") for line in lines[:21]) == 20
    assert main(["score", str(renamed), "--genome", GENOME, "--device", "cpu", "-o", str(tmp_path / "alone.bed"),
                 "--quiet"]) == 2
    assert "none of the" in capsys.readouterr().err
    _run("unite", cohort / "a.bed", renamed, "-o", tmp_path / "union")
    _run("score", tmp_path / "union" / "chunk_000000.bed", "--genome", GENOME, "--device", "cpu",
         "-o", tmp_path / "union.scores.bed", "--quiet")
    code = main(["project", str(cohort / "a.bed"), str(renamed),
                 "--union", str(tmp_path / "union" / "chunk_000000.bed"),
                 "--scores", str(tmp_path / "union.scores.bed"),
                 "-o", str(tmp_path / "a.scores.bed"), str(tmp_path / "renamed.scores.bed"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "renamed.bed: none of the 20 junctions is on a contig where the cohort has a scored junction" in err
    assert "(output " in err and "renamed.scores.bed)" in err
    assert not (tmp_path / "renamed.scores.bed").exists()
