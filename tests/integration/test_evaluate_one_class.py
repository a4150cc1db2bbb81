"""evaluate on a set of one class: the metrics that are undefined there are JSON null, never a bare NaN."""

from __future__ import annotations

import json

import numpy as np

from splamflow.cli import main
from tests import hostile


def _no_constant(name: str):
    raise AssertionError(f"report.json holds {name}")


def test_undefined_metrics_are_null(tmp_path, random_model):
    data = hostile.write_curated(tmp_path / "t.npz", {"label": np.ones(8, np.uint8)})
    assert main(["evaluate", str(data), "--model", str(random_model), "-o", str(tmp_path / "r")]) == 0
    report = json.loads((tmp_path / "r" / "report.json").read_text(), parse_constant=_no_constant)
    donor = report["overall"]["donor"]
    assert donor["auroc"] is None  # AUROC needs both classes
    assert donor["auprc"] == 1.0
