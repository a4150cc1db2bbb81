"""Held-out evaluation: donor/acceptor/junction AUPRC, AUROC, threshold metrics, plots, reports."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from splamflow.errors import UserError
from splamflow.evaluate.metrics import precision_recall_curve, removal_table, summarize
from splamflow.evaluate.options import BATCH_SIZE
from splamflow.io.curated import load_set
from splamflow.outputs import Output, OutputSet
from splamflow.plotlib import pyplot, skip_note
from splamflow.score.options import DEVICE
from splamflow.score.predictor import Predictor, check_device
from splamflow.versions import is_shipped_name, resolve_model
from splamflow.weights import load_model, metadata_path

REPORTS = ("report.json", "report.md", "pr_curve.png", "score_histograms.png", "scores.tsv")


def evaluate(model: str | None, data: str | os.PathLike, outdir: str | os.PathLike, device: str = DEVICE,
             batch_size: int = BATCH_SIZE, record: bool = False, sample: int = 0, seed: int = 0) -> dict:
    """Score a curated set with `model` and write the REPORTS into `outdir` together.

    `record`: also add the held-out metrics to the model's .json sidecar (in the same commit).
    `sample`: score only that many junctions of the set, drawn at random with `seed` (0 = all).
    """
    check_device(device)
    out = Path(outdir)
    sidecar_path = _sidecar(model) if record else None
    model = resolve_model(model) if model is not None else None
    outputs = OutputSet([("curated set", data), ("--model", model)], folder=out)
    files = {name: outputs.add(out / name, name, Path(name).suffix) for name in REPORTS}
    sidecar = outputs.add(sidecar_path, "model metadata", ".json") if sidecar_path else None
    with outputs:
        loaded = load_model(model)
        test = load_set(data)
        n_set = len(test)
        if 0 < sample < n_set:
            test = test.subset(np.sort(np.random.default_rng(seed).choice(n_set, sample, replace=False)))
        predictor = Predictor(loaded.net, device=device)
        donor, acceptor = predictor.predict_all(test.codes, batch_size=batch_size)
        label = test.label.astype(np.int64)
        report = {
            "model": str(loaded.path),
            "model_format": loaded.format,
            "model_version": loaded.metadata.get("version"),
            "data": os.path.basename(os.fspath(data)),
            "contigs": sorted(set(test.contig.tolist())),
            "sampled": {"n": len(test), "of": n_set, "seed": seed} if len(test) < n_set else None,
            "overall": summarize(label, donor, acceptor),
            "by_category": {},
        }
        junction = np.minimum(donor, acceptor)
        report["threshold_removes"] = removal_table(label, junction)
        for cat in sorted(set(test.category.tolist())):
            m = test.category == cat
            report["by_category"][cat] = {
                "n": int(m.sum()),
                "called_real_at_0.1": float((junction[m] >= 0.1).mean()),
                "called_real_at_0.5": float((junction[m] >= 0.5).mean()),
            }
        files["report.json"].tmp.write_text(_json(report))
        files["report.md"].tmp.write_text(markdown(report))
        _plots(label, donor, acceptor, files["pr_curve.png"], files["score_histograms.png"])
        with open(files["scores.tsv"].tmp, "w", newline="\n") as handle:
            handle.write("contig\tstart\tend\tstrand\tcategory\tlabel\tdonor_score\tacceptor_score\n")
            for row in zip(test.contig, test.start, test.end, test.strand, test.category, label, donor, acceptor):
                handle.write("\t".join(map(str, row[:6])) + f"\t{row[6]:.6f}\t{row[7]:.6f}\n")
        if sidecar is not None:
            sidecar.tmp.write_text(_json(_with_heldout(loaded.metadata, report)))
    return report


def _finite(value: object) -> object:
    """`value` with NaN and infinities (a metric undefined for a set of one class) as None: JSON null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _json(value: object) -> str:
    return json.dumps(_finite(value), indent=2, allow_nan=False) + "\n"


def _sidecar(model: str | None) -> Path:
    if model is None or is_shipped_name(model):
        raise UserError("--record-in-metadata needs --model with a file (a shipped model's metadata is not "
                        "rewritten)")
    meta_path = metadata_path(model)
    if not meta_path.exists():
        raise UserError("--record-in-metadata needs a splamflow model with its .json sidecar", model)
    return meta_path


