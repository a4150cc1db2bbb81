#!/usr/bin/env python3
"""Paired comparison of two `splam_score.py evaluate` runs on the same junctions (model cards' tables).

Reads each run's scores.tsv, checks both scored the same junctions in the same order, and prints a
Markdown table of junction-score AUPRC, AUROC and accuracy at 0.1 and 0.5 for both models, with the
difference (candidate - base) and its 95% paired bootstrap interval: real and negative junctions
are resampled with replacement separately (the curation fixed their numbers), the same resample for
both models. Junctions are treated as independent; introns of one gene's isoforms share splice
sites, so the intervals are somewhat narrower than a resampling by gene would give.

--require-better exits 1 unless the candidate is above the base on all four figures (the rule the
shipped models were chosen by).

    .venv/bin/python models/compare_evaluations.py runs/x/evaluate_base runs/x/evaluate_candidate
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from splamflow.evaluate.metrics import at_threshold, average_precision, roc_auc

RESAMPLES = 2000
KEY = ("contig", "start", "end", "strand", "label")
METRICS = {
    "AUPRC": average_precision,
    "AUROC": roc_auc,
    "accuracy@0.1": lambda y, s: at_threshold(y, s, 0.1)["accuracy"],
    "accuracy@0.5": lambda y, s: at_threshold(y, s, 0.5)["accuracy"],
}


def read_scores(folder: Path) -> tuple[list[tuple[str, ...]], np.ndarray, np.ndarray]:
    """(junction keys, labels, junction scores = min(donor, acceptor)) of one evaluate run."""
    with open(folder / "scores.tsv", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        missing = set(KEY + ("donor_score", "acceptor_score")) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{folder / 'scores.tsv'} is not an evaluate scores table "
                             f"(no {', '.join(sorted(missing))})")
        rows = list(reader)
    keys = [tuple(row[k] for k in KEY) for row in rows]
    label = np.array([int(row["label"]) for row in rows], dtype=np.int64)
    score = np.array([min(float(row["donor_score"]), float(row["acceptor_score"])) for row in rows])
    return keys, label, score


def compare(base: Path, candidate: Path, resamples: int = RESAMPLES, seed: int = 0) -> list[dict]:
    """For each metric: both values, the difference and its 95% paired bootstrap interval."""
    keys_a, label, score_a = read_scores(base)
    keys_b, _, score_b = read_scores(candidate)
    if keys_a != keys_b:
        raise ValueError(f"{base} and {candidate} did not score the same junctions in the same order")
    real, negative = np.flatnonzero(label == 1), np.flatnonzero(label == 0)
    if len(real) == 0 or len(negative) == 0:
        raise ValueError(f"{base}: the set needs real and negative junctions to be compared")
    rng = np.random.default_rng(seed)
    draws = [np.concatenate([rng.choice(real, len(real)), rng.choice(negative, len(negative))])
             for _ in range(resamples)]
    rows = []
    for name, metric in METRICS.items():
        a, b = metric(label, score_a), metric(label, score_b)
        diffs = np.array([metric(label[i], score_b[i]) - metric(label[i], score_a[i]) for i in draws])
        low, high = np.percentile(diffs, [2.5, 97.5])
        rows.append({"metric": name, "base": a, "candidate": b, "difference": b - a, "low": low, "high": high})
    return rows


def markdown(rows: list[dict], base: str, candidate: str, resamples: int) -> str:
    lines = [
        "| metric | " + base + " | " + candidate + f" | difference (95% paired bootstrap, {resamples} resamples) |",
        "|---|---|---|---|",
    ]
    lines += [f"| {r['metric']} | {r['base']:.4f} | {r['candidate']:.4f} | "
              f"{r['difference']:+.4f} ({r['low']:+.4f}, {r['high']:+.4f}) |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", type=Path, help="evaluate output folder of the reference model")
    parser.add_argument("candidate", type=Path, help="evaluate output folder of the model compared with it")
    parser.add_argument("--resamples", type=int, default=RESAMPLES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--require-better", action="store_true",
                        help="exit 1 unless the candidate is above the base on every figure")
    args = parser.parse_args(argv)
    try:
        rows = compare(args.base, args.candidate, args.resamples, args.seed)
    except (OSError, ValueError) as err:
        print(f"compare_evaluations.py: {err}", file=sys.stderr)
        return 2
    print(markdown(rows, args.base.name, args.candidate.name, args.resamples))
    worse = [r["metric"] for r in rows if not r["candidate"] > r["base"]]
    if args.require_better and worse:
        print(f"compare_evaluations.py: {args.candidate} is not above {args.base} on {', '.join(worse)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
