"""The training loop: seeded, checkpointed every N steps, resumable, with per-epoch metrics.

Recipe (seed): batch 100, AdamW, peak learning rate 0.03 reached by linear warm-up, cosine decay
to 0, focal loss (gamma 2), 15 epochs; with --init-from, the weights of a parent model and the
fine-tuning defaults (options.FINE_TUNING: schedule and loss). The epoch's sample order is a
function of (seed, epoch), so a run resumed from a mid-epoch checkpoint continues with exactly the
batches it would have seen. A checkpoint records its recipe (options.RECIPE, the sha256 of the
training data, the parent model) and resumes only with the same one.
"""

from __future__ import annotations

import io
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from splamflow import __version__, progress
from splamflow.cpus import auto_threads
from splamflow.errors import UserError, one_line
from splamflow.evaluate.metrics import summarize
from splamflow.io.curated import CuratedSet, load_set
from splamflow.io.files import sha256_file
from splamflow.model import SplamNet
from splamflow.outputs import atomic_path
from splamflow.plotlib import pyplot, skip_note
from splamflow.progress import bar, detailed
from splamflow.score.predictor import Predictor
from splamflow.train.dataset import batch_tensors
from splamflow.train.loss import focal_loss, loss_name
from splamflow.train.options import RECIPE, VALIDATION_BATCH_SIZE, TrainOptions
from splamflow.train.schedule import learning_rate
from splamflow.versions import is_shipped_name
from splamflow.weights import load_model, save_model

CHECKPOINT = "checkpoint.pt"


def _save_torch(path: Path, obj: object) -> None:
    """torch.save through memory: a failed file write (disk full) is then an OSError with its errno.

    torch.save writing to a file reports a failed write as a RuntimeError that names no cause.
    """
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with atomic_path(path, suffix=".pt") as tmp:
        tmp.write_bytes(buffer.getbuffer())


