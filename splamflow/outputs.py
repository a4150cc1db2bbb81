"""Every file one command writes, checked before the work starts and replaced together at the end.

A command lists its outputs (main files, indexes, stats, tables, plots, reports) in an `OutputSet`
together with the inputs they must not overwrite. Entering the set checks them all at once: no
output is a folder, names an input or another output, or lies in a missing folder; an existing
output that cannot be replaced (e.g. immutable) is found now; and a temporary file is created
beside each output, which proves its folder is writable. The command writes to the temporary
names. Only when the whole block succeeds are the outputs moved onto their final names, together:
if one move fails, the outputs already moved are restored. On an error or an interruption every
temporary file is removed and the previous outputs are untouched.

A previous output is kept as a hard link beside it until the commit is done, so that a failed
commit can put it back; where no hard link can be made (a file system without them, a file of
another user under `fs.protected_hardlinks`) it is renamed aside at commit instead. A previous
file that cannot be put back is never deleted: the error names where it is.

Streams are written through, never replaced: `-` (standard output), `/dev/stdout`, `/dev/fd/N`, and
an output that is a character device, FIFO or block device (or a symlink to one). Such an output is
written to a temporary file in $TMPDIR and copied into the stream before the other outputs are
moved into place, so a failed run still writes nothing to it; nothing is created beside it (a
command must not add an index next to a stream: see `is_stream`). A socket is refused.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from splamflow import signals
from splamflow.errors import UserError

# Write errors that mean "the disk or the quota is full", whatever the input.
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


@dataclass
class Output:
    """One file of an OutputSet; write to `tmp`, which becomes `final` on success."""

    final: Path
    what: str  # how the user named it: "-o", "--stats", "index of -o", ...
    suffix: str
    _tmp: Path | None = None
    _backup: Path | None = None  # the previous `final`, kept until the commit is done
    _moved: bool = False  # commit has replaced (or removed) `final`
    _kept: bool = False  # the backup could not be put back: it stays, for the user
    remove: bool = False  # commit deletes an existing `final` (e.g. a stale index) instead
    stream: int | Path | None = None  # written through at commit: a file descriptor or a device/FIFO

    @property
    def tmp(self) -> Path:
        if self._tmp is None:
            raise RuntimeError(f"output {self.final} is used outside its OutputSet block")
        return self._tmp

    def remove_instead(self) -> None:
        """Do not write this output; delete any old file of this name at commit (a stale index)."""
        if self.stream is None:  # a device is never deleted
            self.remove = True


def _fd_of(path: Path) -> int | None:
    """The file descriptor that `-`, /dev/stdout, /dev/fd/N or /proc/self/fd/N (or a link to one) names."""
    if str(path) == "-":
        return 1
    here = re.compile(rf"/(?:dev|proc/(?:self|thread-self|{os.getpid()}))/fd/(\d+)")
    name = os.path.abspath(path)
    for _ in range(40):  # the kernel's limit on symlinks followed
        if match := here.fullmatch(name):
            return int(match.group(1))
        if not os.path.islink(name):
            return None
        name = os.path.normpath(os.path.join(os.path.dirname(name), os.readlink(name)))
    return None


def stream_target(path: str | os.PathLike) -> int | Path | None:
    """Where a stream output goes: a file descriptor, a device or FIFO path; None for a file to replace."""
    path = Path(path)
    fd = _fd_of(path)
    if fd is not None:
        return fd
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISSOCK(mode):
        raise UserError("is a socket; name a file, a FIFO, a device or - (standard output)", path)
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISBLK(mode):
        return path
    return None


def is_stream(path: str | os.PathLike) -> bool:
    """True for an output that is written through (see the module docstring): no index or file beside it."""
    return stream_target(path) is not None


def _copy_to_stream(source: Path, target: int | Path) -> None:
    if target in (1, 2):  # text already printed there comes first
        (sys.stdout if target == 1 else sys.stderr).flush()
    # a file descriptor stays open (it is the caller's); a device or FIFO path is opened and closed here
    with open(source, "rb") as src, open(target, "wb", closefd=not isinstance(target, int)) as out:
        shutil.copyfileobj(src, out, 1 << 20)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet
        return os.path.realpath(a) == os.path.realpath(b)


def _check_replaceable(out: Output) -> None:
    """After a refused hard link: an immutable or append-only old output is an error now, before the work.

    Opening for writing (nothing is written) is refused with EPERM for exactly those; a refusal
    for want of permission says nothing, as replacing needs only the folder's.
    """
    try:
        os.close(os.open(out.final, os.O_WRONLY | os.O_NONBLOCK))
    except OSError as exc:
        if exc.errno == errno.EPERM:
            raise UserError(f"{out.what} exists and cannot be replaced: {exc.strerror}", out.final) from None


class OutputSet:
    """The outputs of one command run; use as `with outputs:` around the work that writes them."""

    def __init__(
        self, inputs: Iterable[tuple[str, str | os.PathLike | None]] = (), folder: str | os.PathLike | None = None
    ):
        """`folder`: an output folder to create when missing (removed again if the run fails)."""
        self._inputs = [(what, Path(p)) for what, p in inputs if p is not None]
        self._outputs: list[Output] = []
        self._folder = Path(folder) if folder is not None else None
        self._created: list[Path] = []

    def add(self, path: str | os.PathLike, what: str, suffix: str = "") -> Output:
        """Register an output; `suffix` keeps tools that sniff extensions (.bam, .png) happy."""
        out = Output(Path(path), what, suffix)
        self._outputs.append(out)
        return out

    def check(self) -> None:
        """Raise a UserError for an output that is a folder, in a missing folder, or names another file."""
        if self._folder is not None and self._folder.exists() and not self._folder.is_dir():
            raise UserError("the output folder is a file", self._folder)
        for i, out in enumerate(self._outputs):
            out.stream = stream_target(out.final)
            if out.stream is not None:
                if any(other.stream == out.stream for other in self._outputs[:i]):
                    raise UserError(f"two outputs name the same stream, {out.what} among them", out.final)
                continue
            if out.final.is_dir():
                raise UserError(f"{out.what} is a folder; give a file name", out.final)
            folder = out.final.parent
            if not folder.is_dir() and folder != self._folder:
                raise UserError("output folder does not exist", folder)
            for what, source in self._inputs:
                if _same(out.final, source):
                    raise UserError(f"{out.what} is the same file as the {what}; choose another output name",
                                    out.final)
            for other in self._outputs[:i]:
                if _same(out.final, other.final):
                    raise UserError(f"{other.what} and {out.what} name the same file", out.final)

    def __enter__(self) -> OutputSet:
        self.check()
        try:
            with signals.deferred():  # a file created here is known to the set before a signal can strike
                self._make_folder()
                for out in self._outputs:
                    self._prepare(out)
        except BaseException:
            with signals.deferred():
                self._clean_up()
                self._remove_created_folders()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            try:
                self._write_streams()  # signals on: a FIFO without a reader must not hang a SIGTERM
            except BaseException:
                with signals.deferred():
                    self._clean_up()
                    self._remove_created_folders()
                raise
        with signals.deferred():  # an interruption now would leave half the clean-up undone
            if kind is None:
                try:
                    self._commit()
                except BaseException:
                    self._remove_created_folders()
                    raise
                finally:
                    self._clean_up()
                return
            self._clean_up()
            self._remove_created_folders()
        if isinstance(exc, OSError) and exc.errno in _FULL:
            folders = sorted({str(o.final.parent) for o in self._outputs})
            raise UserError(f"cannot write the outputs: {exc.strerror}", ", ".join(folders)) from None

    def _write_streams(self) -> None:
        """Copy the stream outputs through (before the files are moved: a failed copy changes no file)."""
        for out in self._outputs:
            if out.stream is not None:
                try:
                    _copy_to_stream(out.tmp, out.stream)
                except OSError as exc:
                    raise UserError(f"cannot write {out.what}: {exc.strerror or exc}", out.final) from None

    def _make_folder(self) -> None:
        if self._folder is None or self._folder.is_dir():
            return
        missing = [self._folder, *(p for p in self._folder.parents if not p.exists())]
        try:
            self._folder.mkdir(parents=True)
        except OSError as exc:
            raise UserError(f"cannot create the output folder: {exc.strerror}", self._folder) from None
        self._created = missing

    def _prepare(self, out: Output) -> None:
        if out.stream is not None:
            fd, tmp = tempfile.mkstemp(prefix="splamflow-", suffix=out.suffix or ".tmp")
            os.close(fd)
            out._tmp = Path(tmp)
            return
        folder = out.final.parent
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{out.final.name}.", suffix=out.suffix or ".tmp", dir=folder)
        except OSError as exc:
            raise UserError(f"cannot write in the output folder of {out.what}: {exc.strerror}", folder) from None
        os.close(fd)
        out._tmp = Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; outputs get the usual permissions
        if out.final.exists():
            # A hard link to the old file lets a failed commit put it back.
            backup = Path(f"{tmp}.old")
            try:
                os.link(out.final, backup)
            except OSError as exc:
                if exc.errno in (errno.EPERM, errno.EACCES):
                    _check_replaceable(out)
                return  # no hard link here: commit renames the old file aside instead
            out._backup = backup

    def _commit(self) -> None:
        done: list[Output] = []
        for out in sorted(self._outputs, key=lambda o: o.remove):  # writes first, then removals
            try:
                self._move(out)
            except OSError as exc:
                kept = [path for moved in reversed([*done, out]) if (path := self._restore(moved))]
                what = (f"the previous files are kept as {', '.join(map(str, kept))}" if kept
                        else "no output was changed")
                raise UserError(f"cannot replace {out.what}: {exc.strerror}; {what}", out.final) from None
            done.append(out)

    @staticmethod
    def _move(out: Output) -> None:
        if out.stream is not None:  # written through already
            return
        if out._backup is None and os.path.lexists(out.final):
            backup = Path(f"{out.tmp}.old")
            os.rename(out.final, backup)
            out._backup = backup
        if out.remove:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(out.final)
        else:
            os.replace(out.tmp, out.final)
        out._moved = True

    @staticmethod
    def _restore(out: Output) -> Path | None:
        """Undo `_move`; returns the backup's path when the previous file could not be put back."""
        try:
            if out._backup is not None:
                os.replace(out._backup, out.final)
                out._backup = None
            elif out._moved and not out.remove:
                os.unlink(out.final)
        except OSError:
            out._kept = True
            return out._backup
        return None

    def _clean_up(self) -> None:
        for out in self._outputs:
            for path in (out._tmp, None if out._kept else out._backup):
                if path is not None:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
            out._tmp = out._backup = None
            out._moved = out._kept = False

    def _remove_created_folders(self) -> None:
        for folder in self._created:  # innermost first; a folder that is not empty stays
            with contextlib.suppress(OSError):
                folder.rmdir()
        self._created = []


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside `final`; it becomes `final` only if the block succeeds.

    A one-file `OutputSet`: commands with several outputs use an OutputSet directly, so that
    all of them are checked first and replaced together.
    """
    outputs = OutputSet()
    out = outputs.add(final, "output", suffix)
    with outputs:
        yield out.tmp
