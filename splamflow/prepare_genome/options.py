"""prepare-genome settings: which output form a name asks for (no pysam here)."""

from __future__ import annotations

#: an output named with this ending is written bgzip-compressed (with a .gzi index), any other plain
BGZIP_SUFFIX = ".gz"


def wants_bgzip(output: str) -> bool:
    """True when the output name asks for a bgzip FASTA."""
    return output.endswith(BGZIP_SUFFIX)
