"""Shipped models by name (`--model human`), and the training schedule defaults."""

from __future__ import annotations

import pytest

from splamflow.errors import UserError
from splamflow.train.options import FINE_TUNING, FROM_SCRATCH, TrainOptions
from splamflow.versions import SHIPPED_MODELS, default_model_path, resolve_model, shipped_model_path
from splamflow.weights import load_model


def test_every_shipped_name_is_installed_with_its_metadata():
    for name in SHIPPED_MODELS:
        path = shipped_model_path(name)
        assert path.exists() and path.with_suffix(".json").exists(), name


def test_names_resolve_to_package_data_and_a_file_of_that_name_wins(tmp_path, monkeypatch):
    assert resolve_model(None) == resolve_model("human") == resolve_model("default") == default_model_path()
    assert load_model("human").path == default_model_path()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "human").write_bytes(b"x")
    assert resolve_model("human").resolve() == tmp_path / "human"


def test_an_unknown_name_lists_the_shipped_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match="shipped models by name: " + ", ".join(SHIPPED_MODELS)):
        load_model("no_such_model")


def test_fine_tuning_has_its_own_schedule_defaults():
    scratch = TrainOptions(data="d", outdir="o")
    fine = TrainOptions(data="d", outdir="o", init_from="human")
    own = TrainOptions(data="d", outdir="o", init_from="human", learning_rate=0.01, warmup_steps=7)
    assert (scratch.learning_rate, scratch.warmup_steps) == FROM_SCRATCH
    assert (fine.learning_rate, fine.warmup_steps) == FINE_TUNING
    assert (own.learning_rate, own.warmup_steps) == (0.01, 7)
