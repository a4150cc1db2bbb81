"""Train a Splam model on a curated set (`splam_score.py curate`), following the seed's recipe.

Defaults are the seed's: batch 100, AdamW, peak learning rate 0.03 after a 1000-step linear warm-up,
cosine decay to 0, focal loss with gamma 2, 15 epochs. The published code weights the donor and
acceptor terms of the loss x5 (--site-weight 5; 1 gives the plain focal loss).

Training writes OUTDIR/checkpoint.pt every --checkpoint-every steps and at each epoch end; running
the same command again resumes from it (exactly: same batches, same schedule). --max-steps stops a
run early so long trainings can be spread over several sessions. Per-epoch metrics on the
validation set go to stdout and to the model's metadata; OUTDIR/training_curves.png plots the
learning rate and losses. The finished model is OUTDIR/model.safetensors + model.json.
"""

from __future__ import annotations

import argparse

from splamflow.argtypes import non_negative_int, positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", help="folder written by `curate` (train.npz, validation.npz, manifest.json)")
    parser.add_argument("-o", "--outdir", required=True, help="output folder (checkpoints, curves, model)")
    parser.add_argument("--epochs", type=positive_int, default=15)
    parser.add_argument("--batch-size", type=positive_int, default=100)
    parser.add_argument("--learning-rate", type=float, default=0.03, help="peak learning rate")
    parser.add_argument("--warmup-steps", type=non_negative_int, default=1000, help="linear warm-up steps")
    parser.add_argument("--weight-decay", type=float, default=0.01, help="AdamW weight decay")
    parser.add_argument("--gamma", type=float, default=2.0, help="focal-loss gamma")
    parser.add_argument("--site-weight", type=float, default=5.0,
                        help="weight of donor/acceptor terms in the loss (published code: 5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=non_negative_int, default=0, help="torch CPU threads (0 = torch's default)")
    parser.add_argument("--checkpoint-every", type=positive_int, default=50, help="steps between checkpoints")
    parser.add_argument("--max-steps", type=non_negative_int, default=0,
                        help="stop after this many steps in this run (resume later); 0 = run to the end")
    parser.add_argument("--model-version", default="", help="version string recorded in the model metadata")


def run(args: argparse.Namespace) -> int:
    from splamflow.train.trainer import TrainOptions, train

    train(
        TrainOptions(
            data=args.data,
            outdir=args.outdir,
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            warmup_steps=args.warmup_steps,
            weight_decay=args.weight_decay,
            gamma=args.gamma,
            site_weight=args.site_weight,
            seed=args.seed,
            threads=args.threads,
            checkpoint_every=args.checkpoint_every,
            max_steps=args.max_steps,
            model_version=args.model_version,
        )
    )
    return 0
