"""Progress bars: on a terminal (a pty) a tqdm bar with rate and total (clean's: the BAM index's, none
without an index); off a terminal or with --quiet no bar; the output bytes are the same either way."""

from __future__ import annotations

import fcntl
import os
import pty
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bin" / "splam_score.py"
ENV = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}


def _on_a_terminal(argv: list[str]) -> tuple[int, str]:
    """Run the CLI with stderr (and stdin/stdout) on a 24x120 pty; return its exit code and what the terminal got.

    A new pty reports 0 rows and 0 columns until someone sets its size, as a terminal emulator does;
    tqdm >= 4.70 draws nothing on a terminal with 0 rows."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    proc = subprocess.Popen([sys.executable, str(SCRIPT), *argv], stdin=follower, stdout=follower, stderr=follower,
                            env=ENV, close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(), b"".join(chunks).decode(errors="replace")


def _off_a_terminal(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *argv], capture_output=True, text=True, env=ENV)


@pytest.fixture(scope="module")
def bed(tmp_path_factory, slice_bam):
    out = tmp_path_factory.mktemp("progress") / "junctions.bed"
    assert _off_a_terminal(["extract", str(slice_bam), "-o", str(out)]).returncode == 0
    return out


def test_extract_shows_a_bar_with_the_index_total_on_a_terminal(tmp_path, slice_bam, bed):
    out = tmp_path / "tty.bed"
    code, seen = _on_a_terminal(["extract", str(slice_bam), "-o", str(out)])
    assert code == 0, seen
    import pysam

    with pysam.AlignmentFile(str(slice_bam)) as bam:
        total = sum(s.total for s in bam.get_index_statistics()) + bam.nocoordinate
    assert "extract:" in seen and "read/s" in seen and "\r" in seen
    assert f"/{total / 1000:.2f}k" in seen or f"/{total}" in seen, seen
    assert out.read_bytes() == bed.read_bytes()


@pytest.mark.parametrize("quiet", [False, True])
def test_score_bar_on_a_terminal_only(tmp_path, bed, slice_fasta, random_model, quiet):
    argv = ["score", str(bed), "--genome", str(slice_fasta), "--model", str(random_model)]
    tty_out, log_out = tmp_path / "tty.scores.bed", tmp_path / "log.scores.bed"
    code, seen = _on_a_terminal([*argv, "-o", str(tty_out), *(["--quiet"] if quiet else [])])
    assert code == 0, seen
    rows = sum(not line.startswith("#") for line in bed.read_text().splitlines())
    if quiet:
        assert "junction/s" not in seen and "%|" not in seen
    else:
        assert "score:" in seen and "junction/s" in seen and f"/{rows}" in seen, seen
    logged = _off_a_terminal([*argv, "-o", str(log_out)])
    assert logged.returncode == 0
    assert "\r" not in logged.stderr and "junction/s" not in logged.stderr
    assert [line for line in logged.stderr.splitlines() if line.startswith("scored ")]  # the one summary line
    assert tty_out.read_bytes() == log_out.read_bytes()


def test_every_subcommand_takes_quiet():
    from splamflow.cli import SUBCOMMANDS, build_parser

    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    for name in SUBCOMMANDS:
        assert any("--quiet" in a.option_strings for a in commands[name]._actions), name


@pytest.mark.parametrize("indexed", [True, False])
def test_clean_bars_total_from_the_index(tmp_path, slice_bam, indexed):
    import pysam
    from tqdm import tqdm

    bam = tmp_path / "in.bam"
    shutil.copy(slice_bam, bam)
    if indexed:
        shutil.copy(f"{slice_bam}.bai", f"{bam}.bai")
    scores = ROOT / "tests" / "data" / "golden" / "scores.bed"
    code, seen = _on_a_terminal(["clean", str(bam), "--scores", str(scores), "-o", str(tmp_path / "kept.bam"),
                                 "--discarded", str(tmp_path / "dropped.bam")])
    assert code == 0, seen
    with pysam.AlignmentFile(str(slice_bam)) as source:
        total = sum(s.total for s in source.get_index_statistics()) + source.nocoordinate
    shown = f"/{tqdm.format_sizeof(total)} "  # how a unit_scale bar writes its total: 1.23k, 12.3k, 999
    for n in (1, 2):
        draws = [d for d in seen.split("\r") if d.startswith(f"clean: pass {n} of 2:")]
        assert draws, seen
        # every draw, the first included, has the index's total when there is an index; none without one
        assert all((shown in d and "%|" in d) == indexed for d in draws), draws
        assert all(("read [" in d) == (not indexed) for d in draws), draws
