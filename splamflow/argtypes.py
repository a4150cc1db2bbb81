"""argparse pieces shared by the subcommands: value types (bad numbers are usage errors, one line,
exit 2), and the `--infer-strand`/`--genome` options that extract and clean share, with the strand
source they resolve to (recorded by extract, checked by clean)."""

from __future__ import annotations

import argparse
import os
import sys

from splamflow.errors import UserError

# A coarse bound on the memory one junction of a batch takes in a forward pass (input, activations of
# the 64-channel layers alive at once): a batch that cannot fit in RAM is refused before allocating.
BATCH_BYTES_PER_JUNCTION = 1 << 20


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def _at_least_one(value: int) -> int:
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    return _at_least_one(non_negative_int(text))


SEED_MAX = 2**64 - 1  # what both numpy's and torch's generators accept


def seed(text: str) -> int:
    """A random seed: an integer in [0, 2**64 - 1] (numpy refuses negative seeds, torch larger ones)."""
    value = non_negative_int(text)
    if value > SEED_MAX:
        raise argparse.ArgumentTypeError(f"{value} is larger than 2**64 - 1")
    return value


def _capped_threads(value: int) -> int:
    from splamflow.cpus import available_cpus

    cpus = available_cpus()
    if value > cpus:
        print(f"splam_score.py: warning: --threads {value} is more than the {cpus} CPUs this process may use; "
              f"using {cpus}", file=sys.stderr)
        return cpus
    return value


def threads(text: str) -> int:
    """A thread count >= 0 (0: automatic), capped at the CPUs this process may use with one warning line."""
    return _capped_threads(non_negative_int(text))


def positive_threads(text: str) -> int:
    """A thread or worker count >= 1, capped like `threads`."""
    return _capped_threads(positive_int(text))


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 1 << 40  # unknown: only absurd sizes are refused


def batch_size(text: str) -> int:
    """A batch size >= 0 (0: the default) whose batches fit in this machine's memory."""
    value = non_negative_int(text)
    need, have = value * BATCH_BYTES_PER_JUNCTION, _memory_bytes()
    if need > have:
        raise argparse.ArgumentTypeError(
            f"{value} junctions per batch need about {need / 2**30:,.0f} GiB; this machine has "
            f"{have / 2**30:,.0f} GiB")
    return value


def positive_batch_size(text: str) -> int:
    """A batch size >= 1, checked like `batch_size`."""
    return _at_least_one(batch_size(text))


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
