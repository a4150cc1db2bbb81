#!/usr/bin/env python3
"""Regenerate galaxy_tool/test-data/ from the committed chr20 slice in tests/data/.

Real data is copied as is (BAM, GTF, bgzip FASTA with its indexes); the junction and score BEDs are
derived from it, with the truth table of the simulated BAM deciding which junctions get low scores,
so the Galaxy tests can check exact record counts that do not depend on the trained model. The bad
inputs are small edits of real files. Prints the figures the tool tests assert. Run it with the
project's venv from the repository root:

    .venv/bin/python scripts/galaxy/make_test_data.py
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pysam
import torch
from safetensors.torch import save_file

from splamflow.model import SplamNet

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "tests" / "data"
OUT = REPO / "galaxy_tool" / "test-data"
PREFIX = "chr20_slice"
GOOD, BAD = "0.9500000000", "0.0200000000"
# Junctions flagged spurious in the alignment scores get a bad donor score only: the BAM rule is
# "donor < t or acceptor < t", so a single bad side must be enough to remove a record.
SPURIOUS_ACCEPTOR = "0.9000000000"
CORRUPT_MODEL_BYTES = 65_536
# Intron dinucleotides (first two, last two bases on the + strand) and the strand they imply.
MOTIF_STRAND = {
    ("GT", "AG"): "+", ("GC", "AG"): "+", ("AT", "AC"): "+",
    ("CT", "AC"): "-", ("CT", "GC"): "-", ("GT", "AT"): "-",
}  # fmt: skip


def splam(*args: str) -> None:
    subprocess.run([str(REPO / ".venv" / "bin" / "splam_score.py"), *args], check=True)


def copy_real_data() -> None:
    for name in (f"{PREFIX}.bam", f"{PREFIX}.gtf", f"{PREFIX}.fa.gz", f"{PREFIX}.fa.gz.fai", f"{PREFIX}.fa.gz.gzi"):
        shutil.copyfile(SOURCE / name, OUT / name)


def alignment_scores() -> set[tuple[str, int, int, str]]:
    """Scores for every junction of the BAM: annotated ones good, the others spurious."""
    spurious = set()
    with open(SOURCE / f"{PREFIX}.truth.tsv") as src, open(OUT / f"{PREFIX}_truth_scores.bed", "w") as out:
        for i, row in enumerate(csv.DictReader(src, delimiter="\t"), start=1):
            key = (row["chrom"], int(row["start"]), int(row["end"]), row["strand"])
            donor, acceptor = (GOOD, GOOD) if row["is_annotated"] == "1" else (BAD, SPURIOUS_ACCEPTOR)
            if row["is_annotated"] != "1":
                spurious.add(key)
            fields = [*key[:3], f"JUNC{i:08d}", row["records"], key[3], donor, acceptor]
            out.write("\t".join(map(str, fields)) + "\n")
    return spurious


def expected_alignment_clean(spurious: set[tuple[str, int, int, str]]) -> tuple[int, int]:
    """Records a correct clean-up keeps and discards (each record keyed by its XS strand)."""
    kept = discarded = 0
    with pysam.AlignmentFile(str(SOURCE / f"{PREFIX}.bam")) as bam:
        for rec in bam.fetch(until_eof=True):
            pos, bad = rec.reference_start, False
            strand = rec.get_tag("XS") if rec.has_tag("XS") else "."
            for op, length in rec.cigartuples or ():
                if op == pysam.CREF_SKIP and (rec.reference_name, pos, pos + length, strand) in spurious:
                    bad = True
                if op in (pysam.CMATCH, pysam.CDEL, pysam.CREF_SKIP, pysam.CEQUAL, pysam.CDIFF):
                    pos += length
            discarded += bad
            kept += not bad
    return kept, discarded


def bam_without_xs() -> dict[str, int]:
    """The BAM with every XS tag removed (as STAR writes it without --outSAMstrandField), and the
    strands its junctions get from their splice motifs."""
    with (
        pysam.AlignmentFile(str(SOURCE / f"{PREFIX}.bam")) as src,
        pysam.AlignmentFile(str(OUT / f"{PREFIX}_noxs.bam"), "wb", template=src) as out,
    ):
        for rec in src.fetch(until_eof=True):
            rec.set_tag("XS", None)
            out.write(rec)
    strands = {"+": 0, "-": 0, ".": 0}
    with open(SOURCE / f"{PREFIX}.truth.tsv") as handle, pysam.FastaFile(str(SOURCE / f"{PREFIX}.fa.gz")) as fasta:
        introns = {(r["chrom"], int(r["start"]), int(r["end"])) for r in csv.DictReader(handle, delimiter="\t")}
        for chrom, start, end in introns:
            motif = (fasta.fetch(chrom, start, start + 2).upper(), fasta.fetch(chrom, end - 2, end).upper())
            strands[MOTIF_STRAND.get(motif, ".")] += 1
    return strands


def annotation_scores() -> tuple[str, str]:
    """Intron scores where every intron of one multi-intron transcript and of one two-intron
    transcript is bad: the first must be removed, the second kept (fewer than 3 introns)."""
    introns = OUT / f"{PREFIX}_introns.bed"
    with tempfile.TemporaryDirectory() as tmp:
        counts = Path(tmp) / "counts.tsv"
        splam("extract", str(OUT / f"{PREFIX}.gtf"), "-o", str(introns), "--intron-counts", str(counts))
        with open(counts) as handle:
            n_introns = {r["transcript_id"]: int(r["introns"]) for r in csv.DictReader(handle, delimiter="\t")}
    rows = [line.split("\t") for line in introns.read_text().splitlines()]
    unshared = {t for t in n_introns if all(r[6] == t for r in rows if t in r[6].split(","))}
    removed = next(t for t, n in n_introns.items() if n >= 3 and t in unshared)
    too_short = next(t for t, n in n_introns.items() if n == 2 and t in unshared)
    with open(OUT / f"{PREFIX}_introns_scores.bed", "w") as out:
        for r in rows:
            score = BAD if r[6] in (removed, too_short) else GOOD
            out.write("\t".join([*r[:6], score, score, r[6]]) + "\n")
    return removed, too_short


def bad_inputs() -> None:
    rows = [line.split("\t") for line in (OUT / f"{PREFIX}_introns.bed").read_text().splitlines()[:3]]
    (OUT / "bad_columns.bed").write_text("".join("\t".join(r[:4]) + "\n" for r in rows))
    lines = (OUT / f"{PREFIX}.gtf").read_text().splitlines(keepends=True)[:4]
    lines[1] = "\t".join(lines[1].split("\t")[:5]) + "\n"
    (OUT / "bad_fields.gtf").write_text("".join(lines))
    with pysam.FastaFile(str(OUT / f"{PREFIX}.fa.gz")) as fasta:
        seq = fasta.fetch("20", 100_000, 110_000)
    wrapped = "\n".join(seq[i : i + 60] for i in range(0, len(seq), 60))
    (OUT / "wrong_contigs.fa").write_text(f">chr20\n{wrapped}\n")
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "model.safetensors"
        save_file(SplamNet().state_dict(), str(model))  # no metadata: its key order is not stable
        (OUT / "corrupt_model.safetensors").write_bytes(model.read_bytes()[:CORRUPT_MODEL_BYTES])


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    copy_real_data()
    spurious = alignment_scores()
    kept, discarded = expected_alignment_clean(spurious)
    removed, too_short = annotation_scores()
    motif_strands = bam_without_xs()
    bad_inputs()
    junctions = len((SOURCE / f"{PREFIX}.truth.tsv").read_text().splitlines()) - 1
    print(f"BAM junctions: {junctions} ({len(spurious)} spurious)")
    print(f"BAM without XS, strands from motifs: {motif_strands}")
    print(f"BAM clean: {kept} records kept, {discarded} discarded")
    print(f"GTF clean: {removed} removed, {too_short} kept (2 introns)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
