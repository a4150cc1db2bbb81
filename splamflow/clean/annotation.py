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
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote

from splamflow.bed import field_text
from splamflow.clean.scores import Scores, is_bad_both
from splamflow.extract.annotation import Transcript, detect_format, read_transcripts
from splamflow.fileio import text_lines

_GTF_ATTR = {key: re.compile(rf'(?:^|;)\s*{key}\s+"?([^";]*)"?') for key in ("transcript_id", "gene_id")}
_PARENT = re.compile(r"(?:^|;)\s*Parent=([^;]*)")


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
        scored = bad = 0
        for start, end in t.introns:
            key = (t.contig, start, end, t.strand)
            score = scores.get(key)
            verdict = None if score is None else is_bad_both(score[0], score[1], threshold)
            unique[key] = verdict
            if verdict is not None:
                scored += 1
                bad += verdict
        n = len(t.introns)
        removed = n >= min_introns and n > 0 and bad / n > min_bad_fraction
        verdicts.append(TranscriptVerdict(t, n, scored, bad, removed))
        if n:
            stats.bad_per_transcript[bad] = stats.bad_per_transcript.get(bad, 0) + 1
    stats.transcripts_in = len(verdicts)
    stats.transcripts_removed = sum(v.removed for v in verdicts)
    stats.transcripts_kept = stats.transcripts_in - stats.transcripts_removed
    stats.introns_unique = len(unique)
    stats.introns_scored = sum(v is not None for v in unique.values())
    stats.introns_bad = sum(v is True for v in unique.values())
    stats.introns_unscored = stats.introns_unique - stats.introns_scored
    return verdicts


def _feature_fields(line: str) -> list[str] | None:
    if line.startswith("#") or not line.strip():
        return None
    fields = line.rstrip("\r\n").split("\t")
    return fields if len(fields) >= 9 else None


def _gtf_attr(attrs: str, key: str) -> str | None:
    match = _GTF_ATTR[key].search(attrs)
    return match.group(1) if match and match.group(1) else None


def _gtf_removed_genes(path: str, removed: set[str]) -> set[str]:
    """Genes of the file whose every transcript is removed."""
    transcripts_of: dict[str, set[str]] = {}
    for _, line in text_lines(path, "annotation"):
        fields = _feature_fields(line)
        if fields is None:
            continue
        gene, tid = _gtf_attr(fields[8], "gene_id"), _gtf_attr(fields[8], "transcript_id")
        if gene is not None and tid is not None:
            transcripts_of.setdefault(gene, set()).add(tid)
    return {g for g, tids in transcripts_of.items() if tids and tids <= removed}


def _filter_gtf(path: str, removed: set[str], out, stats: AnnotationStats) -> None:
    genes = _gtf_removed_genes(path, removed)
    stats.genes_removed = len(genes)
    for _, line in text_lines(path, "annotation"):
        fields = _feature_fields(line)
        if fields is not None:
            stats.lines_in += 1
            tid = _gtf_attr(fields[8], "transcript_id")
            drop = tid in removed if tid is not None else _gtf_attr(fields[8], "gene_id") in genes
            if drop:
                stats.lines_removed += 1
                continue
            stats.lines_kept += 1
        out.write(line.rstrip("\r\n") + "\n")


def _decode(value: str) -> str:
    return unquote(value) if "%" in value else value


def _gff3_ids(attrs: str) -> tuple[str | None, tuple[str, ...]]:
    """(ID, Parent IDs) of a GFF3 attribute column, percent-decoded."""
    fid, parents = None, ()
    for part in attrs.split(";"):
        part = part.strip()
        if part.startswith("ID="):
            fid = _decode(part[3:])
        elif part.startswith("Parent="):
            parents = tuple(_decode(p) for p in part[7:].split(",") if p)
    return fid, parents


def _gff3_lines(path: str) -> Iterator[tuple[str, list[str] | None]]:
    """(line, fields) for every line; fields is None for comments, blank lines and the FASTA section."""
    in_fasta = False
    for _, line in text_lines(path, "annotation"):
        if line.startswith("##FASTA"):
            in_fasta = True
        yield line, None if in_fasta else _feature_fields(line)


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
    features = [_gff3_ids(fields[8]) for _, fields in _gff3_lines(path) if fields is not None]
    gone, emptied = _gff3_removed_ids(features, removed)
    stats.genes_removed = len(emptied)
    parsed = iter(features)
    for line, fields in _gff3_lines(path):
        if fields is None:
            out.write(line.rstrip("\r\n") + "\n")
            continue
        stats.lines_in += 1
        fid, parents = next(parsed)
        if (fid is not None and fid in gone) or (parents and all(p in gone for p in parents)):
            stats.lines_removed += 1
            continue
        if any(p in gone for p in parents):
            fields[8] = _PARENT.sub(lambda m: _trim_parents(m, gone), fields[8], count=1)
            line = "\t".join(fields)
        stats.lines_kept += 1
        out.write(line.rstrip("\r\n") + "\n")


def _trim_parents(match: re.Match, gone: set[str]) -> str:
    kept = [p for p in match.group(1).split(",") if p and unquote(p) not in gone]
    prefix = match.group(0)[: match.start(1) - match.start(0)]
    return prefix + ",".join(kept)


def clean_annotation(
    input_path: str | os.PathLike,
    scores: Scores,
    output_tmp: str | os.PathLike,
    threshold: float,
    min_bad_fraction: float,
    min_introns: int,
    gzip_output: bool = False,
) -> tuple[AnnotationStats, list[TranscriptVerdict]]:
    """Judge every transcript and write the cleaned annotation to `output_tmp`."""
    path = os.fspath(input_path)
    stats = AnnotationStats(format=detect_format(path))
    transcripts = read_transcripts(path)
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


def write_report(verdicts: Iterable[TranscriptVerdict], out) -> None:
    """Per-transcript TSV: id, gene, location, intron counts, bad fraction, kept/removed (ids: `bed.field_text`)."""
    out.write(
        "transcript_id\tgene_id\tcontig\tstrand\tintrons\tscored_introns\tbad_introns\tbad_fraction\tstatus\n"
    )
    for v in verdicts:
        t = v.transcript
        out.write(
            f"{field_text(t.id)}\t{field_text(t.gene_id)}\t{t.contig}\t{t.strand}\t{v.introns}\t{v.scored}\t{v.bad}\t"
            f"{v.fraction:.4f}\t{'removed' if v.removed else 'kept'}\n"
        )
