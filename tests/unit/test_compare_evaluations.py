"""models/compare_evaluations.py: the paired comparison behind the model cards' held-out tables."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from splamflow.evaluate.metrics import at_threshold, average_precision

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("compare_evaluations", ROOT / "models" / "compare_evaluations.py")
compare_evaluations = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_evaluations)

HEADER = "contig\tstart\tend\tstrand\tcategory\tlabel\tdonor_score\tacceptor_score\n"


def write_scores(folder: Path, label: np.ndarray, donor: np.ndarray, acceptor: np.ndarray,
                 start_offset: int = 0) -> Path:
    folder.mkdir()
    with open(folder / "scores.tsv", "w") as handle:
        handle.write(HEADER)
        for i, (y, d, a) in enumerate(zip(label, donor, acceptor)):
            cat = "positive_mane" if y else "negative_random"
            handle.write(f"20\t{1000 * i + start_offset}\t{1000 * i + 500}\t+\t{cat}\t{y}\t{d:.6f}\t{a:.6f}\n")
    return folder


@pytest.fixture
def runs(tmp_path):
    rng = np.random.default_rng(3)
    label = np.repeat([1, 0], 200)
    base = write_scores(tmp_path / "base", label, rng.random(400), rng.random(400))
    good = np.where(label == 1, 0.6 + 0.4 * rng.random(400), 0.45 * rng.random(400))
    candidate = write_scores(tmp_path / "candidate", label, good, np.clip(good + 0.01, 0, 1))
    return base, candidate, label, good


def test_point_values_are_the_metrics_of_the_junction_score(runs):
    base, candidate, label, good = runs
    rows = {r["metric"]: r for r in compare_evaluations.compare(base, candidate, resamples=50)}
    _, _, base_score = compare_evaluations.read_scores(base)
    junction = np.minimum(np.round(good, 6), np.round(np.clip(good + 0.01, 0, 1), 6))
    assert rows["AUPRC"]["candidate"] == pytest.approx(average_precision(label, junction))
    assert rows["AUPRC"]["base"] == pytest.approx(average_precision(label, base_score))
    assert rows["accuracy@0.5"]["candidate"] == pytest.approx(at_threshold(label, junction, 0.5)["accuracy"])
    assert rows["accuracy@0.1"]["difference"] == pytest.approx(
        rows["accuracy@0.1"]["candidate"] - rows["accuracy@0.1"]["base"])
    # the candidate separates the classes perfectly, the base scores at random: every interval is above 0
    for row in rows.values():
        assert 0 < row["low"] <= row["difference"] <= row["high"]


def test_same_seed_same_interval_and_identical_runs_give_zero(runs):
    base, candidate, _, _ = runs
    assert compare_evaluations.compare(base, candidate, 40, seed=1) == compare_evaluations.compare(
        base, candidate, 40, seed=1)
    for row in compare_evaluations.compare(base, base, 40):
        assert row["difference"] == row["low"] == row["high"] == 0


def test_runs_on_other_junctions_are_refused(tmp_path, runs, capsys):
    base, _, label, good = runs
    other = write_scores(tmp_path / "other", label, good, good, start_offset=1)
    assert compare_evaluations.main([str(base), str(other)]) == 2
    assert "did not score the same junctions" in capsys.readouterr().err


def test_a_folder_without_an_evaluate_table_is_refused(tmp_path, runs, capsys):
    base, _, _, _ = runs
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "scores.tsv").write_text("contig\tstart\n20\t1\n")
    assert compare_evaluations.main([str(base), str(tmp_path / "bad")]) == 2
    assert "is not an evaluate scores table" in capsys.readouterr().err
    assert compare_evaluations.main([str(base), str(tmp_path / "missing")]) == 2


def test_require_better_fails_on_any_figure_not_above(runs, capsys):
    base, candidate, _, _ = runs
    assert compare_evaluations.main([str(base), str(candidate), "--resamples", "20", "--require-better"]) == 0
    capsys.readouterr()
    assert compare_evaluations.main([str(candidate), str(base), "--resamples", "20", "--require-better"]) == 1
    assert capsys.readouterr().err.strip().endswith("is not above " + str(candidate)
                                                    + " on AUPRC, AUROC, accuracy@0.1, accuracy@0.5")
    assert compare_evaluations.main([str(base), str(base), "--resamples", "20", "--require-better"]) == 1


def test_resamples_keep_the_number_of_real_and_negative_junctions(runs, monkeypatch):
    base, candidate, label, _ = runs
    seen = []
    real = compare_evaluations.METRICS["AUPRC"]

    def counting(y, s):
        seen.append(int(y.sum()))
        return real(y, s)

    monkeypatch.setitem(compare_evaluations.METRICS, "AUPRC", counting)
    compare_evaluations.compare(base, candidate, resamples=15)
    assert set(seen) == {int(label.sum())}


def test_markdown_table(runs, capsys):
    base, candidate, _, _ = runs
    assert compare_evaluations.main([str(base), str(candidate), "--resamples", "20"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "| metric | base | candidate | difference (95% paired bootstrap, 20 resamples) |"
    assert [line.split(" | ")[0] for line in out[2:]] == ["| AUPRC", "| AUROC", "| accuracy@0.1", "| accuracy@0.5"]
