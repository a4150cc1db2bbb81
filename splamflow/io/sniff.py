"""What kind of file is this: alignments (BAM, CRAM, SAM) or an annotation (GTF, GFF3), and which.

The content decides first (Galaxy and pipelines pass files named `dataset_1.dat`), the name second.
`input_kind` answers None for a file it cannot place; a command then hands it to the reader that
gives the most useful error (extract: htslib; clean: the GTF reader).
"""

from __future__ import annotations

import os

from splamflow.io.files import is_gzip, open_decompressed, text_lines

ALIGNMENTS = "alignments"
ANNOTATION = "annotation"
ALIGNMENT_SUFFIXES = (".bam", ".cram", ".sam")
ANNOTATION_SUFFIXES = (".gtf", ".gff3", ".gff")

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


def looks_like_annotation(path: str | os.PathLike) -> bool:
    """True when the first feature line (within the first 64 KiB) has GTF/GFF columns."""
    head = _head(path, _HEAD)
    lines = head.decode("utf-8-sig", errors="replace").splitlines()  # utf-8-sig: a leading BOM dropped
    if len(head) == _HEAD:
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


def _start(path: str | os.PathLike, size: int) -> bytes:
    """The first `size` bytes as stored (b"" when unreadable)."""
    try:
        with open(path, "rb") as raw:
            return raw.read(size)
    except OSError:
        return b""


def is_cram(path: str | os.PathLike) -> bool:
    """True when the file starts with the CRAM magic, whatever its name."""
    return _start(path, 4) == b"CRAM"


def _alignment_magic(path: str | os.PathLike) -> bool:
    """BAM (in BGZF), CRAM, or SAM text starting with a header line."""
    if is_cram(path):
        return True
    start = _start(path, 2)
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
