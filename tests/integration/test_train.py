"""Curate -> train (a few real steps) -> resume -> evaluate, on the committed chr20 slice."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from splamflow.cli import main
from splamflow.io.curated import load_set
from splamflow.io.files import sha256_file
from splamflow.train.options import FINE_TUNING
from splamflow.train.trainer import TrainOptions, train
from splamflow.weights import load_model


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
    assert meta["recipe"]["loss"] == "focal (gamma 2)" and meta["history"][0]["epoch"] == 1
    assert (tmp_path / "full" / "training_curves.png").stat().st_size > 1000


def test_fine_tuning_starts_from_the_parent_records_it_and_resumes_exactly(curated, tmp_path, random_model):
    torch.use_deterministic_algorithms(False)
    fine = dict(init_from=str(random_model), epoch_size=48, learning_rate=None, warmup_steps=None)
    train(_opts(curated, tmp_path / "part", max_steps=1, **fine))
    first = torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=True)
    parent = load_model(random_model).net.state_dict()
    moved = [k for k in parent if k.endswith("weight") and not torch.equal(first["model"][k], parent[k])]
    # one small step from the parent: weights moved, none far
    assert moved and all((first["model"][k] - parent[k]).abs().max() < 0.01 for k in moved)
    train(_opts(curated, tmp_path / "part", **fine))
    train(_opts(curated, tmp_path / "full", **fine))
    a = load_model(tmp_path / "full" / "model.safetensors").net.state_dict()
    b = load_model(tmp_path / "part" / "model.safetensors").net.state_dict()
    for key in a:
        assert torch.allclose(a[key].float(), b[key].float(), atol=1e-6), key
    meta = json.loads((tmp_path / "full" / "model.json").read_text())
    assert meta["parent"]["sha256"] == sha256_file(random_model)
    assert meta["parent"]["name"] == random_model.name and meta["recipe"]["start"] == "fine-tuned from the parent model"
    recipe = meta["recipe"]
    assert (recipe["learning_rate"], recipe["warmup_steps"], recipe["gamma"], recipe["site_weight"]) == FINE_TUNING
    assert meta["recipe"]["steps_per_epoch"] == 3  # --epoch-size 48 at batch 16


def test_resume_refuses_another_parent(curated, tmp_path, random_model, capsys):
    train(_opts(curated, tmp_path / "r", max_steps=1, epoch_size=32))
    argv = ["train", str(curated), "-o", str(tmp_path / "r"), "--epochs", "1", "--batch-size", "16",
            "--epoch-size", "32", "--threads", "1", "--init-from", str(random_model), "--learning-rate", "0.003",
            "--warmup-steps", "2", "--gamma", "2", "--site-weight", "5", "--seed", "5"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "checkpoint was written by another recipe: --init-from (another parent model, or none)" in err, err


def test_evaluate_writes_reports(curated, tmp_path, random_model):
    out = tmp_path / "report"
    assert main(["evaluate", str(curated / "validation.npz"), "--model", str(random_model), "-o", str(out),
                 "--threads", "1"]) == 0
    report = json.loads((out / "report.json").read_text())
    removes = report["threshold_removes"]
    assert [r["threshold"] for r in removes] == sorted(r["threshold"] for r in removes)
    for key in ("positives_removed", "negatives_removed"):  # a higher threshold removes at least as much
        assert all(0 <= a[key] <= b[key] <= 1 for a, b in zip(removes, removes[1:]))
    assert "| threshold | real junctions removed | negatives removed |" in (out / "report.md").read_text()
    for site in ("donor", "acceptor", "junction"):
        assert 0.0 <= report["overall"][site]["auprc"] <= 1.0
        assert set(report["overall"][site]["at"]) == {"0.1", "0.5"}
    assert (out / "pr_curve.png").stat().st_size > 1000
    assert (out / "score_histograms.png").stat().st_size > 1000
    assert "| junction |" in (out / "report.md").read_text()


def test_evaluate_scores_a_seeded_sample(curated, tmp_path, random_model):
    n = len(load_set(curated / "validation.npz"))
    for name in ("a", "b"):
        assert main(["evaluate", str(curated / "validation.npz"), "--model", str(random_model), "--sample", "10",
                     "--seed", "4", "-o", str(tmp_path / name)]) == 0
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    assert report["sampled"] == {"n": 10, "of": n, "seed": 4} and report["overall"]["n"] == 10
    assert (tmp_path / "a" / "scores.tsv").read_text() == (tmp_path / "b" / "scores.tsv").read_text()


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


# the settings of _opts on the command line
SAME_RECIPE = ["--epochs", "1", "--batch-size", "16", "--learning-rate", "0.003", "--warmup-steps", "2",
               "--seed", "5"]


def test_resume_refuses_another_recipe_naming_each_difference(curated, tmp_path, capsys):
    train(_opts(curated, tmp_path / "r", max_steps=1))
    capsys.readouterr()
    changed = ["--epochs", "3", "--batch-size", "16", "--learning-rate", "0.003", "--warmup-steps", "2",
               "--seed", "6", "--gamma", "1", "--threads", "1"]
    assert main(["train", str(curated), "-o", str(tmp_path / "r"), *changed]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert ("checkpoint was written by another recipe: --epochs 1 (now 3); --gamma 2.0 (now 1.0); --seed 5 (now 6); "
            "use a new output folder, or the checkpoint's settings") in err, err
    for setting in ("--epoch-size", "--weight-decay", "--site-weight", "--warmup-steps"):
        argv = ["train", str(curated), "-o", str(tmp_path / "r"), *SAME_RECIPE, "--threads", "1", setting, "7"]
        assert main(argv) == 2
        assert f"another recipe: {setting} " in capsys.readouterr().err, setting


def test_resume_refuses_other_training_data(curated, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(curated, data)
    train(_opts(data, tmp_path / "r", max_steps=1))
    shutil.copy(data / "train.npz", data / "validation.npz")  # same path, another file
    capsys.readouterr()
    assert main(["train", str(data), "-o", str(tmp_path / "r"), *SAME_RECIPE, "--threads", "1"]) == 2
    assert "another recipe: the training data (train.npz or validation.npz is another file)" in capsys.readouterr().err


def test_resume_takes_other_threads_device_steps_and_a_moved_data_folder(curated, tmp_path):
    train(_opts(curated, tmp_path / "r", max_steps=1))
    moved = tmp_path / "moved"
    shutil.copytree(curated, moved)
    argv = ["train", str(moved), "-o", str(tmp_path / "r"), *SAME_RECIPE, "--threads", "2", "--device", "cpu",
            "--checkpoint-every", "1", "--max-steps", "1", "--model-version", "other"]
    assert main(argv) == 0
    assert torch.load(tmp_path / "r" / "checkpoint.pt", weights_only=True)["step"] == 2


def test_a_checkpoint_without_a_recorded_recipe_resumes_by_its_options(curated, tmp_path, capsys):
    """Checkpoints written before the recipe was recorded: options and parent are compared, data by path."""
    train(_opts(curated, tmp_path / "r", max_steps=1))
    path = tmp_path / "r" / "checkpoint.pt"
    old = torch.load(path, weights_only=True)
    del old["recipe"]
    torch.save(old, path)
    train(_opts(curated, tmp_path / "r", max_steps=1))
    assert torch.load(path, weights_only=True)["step"] == 2
    torch.save(old, path)
    capsys.readouterr()
    assert main(["train", str(curated), "-o", str(tmp_path / "r"), *SAME_RECIPE[:-1], "9", "--threads", "1"]) == 2
    assert "another recipe: --seed 5 (now 9)" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_device_cuda_without_one_is_a_one_line_error(curated, tmp_path, capfd):
    assert main(["train", str(curated), "-o", str(tmp_path / "r"), "--device", "cuda", "--max-steps", "1"]) == 2
    err = capfd.readouterr().err
    assert err == "splam_score.py train: error: --device cuda: no CUDA device is available (use --device auto or cpu)\n"
    assert not (tmp_path / "r").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_training_on_cuda_resumes_and_writes_a_cpu_model(curated, tmp_path):
    train(_opts(curated, tmp_path / "r", max_steps=2, device="cuda"))
    train(_opts(curated, tmp_path / "r", device="cuda"))
    loaded = load_model(tmp_path / "r" / "model.safetensors")
    assert loaded.metadata["history"][0]["step"] == loaded.metadata["recipe"]["steps"]


def _foreign(kind: str, good: dict) -> object:
    if kind == "list":
        return [1, 2, 3]
    if kind == "no-options":
        return {"model": good["model"]}
    if kind == "other-model":  # a checkpoint of this recipe whose weights have other shapes
        return good | {"model": {k: torch.zeros(2) for k in good["model"]}}
    if kind == "other-optimizer":
        return good | {"optimizer": {"state": {}, "param_groups": []}}
    if kind == "bad-history":
        return good | {"history": [1]}
    return good | {"torch_rng": torch.zeros(3)}  # "bad-rng"


@pytest.mark.parametrize("kind", ["list", "no-options", "other-model", "other-optimizer", "bad-history", "bad-rng"])
def test_a_foreign_or_incompatible_checkpoint_is_a_one_line_error(curated, tmp_path, capfd, kind):
    train(_opts(curated, tmp_path / "r", max_steps=1))
    path = tmp_path / "r" / "checkpoint.pt"
    torch.save(_foreign(kind, torch.load(path, weights_only=True)), path)
    before = path.read_bytes()
    capfd.readouterr()
    argv = ["train", str(curated), "-o", str(tmp_path / "r"), "--epochs", "1", "--batch-size", "16",
            "--warmup-steps", "2", "--checkpoint-every", "2", "--seed", "5", "--threads", "1",
            "--learning-rate", "0.003"]
    assert main(argv) == 2
    err = capfd.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "checkpoint.pt" in err and ("not a splamflow training checkpoint" in err
                                       or "checkpoint does not fit this model and recipe" in err), err
    assert path.read_bytes() == before


def test_a_full_disk_is_a_one_line_error(curated, tmp_path):
    """A 1 MiB tmpfs (mounting needs root): the ~8 MB checkpoint does not fit."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        run = subprocess.run([sys.executable, "-m", "splamflow.cli", "train", str(curated), "-o", str(mount / "t"),
                              "--max-steps", "1", "--batch-size", "16", "--threads", "1"],
                             capture_output=True, text=True)
        assert run.returncode == 2, run.stderr
        assert len(run.stderr.splitlines()) == 1 and "No space left on device" in run.stderr, run.stderr
        assert [p.name for p in mount.rglob("*")] == ["t"]  # no temporary file left
    finally:
        subprocess.run(["umount", str(mount)], check=True)
