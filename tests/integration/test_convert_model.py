"""`convert-model`: the published formats become safetensors + metadata that score exactly as the original."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

from splamflow.cli import main
from splamflow.model import ARCHITECTURE
from splamflow.weights import load_model
from tests.equivalence.published_splam import randomized
from tests.equivalence.test_published_model import TOL

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden" / "scores.bed"


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, Path]:
    """The TorchScript stand-in of the official splam.pt (built as tests/equivalence does) and a state_dict."""
    folder = tmp_path_factory.mktemp("published")
    published = randomized(seed=7)
    torch.jit.save(torch.jit.script(published), str(folder / "splam.pt"))
    torch.save(published.state_dict(), folder / "published_state.pth")
    return {"torchscript": folder / "splam.pt", "state_dict": folder / "published_state.pth"}


@pytest.fixture(scope="module")
def junctions(tmp_path_factory) -> Path:
    """48 real annotated introns of the chr20 slice (the golden scores file's first six columns)."""
    rows = GOLDEN.read_text().splitlines()[:48]
    path = tmp_path_factory.mktemp("junctions") / "junctions.bed"
    path.write_text("".join("\t".join(r.split("\t")[:6]) + "\n" for r in rows))
    return path


def _scores(path: Path) -> dict[str, tuple[float, float]]:
    rows = [line.split("\t") for line in path.read_text().splitlines()]
    return {r[3]: (float(r[6]), float(r[7])) for r in rows}


@pytest.mark.parametrize(("kind", "fmt"), [("torchscript", "TorchScript archive"), ("state_dict", "state_dict")])
def test_converted_model_scores_as_the_original(kind, fmt, originals, junctions, slice_fasta, tmp_path, capsys):
    source = originals[kind]
    out = tmp_path / "converted.safetensors"
    assert main(["convert-model", str(source), "-o", str(out)]) == 0
    assert f"({fmt}) -> {out}" in capsys.readouterr().err

    meta = json.loads((tmp_path / "converted.json").read_text())
    assert meta["converted_from"] == {"format": fmt, "file": source.name}
    assert meta["source_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert meta["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert meta["architecture"] == ARCHITECTURE
    assert meta["version"] == source.name.rsplit(".", 1)[0]
    loaded = load_model(out)
    assert loaded.format == "splamflow safetensors"
    assert loaded.metadata == meta

    by_original, by_converted = tmp_path / "original.bed", tmp_path / "converted.bed"
    for model, scores in ((source, by_original), (out, by_converted)):
        assert main(["score", str(junctions), "--genome", str(slice_fasta), "--model", str(model),
                     "-o", str(scores), "--quiet"]) == 0
    original, converted = _scores(by_original), _scores(by_converted)
    assert len(original) == 48
    assert original.keys() == converted.keys()
    delta = max(abs(a - b) for k in original for a, b in zip(original[k], converted[k]))
    assert delta <= TOL


def test_version_is_recorded_and_outputs_replace_an_earlier_pair(originals, tmp_path):
    out = tmp_path / "m.safetensors"
    (tmp_path / "m.json").write_text('{"version": "old"}\n')
    assert main(["convert-model", str(originals["torchscript"]), "-o", str(out), "--version", "splam-1.0.12"]) == 0
    assert load_model(out).metadata["version"] == "splam-1.0.12"
    assert load_model(out).describe().endswith("(splamflow safetensors, version splam-1.0.12)")


@pytest.mark.parametrize(("name", "version"), [
    ("splam.pt", "splam"), ("Splam v1.PTH", "Splam_v1"), ("dataset_12.dat", "dataset_12.dat"), (".pt", "converted"),
])
def test_default_version_comes_from_the_file_name(name, version):
    from splamflow.convert_model.options import VERSION, default_version

    assert default_version(name) == version
    assert VERSION.fullmatch(default_version(name))
