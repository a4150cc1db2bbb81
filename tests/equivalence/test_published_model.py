"""Our loader + network give the published Splam parameterisation's scores (|diff| <= 1e-5)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from splamflow.model import N_PARAMETERS, FusedSplam, SplamNet
from splamflow.score.predictor import Predictor
from splamflow.weights import load_model
from tests.equivalence.published_splam import randomized

TOL = 1e-5


@pytest.fixture(scope="module")
def published() -> torch.nn.Module:
    return randomized(seed=7)


@pytest.fixture(scope="module")
def inputs() -> torch.Tensor:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 4, size=(6, 800))
    codes[0, :150] = 4  # N padding, as for short introns
    codes[1, 390:410] = 4
    x = torch.zeros(6, 4, 800)
    for i, row in enumerate(codes):
        for j, c in enumerate(row):
            if c < 4:
                x[i, c, j] = 1.0
    return x


def test_state_dict_names_and_shapes_are_the_published_ones(published):
    ours = SplamNet().state_dict()
    theirs = published.state_dict()
    assert list(ours) == list(theirs)
    assert all(ours[k].shape == theirs[k].shape for k in ours)
    assert sum(p.numel() for p in SplamNet().parameters()) == N_PARAMETERS == 651_715
    assert sum(p.numel() for p in published.parameters()) == N_PARAMETERS
    skips = [i for i, b in enumerate(SplamNet().residual_blocks) if not hasattr(b, "batchnorm1")]
    assert skips == [4, 9, 14, 19, 24, 25]


def _expected(published, x):
    with torch.no_grad():
        return published(x)


@pytest.mark.parametrize("wrapped", [False, True])
def test_state_dict_file_loads_and_scores_identically(tmp_path, published, inputs, wrapped):
    path = tmp_path / "published_state.pt"
    state = published.state_dict()
    torch.save({"state_dict": state} if wrapped else state, path)
    loaded = load_model(path)
    assert loaded.format == "state_dict"
    with torch.no_grad():
        ours = loaded.net(inputs)
        fused = FusedSplam(loaded.net)(inputs)
        sites = FusedSplam(loaded.net).sites(inputs)
    expected = _expected(published, inputs)
    assert (ours - expected).abs().max().item() <= TOL
    assert (fused - expected).abs().max().item() <= TOL
    assert (sites - expected[:, :, [200, 600]]).abs().max().item() <= TOL


@pytest.mark.parametrize("how", ["scripted", "traced"])
def test_torchscript_archive_loads_without_running_its_graph(tmp_path, published, inputs, monkeypatch, how):
    path = tmp_path / "splam.pt"
    if how == "scripted":
        archive = torch.jit.script(published)
    else:
        archive = torch.jit.trace(published, inputs[:1], check_trace=False)
    torch.jit.save(archive, str(path))

    def refuse(*args, **kwargs):
        raise AssertionError("the archive was handed to TorchScript, which runs its code")

    monkeypatch.setattr(torch.jit, "load", refuse)
    monkeypatch.setattr(torch._C, "import_ir_module", refuse)
    loaded = load_model(path)
    assert loaded.format == "TorchScript archive"
    assert isinstance(loaded.net, SplamNet)
    expected = _expected(published, inputs)
    with torch.no_grad():
        assert (loaded.net(inputs) - expected).abs().max().item() <= TOL
    codes = inputs.argmax(1).numpy().astype(np.uint8)
    codes[inputs.sum(1).numpy() == 0] = 4
    donor, acceptor = Predictor(loaded.net, device="cpu").predict_all(codes, batch_size=4)
    assert np.abs(donor - expected[:, 2, 200].numpy()).max() <= TOL
    assert np.abs(acceptor - expected[:, 1, 600].numpy()).max() <= TOL


def test_our_safetensors_round_trip_is_exact(tmp_path, published, inputs):
    from splamflow.weights import save_model

    net = SplamNet()
    net.load_state_dict(published.state_dict())
    net.eval()
    meta = save_model(net, tmp_path / "m.safetensors", {"version": "t"})
    loaded = load_model(tmp_path / "m.safetensors")
    assert loaded.format == "splamflow safetensors"
    assert loaded.metadata["sha256"] == meta["sha256"]
    with torch.no_grad():
        assert torch.equal(loaded.net(inputs), net(inputs))
