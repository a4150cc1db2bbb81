"""Integration fixtures: a curated training set of the committed slice, made once per run."""

from __future__ import annotations

from pathlib import Path

import pytest

from splamflow.cli import main


@pytest.fixture(scope="session")
def curated(tmp_path_factory, slice_fasta, slice_gtf) -> Path:
    """`curate` on the chr20 slice (validation 20%, seed 3); tests read it, or copy it to change it."""
    out = tmp_path_factory.mktemp("curated")
    assert main(["curate", "--genome", str(slice_fasta), "--annotation", str(slice_gtf),
                 "--validation-fraction", "0.2", "--seed", "3", "-o", str(out)]) == 0
    return out
