"""Shared fixtures: paths of the committed real-data slice and a small deterministic model file."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="session")
def slice_fasta() -> Path:
    return DATA / "chr20_slice.fa.gz"


@pytest.fixture(scope="session")
def slice_gtf() -> Path:
    return DATA / "chr20_slice.gtf"


@pytest.fixture(scope="session")
def slice_bam() -> Path:
    return DATA / "chr20_slice.bam"


@pytest.fixture(scope="session")
def random_model(tmp_path_factory) -> Path:
    """A Splam-architecture model with fixed random weights, in our safetensors format."""
    import torch

    from splamflow.model import SplamNet
    from splamflow.weights import save_model

    torch.manual_seed(11)
    net = SplamNet().eval()
    path = tmp_path_factory.mktemp("model") / "random.safetensors"
    save_model(net, path, {"version": "random-test"})
    return path
