"""Training settings and their defaults (the seed's recipe), shared by the CLI and the training loop
(no torch here, so `--help` stays light)."""

from __future__ import annotations

from dataclasses import dataclass

VALIDATION_DEVICE = "cpu"  # the validation pass after each epoch scores here
VALIDATION_BATCH_SIZE = 64  # rows per forward pass of that validation


@dataclass
class TrainOptions:
    """One training run: data folder, output folder and the recipe."""

    data: str
    outdir: str
    epochs: int = 15
    batch_size: int = 100
    learning_rate: float = 0.03  # peak, reached after the warm-up
    warmup_steps: int = 1000
    weight_decay: float = 0.01  # AdamW
    gamma: float = 2.0  # focal loss
    site_weight: float = 5.0  # donor/acceptor terms of the loss, as in the published code
    seed: int = 0
    threads: int = 0  # torch CPU threads; 0 = OMP_NUM_THREADS when set, else the CPUs this process may use
    checkpoint_every: int = 50
    max_steps: int = 0  # stop (resumably) after this many steps in this invocation; 0 = no limit
    model_version: str = ""
