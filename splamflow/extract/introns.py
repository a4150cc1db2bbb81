"""Junction tables beyond counting: annotation introns, per-transcript intron counts, motif strands."""

from __future__ import annotations

import os
from collections import Counter

from splamflow.extract.alignments import Junctions
from splamflow.io.annotation import Transcript
from splamflow.io.bed import STRAND_ORDER, field_text
from splamflow.motifs import MotifStrands


def annotation_rows(
    transcripts: list[Transcript],
) -> list[tuple[str, int, int, str, list[str]]]:
    """(contig, start, end, strand, sorted transcript ids) per distinct intron.

    Sorted by contig (order of first appearance), start, end, strand.
    """
    contig_rank: dict[str, int] = {}
    ids: dict[tuple[str, int, int, str], set[str]] = {}
    for t in transcripts:
        contig_rank.setdefault(t.contig, len(contig_rank))
        for start, end in t.introns:
            ids.setdefault((t.contig, start, end, t.strand), set()).add(t.id)
    keys = sorted(ids, key=lambda k: (contig_rank[k[0]], k[1], k[2], STRAND_ORDER.get(k[3], 3), k[3]))
    return [(*key, sorted(ids[key])) for key in keys]


def write_intron_counts(transcripts: list[Transcript], path: str | os.PathLike) -> None:
    """TSV with header `transcript_id gene_id introns`, one line per transcript in input order.

    Ids are written with `field_text`, so a GFF3 id holding an escaped tab or newline stays one field.
    """
    with open(path, "w", newline="\n") as out:
        out.write("transcript_id\tgene_id\tintrons\n")
        for t in transcripts:
            out.write(f"{field_text(t.id)}\t{field_text(t.gene_id)}\t{len(t.introns)}\n")


def infer_motif_strands(junctions: Junctions, motifs: MotifStrands) -> tuple[int, Counter]:
    """Give '.' junctions the strand of their dinucleotides, merging into existing +/- rows.

    Returns the number of unstranded junctions before and a Counter of those resolved per strand.
    """
    resolved: Counter = Counter({"+": 0, "-": 0})
    unstranded = [key for key in junctions.counts if key[3] == "."]
    for key in unstranded:
        tid, start, end, _ = key
        strand = motifs.strand(junctions.contigs[tid], start, end)
        if strand == ".":
            continue
        resolved[strand] += 1
        junctions.add((tid, start, end, strand), junctions.counts.pop(key))
    return len(unstranded), resolved
