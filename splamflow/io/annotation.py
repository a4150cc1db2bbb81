"""GTF / GFF3: feature lines, their attributes, and transcripts with exact introns.

Reading is one streaming pass (plain or gzip/bgzip), no database. GTF exons are grouped by
`transcript_id`; GFF3 exons are linked to their transcript through `Parent` (an exon may name several
parents; IDs are percent-decoded). Coordinates are returned 0-based half-open. Malformed lines raise
a `UserError` naming the file and line. The line and attribute helpers also serve `clean`, which
rewrites an annotation line by line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from urllib.parse import unquote

from splamflow.errors import UserError
from splamflow.io.files import text_lines
from splamflow.io.sniff import annotation_format

#: Transcript-level feature types taken by default (GFF3 `type` column, GTF third column).
DEFAULT_FEATURES: frozenset[str] = frozenset(
    {
        "mRNA",
        "transcript",
        "ncRNA",
        "lnc_RNA",
        "lncRNA",
        "miRNA",
        "snRNA",
        "snoRNA",
        "rRNA",
        "tRNA",
        "scRNA",
        "antisense_RNA",
        "primary_transcript",
        "pseudogenic_transcript",
        "unconfirmed_transcript",
        "C_gene_segment",
        "V_gene_segment",
        "D_gene_segment",
        "J_gene_segment",
    }
)

_GTF_ATTR = {key: re.compile(rf'(?:^|;)\s*{key}\s+"?([^";]*)"?') for key in ("transcript_id", "gene_id")}
_PARENT = re.compile(r"(?:^|;)\s*Parent=([^;]*)")

# GTF sub-features of a transcript: they carry a transcript_id but do not tell its type.
_GTF_NOT_TRANSCRIPT = frozenset(
    {"gene", "CDS", "UTR", "five_prime_utr", "three_prime_utr", "5UTR", "3UTR", "start_codon",
     "stop_codon", "Selenocysteine"}
)


@dataclass(frozen=True)
class Transcript:
    """A transcript and its exons (0-based half-open, sorted by start)."""

    id: str
    gene_id: str
    contig: str
    strand: str
    exons: tuple[tuple[int, int], ...]

    @property
    def introns(self) -> tuple[tuple[int, int], ...]:
        """Gaps between consecutive exons, 0-based half-open; touching/overlapping exons give none."""
        out: list[tuple[int, int]] = []
        end = None
        for exon_start, exon_end in self.exons:
            if end is not None and exon_start > end:
                out.append((end, exon_start))
            end = exon_end if end is None else max(end, exon_end)
        return tuple(out)


def annotation_lines(path: str | os.PathLike) -> Iterator[tuple[int, str, list[str] | None]]:
    """(line number, line, tab-separated fields) of every line; fields is None for comments, blank
    lines and a GFF3 `##FASTA` section (and everything after it)."""
    in_fasta = False
    for lineno, line in text_lines(path, "annotation"):
        if line.startswith("##FASTA"):
            in_fasta = True
        if in_fasta or line.startswith("#") or not line.strip():
            yield lineno, line, None
        else:
            yield lineno, line, line.rstrip("\r\n").split("\t")


def gtf_attribute(attrs: str, key: str) -> str | None:
    """The value of a GTF attribute (`key "value";`), or None when absent or empty."""
    match = _GTF_ATTR[key].search(attrs)
    return match.group(1) if match and match.group(1) else None


def _decode(value: str) -> str:
    return unquote(value) if "%" in value else value


def gff3_ids(attrs: str) -> tuple[str | None, tuple[str, ...]]:
    """(ID, Parent IDs) of a GFF3 attribute column, percent-decoded; empty Parent entries are dropped."""
    fid, parents = None, ()
    for part in attrs.split(";"):
        part = part.strip()
        if part.startswith("ID="):
            fid = _decode(part[3:])
        elif part.startswith("Parent="):
            parents = tuple(_decode(p) for p in part[7:].split(",") if p)
    return fid, parents


def gff3_trim_parents(attrs: str, gone: Collection[str]) -> str:
    """The attribute column without the Parent IDs in `gone` (the rest of the text unchanged)."""

    def trim(match: re.Match) -> str:
        kept = [p for p in match.group(1).split(",") if p and unquote(p) not in gone]
        prefix = match.group(0)[: match.start(1) - match.start(0)]
        return prefix + ",".join(kept)

    return _PARENT.sub(trim, attrs, count=1)


def _records(path: str | os.PathLike) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, 9 fields) for every feature line; validate the columns shared by GTF/GFF3."""
    seen_any = False
    for lineno, line, fields in annotation_lines(path):
        if fields is None:
            if line.startswith("##FASTA"):
                break
            continue
        seen_any = True
        if len(fields) < 9:
            raise UserError(f"expected 9 tab-separated fields, found {len(fields)}", path, lineno)
        try:
            start, end = int(fields[3]), int(fields[4])
        except ValueError:
            raise UserError(f"start/end are not integers: {fields[3]!r}, {fields[4]!r}", path, lineno) from None
        if start < 1:
            raise UserError(f"start {start} is below 1 (coordinates are 1-based)", path, lineno)
        if end < start:
            raise UserError(f"end {end} is before start {start}", path, lineno)
        yield lineno, fields
    if not seen_any:
        raise UserError("no feature lines (empty annotation file)", path)


