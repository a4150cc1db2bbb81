"""Evaluate a model on held-out curated junctions (e.g. OUTDIR/test.npz from `curate`).

Reports donor, acceptor and junction (min of the two) AUPRC and AUROC, and precision, recall,
accuracy and F1 at thresholds 0.1 and 0.5, overall and by category. Writes OUTDIR/report.json,
report.md, pr_curve.png, score_histograms.png and scores.tsv.
"""

from __future__ import annotations

import argparse
import sys

from splamflow.argtypes import positive_batch_size
from splamflow.evaluate.options import BATCH_SIZE
from splamflow.score.options import DEVICE, DEVICES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", help="curated set (.npz written by `curate`, e.g. runs/curated/test.npz)")
    parser.add_argument("--model", help="model file (default: the shipped model)")
    parser.add_argument("-o", "--outdir", required=True, help="report folder")
    parser.add_argument("--device", choices=DEVICES, default=DEVICE)
    parser.add_argument("--batch-size", type=positive_batch_size, default=BATCH_SIZE)
    parser.add_argument("--record-in-metadata", action="store_true",
                        help="also write the held-out metrics into the model's .json sidecar (splamflow models)")


def run(args: argparse.Namespace) -> int:
    from splamflow.evaluate.report import evaluate, markdown
    from splamflow.io.files import require_file
    from splamflow.weights import metadata_path

    require_file(args.data, "curated set")
    report = evaluate(args.model, args.data, args.outdir, device=args.device, batch_size=args.batch_size,
                      record=args.record_in_metadata)
    print(markdown(report), file=sys.stderr)
    if args.record_in_metadata:
        print(f"metrics recorded in {metadata_path(args.model)}", file=sys.stderr)
    return 0
