"""matplotlib is a dependency imported only to draw: in an environment that lacks it anyway, train and
evaluate still run and say what was not drawn, and clean --plot is a one-line error."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from splamflow.cli import main


@pytest.fixture
def no_matplotlib(monkeypatch):
    """`import matplotlib` raises ImportError, as in an environment that lacks it."""
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)


@pytest.fixture
def curated(tmp_path):
    rng = np.random.default_rng(0)
    n = 12
    for name in ("train", "test"):
        np.savez_compressed(
            tmp_path / f"{name}.npz", codes=rng.integers(0, 4, (n, 800)).astype(np.uint8),
            label=np.array([0, 1] * (n // 2), np.uint8),
            category=np.array(["negative_random", "positive_mane"] * (n // 2)), contig=np.array(["20"] * n),
            start=np.arange(n) * 1000 + 100_000, end=np.arange(n) * 1000 + 100_500, strand=np.array(["+"] * n),
        )
    return tmp_path


def test_evaluate_without_matplotlib_writes_the_reports_but_no_plot(no_matplotlib, curated, tmp_path,
                                                                       random_model, capsys):
    out = tmp_path / "report"
    (out).mkdir()
    (out / "pr_curve.png").write_bytes(b"a plot of an earlier evaluation")
    assert main(["evaluate", str(curated / "test.npz"), "--model", str(random_model), "-o", str(out)]) == 0
    assert json.loads((out / "report.json").read_text())["overall"]["n"] == 12
    assert sorted(p.name for p in out.iterdir()) == ["report.json", "report.md", "scores.tsv"]
    assert "matplotlib is not installed, so pr_curve.png and score_histograms.png was not drawn" in \
        capsys.readouterr().err


def test_train_without_matplotlib_trains_and_says_the_curves_were_not_drawn(no_matplotlib, curated, tmp_path,
                                                                             capsys):
    out = tmp_path / "model"
    assert main(["train", str(curated), "-o", str(out), "--epochs", "1", "--batch-size", "6", "--warmup-steps",
                 "1", "--threads", "1"]) == 0
    assert (out / "model.safetensors").exists() and not (out / "training_curves.png").exists()
    assert "training_curves.png was not drawn" in capsys.readouterr().err


def test_clean_plot_without_matplotlib_is_a_one_line_error(no_matplotlib, tmp_path, capsys):
    from pathlib import Path

    data = Path(__file__).resolve().parents[1] / "data"
    scores = tmp_path / "s.bed"
    scores.write_text("20\t1000\t2000\tJ\t1\t+\t0.5\t0.5\n")
    code = main(["clean", str(data / "chr20_slice.bam"), "--scores", str(scores), "-o", str(tmp_path / "k.bam"),
                 "--discarded", str(tmp_path / "d.bam"), "--plot", str(tmp_path / "p.png")])
    assert code == 2
    assert capsys.readouterr().err.endswith(
        "--plot needs matplotlib: splamflow depends on it; this environment lacks it: pip install matplotlib\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.bed"]


def test_matplotlib_without_a_writable_cache_folder_is_a_user_error(monkeypatch):
    """As in `docker run --read-only` without a writable /tmp: matplotlib's start-up raises OSError."""
    from types import SimpleNamespace

    from splamflow.errors import UserError
    from splamflow.plotlib import pyplot

    def no_cache_folder(backend):
        raise FileNotFoundError("No usable temporary directory found in ['/tmp', '/var/tmp', '/usr/tmp', '/']")

    monkeypatch.setitem(sys.modules, "matplotlib", SimpleNamespace(use=no_cache_folder))
    with pytest.raises(UserError, match=r"MPLCONFIGDIR .*--tmpfs /tmp"):
        pyplot()


def test_pip_install_brings_what_the_pipeline_clean_up_draws_with():
    """Every SPLAMFLOW_CLEAN task passes --plot: `pip install splamflow` must bring matplotlib, as the conda
    recipe (matplotlib-base) and the images do."""
    from pathlib import Path

    import tomllib
    from packaging.requirements import Requirement

    root = Path(__file__).resolve().parents[2]
    assert "--plot" in (root / "modules/splamflow/splamflow/clean/main.nf").read_text()
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert "matplotlib" in {Requirement(r).name for r in project["dependencies"]}
    assert "plots" not in project.get("optional-dependencies", {})
