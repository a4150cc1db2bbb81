"""Read and validate a scores BED (`score` output) into a junction -> (donor, acceptor) table.

Layout: `chrom start end name score strand donor_score acceptor_score [transcript_ids]`, 0-based
half-open introns. Junctions are keyed by (contig, start, end, strand), exactly as extraction keys
them. Every problem names the file and line.
"""

from __future__ import annotations

import math
import os
from collections.abc import Collection
from dataclasses import dataclass, field

from splamflow.errors import UserError
from splamflow.fileio import text_lines

JunctionKey = tuple[str, int, int, str]

_STRANDS = frozenset({"+", "-", "."})


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


def is_spurious_either(donor: float, acceptor: float, threshold: float) -> bool:
    """Alignment rule (Splam 1.0.12 clean): spurious when donor < t or acceptor < t (strict)."""
    return donor < threshold or acceptor < threshold


def is_bad_both(donor: float, acceptor: float, threshold: float) -> bool:
    """Annotation rule (Splam 1.0.12 GFF clean): bad when donor < t and acceptor < t (strict)."""
    return donor < threshold and acceptor < threshold


def _probability(text: str, what: str, path: str, lineno: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"{what} {text!r} is not a number", path, lineno) from None
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise UserError(f"{what} {text} is outside [0, 1]", path, lineno)
    return value


def read_scores(path: str | os.PathLike) -> Scores:
    """Parse a scores BED (plain or gzip). Comment, `track` and `browser` lines are skipped.

    A file without rows is valid: a sample with no scorable junction has nothing to remove.
    """
    path = os.fspath(path)
    scores = Scores(path)
    table = scores.table
    for lineno, line in text_lines(path, "scores"):
        if not line.strip() or line.startswith(("#", "track", "browser")):
            continue
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) < 8:
            raise UserError(
                f"expected at least 8 tab-separated columns (chrom start end name score strand "
                f"donor_score acceptor_score), found {len(fields)}; is this the output of "
                f"`splam_score.py score`?",
                path,
                lineno,
            )
        try:
            start, end = int(fields[1]), int(fields[2])
        except ValueError:
            raise UserError(
                f"start/end are not integers: {fields[1]!r}, {fields[2]!r}", path, lineno
            ) from None
        if start < 0 or end <= start:
            raise UserError(f"invalid interval {start}-{end}", path, lineno)
        strand = fields[5]
        if strand not in _STRANDS:
            raise UserError(f"strand {strand!r} is not '+', '-' or '.'", path, lineno)
        donor = _probability(fields[6], "donor score", path, lineno)
        acceptor = _probability(fields[7], "acceptor score", path, lineno)
        key = (fields[0], start, end, strand)
        known = table.get(key)
        if known is None:
            table[key] = (donor, acceptor)
        elif known != (donor, acceptor):
            scores.conflicting_duplicates += 1
    return scores
