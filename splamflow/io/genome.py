"""Reference genome access (pysam.FastaFile over plain or bgzip FASTA with a .fai index).

Before htslib sees a file, its content is checked: a file that is not FASTA (htslib may crash on
one, e.g. a BAM with a .fai beside it) or that is plain gzip is refused with a hint. A missing
index is built beside the FASTA when that folder is writable (as pysam, pyfaidx and Splam do). The
index is then checked against the file: between two indexed sequences there must be exactly the
next header line, so a sequence the index skipped (a duplicate name) or a stale index is an error;
and each sequence's first and last lines must have the length and the place the index gives them,
so a sequence rewrapped (or otherwise changed in length) since it was indexed is found too, the
last or only one included. `write_indexed` rewrites a FASTA of any form (plain gzip included) as an
indexed plain or bgzip FASTA (`prepare-genome`).
"""

from __future__ import annotations

import bisect
import contextlib
import os
import struct
import zlib
from collections import Counter
from pathlib import Path
from typing import BinaryIO

import pysam

from splamflow.errors import UserError
from splamflow.io.files import is_gzip, open_decompressed, require_file
from splamflow.outputs import OutputSet

# Bytes read after the last sequence: anything but white space there is an unindexed record.
_TAIL = 1 << 16


def _is_bgzf(head: bytes) -> bool:
    """A BGZF block header: gzip with the extra field whose subfield id is 'BC'."""
    return is_gzip(head) and head[2:4] == b"\x08\x04" and head[12:14] == b"BC"


def _check_content(path: Path) -> bool:
    """Refuse non-FASTA and plain-gzip files; return True for bgzip."""
    with open(path, "rb") as raw:
        head = raw.read(18)
    bgzf = _is_bgzf(head)
    if is_gzip(head) and not bgzf:
        raise UserError("FASTA is compressed with plain gzip, which cannot be indexed; write it as bgzip with "
                        f"`splam_score.py prepare-genome {path.name} -o genome.fa.gz` (or gunzip, then bgzip)", path)
    try:
        with pysam.BGZFile(str(path), "rb") if bgzf else open(path, "rb") as handle:
            start = handle.read(4096).lstrip()
    except (OSError, EOFError) as exc:
        raise UserError(f"cannot read FASTA: {exc}", path) from None
    if start[:4] == b"BAM\x01":
        raise UserError("not a FASTA file: this is a BAM file", path)
    if not start.startswith(b">"):
        raise UserError("not a FASTA file: it does not start with a '>' header line", path)
    return bgzf


def _build_index(path: Path, fai: Path, gzi: Path | None) -> None:
    outputs = OutputSet([("genome FASTA", path)])
    fai_out = outputs.add(fai, "FASTA index", ".fai")
    gzi_out = outputs.add(gzi, "FASTA .gzi index", ".gzi") if gzi else None
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(outputs)
        except UserError as exc:
            raise UserError(f"FASTA has no .fai index and none can be written beside it ({exc}); "
                            f"create it with `samtools faidx {path}`", path) from None
        extra = ["--gzi-idx", str(gzi_out.tmp)] if gzi_out else []
        try:
            pysam.faidx(str(path), "--fai-idx", str(fai_out.tmp), *extra)
        except pysam.SamtoolsError:
            raise UserError("cannot index FASTA: `samtools faidx` fails on it (lines of one sequence must "
                            "all have the same length)", path) from None


class _Reader:
    """Uncompressed byte ranges of a plain or bgzip file (bgzip: blocks found through the .gzi)."""

    def __init__(self, raw: BinaryIO, gzi: Path | None):
        self.raw = raw
        self.blocks: list[tuple[int, int]] = []  # (uncompressed, compressed) block starts
        if gzi:
            data = gzi.read_bytes()
            (n,) = struct.unpack_from("<Q", data)
            pairs = struct.unpack_from(f"<{2 * n}Q", data, 8)
            self.blocks = [(0, 0)] + [(pairs[2 * i + 1], pairs[2 * i]) for i in range(n)]
        self._cached: tuple[int, bytes] = (-1, b"")

    def _block(self, i: int) -> bytes:
        """Block i decompressed (the last one is cached: neighbouring records share blocks)."""
        if self._cached[0] != i:
            self.raw.seek(self.blocks[i][1])
            head = self.raw.read(18)
            if not _is_bgzf(head) or head[10:12] != b"\x06\x00":
                raise ValueError("the .gzi index does not match the bgzip file")
            size = struct.unpack_from("<H", head, 16)[0] + 1
            self._cached = (i, zlib.decompress(self.raw.read(size - 18)[:-8], -15))
        return self._cached[1]

    def read(self, start: int, size: int) -> bytes:
        if not self.blocks:
            self.raw.seek(start)
            return self.raw.read(size)
        i = bisect.bisect_right(self.blocks, (start, float("inf"))) - 1
        out = bytearray()
        while len(out) < size and i < len(self.blocks):
            block = self._block(i)
            at = start + len(out) - self.blocks[i][0]
            out += block[at : at + size - len(out)]
            i += 1
        return bytes(out)


def _names(lines: list[bytes]) -> list[str]:
    return [x[1:].split()[0].decode(errors="replace") if x[1:].split() else "" for x in lines if x.startswith(b">")]


def _unindexed(path: Path, names: list[str], where: str) -> None:
    what = f"sequence {names[0]!r}" if names else "text"
    raise UserError(
        f"the FASTA holds {what} {where} that its .fai index does not list: a duplicate sequence name "
        "(the index keeps the first) or a stale index (re-create it with `samtools faidx`)",
        path,
    )


def _empty_records(lines: list[bytes], indexed: set[str]) -> bool:
    """True when `lines` are only headers of sequences without bases, which htslib leaves out of the
    index (samtools faidx warns and goes on); a name the index lists is a duplicate, not one of them."""
    return all(x.startswith(b">") for x in lines) and not indexed.intersection(_names(lines))


