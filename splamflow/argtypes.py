"""argparse pieces shared by the subcommands: value types (bad numbers are usage errors, one line,
exit 2), and the `--infer-strand`/`--genome` options that extract and clean share, with the strand
source they resolve to (recorded by extract, checked by clean)."""

from __future__ import annotations

import argparse

from splamflow.errors import UserError


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    value = non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


INFER_STRAND = ("auto", "motif", "none")
INFER_STRAND_DEFAULT = "auto"


def add_infer_strand_arguments(group: argparse._ArgumentGroup, strand_help: str) -> None:
    """`--infer-strand` and `--genome` (same names, same rule in extract and clean)."""
    group.add_argument("--infer-strand", choices=INFER_STRAND, default=INFER_STRAND_DEFAULT, help=strand_help)
    group.add_argument("--genome", metavar="GENOME.fa",
                       help="genome FASTA whose intron motifs strand records without XS/ts "
                            "(optional with --infer-strand auto, required with motif, refused with none)")


def check_infer_strand(infer_strand: str, genome: str | None) -> None:
    """`--infer-strand motif` needs `--genome`; `none` takes none."""
    if infer_strand == "motif" and not genome:
        raise UserError("--infer-strand motif needs --genome GENOME.fa")
    if genome and infer_strand == "none":
        raise UserError("--genome is not used with --infer-strand none (use auto or motif)")


def strand_source(infer_strand: str, genome: str | None, strandness: str) -> str:
    """The rule that strands a record's introns, as extract records it and clean compares it.

    XS, then minimap2's ts, then the library strand (--strandness fr/rf, which strands every record),
    else the intron motif (auto with --genome, or motif); records left without one stay '.'.
    """
    steps = ["XS", "ts"]
    if strandness != "none":
        steps.append(f"library-{strandness}")
    elif infer_strand != "none" and genome:
        steps.append("motif")
    return ",".join(steps)
