"""Streaming GTF / GFF3 reader: transcripts with their exons and exact introns.

One pass over the file (plain or gzip/bgzip), no database. GTF exons are grouped by
`transcript_id`; GFF3 exons are linked to their transcript through `Parent` (an exon may name several
parents). Coordinates are returned 0-based half-open. Malformed lines raise a `UserError` naming the
file and line.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from urllib.parse import unquote

from splamflow.errors import UserError
from splamflow.fileio import text_lines

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

_GTF_ATTR = {
    key: re.compile(rf'(?:^|;)\s*{key}\s+"?([^";]*)"?')
    for key in ("transcript_id", "gene_id")
}

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


def looks_like_annotation(path: str | os.PathLike) -> bool:
    """True when the first feature line (within the first 64 KiB) has GTF/GFF columns.

    For inputs whose name does not say what they are; BAM, CRAM and SAM text all answer False.
    """
    try:
        with open(path, "rb") as raw:
            magic = raw.read(2)
        opener = gzip.open if magic == b"\x1f\x8b" else open
        with opener(path, "rb") as handle:
            head = handle.read(65536)
    except (OSError, EOFError):
        return False
    lines = head.decode("utf-8", errors="replace").splitlines()
    if len(head) == 65536:
        lines = lines[:-1]  # possibly cut short
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        return (
            len(fields) >= 9
            and fields[3].isdigit()
            and fields[4].isdigit()
            and fields[6] in ("+", "-", ".", "?")
        )
    return False


def detect_format(path: str | os.PathLike) -> str:
    """'gtf' or 'gff3', from the file name, else from the first feature line's attribute column."""
    name = os.fspath(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    if name.endswith(".gtf"):
        return "gtf"
    if name.endswith((".gff3", ".gff")):
        return "gff3"
    for _, line in text_lines(path, "annotation"):
        if line.startswith("#") or not line.strip():
            continue
        fields = line.rstrip("\r\n").split("\t")
        attrs = fields[8] if len(fields) > 8 else ""
        first = attrs.split(";", 1)[0].strip()
        return "gff3" if "=" in first else "gtf"
    return "gtf"


def _records(path: str | os.PathLike) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, 9 fields) for every feature line; validate the columns shared by GTF/GFF3."""
    seen_any = False
    for lineno, line in text_lines(path, "annotation"):
        if line.startswith("##FASTA"):
            break
        if line.startswith("#") or not line.strip():
            continue
        seen_any = True
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) < 9:
            raise UserError(
                f"expected 9 tab-separated fields, found {len(fields)}", path, lineno
            )
        try:
            start, end = int(fields[3]), int(fields[4])
        except ValueError:
            raise UserError(
                f"start/end are not integers: {fields[3]!r}, {fields[4]!r}", path, lineno
            ) from None
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
            match = _GTF_ATTR["transcript_id"].search(fields[8])
            if not match or not match.group(1):
                raise UserError("exon line without a transcript_id attribute", path, lineno)
            tid = match.group(1)
            builder.add(tid, fields[0], fields[6], int(fields[3]), int(fields[4]), lineno)
            if tid not in genes:
                gene = _GTF_ATTR["gene_id"].search(fields[8])
                genes[tid] = gene.group(1) if gene and gene.group(1) else tid
        elif feature not in _GTF_NOT_TRANSCRIPT:
            match = _GTF_ATTR["transcript_id"].search(fields[8])
            if match and match.group(1):
                transcript_type.setdefault(match.group(1), feature)
    return [
        Transcript(tid, genes[tid], *builder.where[tid], tuple(sorted(exons)))
        for tid, exons in builder.exons.items()
        if transcript_type.get(tid) in features or tid not in transcript_type
    ]


def _gff3_attributes(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep:
            out[key] = value
    return out


def _read_gff3(path: str | os.PathLike, features: Collection[str]) -> list[Transcript]:
    builder = _Builder(path)
    parents_of_transcript: dict[str, str] = {}
    feature_type: dict[str, str] = {}
    exon_lines: list[tuple[str, str, str, int, int, int]] = []
    for lineno, fields in _records(path):
        attrs = _gff3_attributes(fields[8])
        feature = fields[2]
        if feature == "exon":
            parents = attrs.get("Parent")
            if not parents:
                raise UserError("exon line without a Parent attribute", path, lineno)
            for parent in parents.split(","):
                exon_lines.append(
                    (unquote(parent), fields[0], fields[6], int(fields[3]), int(fields[4]), lineno)
                )
        elif "ID" in attrs:
            fid = unquote(attrs["ID"])
            feature_type.setdefault(fid, feature)
            if feature in features:
                parent = attrs.get("Parent")
                parents_of_transcript[fid] = unquote(parent.split(",")[0]) if parent else fid
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
    path: str | os.PathLike, features: Collection[str] | None = None
) -> list[Transcript]:
    """All transcripts with at least one exon, in order of first exon in the file.

    `features` names the transcript-level feature types to keep (default `DEFAULT_FEATURES`); exons
    whose transcript line has another type are ignored. Exons of a transcript without its own
    transcript line are kept (older GTFs have exon lines only).
    """
    wanted = frozenset(features) if features else DEFAULT_FEATURES
    fmt = detect_format(path)
    transcripts = _read_gtf(path, wanted) if fmt == "gtf" else _read_gff3(path, wanted)
    if not transcripts:
        raise UserError(
            f"no exons of transcripts found (read as {fmt.upper()}; "
            f"transcript features: {','.join(sorted(wanted))})",
            path,
        )
    return transcripts