def _lines_match(reader: _Reader, offset: int, length: int, bases: int, width: int) -> bool:
    """The record's first and last lines hold `bases` bases (the last one the rest) where the index puts them."""
    eol = {1: b"\n", 2: b"\r\n"}.get(width - bases)
    if not length:
        return True
    if bases <= 0 or eol is None:
        return False
    last = (length - 1) // bases
    for line in sorted({0, last}):
        start = offset + line * width - (len(eol) if line else 0)
        size = min(bases, length - line * bases)
        chunk = reader.read(start, (len(eol) if line else 0) + size + len(eol))
        if line:
            if chunk[: len(eol)] != eol:
                return False
            chunk = chunk[len(eol) :]
        text, after = chunk[:size], chunk[size:]
        if len(text) != size or any(c in text for c in b"\r\n>") or not (after == eol or line == last and not after):
            return False
    return True


def _check_index(path: Path, fai: Path, gzi: Path | None) -> None:
    """Every record of the FASTA is in the index, once, where the index says it is, wrapped as it says."""
    entries = []
    for n, line in enumerate(fai.read_text(errors="replace").splitlines(), 1):
        f = line.split("\t")
        if len(f) < 5 or not all(x.isdigit() for x in f[1:5]):
            raise UserError("malformed FASTA index line (re-create it with `samtools faidx`)", fai, n)
        entries.append((int(f[2]), f[0], int(f[1]), int(f[3]), int(f[4])))
    dups = [name for name, k in Counter(e[1] for e in entries).items() if k > 1]
    if dups:
        raise UserError(f"FASTA index lists duplicate sequence names: {', '.join(dups[:5])}", fai)
    entries.sort()
    indexed = {e[1] for e in entries}
    try:
        with open(path, "rb") as raw:
            reader = _Reader(raw, gzi)
            end = 0
            for offset, name, length, bases, width in entries:
                lines = [x for x in reader.read(end, min(offset - end, _TAIL)).split(b"\n") if x.strip()]
                if (offset - end > _TAIL or not lines or _names(lines[-1:]) != [name]
                        or not _empty_records(lines[:-1], indexed)):
                    _unindexed(path, [n for n in _names(lines) if n != name], f"before sequence {name!r}")
                if not _lines_match(reader, offset, length, bases, width):
                    raise UserError(
                        f"the lines of sequence {name!r} are not where its .fai index says (the FASTA was "
                        "rewrapped or changed after it was indexed): a stale index; re-create it with "
                        "`samtools faidx`", path)
                end = offset + (length // bases) * width + length % bases if bases else offset
            tail = reader.read(end, _TAIL)
    except (OSError, struct.error, ValueError, zlib.error) as exc:
        raise UserError(f"cannot read FASTA or its index: {exc}", path) from None
    if not _empty_records([x for x in tail.split(b"\n") if x.strip()], indexed):
        _unindexed(path, _names(tail.split(b"\n")), "after the last indexed sequence")


def open_genome(path: str | os.PathLike) -> pysam.FastaFile:
    """Open an indexed FASTA (indexing it if needed); one-line errors for anything wrong with it."""
    p = require_file(path, "genome FASTA")
    bgzf = _check_content(p)
    fai = Path(f"{p}.fai")
    gzi = Path(f"{p}.gzi") if bgzf else None
    if not fai.exists() or (gzi is not None and not gzi.exists()):
        _build_index(p, fai, gzi)
    _check_index(p, fai, gzi)
    try:
        return pysam.FastaFile(str(p))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read FASTA: {exc}", p) from None


def write_indexed(source: Path, fasta: Path, fai: Path, gzi: Path | None) -> None:
    """Write the FASTA `source` (plain, gzip or bgzip) as `fasta`, bgzip when `gzi` is given (plain
    otherwise), and index it: `fai` and `gzi` as `samtools faidx` writes them."""
    try:
        with open_decompressed(source) as src:
            start = src.read(1 << 20)
            if start[:4] == b"BAM\x01":
                raise UserError("not a FASTA file: this is a BAM file", source)
            if not start.lstrip().startswith(b">"):
                raise UserError("not a FASTA file: it does not start with a '>' header line", source)
            with pysam.BGZFile(str(fasta), "wb") if gzi else open(fasta, "wb") as out:
                while start:
                    out.write(start)
                    start = src.read(1 << 20)
    except (OSError, EOFError, zlib.error) as exc:
        raise UserError(f"cannot read FASTA: {exc}", source) from None
    extra = ["--gzi-idx", str(gzi)] if gzi else []
    try:
        pysam.faidx(str(fasta), "--fai-idx", str(fai), *extra)
    except pysam.SamtoolsError:
        raise UserError("cannot index FASTA: `samtools faidx` fails on it (lines of one sequence must "
                        "all have the same length)", source) from None


class GenomeSet:
    """Several indexed FASTA files read as one genome (e.g. one file per chromosome)."""

    def __init__(self, paths: list[str | os.PathLike]):
        self._files = [open_genome(p) for p in paths]
        self._owner: dict[str, pysam.FastaFile] = {}
        for path, fasta in zip(paths, self._files):
            for name in fasta.references:
                if name in self._owner:
                    raise UserError(f"sequence {name!r} appears in more than one FASTA", path)
                self._owner[name] = fasta
        self.references = tuple(self._owner)
        self.lengths = tuple(self._owner[n].get_reference_length(n) for n in self.references)

    def fetch(self, contig: str, start: int, end: int) -> str:
        return self._owner[contig].fetch(contig, start, end)

    def __contains__(self, contig: str) -> bool:
        return contig in self._owner
