"""Curation settings and their defaults, shared by the CLI and the recipe (no torch here)."""

from __future__ import annotations

from dataclasses import dataclass

#: Curation's own intron-length limit (100 kb), not extract's Splam limit (99,998): the shipped
#: model's data were curated with it.
MAX_INTRON = 100_000


@dataclass
class CurateOptions:
    """Inputs and recipe of one curation."""

    genome: tuple[str, ...]
    annotation: str
    alt: str | None = None
    bam: str | None = None
    min_support: float = 0.0
    negatives_per_positive: float = 1.0
    test_contigs: tuple[str, ...] = ()
    validation_fraction: float = 0.05
    seed: int = 0
    max_intron: int = MAX_INTRON