def _with_heldout(metadata: dict, report: dict) -> dict:
    """The model's metadata plus the held-out metrics (the model card's numbers)."""
    o = report["overall"]
    return {
        **metadata,
        "heldout_evaluation": {
            "contigs": report["contigs"],
            "n": o["n"],
            "n_positive": o["n_positive"],
            **{
                site: {
                    "auprc": round(o[site]["auprc"], 4),
                    "auroc": round(o[site]["auroc"], 4),
                    **{f"{k}@{t}": round(o[site]["at"][t][k], 4) for t in ("0.1", "0.5")
                       for k in ("precision", "recall", "accuracy")},
                }
                for site in ("donor", "acceptor", "junction")
            },
            "by_category": report["by_category"],
        },
    }


def markdown(report: dict) -> str:
    o = report["overall"]
    lines = [
        f"# Evaluation of {report['model_version'] or report['model']}",
        "",
        f"Held-out contigs: {', '.join(report['contigs'])}; {o['n']} junctions ({o['n_positive']} real)"
        + (f", a random sample (seed {report['sampled']['seed']}) of the set's {report['sampled']['of']}."
           if report.get("sampled") else "."),
        "",
        "| site | AUPRC | AUROC | precision@0.1 | recall@0.1 | accuracy@0.1 | precision@0.5 | recall@0.5 "
        "| accuracy@0.5 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for site in ("donor", "acceptor", "junction"):
        m = o[site]
        a, b = m["at"]["0.1"], m["at"]["0.5"]
        lines.append(
            f"| {site} | {m['auprc']:.4f} | {m['auroc']:.4f} | {a['precision']:.4f} | {a['recall']:.4f} | "
            f"{a['accuracy']:.4f} | {b['precision']:.4f} | {b['recall']:.4f} | {b['accuracy']:.4f} |"
        )
    lines += ["", "Junction score = min(donor score, acceptor score).", "",
              "| category | n | called real at 0.1 | called real at 0.5 |", "|---|---|---|---|"]
    for cat, c in report["by_category"].items():
        lines.append(f"| {cat} | {c['n']} | {c['called_real_at_0.1']:.4f} | {c['called_real_at_0.5']:.4f} |")
    lines += ["", "What filtering at a junction-score threshold removes: the share of annotated (real) junctions "
              "lost, i.e. the recall it costs, next to the share of negatives removed.", "",
              "| threshold | real junctions removed | negatives removed |", "|---|---|---|"]
    for row in report["threshold_removes"]:
        lines.append(f"| {row['threshold']:g} | {row['positives_removed']:.4f} | {row['negatives_removed']:.4f} |")
    return "\n".join(lines) + "\n"


def _plots(label: np.ndarray, donor: np.ndarray, acceptor: np.ndarray, pr: Output, hist: Output) -> None:
    plt = pyplot()
    if plt is None:
        skip_note("evaluate", "pr_curve.png and score_histograms.png")
        pr.remove_instead()  # an old plot would not match the new report
        hist.remove_instead()
        return

    fig, ax = plt.subplots(figsize=(5, 4.5))
    for name, score in (("donor", donor), ("acceptor", acceptor), ("junction", np.minimum(donor, acceptor))):
        precision, recall, _ = precision_recall_curve(label, score)
        ax.step(recall, precision, where="post", label=name)
    ax.set(xlabel="recall", ylabel="precision", title="precision-recall on held-out junctions",
           xlim=(0, 1.01), ylim=(0, 1.01))
    ax.legend()
    fig.tight_layout()
    fig.savefig(pr.tmp, dpi=110, format="png")
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    bins = np.linspace(0, 1, 41)
    for ax, name, score in ((axes[0], "donor", donor), (axes[1], "acceptor", acceptor)):
        ax.hist(score[label == 1], bins=bins, alpha=0.6, label="real junctions")
        ax.hist(score[label == 0], bins=bins, alpha=0.6, label="negatives")
        ax.set(xlabel=f"{name} score", ylabel="junctions", yscale="log", title=f"{name} scores")
        ax.legend()
    fig.tight_layout()
    fig.savefig(hist.tmp, dpi=110, format="png")
    plt.close(fig)
