"""SIGTERM in the middle of a run, as Nextflow, Galaxy and batch schedulers stop jobs.

Each test starts the real CLI as a subprocess, waits until it is working (its temporary outputs
exist), sends a real SIGTERM and checks: exit code 143 (128 + 15), one line on stderr, the output
folder exactly as before (no temporary file left, earlier outputs untouched) and, for `extract
--threads`, no worker process left running. A signal the process was started with ignored (`nohup`,
background jobs) must leave the run alone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from splamflow.cli import main
from tests import hostile

DATA = Path(__file__).resolve().parents[1] / "data"
BAM = DATA / "chr20_slice.bam"
GENOME = DATA / "chr20_slice.fa.gz"
SENTINEL = b"an output of an earlier run\n"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> tuple[Path, Path]:
    """The slice BAM with every record 30 times (157,140 records, sorted, indexed) and scores for it."""
    folder = tmp_path_factory.mktemp("big")
    bam = hostile.big_bam(BAM, folder / "big.bam", copies=30)
    junctions, scores = folder / "j.bed", folder / "s.bed"
    assert main(["extract", str(BAM), "-o", str(junctions)]) == 0
    with open(junctions) as src, open(scores, "w") as out:
        for i, line in enumerate(src):
            f = line.rstrip("\n").split("\t")
            out.write("\t".join([*f[:6], "0.9", "0.01" if i % 3 == 0 else "0.9"]) + "\n")
    return bam, scores


def _listing(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def _start(argv: list[str], ignored: tuple[int, ...] = ()) -> subprocess.Popen:
    """The CLI in a process group of its own; `ignored`: signals it starts with ignored (as under nohup)."""

    def ignore() -> None:
        for sig in ignored:
            signal.signal(sig, signal.SIG_IGN)

    return subprocess.Popen([sys.executable, "-m", "splamflow.cli", *map(str, argv)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=ignore)


def _wait_until_working(proc: subprocess.Popen, folder: Path, timeout: float = 300) -> None:
    """Until a temporary output (a hidden file) appears in `folder`."""
    deadline = time.monotonic() + timeout
    while not any(p.name.startswith(".") for p in folder.iterdir()):
        assert proc.poll() is None, f"finished before it could be interrupted: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "no temporary output appeared"
        time.sleep(0.02)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _assert_interrupted(proc: subprocess.Popen, command: str, out: Path, before: dict) -> None:
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.splitlines() == [f"splam_score.py {command}: interrupted by SIGTERM"], err
    assert _listing(out) == before


def _output_folder(tmp_path: Path, *existing: str) -> tuple[Path, dict]:
    """An output folder holding outputs of an earlier run, and its listing."""
    out = tmp_path / "out"
    out.mkdir()
    for name in existing:
        (out / name).write_bytes(SENTINEL)
    return out, _listing(out)


def _interrupt(argv: list, out: Path, before: dict, pause: float) -> None:
    """Run, wait until working plus `pause` seconds, SIGTERM, check what is left."""
    proc = _start(argv)
    _wait_until_working(proc, out)
    time.sleep(pause)
    proc.send_signal(signal.SIGTERM)
    _assert_interrupted(proc, argv[0], out, before)


def test_score_interrupted(tmp_path, random_model):
    rng = np.random.default_rng(1)
    starts = rng.integers(100_000, 1_900_000, 20_000)
    bed = tmp_path / "j.bed"
    bed.write_text("".join(f"20\t{s}\t{s + 700}\tJ{k}\t1\t{'+-'[k % 2]}\n" for k, s in enumerate(starts)))
    out, before = _output_folder(tmp_path, "scores.bed")
    proc = _start(["score", bed, "--genome", GENOME, "--model", random_model, "-o", out / "scores.bed",
                   "--stats", out / "stats.json", "--quiet", "--threads", "1", "--device", "cpu"])
    # Scored rows in the temporary output: the genome reader thread and the model are both at work.
    deadline = time.monotonic() + 300
    while not any(p.name.startswith(".scores.bed.") and p.stat().st_size for p in out.iterdir()):
        assert proc.poll() is None, f"finished before it could be interrupted: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "no scores were written"
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _assert_interrupted(proc, "score", out, before)


def test_clean_interrupted(tmp_path, big):
    bam, scores = big
    out, before = _output_folder(tmp_path, "kept.bam", "kept.bam.bai")
    _interrupt(["clean", bam, "--scores", scores, "-o", out / "kept.bam", "--discarded", out / "gone.bam",
                "--paired", "--stats", out / "s.json", "--stats-tsv", out / "s_mqc.tsv"], out, before, pause=0.3)


@pytest.mark.parametrize("command", ["extract", "clean"])
def test_with_worker_processes_interrupted(tmp_path, big, command):
    """Workers stopped mid-chunk; clean's workers have written part files beside the outputs."""
    bam, scores = big
    out, before = _output_folder(tmp_path, "j.bed", "kept.bam")
    argv = ["extract", bam, "-o", out / "j.bed", "--threads", "2"] if command == "extract" else \
        ["clean", bam, "--scores", scores, "-o", out / "kept.bam", "--discarded", out / "gone.bam", "--paired",
         "--threads", "2", "--chunk-records", "20000"]
    proc = _start(argv)
    workers: list[int] = []
    try:
        if command == "clean":  # in pass 2, once a worker has written into its part
            _wait_for(proc, lambda: any(part.stat().st_size for folder in out.glob(".splamflow-parts-*")
                                        for part in folder.glob("kept.*.bam")))
        workers = _hold_workers(proc)
        proc.send_signal(signal.SIGTERM)
        _resume(workers)
        _assert_interrupted(proc, command, out, before)
        assert not [pid for pid in workers if _running(pid)], "worker processes outlived the interrupted run"
    finally:  # whatever failed, leave no process of this test behind
        for pid in [proc.pid, *workers]:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait()


