"""Model files: wrong, corrupt or foreign files give one-line errors; the format is reported."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from splamflow.errors import UserError
from splamflow.io.files import sha256_file
from splamflow.model import SplamNet
from splamflow.weights import load_model


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_model(tmp_path / "nope.pt")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(UserError, match="empty"):
        load_model(tmp_path / "empty.pt")


def test_text_file_is_not_a_model(tmp_path):
    p = tmp_path / "model.pt"
    p.write_text("hello, I am not a model\n")
    with pytest.raises(UserError, match="not a model file"):
        load_model(p)


def test_truncated_safetensors(tmp_path, random_model):
    data = random_model.read_bytes()
    p = tmp_path / "cut.safetensors"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="cannot read safetensors model"):
        load_model(p)


def test_other_architecture_is_refused_with_the_first_difference(tmp_path):
    state = SplamNet().state_dict()
    state["extra.weight"] = torch.zeros(1)
    del state["last_cov.bias"]
    p = tmp_path / "other.pt"
    torch.save(state, p)
    with pytest.raises(UserError, match=r"1 missing \(e.g. last_cov.bias\); 1 unexpected \(e.g. extra.weight\)"):
        load_model(p)


def test_wrong_shape_is_refused(tmp_path):
    state = SplamNet().state_dict()
    state["last_cov.weight"] = torch.zeros(2, 64, 1)
    p = tmp_path / "shape.pt"
    torch.save(state, p)
    with pytest.raises(UserError, match=r"last_cov.weight has shape \(2, 64, 1\), expected \(3, 64, 1\)"):
        load_model(p)


def test_data_parallel_prefix_is_accepted(tmp_path):
    net = SplamNet()
    p = tmp_path / "dp.pt"
    torch.save({f"module.{k}": v for k, v in net.state_dict().items()}, p)
    loaded = load_model(p)
    assert loaded.format == "state_dict"
    assert torch.equal(loaded.net.last_cov.weight, net.last_cov.weight)


def test_a_sidecar_sha256_is_checked_when_recorded(tmp_path, random_model):
    """As documented: save_model records the sha256; a sidecar without one is accepted, a wrong one is not."""
    weights = tmp_path / "m.safetensors"
    shutil.copy(random_model, weights)
    recorded = json.loads(random_model.with_suffix(".json").read_text())
    assert recorded["sha256"] == sha256_file(weights)
    (tmp_path / "m.json").write_text(json.dumps({"version": "hand-written"}))
    assert load_model(weights).metadata["version"] == "hand-written"
    (tmp_path / "m.json").write_text(json.dumps({"version": "x", "sha256": "0" * 64}))
    with pytest.raises(UserError, match="the sidecar belongs to other weights"):
        load_model(weights)


def test_the_same_weights_give_the_same_bytes(tmp_path):
    """Saving (or converting) one model twice must give one sha256, which the sidecar records."""
    from splamflow.weights import save_model

    net = SplamNet()
    digests = set()
    for i in range(12):  # safetensors wrote several metadata keys in a random order, different per call
        path = tmp_path / f"m{i}.safetensors"
        save_model(net, path, {"version": "same"})
        digests.add(sha256_file(path))
    assert len(digests) == 1
