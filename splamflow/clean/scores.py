"""The junction scores `clean` judges by, and its two rules, each stated once.

Scores come from a scores BED (`score` output, read by `splamflow.io.bed`), keyed by (contig,
start, end, strand) exactly as extraction keys junctions. The rules take floats or numpy arrays, so
the clean-up and its plot apply the same code.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import NamedTuple

from splamflow.io.bed import JunctionKey, read_scores_bed


def spurious(donor, acceptor, threshold: float):
    """Alignment rule (Splam 1.0.12 clean): spurious when donor < t or acceptor < t (strict)."""
    return (donor < threshold) | (acceptor < threshold)


def bad(donor, acceptor, threshold: float):
    """Annotation rule (Splam 1.0.12 GFF clean): bad when donor < t and acceptor < t (strict)."""
    return (donor < threshold) & (acceptor < threshold)


class Rule(NamedTuple):
    """A rule and how reports spell it."""

    test: Callable
    text: str


SPURIOUS = Rule(spurious, "donor < t or acceptor < t")
BAD = Rule(bad, "donor < t and acceptor < t")


@dataclass
class Scores:
    """Donor and acceptor scores per junction, plus what was seen while reading them."""

    path: str
    table: dict[JunctionKey, tuple[float, float]] = field(default_factory=dict)
    #: lines whose junction was already in the table with other scores (the first line wins)
    conflicting_duplicates: int = 0

    def __len__(self) -> int:
        return len(self.table)

    def get(self, key: JunctionKey) -> tuple[float, float] | None:
        return self.table.get(key)

    def contigs(self) -> dict[str, int]:
        """Number of junctions per contig."""
        counts: dict[str, int] = {}
        for contig, _, _, _ in self.table:
            counts[contig] = counts.get(contig, 0) + 1
        return counts

    def missing_contigs(self, known: Collection[str]) -> dict[str, int]:
        """Junctions per contig for contigs absent from `known` (e.g. a BAM header)."""
        known = set(known)
        return {c: n for c, n in self.contigs().items() if c not in known}


def read_scores(path: str | os.PathLike) -> Scores:
    """The scores of a scores BED (plain or gzip); a file without rows is valid (nothing to remove)."""
    scores = Scores(os.fspath(path))
    table = scores.table
    for row in read_scores_bed(path):
        known = table.get(row.key)
        if known is None:
            table[row.key] = (row.donor, row.acceptor)
        elif known != (row.donor, row.acceptor):
            scores.conflicting_duplicates += 1
    return scores
