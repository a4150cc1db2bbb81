"""Extraction settings and their defaults (Splam 1.0.12's), shared by the CLI and the counter."""

from __future__ import annotations

from dataclasses import dataclass

#: Splam 1.0.12 keeps introns whose length + 2 <= 100000 (`--max-splice` default).
SPLAM_MAX_INTRON = 99_998
#: --infer-strand auto without --genome warns when more than this fraction of spliced records has no strand
UNSTRANDED_WARNING_FRACTION = 0.01
THREADS = 1  # --threads: worker processes (or decompression threads for an unindexed file)


@dataclass(frozen=True)
class ExtractOptions:
    """Filters and strand rules for alignments; the defaults reproduce Splam 1.0.12."""

    strandness: str = "none"
    min_mapq: int = 0
    exclude_flags: int = 0
    min_anchor: int = 0
    max_intron: int = SPLAM_MAX_INTRON
    paired: bool = False
    multi_mapped: bool = False  # split counts by NH (uniquely vs multi-mapped records)
