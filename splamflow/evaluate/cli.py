"""Evaluate a model on held-out curated junctions (e.g. OUTDIR/test.npz from `curate`).

Reports donor, acceptor and junction (min of the two) AUPRC and AUROC, and precision, recall,
accuracy and F1 at thresholds 0.1 and 0.5, overall and by category, and for a range of thresholds
the share of real junctions (your annotation's introns) a filter at that threshold would remove -- the
recall it costs -- next to the share of negatives it removes. --model takes a file or a shipped
name (e.g. human). Writes OUTDIR/report.json,
report.md, pr_curve.png, score_histograms.png and scores.tsv.
"""

from __future__ import annotations

import argparse
import sys

from splamflow.argtypes import non_negative_int, positive_batch_size, seed, threads
from splamflow.errors import one_line
from splamflow.evaluate.options import BATCH_SIZE
from splamflow.score.options import DEVICE, DEVICES
from splamflow.versions import shipped_models


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", help="curated set (.npz written by `curate`, e.g. runs/curated/test.npz)")
    parser.add_argument("--model", help=f"model file or shipped name ({', '.join(shipped_models())}; default: the "
                                         "shipped default)")
    parser.add_argument("-o", "--outdir", required=True, help="report folder")
    parser.add_argument("--device", choices=DEVICES, default=DEVICE)
    parser.add_argument("--batch-size", type=positive_batch_size, default=BATCH_SIZE)
    parser.add_argument("--sample", type=non_negative_int, default=0,
                        help="score a random sample of this many junctions (0 = all; the report says so)")
    parser.add_argument("--seed", type=seed, default=0, help="random seed of --sample")
    parser.add_argument("--threads", type=threads, default=0,
                        help="torch CPU threads (0 = the CPUs this process may use; OMP_NUM_THREADS lowers it)")
    parser.add_argument("--record-in-metadata", action="store_true",
                        help="also write the held-out metrics into the model's .json sidecar (splamflow models)")


def run(args: argparse.Namespace) -> int:
    import torch

    from splamflow.cpus import auto_threads
    from splamflow.evaluate.report import evaluate, markdown
    from splamflow.io.files import require_file
    from splamflow.weights import metadata_path

    require_file(args.data, "curated set")
    torch.set_num_threads(args.threads or auto_threads())
    report = evaluate(args.model, args.data, args.outdir, device=args.device, batch_size=args.batch_size,
                      record=args.record_in_metadata, sample=args.sample, seed=args.seed)
    print(markdown(report), file=sys.stderr)
    if args.record_in_metadata:
        print(one_line(f"metrics recorded in {metadata_path(args.model)}"), file=sys.stderr)
    return 0
