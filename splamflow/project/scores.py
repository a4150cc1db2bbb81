"""Scores of a union looked up for one sample's rows: the bytes `score` writes for that sample alone.

`score` writes, in input order, every row it can score (the input columns, the two scores, the 7th
column) after the input's `#splamflow` line; a junction's score depends only on its key and the
genome (fixed-shape padded batches), so it is the same in the union and in the sample alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

from splamflow.errors import UserError, first_names
from splamflow.io.bed import (
    SCORABLE_STRANDS,
    JunctionKey,
    bed_line,
    provenance_line,
    read_junctions,
    read_provenance,
    read_scores_bed,
    score_text,
)


@dataclass
class ScoredUnion:
    """The union's junctions: the score texts of those `score` could score, and the others' keys (each key
    is held once: a union of 1 M junctions takes about 0.4 GB, not 0.6 GB as in both)."""

    unscored: set[JunctionKey] = field(default_factory=set)
    scores: dict[JunctionKey, tuple[str, str]] = field(default_factory=dict)
    scored_contigs: set[str] = field(default_factory=set)  # contigs with at least one scored junction


@dataclass
class Projected:
    """What one sample's projection wrote: rows in, rows written, rows skipped (no strand, or by `score`)."""

    rows: int = 0
    written: int = 0
    unstranded: int = 0
    unscorable: int = 0


def scored_union(union: Iterable[str | os.PathLike], scores: Iterable[str | os.PathLike]) -> ScoredUnion:
    """The union's junction BEDs and their `score` outputs; a scored row outside the union is an error."""
    result = ScoredUnion()
    for path in union:
        result.unscored.update((r.contig, r.start, r.end, r.strand) for r in read_junctions(path))
    for path in scores:
        for row in read_scores_bed(path):
            if row.key in result.unscored:
                result.unscored.discard(row.key)
            elif row.key not in result.scores:
                contig, start, end, strand = row.key
                raise UserError(f"junction {contig}:{start}-{end} ({strand}) is not in the union junctions "
                                "(--union): scores of another union?", path, row.line)
            result.scores[row.key] = (score_text(row.donor), score_text(row.acceptor))
            result.scored_contigs.add(row.key[0])
    return result


def project(sample: str | os.PathLike, union: ScoredUnion, out: TextIO) -> Projected:
    """Write the sample's scores (header line, rows in input order) to `out`; a junction missing from the
    union is an error naming the sample's file and line.

    As `score` of the sample alone stops when all its rows are stranded and none is on a contig of
    the genome, so does the projection when all its rows are stranded and none is on a contig where
    the union has a scored junction (a contig missing from the genome has none; the one case it
    catches that `score` does not is a sample all of whose junctions sit on contigs where no
    junction of the cohort could be scored, near their ends or at N bases)."""
    provenance = read_provenance(sample)
    if provenance:
        out.write(provenance_line(provenance))
    counts = Projected()
    contigs: set[str] = set()
    for row in read_junctions(sample):
        counts.rows += 1
        contigs.add(row.contig)
        if row.strand not in SCORABLE_STRANDS:
            counts.unstranded += 1
            continue
        key = (row.contig, row.start, row.end, row.strand)
        texts = union.scores.get(key)
        if texts is None:
            if key not in union.unscored:
                raise UserError(f"junction {row.contig}:{row.start}-{row.end} ({row.strand}) is not in the union "
                                "(--union): was this sample united with the others?", sample, row.line)
            counts.unscorable += 1
            continue
        extra = () if row.extra is None else (row.extra,)
        out.write(bed_line(row.contig, row.start, row.end, row.name, row.score, row.strand, *texts, *extra))
        counts.written += 1
    if counts.rows and not counts.unstranded and not contigs & union.scored_contigs:
        raise UserError(f"none of the {counts.rows} junctions is on a contig where the cohort has a scored junction "
                        f"(contigs {first_names(sorted(contigs), 5)}): are they "
                        "contigs of the genome? (contig names must match exactly: '20' and 'chr20' differ; "
                        "scoring this sample alone stops too)", sample)
    return counts