def _first_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _plot_curves(history: dict, steps: list[dict], outdir: Path, gamma: float) -> None:
    plt = pyplot()
    if plt is None:
        skip_note("train", "training_curves.png")
        return
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    s = [r["step"] for r in steps]
    axes[0].plot(s, [r["lr"] for r in steps])
    axes[0].set(xlabel="optimizer step", ylabel="learning rate", title="learning-rate schedule")
    axes[1].plot(s, [r["loss"] for r in steps], lw=0.6, alpha=0.5, label="train (batch)")
    if history["epochs"]:
        ends = [e["step"] for e in history["epochs"]]
        axes[1].plot(ends, [e["train_loss"] for e in history["epochs"]], "o-", label="train (epoch mean)")
        if all("validation_loss" in e for e in history["epochs"]):
            axes[1].plot(ends, [e["validation_loss"] for e in history["epochs"]], "s-", label="validation")
    axes[1].set(xlabel="optimizer step", ylabel=loss_name(gamma), title="loss", yscale="log")
    axes[1].legend()
    fig.tight_layout()
    with atomic_path(outdir / "training_curves.png", suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def _pick_device(requested: str) -> torch.device:
    """auto: cuda when available, else cpu; cuda asked for and absent is a user error."""
    if requested == "cpu" or (requested == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA device is available (use --device auto or cpu)")
    return torch.device("cuda")


def _cpu_state(net: SplamNet) -> dict:
    return {k: v.cpu() for k, v in net.state_dict().items()}


def _validate(net: SplamNet, data, opts: TrainOptions) -> dict:
    net.eval()
    device = next(net.parameters()).device
    predictor = Predictor(net, device=device.type)
    donor, acceptor = predictor.predict_all(data.codes, batch_size=VALIDATION_BATCH_SIZE)
    losses = []
    with torch.inference_mode():
        for i in range(0, len(data), opts.batch_size):
            idx = np.arange(i, min(len(data), i + opts.batch_size))
            x, target = (t.to(device) for t in batch_tensors(data, idx))
            losses.append(float(focal_loss(net.logits(x), target, opts.gamma, opts.site_weight)) * len(idx))
    net.train()
    metrics = summarize(data.label, donor, acceptor)
    metrics["loss"] = sum(losses) / len(data)
    return metrics


@dataclass
class _Run:
    """The state of a training run: what a checkpoint holds, and where this invocation stands."""

    opts: TrainOptions
    outdir: Path
    steps_per_epoch: int
    data: dict[str, str]  # the sha256 of each training-data file, by file name
    net: SplamNet = field(default_factory=SplamNet)
    optimizer: torch.optim.Optimizer | None = None
    step: int = 0
    history: dict = field(default_factory=lambda: {"epochs": []})
    step_log: list[dict] = field(default_factory=list)
    steps_this_run: int = 0
    parent: dict | None = None  # the model fine-tuning started from (--init-from)
    started: float = field(default_factory=time.perf_counter)

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.opts.epochs

    @property
    def checkpoint_path(self) -> Path:
        return self.outdir / CHECKPOINT

    @property
    def recipe(self) -> dict:
        """What a checkpoint resumes only with."""
        return {**{k: getattr(self.opts, k) for k in RECIPE}, "data": self.data, "init_from": _sha256(self.parent)}

    def checkpoint(self) -> None:
        _save_torch(self.checkpoint_path, {
            "model": _cpu_state(self.net),
            "optimizer": self.optimizer.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "step": self.step,
            "total_steps": self.total_steps,
            "history": self.history,
            "step_log": self.step_log,
            "options": asdict(self.opts),
            "parent": self.parent,
            "recipe": self.recipe,
        })

    def resume(self) -> None:
        """Continue from the checkpoint in the output folder, when there is one of this recipe."""
        path = self.checkpoint_path
        if not path.exists():
            return
        try:  # weights_only: a checkpoint file is data; nothing in it may run code
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types for damaged or foreign files
            raise UserError(f"cannot read checkpoint: {_first_line(exc)}", path) from None
        try:
            differ = _differences(_saved_recipe(ckpt), self.recipe, ckpt["options"]["data"] == self.opts.data)
        except (TypeError, KeyError, IndexError, AttributeError):
            raise UserError("not a splamflow training checkpoint; use a new output folder", path) from None
        if differ:
            raise UserError(f"checkpoint was written by another recipe: {'; '.join(differ)}; use a new output "
                            "folder, or the checkpoint's settings", path)
        try:
            step, history, step_log = ckpt["step"], ckpt["history"], ckpt["step_log"]
            if not (isinstance(step, int) and 0 <= step <= self.total_steps and isinstance(step_log, list)
                    and isinstance(history, dict) and isinstance(history.get("epochs"), list)):
                raise ValueError("its step, history or step log is malformed")
            self.net.load_state_dict(ckpt["model"])
            self.optimizer.load_state_dict(ckpt["optimizer"])
            torch.set_rng_state(ckpt["torch_rng"])
        except Exception as exc:  # load_state_dict and set_rng_state raise several types
            raise UserError(f"checkpoint does not fit this model and recipe ({_first_line(exc)}); "
                            "use a new output folder", path) from None
        self.step, self.history, self.step_log = step, history, step_log
        if detailed():
            progress.note(one_line(f"resuming from step {self.step}/{self.total_steps} ({path})"))


def _sha256(parent: object) -> str | None:
    return parent.get("sha256") if isinstance(parent, dict) else None


def _saved_recipe(ckpt: dict) -> dict:
    """The recipe a checkpoint records; of a checkpoint written before recipes were recorded, its
    options and parent (its data is then known by path only)."""
    if "recipe" in ckpt:
        return dict(ckpt["recipe"])
    return {**{k: ckpt["options"][k] for k in RECIPE}, "init_from": _sha256(ckpt.get("parent"))}


def _differences(saved: dict, current: dict, same_data_path: bool) -> list[str]:
    """One phrase per setting in which `saved` and `current` differ."""
    differ = [f"--{k.replace('_', '-')} {saved[k]} (now {current[k]})" for k in RECIPE if saved[k] != current[k]]
    if saved.get("data", current["data"] if same_data_path else None) != current["data"]:
        differ.append("the training data (train.npz or validation.npz is another file)")
    if saved["init_from"] != current["init_from"]:
        differ.append("--init-from (another parent model, or none)")
    return differ


def _init_from(run: _Run) -> None:
    """Start from the weights of the --init-from model; record it as the parent."""
    loaded = load_model(run.opts.init_from)
    run.net.load_state_dict(loaded.net.state_dict())
    name = run.opts.init_from if is_shipped_name(run.opts.init_from) else loaded.path.name
    run.parent = {"name": name, "version": loaded.metadata.get("version"), "format": loaded.format,
                  "sha256": sha256_file(loaded.path)}
    if detailed():
        progress.note(one_line(f"fine-tuning from {loaded.describe()}"))


def _folders(opts: TrainOptions) -> tuple[Path, Path]:
    """The curated-data and output folders, checked (the caller creates the output folder)."""
    data_dir, outdir = Path(opts.data), Path(opts.outdir)
    if not data_dir.is_dir():
        raise UserError("curated data folder does not exist", data_dir)
    if outdir.exists() and not outdir.is_dir():
        raise UserError("the output folder is a file", outdir)
    if not (data_dir / "train.npz").exists():
        raise UserError("no train.npz here: run `splam_score.py curate` first", data_dir)
    return data_dir, outdir


def _train_step(run: _Run, train_set: CuratedSet, idx: np.ndarray, epoch: int) -> float:
    """One optimizer step on the samples `idx`; returns the batch loss."""
    opts = run.opts
    device = next(run.net.parameters()).device
    x, target = (t.to(device, non_blocking=True) for t in batch_tensors(train_set, idx))
    lr = learning_rate(run.step, run.total_steps, opts.learning_rate, opts.warmup_steps)
    for group in run.optimizer.param_groups:
        group["lr"] = lr
    loss = focal_loss(run.net.logits(x), target, opts.gamma, opts.site_weight)
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    run.optimizer.step()
    run.step += 1
    run.steps_this_run += 1
    loss_value = loss.item()
    run.step_log.append({"step": run.step, "lr": lr, "loss": loss_value})
    if progress.VERBOSE and run.step % 10 == 0:
        rate = run.steps_this_run * opts.batch_size / (time.perf_counter() - run.started)
        progress.note(f"epoch {epoch + 1}/{opts.epochs} step {run.step}/{run.total_steps} lr {lr:.5f} "
                      f"loss {loss_value:.5f} ({rate:.1f} samples/s)")
    return loss_value


def _train_epoch(run: _Run, train_set: CuratedSet) -> list[float] | None:
    """The rest of the current epoch; its batch losses, or None when --max-steps stopped the run."""
    opts = run.opts
    epoch, in_epoch = divmod(run.step, run.steps_per_epoch)
    order = np.random.default_rng([opts.seed, epoch]).permutation(len(train_set))
    losses: list[float] = []
    with bar(run.steps_per_epoch, f"train: epoch {epoch + 1}", "step", initial=in_epoch) as shown:
        for b in range(in_epoch, run.steps_per_epoch):
            idx = np.sort(order[b * opts.batch_size : (b + 1) * opts.batch_size])
            losses.append(_train_step(run, train_set, idx, epoch))
            shown.update()
            if run.step % opts.checkpoint_every == 0:
                run.checkpoint()
            if opts.max_steps and run.steps_this_run >= opts.max_steps:
                run.checkpoint()
                progress.note(f"stopped after {run.steps_this_run} steps (step {run.step}/{run.total_steps}); "
                              "run again to resume", file=sys.stdout)
                return None
    return losses


def _end_epoch(run: _Run, losses: list[float], val_set: CuratedSet | None) -> None:
    """Validation metrics, checkpoint, curves and the epoch's weights."""
    epoch = run.step // run.steps_per_epoch
    record = {
        "epoch": epoch,
        "step": run.step,
        # a resumed epoch only knows the losses since the resume
        "train_loss": float(np.mean(losses)) if losses else float("nan"),
    }
    if val_set is not None:
        v = _validate(run.net, val_set, run.opts)
        record.update(
            validation_loss=v["loss"],
            validation_junction_auprc=v["junction"]["auprc"],
            validation_junction_accuracy_0_5=v["junction"]["at"]["0.5"]["accuracy"],
        )
    run.history["epochs"].append(record)
    if detailed():
        progress.note("epoch summary: " + json.dumps(record))
    run.checkpoint()
    _plot_curves(run.history, run.step_log, run.outdir, run.opts.gamma)
    _save_torch(run.outdir / f"epoch{epoch:02d}.pt", _cpu_state(run.net))


def _save_final(run: _Run, data_dir: Path) -> Path:
    """The finished model with its metadata (recipe, training data, per-epoch history)."""
    opts = run.opts
    manifest_path = data_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    meta = {
        "version": opts.model_version or f"splamflow-{__version__}",
        "trained_with": f"splamflow {__version__}, torch {torch.__version__}",
        "training_data": manifest,
        "recipe": {k: v for k, v in asdict(opts).items()
                   if k not in ("data", "outdir", "threads", "device", "max_steps", "init_from")}
        | {"optimizer": "AdamW", "loss": loss_name(opts.gamma), "schedule": "linear warm-up then cosine to 0",
           "start": "fine-tuned from the parent model" if run.parent else "random weights",
           "steps": run.total_steps, "steps_per_epoch": run.steps_per_epoch},
        **({"parent": run.parent} if run.parent else {}),
        "history": run.history["epochs"],
    }
    final = run.outdir / "model.safetensors"
    save_model(run.net.cpu(), final, meta)
    _plot_curves(run.history, run.step_log, run.outdir, run.opts.gamma)
    print(one_line(f"model written to {final}"), flush=True)
    return final


def train(opts: TrainOptions) -> Path:
    """Train (or resume) into `opts.outdir`; returns the final model path once all epochs are done,
    else the checkpoint's (a run stopped by `max_steps`)."""
    torch.set_num_threads(opts.threads or auto_threads())
    device = _pick_device(opts.device)
    data_dir, outdir = _folders(opts)
    train_set = load_set(data_dir / "train.npz")
    val_set = load_set(data_dir / "validation.npz") if (data_dir / "validation.npz").exists() else None
    outdir.mkdir(parents=True, exist_ok=True)  # only once the sets are known to be good

    torch.manual_seed(opts.seed)
    per_epoch = min(opts.epoch_size, len(train_set)) if opts.epoch_size else len(train_set)
    data = {name: sha256_file(data_dir / name) for name in ("train.npz", "validation.npz")
            if (data_dir / name).exists()}
    run = _Run(opts, outdir, steps_per_epoch=int(np.ceil(per_epoch / opts.batch_size)), data=data)
    if opts.init_from:
        _init_from(run)
    run.net.to(device)
    run.optimizer = torch.optim.AdamW(run.net.parameters(), lr=opts.learning_rate, weight_decay=opts.weight_decay)
    run.resume()
    run.net.train()
    while run.step < run.total_steps:
        losses = _train_epoch(run, train_set)
        if losses is None:
            return run.checkpoint_path
        _end_epoch(run, losses, val_set)
    return _save_final(run, data_dir)
