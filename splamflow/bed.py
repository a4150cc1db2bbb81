"""Junction BED input: BED6 rows (optional 7th column of transcript ids), validated line by line."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from splamflow.errors import UserError
from splamflow.fileio import open_text

SCORABLE_STRANDS = ("+", "-")
UNSTRANDED = (".", "?")


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


def read_junctions(path: str | os.PathLike) -> Iterator[JunctionRow]:
    """Yield validated rows; raise UserError naming file and line for malformed ones.

    Header lines (`#`, `track`, `browser`) and blank lines are skipped. Strand must be '+', '-' or
    unstranded ('.' / '?'); anything else is an error.
    """
    try:
        handle = open_text(path)
    except OSError as exc:
        raise UserError(f"cannot read BED: {exc.strerror}", path) from None
    n_rows = 0
    with handle:
        try:
            for n, line in enumerate(handle, 1):
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
                n_rows += 1
                yield JunctionRow(n, f[0], start, end, f[3], f[4], strand, f[6] if len(f) > 6 else None)
        except UnicodeDecodeError:
            raise UserError("not a text BED file", path) from None
        except (OSError, EOFError) as exc:
            raise UserError(f"cannot read BED: {exc}", path) from None
    if n_rows == 0:
        raise UserError("BED file holds no junctions", path)
