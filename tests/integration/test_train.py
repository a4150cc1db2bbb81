"""Curate -> train (a few real steps) -> resume -> evaluate, on the committed chr20 slice."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from splamflow.cli import main
from splamflow.io.curated import load_set
from splamflow.train.trainer import TrainOptions, train
from splamflow.weights import load_model


@pytest.fixture(scope="module")
def curated(tmp_path_factory, slice_fasta, slice_gtf):
    out = tmp_path_factory.mktemp("curated")
    assert main(["curate", "--genome", str(slice_fasta), "--annotation", str(slice_gtf),
                 "--validation-fraction", "0.2", "--seed", "3", "-o", str(out)]) == 0
    return out


def test_curated_set_is_balanced_and_sites_are_canonical(curated):
    manifest = json.loads((curated / "manifest.json").read_text())
    train_set = load_set(curated / "train.npz")
    cats = manifest["sets"]["train"]["categories"]
    assert cats["positive_mane"] > 100
    assert abs(cats["negative_random"] - cats["positive_mane"]) <= 0.2 * cats["positive_mane"] + 10
    neg = train_set.codes[train_set.label == 0]
    # Negative-Random: GT at the donor and AG at the acceptor of the model input (strand-corrected)
    assert (neg[:, 200] == 2).all() and (neg[:, 201] == 3).all()
    assert (neg[:, 598] == 0).all() and (neg[:, 599] == 2).all()
    # negatives lie on the strand opposite a gene and touch no annotated site
    pos_sites = {(s, e) for s, e in zip(train_set.start[train_set.label == 1], train_set.end[train_set.label == 1])}
    for s, e in zip(train_set.start[train_set.label == 0], train_set.end[train_set.label == 0]):
        assert all(s != ps and e != pe and s != pe and e != ps for ps, pe in pos_sites)


def _opts(curated, out, **kw):
    base = dict(data=str(curated), outdir=str(out), epochs=1, batch_size=16, learning_rate=0.003,
                warmup_steps=2, threads=1, checkpoint_every=2, seed=5)
    base.update(kw)
    return TrainOptions(**base)


def test_loss_goes_down_and_resume_is_exact(curated, tmp_path):
    torch.use_deterministic_algorithms(False)
    full = _opts(curated, tmp_path / "full")
    train(full)
    log = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=False)["step_log"]
    losses = [r["loss"] for r in log]
    assert len(losses) >= 8
    assert np.mean(losses[-3:]) < np.mean(losses[:3])

    part = _opts(curated, tmp_path / "part", max_steps=3)
    train(part)
    assert not (tmp_path / "part" / "model.safetensors").exists()
    assert torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=False)["step"] == 3
    train(_opts(curated, tmp_path / "part"))
    a = load_model(tmp_path / "full" / "model.safetensors").net.state_dict()
    b = load_model(tmp_path / "part" / "model.safetensors").net.state_dict()
    for key in a:
        assert torch.allclose(a[key].float(), b[key].float(), atol=1e-6), key
    meta = json.loads((tmp_path / "full" / "model.json").read_text())
    assert meta["recipe"]["loss"] == "focal" and meta["history"][0]["epoch"] == 1
    assert (tmp_path / "full" / "training_curves.png").stat().st_size > 1000


def test_evaluate_writes_reports(curated, tmp_path, random_model):
    out = tmp_path / "report"
    assert main(["evaluate", str(curated / "validation.npz"), "--model", str(random_model), "-o", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    for site in ("donor", "acceptor", "junction"):
        assert 0.0 <= report["overall"][site]["auprc"] <= 1.0
        assert set(report["overall"][site]["at"]) == {"0.1", "0.5"}
    assert (out / "pr_curve.png").stat().st_size > 1000
    assert (out / "score_histograms.png").stat().st_size > 1000
    assert "| junction |" in (out / "report.md").read_text()


def test_evaluate_records_metrics_in_the_model_metadata(curated, tmp_path, random_model):
    import shutil

    model = tmp_path / "m.safetensors"
    shutil.copy(random_model, model)
    shutil.copy(random_model.with_suffix(".json"), model.with_suffix(".json"))
    assert main(["evaluate", str(curated / "validation.npz"), "--model", str(model), "-o", str(tmp_path / "r"),
                 "--record-in-metadata"]) == 0
    meta = json.loads(model.with_suffix(".json").read_text())
    assert set(meta["heldout_evaluation"]) >= {"donor", "acceptor", "junction", "by_category", "n"}
    assert load_model(model).metadata["sha256"] == meta["sha256"]


def test_resume_refuses_another_recipe(curated, tmp_path, capsys):
    train(_opts(curated, tmp_path / "r", max_steps=1))
    assert main(["train", str(curated), "-o", str(tmp_path / "r"), "--epochs", "3", "--threads", "1"]) == 2
    assert "checkpoint is from a different data set or recipe" in capsys.readouterr().err
