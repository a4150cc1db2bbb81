"""`extract A.bam B.bam ...`: the union of several samples' junctions, with per-sample counts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pysam

from splamflow.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
BAM = DATA / "chr20_slice.bam"
GENOME = DATA / "chr20_slice.fa.gz"
REGION = ("--region", "20:1-600000")  # keeps the scoring below short


def _run(*argv) -> int:
    return main([str(a) for a in argv])


def _rows(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text().splitlines() if not line.startswith("#")]


def _half(path: Path, parity: int) -> Path:
    """The slice's records whose name hash has this parity: a second, different sample."""
    with pysam.AlignmentFile(str(BAM)) as src, pysam.AlignmentFile(str(path), "wb", template=src) as out:
        for read in src:
            if sum(read.query_name.encode()) % 2 == parity:
                out.write(read)
    pysam.index(str(path))
    return path


def test_a_union_of_one_is_the_single_input_output(tmp_path):
    single, union, counts = tmp_path / "single.bed", tmp_path / "union.bed", tmp_path / "counts.tsv"
    assert _run("extract", BAM, "-o", single) == 0
    assert _run("extract", BAM, "-o", union, "--per-sample-counts", counts) == 0
    assert union.read_bytes() == single.read_bytes()
    lines = [line.split("\t") for line in counts.read_text().splitlines()]
    assert lines[0] == ["name", "chr20_slice"]
    assert [line[:2] for line in lines[1:]] == [[r[3], r[4]] for r in _rows(single)]


def test_union_counts_are_summed_and_scores_per_sample_are_the_sample_s_own(tmp_path, random_model):
    a, b = _half(tmp_path / "a.bam", 0), _half(tmp_path / "b.bam", 1)
    union, counts = tmp_path / "union.bed", tmp_path / "counts.tsv"
    assert _run("extract", a, b, "-o", union, "--per-sample-counts", counts, *REGION) == 0
    own = {}
    for name, bam in (("a", a), ("b", b)):
        assert _run("extract", bam, "-o", tmp_path / f"{name}.bed", *REGION) == 0
        own[name] = {(r[0], r[1], r[2], r[5]): int(r[4]) for r in _rows(tmp_path / f"{name}.bed")}
    assert own["a"] and own["b"] and own["a"].keys() != own["b"].keys()
    rows = _rows(union)
    table = [line.split("\t") for line in counts.read_text().splitlines()]
    assert table[0] == ["name", "a", "b"] and [t[0] for t in table[1:]] == [r[3] for r in rows]
    for r, (_, in_a, in_b) in zip(rows, table[1:]):
        key = (r[0], r[1], r[2], r[5])
        assert (int(in_a), int(in_b)) == (own["a"].get(key, 0), own["b"].get(key, 0))
        assert int(r[4]) == int(in_a) + int(in_b)
    assert {(r[0], r[1], r[2], r[5]) for r in rows} == own["a"].keys() | own["b"].keys()

    scores, b_scores = tmp_path / "union.scores.bed", tmp_path / "b.scores.bed"
    for bed, out in ((union, scores), (tmp_path / "b.bed", b_scores)):
        assert _run("score", bed, "--genome", GENOME, "--model", random_model, "-o", out, "--quiet") == 0
    in_b = {r[3] for r, t in zip(rows, table[1:]) if int(t[2])}
    from_union = {(r[0], r[1], r[2], r[5]): r[6:8] for r in _rows(scores) if r[3] in in_b}
    by_b = {(r[0], r[1], r[2], r[5]): r[6:8] for r in _rows(b_scores)}
    assert from_union == by_b and len(by_b) > 10


def test_two_inputs_with_one_sample_name_are_refused(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    shutil.copy(BAM, tmp_path / "x" / "chr20_slice.bam")
    capsys.readouterr()
    assert _run("extract", BAM, tmp_path / "x" / "chr20_slice.bam", "-o", tmp_path / "u.bed") == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "two inputs give the sample name 'chr20_slice'" in err[0]
    assert not (tmp_path / "u.bed").exists()
