"""Junction BEDs: the one reader (junctions to score, scores to clean with) and the one row writer.

Layouts, introns 0-based half-open (start = first intron base, end = last intron base + 1):
  junctions  chrom start end name score strand [transcript_ids]            (extract, curate; score input)
  scores     chrom start end name score strand donor acceptor [transcript_ids]   (score output; clean input)
Header lines (`#`, `track`, `browser`) and blank lines are skipped; a file without rows is valid (a
sample without junctions). Every problem is a UserError naming the file and line.

A provenance header, `#splamflow key=value ...` (space-separated, no tab, so that readers which split
rows on tabs, Splam's own included, pass it by), may precede the rows: extract records how the
junctions were stranded (`strand_source`) and score copies the line into the scores BED.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass

from splamflow.errors import UserError
from splamflow.io.files import text_lines

SCORABLE_STRANDS = ("+", "-")
UNSTRANDED = (".", "?")
STRAND_ORDER = {"+": 0, "-": 1, ".": 2}  # junction BEDs are sorted by contig, start, end, then this
SCORES_LAYOUT = "chrom start end name score strand donor_score acceptor_score"

JunctionKey = tuple[str, int, int, str]  # contig, start, end, strand: how every command keys a junction

HEADERS = ("#", "track", "browser")  # line starts of BED header lines
PROVENANCE = "#splamflow"
_TOKEN = re.compile(r"[A-Za-z0-9_.,+-]+")
# Characters that would break a BED/TSV field or a comma-separated id list: control characters
# (tab, newline, ...), the list separator and '%' itself, percent-encoded as GFF3 writes them.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f%,]")


@dataclass(frozen=True)
class JunctionRow:
    """One junction BED row; name and score keep their original text for the output."""

    line: int
    contig: str
    start: int
    end: int
    name: str
    score: str
    strand: str
    extra: str | None  # 7th column (comma-separated transcript ids), when present


@dataclass(frozen=True)
class ScoreRow:
    """One scores BED row: the junction and its donor and acceptor scores."""

    line: int
    key: JunctionKey
    donor: float
    acceptor: float


def field_text(value: str) -> str:
    """`value` made safe for one tab-separated field: %XX for control characters, ',' and '%'."""
    return _UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", value)


def id_list(ids: Iterable[str]) -> str:
    """Comma-separated ids (transcripts of an intron), each made safe with `field_text`."""
    return ",".join(field_text(i) for i in ids)


def junction_name(number: int) -> str:
    """Name of the `number`-th junction (1-based) of an extract output: JUNC00000001, ..."""
    return f"JUNC{number:08d}"


def score_text(value: float) -> str:
    """A donor or acceptor score as the scores BED writes it (10 decimals)."""
    return f"{value:.10f}"


def bed_line(*fields: object) -> str:
    """One BED row: the fields as text, tab-separated, with a newline."""
    return "\t".join(map(str, fields)) + "\n"


def provenance_line(fields: dict[str, object]) -> str:
    """The `#splamflow key=value ...` header line (keys and values are single tokens)."""
    for key, value in fields.items():
        if not (_TOKEN.fullmatch(key) and _TOKEN.fullmatch(str(value))):
            raise ValueError(f"provenance field {key}={value!r} is not a token")
    return " ".join([PROVENANCE, *(f"{k}={v}" for k, v in fields.items())]) + "\n"


def read_provenance(path: str | os.PathLike) -> dict[str, str]:
    """The fields of the `#splamflow` header among the lines before the first row ({} without one).

    Tokens that are not `key=value` with plain characters are ignored: the header is information,
    never code, and a hand-edited one cannot break a run.
    """
    for _, line in text_lines(path, "BED"):
        if line.startswith(PROVENANCE + " "):
            pairs = (token.split("=", 1) for token in line.split()[1:] if "=" in token)
            return {k: v for k, v in pairs if _TOKEN.fullmatch(k) and _TOKEN.fullmatch(v)}
        if line.strip() and not line.startswith(HEADERS):
            break
    return {}


def write_bed(path: str | os.PathLike, rows: Iterable[Iterable[object]], header: str = "") -> None:
    """Write rows (each a sequence of fields) as a BED file with Unix newlines, after `header` lines."""
    with open(path, "w", newline="\n") as out:
        out.write(header)
        for row in rows:
            out.write(bed_line(*row))


def _rows(path: str | os.PathLike, what: str, columns: int, layout: str | None,
          strands: Collection[str]) -> Iterator[tuple[int, list[str], int, int]]:
    """(line number, fields, start, end) of each data row, with the checks every BED layout shares."""
    for n, line in text_lines(path, what):
        if not line.strip() or line.startswith(HEADERS):
            continue
        f = line.rstrip("\r\n").split("\t")
        if len(f) < columns:
            hint = f" ({layout}: is this the output of `splam_score.py score`?)" if layout else ""
            raise UserError(f"BED row has {len(f)} tab-separated columns, need at least {columns}{hint}", path, n)
        try:
            start, end = int(f[1]), int(f[2])
        except ValueError:
            raise UserError(f"start/end are not integers: {f[1]!r}, {f[2]!r}", path, n) from None
        if start < 0:
            raise UserError(f"negative start coordinate {start}", path, n)
        if end <= start:
            raise UserError(f"end ({end}) must be greater than start ({start})", path, n)
        if f[5] not in strands:
            raise UserError(f"unknown strand symbol {f[5]!r} (expected +, - or .)", path, n)
        yield n, f, start, end


def read_junctions(path: str | os.PathLike) -> Iterator[JunctionRow]:
    """Junction BED rows (BED6, optional 7th column); strand '+', '-' or unstranded ('.' / '?')."""
    for n, f, start, end in _rows(path, "BED", 6, None, (*SCORABLE_STRANDS, *UNSTRANDED)):
        yield JunctionRow(n, f[0], start, end, f[3], f[4], f[5], f[6] if len(f) > 6 else None)


def _probability(text: str, what: str, path: str | os.PathLike, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"{what} {text!r} is not a number", path, line) from None
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise UserError(f"{what} {text} is outside [0, 1]", path, line)
    return value


def read_scores_bed(path: str | os.PathLike) -> Iterator[ScoreRow]:
    """Scores BED rows (`score` output); strand '+', '-' or '.', scores in [0, 1]."""
    for n, f, start, end in _rows(path, "scores", 8, SCORES_LAYOUT, (*SCORABLE_STRANDS, ".")):
        donor = _probability(f[6], "donor score", path, n)
        acceptor = _probability(f[7], "acceptor score", path, n)
        yield ScoreRow(n, (f[0], start, end, f[5]), donor, acceptor)
