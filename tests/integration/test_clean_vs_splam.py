"""Parity with the published Splam 1.0.12 `clean` on the chr20 slice, given the same junction scores.

Needs the reference install made by `bench/setup_splam.sh` (`bench/.venv-splam/bin/splam`, or the
`SPLAM_BIN` environment variable); skipped without it. Both tools get identical scores (written
from the slice's truth table), so any difference is in the clean-up itself.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import pysam
import pytest

from splamflow.cli import main

ROOT = Path(__file__).resolve().parents[2]
BAM = ROOT / "tests" / "data" / "chr20_slice.bam"
TRUTH = ROOT / "tests" / "data" / "chr20_slice.truth.tsv"
SPLAM = Path(os.environ.get("SPLAM_BIN", ROOT / "bench" / ".venv-splam" / "bin" / "splam"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SPLAM.exists() or not BAM.exists(), reason="Splam 1.0.12 reference not installed"),
]


def _scores_for(junction_bed: Path, out: Path) -> None:
    """Splam's junction_score.bed layout: the junction BED plus donor and acceptor columns."""
    good = {}
    for line in TRUTH.read_text().splitlines()[1:]:
        chrom, start, end, strand, annotated, _ = line.split("\t")
        good[(chrom, start, end, strand)] = annotated == "1"
    with open(junction_bed) as src, open(out, "w") as dst:
        for line in src:
            f = line.rstrip("\n").split("\t")
            donor, acceptor = ("0.97", "0.93") if good[(f[0], f[1], f[2], f[5])] else ("0.02", "0.71")
            dst.write("\t".join([*f[:6], donor, acceptor]) + "\n")


def _splam_clean(tmp: Path, paired: bool) -> tuple[set, list[pysam.AlignedSegment], Path]:
    outdir = tmp / ("splam_paired" if paired else "splam_single")
    flag = ["-P"] if paired else []
    subprocess.run([str(SPLAM), "extract", *flag, "-o", str(outdir), str(BAM)], check=True,
                   capture_output=True)
    scores = outdir / "junction_score.bed"
    _scores_for(outdir / "junction.bed", scores)
    subprocess.run([str(SPLAM), "clean", *flag, "-o", str(outdir), "-t", "0.1"], check=True,
                   capture_output=True)
    removed = set()
    for path in (outdir / "discard").glob("*.bam"):
        with pysam.AlignmentFile(str(path), "rb", check_sq=False) as bam:
            removed |= {(r.query_name, bool(r.flag & 0x40), r.reference_start, r.cigarstring) for r in bam}
    with pysam.AlignmentFile(str(outdir / "cleaned.bam"), "rb", check_sq=False) as bam:
        cleaned = list(bam)
    return removed, cleaned, scores


def _ours(tmp: Path, scores: Path, *extra: str) -> tuple[set, list[pysam.AlignedSegment]]:
    kept, dropped = tmp / "kept.bam", tmp / "dropped.bam"
    assert main(["clean", str(BAM), "--scores", str(scores), "-o", str(kept), "--discarded", str(dropped),
                 *extra]) == 0
    with pysam.AlignmentFile(str(dropped)) as bam:
        removed = {(r.query_name, r.is_read1, r.reference_start, r.cigarstring) for r in bam}
    with pysam.AlignmentFile(str(kept)) as bam:
        return removed, list(bam)


def test_same_records_removed_as_splam_paired(tmp_path):
    removed_splam, cleaned_splam, scores = _splam_clean(tmp_path, paired=True)
    shutil.copy(scores, tmp_path / "scores.bed")
    removed, kept = _ours(tmp_path, tmp_path / "scores.bed", "--paired")
    assert removed and removed == removed_splam
    assert len(kept) == len(cleaned_splam)
    # Splam leaves NH as it was; ours equals the records each read has left
    left: dict[tuple, int] = {}
    for r in kept:
        left[(r.query_name, r.is_read1)] = left.get((r.query_name, r.is_read1), 0) + 1
    assert all(r.get_tag("NH") == left[(r.query_name, r.is_read1)] for r in kept)
    assert any(r.get_tag("NH") != left[(r.query_name, bool(r.flag & 0x40))] for r in cleaned_splam)


def test_same_records_removed_as_splam_single_end_without_its_data_loss(tmp_path):
    removed_splam, cleaned_splam, scores = _splam_clean(tmp_path, paired=False)
    shutil.copy(scores, tmp_path / "scores.bed")
    removed, kept = _ours(tmp_path, tmp_path / "scores.bed")
    assert removed and removed == removed_splam
    # Splam 1.0.12 without -P drops every spliced alignment from its cleaned BAM; we keep the good ones
    assert not any("N" in r.cigarstring for r in cleaned_splam)
    with pysam.AlignmentFile(str(BAM)) as bam:
        spliced_in = sum("N" in r.cigarstring for r in bam)
    assert sum("N" in r.cigarstring for r in kept) == spliced_in - len(removed) > 0


GTF = ROOT / "tests" / "data" / "chr20_slice.gtf"


def _annotation_scores(key: tuple[str, int, int, str]) -> tuple[float, float]:
    """Deterministic pseudo-random scores per intron: about half bad, some with one low score only."""
    rng = random.Random("|".join(map(str, key)))
    r = rng.random()
    if r < 0.45:
        return rng.uniform(0, 0.0999), rng.uniform(0, 0.0999)
    if r < 0.6:
        return rng.uniform(0, 0.0999), rng.uniform(0.1, 1)
    return rng.uniform(0.1, 1), rng.uniform(0, 1)


def _transcript_ids(path: Path) -> set[str]:
    return set(re.findall(r'transcript_id "([^"]+)"', path.read_text()))


def test_same_transcripts_removed_as_splam_annotation(tmp_path):
    outdir = tmp_path / "splam_gtf"
    subprocess.run([str(SPLAM), "extract", "-o", str(outdir), str(GTF)], check=True, capture_output=True)
    # Splam 1.0.12 writes annotation introns one base wider on each side than the exon gap
    with open(outdir / "junction.bed") as src, open(outdir / "junction_score.bed", "w") as dst:
        for line in src:
            f = line.rstrip("\n").split("\t")
            donor, acceptor = _annotation_scores((f[0], int(f[1]) + 1, int(f[2]) - 1, f[5]))
            dst.write("\t".join([*f[:6], f"{donor:.10f}", f"{acceptor:.10f}", f[6]]) + "\n")
    subprocess.run([str(SPLAM), "clean", "-o", str(outdir), "-t", "0.1"], check=True, capture_output=True)

    introns, scores, cleaned = tmp_path / "introns.bed", tmp_path / "scores.bed", tmp_path / "cleaned.gtf"
    assert main(["extract", str(GTF), "-o", str(introns)]) == 0
    with open(introns) as src, open(scores, "w") as dst:
        for line in src:
            f = line.rstrip("\n").split("\t")
            donor, acceptor = _annotation_scores((f[0], int(f[1]), int(f[2]), f[5]))
            dst.write("\t".join([*f[:6], f"{donor:.10f}", f"{acceptor:.10f}", *f[6:]]) + "\n")
    assert main(["clean", str(GTF), "--scores", str(scores), "-o", str(cleaned)]) == 0

    kept = _transcript_ids(cleaned)
    assert kept == _transcript_ids(outdir / "cleaned.gff")
    assert 0 < len(kept) < len(_transcript_ids(GTF))
    # Splam drops every gene line; ours keeps the genes that still have a transcript
    assert "\tgene\t" not in (outdir / "cleaned.gff").read_text()
    assert sum("\tgene\t" in line for line in cleaned.read_text().splitlines()) == len(kept)
