"""What kind of file is this: alignments (BAM, CRAM, SAM) or an annotation (GTF, GFF3), and which.

The content decides first (Galaxy and pipelines pass files named `dataset_1.dat`), the name second.
`input_kind` answers None for a file it cannot place; a command then hands it to the reader that
gives the most useful error (extract: htslib; clean: the GTF reader; curate: the GTF reader unless
`looks_like_bed`).
"""

from __future__ import annotations

import os

from splamflow.io.bed import HEADERS as BED_HEADERS
from splamflow.io.files import is_gzip, open_decompressed, text_lines

ALIGNMENTS = "alignments"
ANNOTATION = "annotation"
ALIGNMENT_SUFFIXES = (".bam", ".cram", ".sam")
ANNOTATION_SUFFIXES = (".gtf", ".gff", ".gff3")
BED_SUFFIXES = (".bed",)

_HEAD = 65536  # bytes of text looked at for a first feature line


def _name(path: str | os.PathLike) -> str:
    """The file name in lower case, without a trailing .gz."""
    name = os.path.basename(os.fspath(path)).lower()
    return name[:-3] if name.endswith(".gz") else name


def _head(path: str | os.PathLike, size: int) -> bytes:
    """The first `size` bytes, decompressed when the file is gzip/bgzip (b"" when unreadable)."""
    try:
        with open_decompressed(path) as handle:
            return handle.read(size)
    except (OSError, EOFError):
        return b""


def _first_row(path: str | os.PathLike, headers: tuple[str, ...]) -> list[str] | None:
    """The tab-separated fields of the first line, within the first 64 KiB, that is neither blank nor a header."""
    head = _head(path, _HEAD)
    lines = head.decode("utf-8-sig", errors="replace").splitlines()  # utf-8-sig: a leading BOM dropped
    if len(head) == _HEAD:
        lines = lines[:-1]  # possibly cut short
    for line in lines:
        if line.strip() and not line.startswith(headers):
            return line.split("\t")
    return None


def looks_like_annotation(path: str | os.PathLike) -> bool:
    """True when the first feature line (within the first 64 KiB) has GTF/GFF columns."""
    fields = _first_row(path, ("#",))
    return (
        fields is not None
        and len(fields) >= 9
        and fields[3].isdigit()
        and fields[4].isdigit()
        and fields[6] in ("+", "-", ".", "?")
    )


def looks_like_bed(path: str | os.PathLike) -> bool:
    """True when the name ends in .bed (.gz or not) or the first row (within 64 KiB) starts contig, start, end."""
    if _name(path).endswith(BED_SUFFIXES):
        return True
    fields = _first_row(path, BED_HEADERS)
    return fields is not None and len(fields) >= 3 and fields[1].isdigit() and fields[2].strip().isdigit()


def _start(path: str | os.PathLike, size: int) -> bytes:
    """The first `size` bytes as stored (b"" when unreadable)."""
    try:
        with open(path, "rb") as raw:
            return raw.read(size)
    except OSError:
        return b""


CRAM_MAGIC = b"CRAM"


def is_cram(path: str | os.PathLike) -> bool:
    """True when the file starts with the CRAM magic, whatever its name."""
    return _start(path, 4) == CRAM_MAGIC


def may_be_cram(path: str | os.PathLike) -> bool:
    """`is_cram`, or, for a path that is no local file (an htslib URL such as s3://...), a `.cram` name."""
    if is_cram(path):
        return True
    return not os.path.exists(path) and os.fspath(path).lower().endswith(".cram")


def _alignment_magic(path: str | os.PathLike) -> bool:
    """BAM (in BGZF), CRAM, or SAM text starting with a header line."""
    start = _start(path, 4)
    if start == CRAM_MAGIC:
        return True
    if is_gzip(start):
        return _head(path, 4) == b"BAM\x01"
    return start[:1] == b"@"


def input_kind(path: str | os.PathLike) -> str | None:
    """ALIGNMENTS, ANNOTATION, or None when neither the content nor the name tells."""
    if _alignment_magic(path):
        return ALIGNMENTS
    if looks_like_annotation(path):
        return ANNOTATION
    name = _name(path)
    if name.endswith(ANNOTATION_SUFFIXES):
        return ANNOTATION
    if name.endswith(ALIGNMENT_SUFFIXES):
        return ALIGNMENTS
    return None


def annotation_name_format(path: str | os.PathLike) -> str | None:
    """'gtf' or 'gff3' when the file name says which (.gtf; .gff, .gff3; .gz or not), else None."""
    name = _name(path)
    if name.endswith(".gtf"):
        return "gtf"
    if name.endswith((".gff3", ".gff")):
        return "gff3"
    return None


def annotation_format(path: str | os.PathLike) -> str:
    """'gtf' or 'gff3', from the file name, else from the first feature line's attribute column."""
    named = annotation_name_format(path)
    if named:
        return named
    for _, line in text_lines(path, "annotation"):
        if line.startswith("#") or not line.strip():
            continue
        fields = line.rstrip("\r\n").split("\t")
        attrs = fields[8] if len(fields) > 8 else ""
        first = attrs.split(";", 1)[0].strip()
        return "gff3" if "=" in first else "gtf"
    return "gtf"
