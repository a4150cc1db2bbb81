"""File helpers shared by every subcommand: atomic outputs and readable-input checks."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from splamflow.errors import UserError


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside `final`; rename it onto `final` only if the block succeeds.

    The temporary name keeps `suffix` (e.g. ".bam") so tools that sniff extensions still work.
    Nothing is ever left under the final name on failure.
    """
    final = Path(final)
    directory = final.parent if str(final.parent) else Path(".")
    if not directory.is_dir():
        raise UserError("output folder does not exist", directory)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=suffix or ".tmp", dir=directory)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; outputs get the usual permissions
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_text(final: str | os.PathLike) -> Iterator:
    """Open a text file for writing that appears under `final` only when complete."""
    with atomic_path(final) as tmp, open(tmp, "w", newline="\n") as handle:
        yield handle


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def require_file(path: str | os.PathLike, what: str = "input") -> Path:
    """Return `path` as a Path, or raise a UserError when it is missing, a folder or empty."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"{what} file does not exist", p)
    if p.is_dir():
        raise UserError(f"{what} is a folder, not a file", p)
    if p.stat().st_size == 0:
        raise UserError(f"{what} file is empty", p)
    return p


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when two paths name the same file (outputs must never overwrite inputs)."""
    try:
        return os.path.samefile(a, b)
    except FileNotFoundError:
        return os.path.abspath(a) == os.path.abspath(b)


def open_text(path: str | os.PathLike) -> io.TextIOBase:
    """Open a plain or gzip/bgzip-compressed text file for reading."""
    with open(path, "rb") as raw:
        magic = raw.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes (provenance in model and data manifests)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
