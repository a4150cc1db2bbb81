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


@pytest.mark.parametrize("command", ["curate", "train", "evaluate"])
@pytest.mark.parametrize("text", ["-1", str(argtypes.SEED_MAX + 1), "x"])
def test_seeds_numpy_or_torch_refuse_are_usage_errors(command, text, capsys):
    from splamflow.cli import main

    with pytest.raises(SystemExit) as exit_:
        main([command, "data", "-o", "out", "--seed", text])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"error: argument --seed: {text}" in err[0].replace("'", ""), err


def test_every_seed_accepted_is_one_numpy_and_torch_take():
    import numpy as np
    import torch

    for value in (0, argtypes.SEED_MAX):
        assert argtypes.seed(str(value)) == value
        np.random.default_rng([value, 3])
        torch.Generator().manual_seed(value)
