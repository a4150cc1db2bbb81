"""Shipped models by name (`--model human`), and the training schedule defaults."""

from __future__ import annotations

import argparse
import json

import pytest

from splamflow import versions
from splamflow.cli import main
from splamflow.errors import UserError
from splamflow.train.cli import add_arguments, options
from splamflow.train.options import FINE_TUNING, FROM_SCRATCH, TrainOptions
from splamflow.versions import default_model_path, resolve_model, shipped_model_path, shipped_models
from splamflow.weights import load_model


def test_every_shipped_name_is_installed_with_its_metadata():
    for name in shipped_models():
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
    with pytest.raises(UserError, match="shipped models by name: " + ", ".join(shipped_models())):
        load_model("no_such_model")


def test_the_registry_is_the_model_files_of_the_package_folder(tmp_path, monkeypatch):
    for name in ("splam_human.safetensors", "splam_plant-2.safetensors", "splam_Upper.safetensors",
                 "splam_default.safetensors", "other.safetensors", "splam_plant-2.json", "README.md"):
        (tmp_path / name).write_bytes(b"x")
    monkeypatch.setattr(versions, "models_dir", lambda: tmp_path)
    assert shipped_models() == {"human": tmp_path / "splam_human.safetensors",
                                "plant-2": tmp_path / "splam_plant-2.safetensors",
                                "default": tmp_path / "splam_human.safetensors"}
    monkeypatch.chdir(tmp_path)
    assert resolve_model("plant-2") == tmp_path / "splam_plant-2.safetensors"
    assert resolve_model("default") == default_model_path() == tmp_path / "splam_human.safetensors"


def test_every_file_in_the_models_folder_belongs_to_a_shipped_model():
    names = {path.name for path in shipped_models().values()}
    for path in versions.models_dir().iterdir():
        if path.name in ("__init__.py", "__pycache__"):
            continue
        assert path.with_suffix(".safetensors").name in names, f"{path.name}: not splam_NAME.safetensors or .json"


def _start(opts: TrainOptions) -> tuple:
    return opts.learning_rate, opts.warmup_steps, opts.gamma, opts.site_weight


def test_fine_tuning_has_its_own_schedule_and_loss_defaults():
    assert _start(TrainOptions(data="d", outdir="o")) == FROM_SCRATCH == (0.03, 1000, 2.0, 5.0)
    assert _start(TrainOptions(data="d", outdir="o", init_from="human")) == FINE_TUNING == (0.0001, 100, 0.0, 1.0)
    own = TrainOptions(data="d", outdir="o", init_from="human", learning_rate=0.01, warmup_steps=7, gamma=2.0)
    assert _start(own) == (0.01, 7, 2.0, 1.0)  # each option given overrides its own default only
    assert _start(TrainOptions(data="d", outdir="o", site_weight=1.0)) == (0.03, 1000, 2.0, 1.0)


def test_the_cli_leaves_the_start_dependent_defaults_to_the_options():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    given = parser.parse_args(["data", "-o", "out", "--init-from", "human", "--gamma", "1.5"])
    assert _start(options(given)) == (0.0001, 100, 1.5, 1.0)
    assert _start(options(parser.parse_args(["data", "-o", "out"]))) == FROM_SCRATCH


def test_list_models_prints_each_name_its_version_and_file(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--list-models"])
    assert stop.value.code == 0
    def line(name: str, path) -> str:
        return f"{name}\t{json.loads(path.with_suffix('.json').read_text())['version']}\t{path}\n"
    folder = versions.models_dir()
    expected = (line("arabidopsis", folder / "splam_arabidopsis.safetensors") + line("human", default_model_path())
                + line("human_v1", folder / "splam_human_v1.safetensors") + line("default", default_model_path()))
    assert capsys.readouterr().out == expected
