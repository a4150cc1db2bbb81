"""Input files: the readable-file check, pipes spooled, plain or gzipped text line by line, sha256 for provenance."""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import itertools
import os
import shutil
import stat
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from splamflow.errors import UserError, one_line

GZIP_MAGIC = b"\x1f\x8b"  # gzip and bgzip (BGZF) files alike


def is_gzip(head: bytes) -> bool:
    """True when `head`, a file's first bytes, starts with the gzip magic (bgzip included)."""
    return head[:2] == GZIP_MAGIC


class _GzipReader(gzip.GzipFile):
    """A GzipFile over an open file that it closes with itself (a plain GzipFile leaves it open)."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__(fileobj=raw, mode="rb")
        self._raw = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def open_decompressed(path: str | os.PathLike) -> BinaryIO:
    """`path` opened once for reading bytes, through gzip when its content is gzip/bgzip (whatever its name).

    The magic is peeked, not read, so nothing is lost where the file cannot be read twice.
    """
    raw = open(path, "rb")  # noqa: SIM115 (returned open: the caller closes it)
    try:
        compressed = is_gzip(raw.peek(2))
    except OSError:
        raw.close()
        raise
    return _GzipReader(raw) if compressed else raw


def is_pipe(path: str | os.PathLike) -> bool:
    """True for an input that can be read only once: `-` (standard input), a FIFO, a character device."""
    if os.fspath(path) == "-" and not os.path.lexists("-"):
        return True
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode)


# The spooled copies of this run's pipes -> the names the user gave (`-`, /dev/fd/63, a FIFO).
_GIVEN: dict[str, str] = {}


def given_name(path: str | os.PathLike) -> str:
    """The name the user gave for `path`: the pipe's own name for a spooled copy, else `path` itself.

    Provenance (a BAM's @PG command line, stats, manifests) records this, never the temporary copy.
    """
    return _GIVEN.get(os.fspath(path), os.fspath(path))


@contextlib.contextmanager
def spooled_inputs(args: argparse.Namespace, names: Iterable[str]) -> Iterator[None]:
    """Copy each input of `args` (attributes `names`) that is a pipe into a temporary file and use that.

    Formats are sniffed and some inputs read twice, which a pipe (`<(cat x.bed)`, a FIFO, `-`) cannot
    give. The copy keeps the pipe's name and is removed when the block ends; errors raised in the
    block name the pipe, not the copy (see also `given_name`). Reading happens in Python, so a FIFO
    that no one writes to still gives way to SIGTERM.
    """
    folder: Path | None = None

    def spool(value: str, n: int) -> str:
        nonlocal folder
        if not isinstance(value, str) or not is_pipe(value):
            return value
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="splamflow-input-"))
        copy = folder / str(n) / ("stdin" if value == "-" else Path(value).name)
        copy.parent.mkdir()
        try:
            with open(0 if value == "-" else value, "rb", closefd=value != "-") as src, open(copy, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
        except OSError as exc:
            raise UserError(f"cannot read the input: {exc.strerror or exc}", value) from None
        _GIVEN[os.fspath(copy)] = value
        return os.fspath(copy)

    counter = itertools.count()
    try:
        for name in names:
            value = getattr(args, name, None)
            if isinstance(value, list):  # extract's several inputs
                setattr(args, name, [spool(item, next(counter)) for item in value])
            elif value is not None:
                setattr(args, name, spool(value, next(counter)))
        yield
    except UserError as exc:
        message = str(exc)
        for copy, name in _GIVEN.items():
            message = message.replace(one_line(copy), one_line(name))
        raise UserError(message) from None
    finally:
        _GIVEN.clear()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def index_files(path: str | os.PathLike, kind: str) -> list[Path]:
    """The index files a reader may take for `path` (existing or not): `kind` is "alignments" or "fasta".

    Alignments: X.bai, X.csi, X.crai and, for X = name.bam, name.bai and name.crai (htslib's names).
    """
    path = os.fspath(path)
    if kind == "fasta":
        return [Path(f"{path}.fai"), Path(f"{path}.gzi")]
    stem = os.path.splitext(path)[0]
    return [Path(f"{path}{ext}") for ext in (".bai", ".csi", ".crai")] + [
        Path(f"{stem}{ext}") for ext in (".bai", ".crai")]


def with_indexes(what: str, path: str | os.PathLike | None, kind: str) -> list[tuple[str, str | os.PathLike | None]]:
    """An input and its index files, as `OutputSet` inputs: files that no output may overwrite."""
    if path is None:
        return []
    return [(what, path)] + [(f"{what} index", p) for p in index_files(path, kind)]


def require_file(path: str | os.PathLike, what: str = "input", allow_empty: bool = False) -> Path:
    """Return `path` as a Path, or raise a UserError when it is missing, a folder or (unless allowed) empty."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"{what} file does not exist", p)
    if p.is_dir():
        raise UserError(f"{what} is a folder, not a file", p)
    if not allow_empty and p.stat().st_size == 0:
        raise UserError(f"{what} file is empty", p)
    return p


def text_lines(path: str | os.PathLike, what: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of a plain or gzipped UTF-8 file; damage is a one-line UserError.

    A UTF-8 byte-order mark is dropped. Invalid UTF-8 names the line; a truncated or corrupt gzip
    stream and read errors name the file.
    """
    try:
        handle = open_decompressed(path)
    except OSError as exc:
        raise UserError(f"cannot read {what}: {exc.strerror or exc}", path) from None
    lineno = 0
    with handle:
        try:
            for lineno, raw_line in enumerate(handle, 1):
                try:
                    # a byte-order mark (some Windows editors write one) is not part of line 1
                    line = raw_line.decode("utf-8-sig" if lineno == 1 else "utf-8")
                except UnicodeDecodeError:
                    raise UserError(f"{what} is not UTF-8 text", path, lineno) from None
                yield lineno, line
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise UserError(f"{what} is a damaged or truncated gzip file after line {lineno} ({exc})", path) from None
        except OSError as exc:
            raise UserError(f"cannot read {what}: {exc.strerror or exc}", path) from None


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes (provenance in model and data manifests)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
