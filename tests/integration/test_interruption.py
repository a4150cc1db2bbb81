"""SIGTERM in the middle of a run, as Nextflow, Galaxy and batch schedulers stop jobs.

Each test starts the real CLI as a subprocess, waits until it is working (its temporary outputs
exist), sends a real SIGTERM and checks: exit code 143 (128 + 15), one line on stderr, the output
folder exactly as before (no temporary file left, earlier outputs untouched) and, for `extract
--threads`, no worker process left running.
"""

from __future__ import annotations

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


def _start(argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "splamflow.cli", *map(str, argv)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


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
    starts = rng.integers(100_000, 1_900_000, 6000)
    bed = tmp_path / "j.bed"
    bed.write_text("".join(f"20\t{s}\t{s + 700}\tJ{k}\t1\t{'+-'[k % 2]}\n" for k, s in enumerate(starts)))
    out, before = _output_folder(tmp_path, "scores.bed")
    # 2 s: into scoring, with the genome reader thread and the model both at work
    _interrupt(["score", bed, "--genome", GENOME, "--model", random_model, "-o", out / "scores.bed",
                "--stats", out / "stats.json", "--quiet", "--threads", "1"], out, before, pause=2)


def test_clean_interrupted(tmp_path, big):
    bam, scores = big
    out, before = _output_folder(tmp_path, "kept.bam", "kept.bam.bai")
    _interrupt(["clean", bam, "--scores", scores, "-o", out / "kept.bam", "--discarded", out / "gone.bam",
                "--paired", "--stats", out / "s.json", "--stats-tsv", out / "s_mqc.tsv"], out, before, pause=0.3)


def test_extract_with_worker_processes_interrupted(tmp_path, big):
    bam, _ = big
    out, before = _output_folder(tmp_path, "j.bed")
    proc = _start(["extract", bam, "-o", out / "j.bed", "--threads", "2"])
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 300
        while len(workers := _children(proc.pid)) < 2:
            assert proc.poll() is None, f"finished before it could be interrupted: {proc.stderr.read()}"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        # Hold the workers still, so that the run is certainly unfinished when the signal arrives.
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)
        proc.send_signal(signal.SIGTERM)
        for pid in workers:
            os.kill(pid, signal.SIGCONT)
        _assert_interrupted(proc, "extract", out, before)
        assert not [pid for pid in workers if _running(pid)], "worker processes outlived the interrupted run"
    finally:  # whatever failed, leave no process of this test behind
        for pid in [proc.pid, *workers]:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait()
