"""OutputSet: outputs checked before the work, written to temporary files, replaced together."""

from __future__ import annotations

import errno
import os
import signal
import socket
import stat
import subprocess
import tempfile
import threading

import pytest

from splamflow import signals
from splamflow.errors import UserError
from splamflow.outputs import OutputSet
from tests import hostile


def _files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_outputs_appear_together_only_when_the_block_succeeds(tmp_path):
    outputs = OutputSet()
    a, b = outputs.add(tmp_path / "a.txt", "-o"), outputs.add(tmp_path / "b.json", "--stats", ".json")
    with outputs:
        a.tmp.write_text("A")
        assert _files(tmp_path) == {a.tmp.name: b"A", b.tmp.name: b""}  # hidden temporary names only
        b.tmp.write_text("B")
    assert _files(tmp_path) == {"a.txt": b"A", "b.json": b"B"}
    assert oct((tmp_path / "a.txt").stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_failed_block_leaves_old_outputs_and_no_temporary_file(tmp_path):
    (tmp_path / "a.txt").write_text("old")
    outputs = OutputSet()
    a = outputs.add(tmp_path / "a.txt", "-o")
    outputs.add(tmp_path / "b.txt", "--stats")
    with pytest.raises(RuntimeError), outputs:
        a.tmp.write_text("new")
        raise RuntimeError("the work failed")
    assert _files(tmp_path) == {"a.txt": b"old"}


def test_when_one_output_cannot_be_moved_the_others_are_put_back(tmp_path, monkeypatch):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(f"old {name}")
    outputs = OutputSet()
    a, b, c = (outputs.add(tmp_path / n, n) for n in ("a.txt", "b.txt", "c.txt"))
    real_replace = os.replace

    def replace(src, dst):
        if str(dst).endswith("c.txt"):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    message = "cannot replace c.txt: No space left on device; no output was changed"
    with pytest.raises(UserError, match=message), outputs:
        for out in (a, b, c):
            out.tmp.write_text("new")
    monkeypatch.undo()
    assert _files(tmp_path) == {"a.txt": b"old a.txt", "b.txt": b"old b.txt"}


def _fail_on(monkeypatch, *suffixes):
    """os.replace fails (disk full) for a source or destination ending in one of `suffixes`."""
    real_replace = os.replace

    def replace(src, dst):
        if any(str(p).endswith(suffixes) for p in (src, dst)):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("error", [errno.EPERM, errno.EOPNOTSUPP], ids=["EPERM", "EOPNOTSUPP"])
def test_without_hard_links_a_failed_commit_still_puts_every_old_output_back(tmp_path, monkeypatch, error):
    """No hard link (vfat answers EPERM, fs.protected_hardlinks too): old outputs are renamed aside instead."""
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(f"old {name}")

    def link(src, dst):
        raise OSError(error, os.strerror(error))

    monkeypatch.setattr(os, "link", link)
    _fail_on(monkeypatch, "c.txt")
    outputs = OutputSet()
    a, b, c = (outputs.add(tmp_path / n, n) for n in ("a.txt", "b.txt", "c.txt"))
    with pytest.raises(UserError, match="cannot replace c.txt: No space left on device; no output was changed"), \
            outputs:
        for out in (a, b, c):
            out.tmp.write_text("new")
    monkeypatch.undo()
    assert _files(tmp_path) == {"a.txt": b"old a.txt", "b.txt": b"old b.txt"}
    with outputs:  # and the same set commits where nothing fails
        for out in (a, b, c):
            out.tmp.write_text("new")
    assert _files(tmp_path) == {"a.txt": b"new", "b.txt": b"new", "c.txt": b"new"}


def test_an_old_output_that_cannot_be_put_back_is_kept_and_named(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text("old a.txt")
    _fail_on(monkeypatch, "c.txt", ".old")  # the commit fails, and so does putting a.txt back
    outputs = OutputSet()
    a, c = outputs.add(tmp_path / "a.txt", "a.txt"), outputs.add(tmp_path / "c.txt", "c.txt")
    with pytest.raises(UserError, match=r"the previous files are kept as .*/\.a\.txt\.\w+\.tmp\.old") as err, \
            outputs:
        a.tmp.write_text("new")
        c.tmp.write_text("new")
    monkeypatch.undo()
    kept = str(err.value).rsplit("kept as ", 1)[1].split(":")[0]
    assert _files(tmp_path) == {"a.txt": b"new", os.path.basename(kept): b"old a.txt"}


def test_a_signal_while_the_temporary_files_are_made_leaves_none(tmp_path, monkeypatch):
    """SIGTERM arriving just after a temporary file is created, before the set has noted it."""
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        made = real_mkstemp(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)
        return made

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    outputs = OutputSet()
    outputs.add(tmp_path / "a.txt", "-o")
    outputs.add(tmp_path / "b.txt", "--stats")
    with signals.interruptible(), pytest.raises(signals.Interrupted), outputs:
        raise AssertionError("the work must not start")
    assert list(tmp_path.iterdir()) == []


def test_clashes_are_found_before_the_work(tmp_path):
    src = tmp_path / "in.bam"
    src.write_text("input")
    (tmp_path / "link").symlink_to(tmp_path)
    cases = [
        ([("-o", src)], "-o is the same file as the input"),
        ([("-o", tmp_path / "x.bam"), ("--discarded", tmp_path / "link" / "x.bam")], "name the same file"),
        ([("-o", tmp_path)], "-o is a folder"),
        ([("-o", tmp_path / "no" / "x")], "output folder does not exist"),
    ]
    for outs, message in cases:
        outputs = OutputSet([("input", src)])
        for flag, path in outs:
            outputs.add(path, flag)
        with pytest.raises(UserError, match=message):
            outputs.check()


def test_a_stale_output_is_removed_at_commit_and_restored_on_failure(tmp_path):
    (tmp_path / "out.bam.bai").write_text("index of an older out.bam")
    outputs = OutputSet()
    bam, bai = outputs.add(tmp_path / "out.bam", "-o", ".bam"), outputs.add(tmp_path / "out.bam.bai", "index")
    with outputs:
        bam.tmp.write_text("unsorted bam")
        bai.remove_instead()
    assert _files(tmp_path) == {"out.bam": b"unsorted bam"}


def test_a_created_output_folder_is_removed_again_when_the_run_fails(tmp_path):
    folder = tmp_path / "new" / "report"
    outputs = OutputSet(folder=folder)
    outputs.add(folder / "report.json", "report.json")
    with pytest.raises(RuntimeError), outputs:
        assert folder.is_dir()
        raise RuntimeError("failed")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_is_a_one_line_error(tmp_path):
    outputs = OutputSet()
    out = outputs.add(tmp_path / "a.txt", "-o")
    with pytest.raises(UserError, match="cannot write the outputs: No space left on device"), outputs:
        raise OSError(28, "No space left on device", str(out.tmp))
    assert list(tmp_path.iterdir()) == []


def test_an_immutable_old_output_is_found_before_the_work(tmp_path):
    old = tmp_path / "a.txt"
    old.write_text("old")
    outputs = OutputSet()
    outputs.add(old, "-o")
    with hostile.immutable(old), pytest.raises(UserError, match="-o exists and cannot be replaced"), outputs:
        raise AssertionError("the work must not start")
    assert _files(tmp_path) == {"a.txt": b"old"}


def test_a_really_full_file_system(tmp_path):
    """A 64 KiB tmpfs (mounting needs root): a BAM does not fit; one line on stderr, nothing left."""
    import sys
    from pathlib import Path

    mount = tmp_path / "full"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    data = Path(__file__).resolve().parents[1] / "data"
    scores = tmp_path / "s.bed"
    scores.write_text("20\t1000\t2000\tJ\t1\t+\t0.5\t0.5\n")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "splamflow.cli", "clean", str(data / "chr20_slice.bam"), "--scores", str(scores),
             "-o", str(mount / "k.bam"), "--discarded", str(mount / "d.bam")],
            capture_output=True, text=True,
        )
        leftovers = list(mount.iterdir())
    finally:
        subprocess.run(["umount", str(mount)], check=True)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1 and "No space left on device" in done.stderr, done.stderr
    assert leftovers == []