def _wait_for(proc: subprocess.Popen, ready) -> None:
    deadline = time.monotonic() + 300
    while not ready():
        assert proc.poll() is None, f"finished before it could be interrupted: {proc.stderr.read()}"
        assert time.monotonic() < deadline
        time.sleep(0.005)


def _hold_workers(proc: subprocess.Popen) -> list[int]:
    """Wait for two worker processes and stop them, so that the run is certainly unfinished."""
    deadline = time.monotonic() + 300
    while len(workers := _children(proc.pid)) < 2:
        assert proc.poll() is None, f"finished before it could be interrupted: {proc.stderr.read()}"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    for pid in workers:
        os.kill(pid, signal.SIGSTOP)
    return workers


def _resume(workers: list[int]) -> None:
    for pid in workers:
        with contextlib.suppress(ProcessLookupError):  # already killed by the interrupted parent
            os.kill(pid, signal.SIGCONT)


def test_extract_workers_and_parent_signalled_as_a_group(tmp_path, big):
    """`kill -TERM -PGID` (what a batch scheduler may do): ten runs, each cleanly interrupted.

    The workers must not die of the signal themselves: that raced the parent's shutdown of the
    pool, and its manager thread printed a traceback in about four runs out of ten.
    """
    bam, _ = big
    out, before = _output_folder(tmp_path, "j.bed")
    for run in range(10):
        proc = _start(["extract", bam, "-o", out / "j.bed", "--threads", "2"])
        workers: list[int] = []
        try:
            workers = _hold_workers(proc)
            os.killpg(proc.pid, signal.SIGTERM)
            time.sleep(run % 5 * 0.01)  # vary when the workers run again
            _resume(workers)
            _assert_interrupted(proc, "extract", out, before)
            assert not [pid for pid in workers if _running(pid)], f"run {run}: worker processes outlived the run"
        finally:
            for pid in [proc.pid, *workers]:
                if _running(pid):
                    os.kill(pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGINT], ids=["nohup-SIGHUP", "background-SIGINT"])
def test_a_signal_ignored_at_start_stays_ignored(tmp_path, big, sig):
    """Under `nohup` (SIGHUP ignored) or as a background job (SIGINT ignored) the signal changes nothing."""
    bam, _ = big
    out, _ = _output_folder(tmp_path)
    proc = _start(["extract", bam, "-o", out / "j.bed", "--threads", "2"], ignored=(sig,))
    workers: list[int] = []
    try:
        workers = _hold_workers(proc)
        os.killpg(proc.pid, sig)
        time.sleep(0.2)
        _resume(workers)
        _, err = proc.communicate(timeout=120)
    finally:
        for pid in [proc.pid, *workers]:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == 0, err
    assert "interrupted" not in err and "Traceback" not in err, err
    assert [p.name for p in out.iterdir()] == ["j.bed"] and (out / "j.bed").stat().st_size
