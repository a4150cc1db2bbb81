"""bench/bench_gpu.py stops on a missing, empty or unscorable BED with one line and exit code 2 (no traceback)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("content", "says"), [(None, "junction BED file does not exist"),
                                               ("", "junction BED file is empty"),
                                               ("#a comment only\n", "no scorable junction"),
                                               ("chrZZ\t100\t900\tj\t0\t+\n", "no scorable junction")])
def test_bad_bed_is_one_line(tmp_path, slice_fasta, content, says):
    bed = tmp_path / "j.bed"
    if content is not None:
        bed.write_text(content)
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_gpu.py"), str(bed), "--genome",
                           str(slice_fasta), "--device", "cpu"], capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith(f"bench_gpu.py: {bed}: {says}"), done.stderr