class _Builder:
    """Collects exons per transcript and checks one contig and one strand per transcript."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = path
        self.exons: dict[str, list[tuple[int, int]]] = {}
        self.where: dict[str, tuple[str, str]] = {}

    def add(self, tid: str, contig: str, strand: str, start1: int, end1: int, lineno: int) -> None:
        known = self.where.get(tid)
        if known is None:
            self.where[tid] = (contig, strand)
            self.exons[tid] = [(start1 - 1, end1)]
            return
        if known[0] != contig:
            raise UserError(
                f"exons of transcript {tid!r} are on two contigs ({known[0]} and {contig})",
                self.path,
                lineno,
            )
        if known[1] != strand:
            raise UserError(
                f"exons of transcript {tid!r} are on two strands ({known[1]} and {strand})",
                self.path,
                lineno,
            )
        self.exons[tid].append((start1 - 1, end1))


def _read_gtf(path: str | os.PathLike, features: Collection[str]) -> list[Transcript]:
    builder = _Builder(path)
    genes: dict[str, str] = {}
    transcript_type: dict[str, str] = {}
    for lineno, fields in _records(path):
        feature = fields[2]
        if feature == "exon":
            tid = gtf_attribute(fields[8], "transcript_id")
            if tid is None:
                raise UserError("exon line without a transcript_id attribute", path, lineno)
            builder.add(tid, fields[0], fields[6], int(fields[3]), int(fields[4]), lineno)
            if tid not in genes:
                genes[tid] = gtf_attribute(fields[8], "gene_id") or tid
        elif feature not in _GTF_NOT_TRANSCRIPT:
            tid = gtf_attribute(fields[8], "transcript_id")
            if tid is not None:
                transcript_type.setdefault(tid, feature)
    return [
        Transcript(tid, genes[tid], *builder.where[tid], tuple(sorted(exons)))
        for tid, exons in builder.exons.items()
        if transcript_type.get(tid) in features or tid not in transcript_type
    ]


def _read_gff3(path: str | os.PathLike, features: Collection[str]) -> list[Transcript]:
    builder = _Builder(path)
    parents_of_transcript: dict[str, str] = {}
    feature_type: dict[str, str] = {}
    exon_lines: list[tuple[str, str, str, int, int, int]] = []
    for lineno, fields in _records(path):
        fid, parents = gff3_ids(fields[8])
        feature = fields[2]
        if feature == "exon":
            if not parents:
                raise UserError("exon line without a Parent attribute", path, lineno)
            for parent in parents:
                exon_lines.append((parent, fields[0], fields[6], int(fields[3]), int(fields[4]), lineno))
        elif fid is not None:
            feature_type.setdefault(fid, feature)
            if feature in features:
                parents_of_transcript[fid] = parents[0] if parents else fid
    for tid, contig, strand, start, end, lineno in exon_lines:
        kind = feature_type.get(tid)
        if kind is not None and kind not in features:
            continue
        builder.add(tid, contig, strand, start, end, lineno)
    return [
        Transcript(tid, parents_of_transcript.get(tid, tid), *builder.where[tid], tuple(sorted(exons)))
        for tid, exons in builder.exons.items()
    ]


def read_transcripts(
    path: str | os.PathLike, features: Collection[str] | None = None, fmt: str | None = None
) -> list[Transcript]:
    """All transcripts with at least one exon, in order of first exon in the file.

    `features` names the transcript-level feature types to keep (default `DEFAULT_FEATURES`); exons
    whose transcript line has another type are ignored. Exons of a transcript without its own
    transcript line are kept (older GTFs have exon lines only). `fmt` ('gtf' or 'gff3') is
    `annotation_format(path)` unless the caller has it already.
    """
    wanted = frozenset(features) if features else DEFAULT_FEATURES
    fmt = fmt or annotation_format(path)
    transcripts = _read_gtf(path, wanted) if fmt == "gtf" else _read_gff3(path, wanted)
    if not transcripts:
        raise UserError(
            f"no exons of transcripts found (read as {fmt.upper()}; "
            f"transcript features: {','.join(sorted(wanted))})",
            path,
        )
    return transcripts
