"""Remove transcripts with mostly bad introns from a GTF/GFF3, keeping the file consistent.

Rule (Splam 1.0.12's GFF clean): an intron is bad when both its donor and acceptor scores are below
the threshold (strict `<`); a transcript is removed when it has at least `min_introns` introns and
more than `min_bad_fraction` of them are bad. Introns without a score are never bad.

The output is the input file, line for line, minus the removed transcripts and everything that hangs
only from them: GTF lines whose `transcript_id` is removed; GFF3 features whose every `Parent` is
removed (a feature shared with a kept transcript stays, its `Parent` list trimmed). A gene goes only
when every one of its transcripts is gone (Splam instead drops every gene line). Comments, other
features and a GFF3 `##FASTA` section are copied unchanged.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from splamflow.clean.scores import Scores, bad
from splamflow.io.annotation import (
    Transcript,
    annotation_lines,
    gff3_ids,
    gff3_trim_parents,
    gtf_attribute,
    read_transcripts,
)
from splamflow.io.sniff import annotation_format


@dataclass
class TranscriptVerdict:
    """One report row."""

    transcript: Transcript
    introns: int
    scored: int
    bad: int
    removed: bool

    @property
    def fraction(self) -> float:
        return self.bad / self.introns if self.introns else 0.0


@dataclass
class AnnotationStats:
    """Counts reported in the stats JSON."""

    format: str = ""
    transcripts_in: int = 0
    transcripts_kept: int = 0
    transcripts_removed: int = 0
    genes_removed: int = 0
    lines_in: int = 0
    lines_kept: int = 0
    lines_removed: int = 0
    introns_unique: int = 0
    introns_scored: int = 0
    introns_bad: int = 0
    introns_unscored: int = 0
    score_junctions_on_unknown_contigs: int = 0
    #: bad introns per multi-intron transcript -> transcripts
    bad_per_transcript: dict[int, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        out = dict(self.__dict__)
        out["bad_per_transcript"] = {str(k): v for k, v in sorted(self.bad_per_transcript.items())}
        return out


def judge_transcripts(
    transcripts: Iterable[Transcript],
    scores: Scores,
    threshold: float,
    min_bad_fraction: float,
    min_introns: int,
    stats: AnnotationStats,
) -> list[TranscriptVerdict]:
    """Apply the rule to each transcript; fill the intron and transcript counts of `stats`."""
    verdicts: list[TranscriptVerdict] = []
    unique: dict[tuple, bool | None] = {}
    for t in transcripts:
        scored = n_bad = 0
        for start, end in t.introns:
            key = (t.contig, start, end, t.strand)
            score = scores.get(key)
            verdict = None if score is None else bad(score[0], score[1], threshold)
            unique[key] = verdict
            if verdict is not None:
                scored += 1
                n_bad += verdict
        n = len(t.introns)
        removed = n >= min_introns and n > 0 and n_bad / n > min_bad_fraction
        verdicts.append(TranscriptVerdict(t, n, scored, n_bad, removed))
        if n:
            stats.bad_per_transcript[n_bad] = stats.bad_per_transcript.get(n_bad, 0) + 1
    stats.transcripts_in = len(verdicts)
    stats.transcripts_removed = sum(v.removed for v in verdicts)
    stats.transcripts_kept = stats.transcripts_in - stats.transcripts_removed
    stats.introns_unique = len(unique)
    stats.introns_scored = sum(v is not None for v in unique.values())
    stats.introns_bad = sum(v is True for v in unique.values())
    stats.introns_unscored = stats.introns_unique - stats.introns_scored
    return verdicts


def _features(path: str) -> Iterator[tuple[str, list[str] | None]]:
    """(line, fields) for every line; fields is None for lines that are not features (comments,
    blank lines, a GFF3 FASTA section), which are copied unchanged."""
    for _, line, fields in annotation_lines(path):
        yield line, fields if fields is not None and len(fields) >= 9 else None


def _gtf_removed_genes(path: str, removed: set[str]) -> set[str]:
    """Genes of the file whose every transcript is removed."""
    transcripts_of: dict[str, set[str]] = {}
    for _, fields in _features(path):
        if fields is None:
            continue
        gene, tid = gtf_attribute(fields[8], "gene_id"), gtf_attribute(fields[8], "transcript_id")
        if gene is not None and tid is not None:
            transcripts_of.setdefault(gene, set()).add(tid)
    return {g for g, tids in transcripts_of.items() if tids and tids <= removed}


def _filter_gtf(path: str, removed: set[str], out, stats: AnnotationStats) -> None:
    genes = _gtf_removed_genes(path, removed)
    stats.genes_removed = len(genes)
    for line, fields in _features(path):
        if fields is not None:
            stats.lines_in += 1
            tid = gtf_attribute(fields[8], "transcript_id")
            drop = tid in removed if tid is not None else gtf_attribute(fields[8], "gene_id") in genes
            if drop:
                stats.lines_removed += 1
                continue
            stats.lines_kept += 1
        out.write(line.rstrip("\r\n") + "\n")


def _gff3_removed_ids(
    features: list[tuple[str | None, tuple[str, ...]]], removed: set[str]
) -> tuple[set[str], set[str]]:
    """Close `removed` over the hierarchy: children all of whose parents are gone, and parents all
    of whose children are gone. Returns (all removed IDs, the parents removed that way)."""
    gone = set(removed)
    emptied: set[str] = set()
    children: dict[str, list[int]] = {}
    for i, (_, parents) in enumerate(features):
        for p in parents:
            children.setdefault(p, []).append(i)

    def line_gone(i: int) -> bool:
        fid, parents = features[i]
        return (fid is not None and fid in gone) or (bool(parents) and all(p in gone for p in parents))

    changed = True
    while changed:
        changed = False
        for fid, parents in features:
            if fid is not None and fid not in gone and parents and all(p in gone for p in parents):
                gone.add(fid)
                changed = True
        for parent, kids in children.items():
            if parent not in gone and all(line_gone(i) for i in kids):
                gone.add(parent)
                emptied.add(parent)
                changed = True
    return gone, emptied


def _filter_gff3(path: str, removed: set[str], out, stats: AnnotationStats) -> None:
    features = [gff3_ids(fields[8]) for _, fields in _features(path) if fields is not None]
    gone, emptied = _gff3_removed_ids(features, removed)
    stats.genes_removed = len(emptied)
    parsed = iter(features)
    for line, fields in _features(path):
        if fields is None:
            out.write(line.rstrip("\r\n") + "\n")
            continue
        stats.lines_in += 1
        fid, parents = next(parsed)
        if (fid is not None and fid in gone) or (parents and all(p in gone for p in parents)):
            stats.lines_removed += 1
            continue
        if any(p in gone for p in parents):
            fields[8] = gff3_trim_parents(fields[8], gone)
            line = "\t".join(fields)
        stats.lines_kept += 1
        out.write(line.rstrip("\r\n") + "\n")


def clean_annotation(
    input_path: str | os.PathLike,
    scores: Scores,
    output_tmp: str | os.PathLike,
    threshold: float,
    min_bad_fraction: float,
    min_introns: int,
    gzip_output: bool = False,
    fmt: str | None = None,
) -> tuple[AnnotationStats, list[TranscriptVerdict]]:
    """Judge every transcript and write the cleaned annotation to `output_tmp`.

    `fmt` ('gtf' or 'gff3') is `annotation_format(input_path)` unless the caller has it already.
    """
    path = os.fspath(input_path)
    stats = AnnotationStats(format=fmt or annotation_format(path))
    transcripts = read_transcripts(path, fmt=stats.format)
    stats.score_junctions_on_unknown_contigs = sum(
        scores.missing_contigs({t.contig for t in transcripts}).values()
    )
    verdicts = judge_transcripts(transcripts, scores, threshold, min_bad_fraction, min_introns, stats)
    removed = {v.transcript.id for v in verdicts if v.removed}
    opener = gzip.open if gzip_output else open
    with opener(output_tmp, "wt", newline="\n") as out:
        if stats.format == "gtf":
            _filter_gtf(path, removed, out, stats)
        else:
            _filter_gff3(path, removed, out, stats)
    return stats, verdicts
