"""A second shipped model, added as package data only (weights + sidecar in a copy of the package),
is listed and selected by name in every subcommand that takes a model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from splamflow.versions import default_model_path
from tests.conftest import DATA, ROOT


@pytest.fixture(scope="module")
def package_with_second_model(tmp_path_factory) -> Path:
    """A copy of the package whose models folder also holds `splam_second.*` (the human weights)."""
    root = tmp_path_factory.mktemp("pkg")
    shutil.copytree(ROOT / "splamflow", root / "splamflow", ignore=shutil.ignore_patterns("__pycache__"))
    models = root / "splamflow" / "models"
    shutil.copy(default_model_path(), models / "splam_second.safetensors")
    meta = json.loads(default_model_path().with_suffix(".json").read_text())
    (models / "splam_second.json").write_text(json.dumps(meta | {"version": "test-second-v1"}))
    return root


def _cli(package: Path, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(package)}
    return subprocess.run([sys.executable, "-m", "splamflow.cli", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True)


def test_the_second_model_is_listed_and_in_the_help(package_with_second_model, tmp_path):
    listed = _cli(package_with_second_model, "--list-models", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert [r[0] for r in rows] == ["arabidopsis", "human", "human_v1", "second", "default"]
    assert dict((r[0], r[1]) for r in rows)["second"] == "test-second-v1"
    assert Path(rows[3][2]) == package_with_second_model / "splamflow" / "models" / "splam_second.safetensors"
    for command in ("score", "evaluate", "train"):
        helped = _cli(package_with_second_model, command, "--help", cwd=tmp_path)
        assert "arabidopsis, human, human_v1, second, default" in " ".join(helped.stdout.split()), command


def test_score_and_evaluate_select_it_by_name(package_with_second_model, curated, slice_fasta, tmp_path):
    bed = tmp_path / "j.bed"
    bed.write_text("20\t110875\t115519\tJ1\t3\t+\n")
    scored = _cli(package_with_second_model, "score", bed, "--genome", slice_fasta, "--model", "second",
                  "-o", "s.bed", "--stats", "s.json", "--threads", "1", cwd=tmp_path)
    assert scored.returncode == 0, scored.stderr
    assert json.loads((tmp_path / "s.json").read_text())["model_version"] == "test-second-v1"
    evaluated = _cli(package_with_second_model, "evaluate", curated / "validation.npz", "--model", "second",
                     "--sample", "8", "-o", "report", "--threads", "1", cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads((tmp_path / "report" / "report.json").read_text())["model_version"] == "test-second-v1"


def test_train_init_from_takes_the_name_and_records_it(package_with_second_model, curated, tmp_path):
    trained = _cli(package_with_second_model, "train", curated, "-o", "run", "--init-from", "second",
                   "--max-steps", "1", "--batch-size", "8", "--epoch-size", "8", "--threads", "1", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    parent = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["parent"]
    assert parent["name"] == "second" and parent["version"] == "test-second-v1"


def test_an_unknown_name_lists_every_shipped_one(package_with_second_model, tmp_path):
    bed = tmp_path / "j.bed"
    bed.write_text("20\t110875\t115519\tJ1\t3\t+\n")
    run = _cli(package_with_second_model, "score", bed, "--genome", DATA / "chr20_slice.fa.gz", "--model", "plant",
               "-o", "s.bed", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.strip().endswith(
        "model file does not exist (shipped models by name: arabidopsis, human, human_v1, second, default)")
