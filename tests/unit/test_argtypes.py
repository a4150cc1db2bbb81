"""Option types: thread counts capped at the CPUs with one warning, batch sizes checked against RAM."""

from __future__ import annotations

import argparse

import pytest

from splamflow import argtypes
from splamflow.cpus import available_cpus


def test_threads_above_the_cpus_are_capped_with_one_warning(capsys):
    cpus = available_cpus()
    assert argtypes.threads(str(cpus)) == cpus
    assert capsys.readouterr().err == ""
    assert argtypes.positive_threads("99999999999999999999") == cpus
    err = capsys.readouterr().err.splitlines()
    assert err == [f"splam_score.py: warning: --threads 99999999999999999999 is more than the {cpus} CPUs "
                   f"this process may use; using {cpus}"]
    assert argtypes.threads("0") == 0  # automatic


@pytest.mark.parametrize("text", ["abc", "9" * 5000, "-1"])
def test_threads_that_are_no_count_are_usage_errors(text):
    with pytest.raises(argparse.ArgumentTypeError):
        argtypes.threads(text)


def test_batch_sizes_beyond_memory_are_refused(monkeypatch):
    monkeypatch.setattr(argtypes, "_memory_bytes", lambda: 64 * argtypes.BATCH_BYTES_PER_JUNCTION)
    assert argtypes.batch_size("64") == 64 and argtypes.batch_size("0") == 0
    with pytest.raises(argparse.ArgumentTypeError, match="65 junctions per batch need about"):
        argtypes.batch_size("65")
    with pytest.raises(argparse.ArgumentTypeError, match="must be at least 1"):
        argtypes.positive_batch_size("0")