def _read_fifo_in_background(fifo) -> tuple[threading.Thread, list[bytes]]:
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as handle:
            got.append(handle.read())

    reader = threading.Thread(target=read)
    reader.start()
    return reader, got


def test_a_fifo_output_is_written_through_not_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "spool"))
    (tmp_path / "spool").mkdir()
    tempfile.tempdir = None  # TMPDIR is read again
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    reader, got = _read_fifo_in_background(fifo)
    outputs = OutputSet()
    out, stats = outputs.add(fifo, "-o", ".bed"), outputs.add(tmp_path / "s.json", "--stats", ".json")
    with outputs:
        assert out.tmp.parent == tmp_path / "spool"  # the spool, not beside the FIFO
        out.tmp.write_text("row\n")
        stats.tmp.write_text("{}")
    reader.join(10)
    tempfile.tempdir = None
    assert got == [b"row\n"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.fifo", "s.json", "spool"]
    assert not list((tmp_path / "spool").iterdir())


def test_a_device_gets_nothing_when_the_block_fails_and_is_never_removed(tmp_path):
    null = tmp_path / "null"  # /dev/null through a link: a regression replaces the link, never /dev/null itself
    null.symlink_to("/dev/null")
    outputs = OutputSet()
    out = outputs.add(null, "--discarded", ".bam")
    out.remove_instead()
    with pytest.raises(UserError), outputs:
        out.tmp.write_text("x")
        raise UserError("the work failed")
    with outputs:
        out.tmp.write_text("x")
    assert null.is_symlink() and stat.S_ISCHR(os.stat(null).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


def test_dash_and_dev_stdout_write_to_standard_output(tmp_path, capfd):
    for name in ("-", "/dev/stdout"):
        outputs = OutputSet()
        out = outputs.add(name, "-o")
        with outputs:
            out.tmp.write_text(f"through {name}\n")
        assert capfd.readouterr().out == f"through {name}\n"
    both = OutputSet()
    both.add("-", "-o")
    both.add("/dev/stdout", "--stats")
    with pytest.raises(UserError, match="two outputs name the same stream"), both:
        pass


def test_a_socket_output_is_refused(tmp_path):
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        outputs = OutputSet()
        outputs.add(path, "-o")
        with pytest.raises(UserError, match="is a socket"), outputs:
            pass
