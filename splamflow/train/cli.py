"""Train a Splam model on a curated set (`splam_score.py curate`), following the seed's recipe.

Defaults are the seed's: batch 100, AdamW, peak learning rate 0.03 after a 1000-step linear warm-up,
cosine decay to 0, focal loss with gamma 2, 15 epochs. The published code weights the donor and
acceptor terms of the loss x5 (--site-weight 5; 1 gives the plain focal loss).

Fine-tuning: --init-from MODEL starts from that model's weights instead of random ones (a file in any
format `score --model` reads, or a shipped name such as `human`). It has its own defaults: peak
learning rate 1e-4 after a 100-step warm-up, then the same cosine decay, and plain cross-entropy
(--gamma 0 --site-weight 1: fine-tuned with the seed's focal loss, models scored more negatives above
0.1 than their parent). Each option given overrides its default. The model's metadata records the
parent (name, version, sha256); a checkpoint resumes only with the same parent.

--device cuda trains on the GPU (auto: the GPU when there is one, else the CPU); the per-epoch
validation runs on the same device.

Training writes OUTDIR/checkpoint.pt every --checkpoint-every steps and at each epoch end; running
the same command again resumes from it (exactly: same batches, same schedule). --max-steps stops a
run early so long trainings can be spread over several sessions. A checkpoint records its recipe
(epochs, epoch size, batch size, learning rate, warm-up, weight decay, gamma, site weight, seed,
the sha256 of train.npz and validation.npz, the parent model) and refuses to resume with another,
naming the settings that differ; --threads, --device, --max-steps, --checkpoint-every and
--model-version may change between sessions. Per-epoch metrics on the
validation set go to the model's metadata and, with --verbose or on a terminal, to stderr (as do the
step and "resuming" lines); stdout gets only the final line (model written, or stopped after N
steps). OUTDIR/training_curves.png plots the learning rate and losses. The finished model is
OUTDIR/model.safetensors + model.json.
"""

from __future__ import annotations

import argparse
from dataclasses import fields

from splamflow.argtypes import non_negative_int, positive_batch_size, positive_int, seed, threads
from splamflow.train.options import DEVICES, FINE_TUNING, FROM_SCRATCH, TrainOptions
from splamflow.versions import shipped_models

DEFAULTS = TrainOptions  # its class attributes are the defaults, stated once


def _start_default(field: str) -> str:
    """The help's note on a default that depends on --init-from."""
    return f"default: {getattr(FROM_SCRATCH, field):g}; with --init-from {getattr(FINE_TUNING, field):g}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", help="folder written by `curate` (train.npz, validation.npz, manifest.json)")
    parser.add_argument("-o", "--outdir", required=True, help="output folder (checkpoints, curves, model)")
    parser.add_argument("--epochs", type=positive_int, default=DEFAULTS.epochs)
    parser.add_argument("--epoch-size", type=non_negative_int, default=DEFAULTS.epoch_size,
                        help="training junctions per epoch (rounded up to whole batches), drawn afresh at random "
                             "each epoch: a budget for large sets; 0 = all of them")
    parser.add_argument("--batch-size", type=positive_batch_size, default=DEFAULTS.batch_size)
    parser.add_argument("--init-from", metavar="MODEL", default=DEFAULTS.init_from,
                        help="fine-tune: start from this model (a file, or a shipped name: "
                             f"{', '.join(shipped_models())}) instead of random weights")
    parser.add_argument("--learning-rate", type=float, default=None,
                        help=f"peak learning rate ({_start_default('learning_rate')})")
    parser.add_argument("--warmup-steps", type=non_negative_int, default=None,
                        help=f"linear warm-up steps ({_start_default('warmup_steps')})")
    parser.add_argument("--weight-decay", type=float, default=DEFAULTS.weight_decay, help="AdamW weight decay")
    parser.add_argument("--gamma", type=float, default=None,
                        help=f"focal-loss gamma, 0 = cross-entropy ({_start_default('gamma')})")
    parser.add_argument("--site-weight", type=float, default=None,
                        help="weight of donor/acceptor terms in the loss, 5 in the published code "
                             f"({_start_default('site_weight')})")
    parser.add_argument("--seed", type=seed, default=DEFAULTS.seed)
    parser.add_argument("--threads", type=threads, default=DEFAULTS.threads,
                        help="torch CPU threads (0 = the CPUs this process may use, rounded down; OMP_NUM_THREADS, "
                             "when set, lowers it)")
    parser.add_argument("--device", choices=DEVICES, default=DEFAULTS.device,
                        help="where to train (auto: cuda when available, else cpu; cuda absent is an error)")
    parser.add_argument("--checkpoint-every", type=positive_int, default=DEFAULTS.checkpoint_every,
                        help="steps between checkpoints")
    parser.add_argument("--max-steps", type=non_negative_int, default=DEFAULTS.max_steps,
                        help="stop after this many steps in this run (resume later); 0 = run to the end")
    parser.add_argument("--verbose", action="store_true",
                        help="a line every 10 steps and one per epoch, on stderr, off a terminal too (default "
                             "there: only the final line, on stdout)")
    parser.add_argument("--model-version", default=DEFAULTS.model_version,
                        help="version string recorded in the model metadata")


def options(args: argparse.Namespace) -> TrainOptions:
    """The parsed arguments as training options (the defaults that depend on --init-from filled in)."""
    return TrainOptions(**{f.name: getattr(args, f.name) for f in fields(TrainOptions)})


def run(args: argparse.Namespace) -> int:
    from splamflow.train.trainer import train

    train(options(args))
    return 0
