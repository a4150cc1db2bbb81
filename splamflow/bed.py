"""Junction BED input: BED6 rows (optional 7th column of transcript ids), validated line by line."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from splamflow.errors import UserError
from splamflow.fileio import text_lines

SCORABLE_STRANDS = ("+", "-")
UNSTRANDED = (".", "?")

# Characters that would break a BED/TSV field or a comma-separated id list: control characters
# (tab, newline, ...), the list separator and '%' itself, percent-encoded as GFF3 writes them.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f%,]")


@dataclass(frozen=True)
class JunctionRow:
    """One BED row; `fields` keeps the original text of columns 4-7 for the output."""

    line: int
    contig: str
    start: int
    end: int
    name: str
    score: str
    strand: str
    extra: str | None  # 7th column (comma-separated transcript ids), when present


def field_text(value: str) -> str:
    """`value` made safe for one tab-separated field: %XX for control characters, ',' and '%'."""
    return _UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", value)


def id_list(ids: Iterable[str]) -> str:
    """Comma-separated ids (transcripts of an intron), each made safe with `field_text`."""
    return ",".join(field_text(i) for i in ids)


def read_junctions(path: str | os.PathLike) -> Iterator[JunctionRow]:
    """Yield validated rows; raise UserError naming file and line for malformed ones.

    Header lines (`#`, `track`, `browser`) and blank lines are skipped; a file with no rows (a
    sample without junctions) yields nothing. Strand must be '+', '-' or unstranded ('.' / '?');
    anything else is an error.
    """
    for n, line in text_lines(path, "BED"):
        if not line.strip() or line.startswith(("#", "track", "browser")):
            continue
        f = line.rstrip("\r\n").split("\t")
        if len(f) < 6:
            raise UserError(f"BED row has {len(f)} tab-separated columns, need at least 6", path, n)
        try:
            start, end = int(f[1]), int(f[2])
        except ValueError:
            raise UserError(f"start/end are not integers: {f[1]!r}, {f[2]!r}", path, n) from None
        if start < 0:
            raise UserError(f"negative start coordinate {start}", path, n)
        if end <= start:
            raise UserError(f"end ({end}) must be greater than start ({start})", path, n)
        strand = f[5]
        if strand not in SCORABLE_STRANDS and strand not in UNSTRANDED:
            raise UserError(f"unknown strand symbol {strand!r} (expected +, - or .)", path, n)
        yield JunctionRow(n, f[0], start, end, f[3], f[4], strand, f[6] if len(f) > 6 else None)
