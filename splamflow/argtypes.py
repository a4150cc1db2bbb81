"""argparse pieces shared by the subcommands: value types (bad numbers are usage errors, one line,
exit 2), and the `--infer-strand`/`--genome` options that extract and clean share."""

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


def add_infer_strand_arguments(group: argparse._ArgumentGroup, motif_help: str) -> None:
    """`--infer-strand` and `--genome` (same names, same rule in extract and clean)."""
    group.add_argument("--infer-strand", choices=("none", "motif"), default="none", help=motif_help)
    group.add_argument("--genome", metavar="GENOME.fa", help="genome FASTA for --infer-strand motif")


def check_infer_strand(infer_strand: str, genome: str | None) -> None:
    """`--infer-strand motif` and `--genome` go together."""
    if infer_strand == "motif" and not genome:
        raise UserError("--infer-strand motif needs --genome GENOME.fa")
    if genome and infer_strand != "motif":
        raise UserError("--genome is only used with --infer-strand motif")
