"""bench/bench_gpu.py's parts: a failing configuration is recorded as one line; the end-to-end step
scores only the first --limit rows of the BED, every column kept."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench_gpu():
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    try:
        spec = importlib.util.spec_from_file_location("bench_gpu", ROOT / "bench" / "bench_gpu.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return module


def test_attempt_records_the_error_and_returns(bench_gpu, capsys):
    def broken() -> dict:
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB\nmore detail")

    assert bench_gpu.attempt("fp16/eager/batch4096", broken, torch.device("cpu")) == {
        "error": "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB"}
    assert bench_gpu.attempt("fp32/eager/batch16", lambda: {"junctions_per_s": 1.0}, torch.device("cpu")) == {
        "junctions_per_s": 1.0}
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("fp16/eager/batch4096 {'error': 'RuntimeError: CUDA out of memory") and len(err) == 2


def test_end_to_end_scores_the_first_limit_rows(bench_gpu, tmp_path, slice_fasta, random_model):
    from splamflow.weights import load_model

    rows = [f"20\t{1_000_000 + 100 * i}\t{1_000_500 + 100 * i}\tj{i}\t1\t+\tT{i}\textra{i}\n" for i in range(5)]
    bed = tmp_path / "j.bed"
    bed.write_text("#header\n" + "".join(rows))
    first = bench_gpu.first_rows(str(bed), 3, str(tmp_path))
    assert Path(first).read_text() == "".join(rows[:3])  # all eight columns kept
    args = argparse.Namespace(genome=str(slice_fasta), device="cpu", precisions="fp32", batches=[16])
    result = bench_gpu.end_to_end_section(load_model(str(random_model)).net, first, args, torch.device("cpu"))
    assert result["fp32/batch16"]["rows"] == 3, result
