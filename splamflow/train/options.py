"""Training settings and their defaults (the seed's recipe), shared by the CLI and the training loop
(no torch here, so `--help` stays light)."""

from __future__ import annotations

from dataclasses import dataclass

DEVICES = ("auto", "cpu", "cuda")  # auto: cuda when available, else cpu
VALIDATION_BATCH_SIZE = 64  # rows per forward pass of the validation after each epoch

#: The settings a checkpoint resumes only with (with the training data and the parent model); the
#: others (threads, device, max_steps, checkpoint_every, model_version) may change between sessions.
RECIPE = ("epochs", "epoch_size", "batch_size", "learning_rate", "warmup_steps", "weight_decay", "gamma",
          "site_weight", "seed")

#: (peak learning rate, warm-up steps): the seed's, for training from random weights, and the
#: fine-tuning schedule used with --init-from (a tenth of the seed's peak, a short warm-up: the
#: starting weights already solve the task, and a large step would first undo them).
FROM_SCRATCH = (0.03, 1000)
FINE_TUNING = (0.0001, 100)


@dataclass
class TrainOptions:
    """One training run: data folder, output folder and the recipe."""

    data: str
    outdir: str
    epochs: int = 15
    epoch_size: int = 0  # training samples per epoch, a fresh random draw each epoch; 0 = the whole set
    batch_size: int = 100
    learning_rate: float | None = None  # peak, reached after the warm-up; None = FROM_SCRATCH or FINE_TUNING
    warmup_steps: int | None = None  # None = FROM_SCRATCH or FINE_TUNING
    weight_decay: float = 0.01  # AdamW
    gamma: float = 2.0  # focal loss
    site_weight: float = 5.0  # donor/acceptor terms of the loss, as in the published code
    seed: int = 0
    threads: int = 0  # torch CPU threads; 0 = OMP_NUM_THREADS when set, else the CPUs this process may use
    device: str = "auto"  # one of DEVICES
    checkpoint_every: int = 50
    max_steps: int = 0  # stop (resumably) after this many steps in this invocation; 0 = no limit
    model_version: str = ""
    init_from: str = ""  # model (file or shipped name) whose weights training starts from; "" = random

    def __post_init__(self) -> None:
        peak, warmup = FINE_TUNING if self.init_from else FROM_SCRATCH
        if self.learning_rate is None:
            self.learning_rate = peak
        if self.warmup_steps is None:
            self.warmup_steps = warmup
