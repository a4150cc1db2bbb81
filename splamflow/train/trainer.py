"""The training loop: seeded, checkpointed every N steps, resumable, with per-epoch metrics.

Recipe (seed): batch 100, AdamW, peak learning rate 0.03 reached by linear warm-up, cosine decay
to 0, focal loss (gamma 2), 15 epochs. The epoch's sample order is a function of (seed, epoch), so a
run resumed from a mid-epoch checkpoint continues with exactly the batches it would have seen.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from splamflow import __version__
from splamflow.errors import UserError
from splamflow.fileio import atomic_path
from splamflow.model import SplamNet
from splamflow.plotlib import pyplot, skip_note
from splamflow.scoring import Predictor
from splamflow.train.dataset import batch_tensors, load_set
from splamflow.train.loss import focal_loss
from splamflow.train.metrics import summarize
from splamflow.train.schedule import learning_rate
from splamflow.weights import save_model

CHECKPOINT = "checkpoint.pt"


@dataclass
class TrainOptions:
    data: str
    outdir: str
    epochs: int = 15
    batch_size: int = 100
    learning_rate: float = 0.03
    warmup_steps: int = 1000
    weight_decay: float = 0.01
    gamma: float = 2.0
    site_weight: float = 5.0
    seed: int = 0
    threads: int = 0
    checkpoint_every: int = 50
    max_steps: int = 0  # stop (resumably) after this many steps in this invocation; 0 = no limit
    model_version: str = ""


def _save_checkpoint(path: Path, state: dict) -> None:
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(state, tmp)


def _plot_curves(history: dict, steps: list[dict], outdir: Path) -> None:
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
    axes[1].set(xlabel="optimizer step", ylabel="focal loss", title="loss", yscale="log")
    axes[1].legend()
    fig.tight_layout()
    with atomic_path(outdir / "training_curves.png", suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def _validate(net: SplamNet, data, opts: TrainOptions) -> dict:
    net.eval()
    predictor = Predictor(net, device="cpu")
    donor, acceptor = predictor.predict_all(data.codes, batch_size=64)
    losses = []
    with torch.inference_mode():
        for i in range(0, len(data), opts.batch_size):
            idx = np.arange(i, min(len(data), i + opts.batch_size))
            x, target = batch_tensors(data, idx)
            losses.append(float(focal_loss(net.logits(x), target, opts.gamma, opts.site_weight)) * len(idx))
    net.train()
    metrics = summarize(data.label, donor, acceptor)
    metrics["loss"] = sum(losses) / len(data)
    return metrics


def train(opts: TrainOptions) -> Path:
    """Train (or resume) into `opts.outdir`; returns the final model path once all epochs are done."""
    if opts.threads:
        torch.set_num_threads(opts.threads)
    data_dir, outdir = Path(opts.data), Path(opts.outdir)
    if not data_dir.is_dir():
        raise UserError("curated data folder does not exist", data_dir)
    if outdir.exists() and not outdir.is_dir():
        raise UserError("the output folder is a file", outdir)
    if not (data_dir / "train.npz").exists():
        raise UserError("no train.npz here: run `splam_score.py curate` first", data_dir)
    outdir.mkdir(parents=True, exist_ok=True)
    train_set = load_set(data_dir / "train.npz")
    val_set = load_set(data_dir / "validation.npz") if (data_dir / "validation.npz").exists() else None
    steps_per_epoch = int(np.ceil(len(train_set) / opts.batch_size))
    total_steps = steps_per_epoch * opts.epochs

    torch.manual_seed(opts.seed)
    net = SplamNet()
    optimizer = torch.optim.AdamW(net.parameters(), lr=opts.learning_rate, weight_decay=opts.weight_decay)
    step, history, step_log = 0, {"epochs": []}, []
    ckpt_path = outdir / CHECKPOINT
    if ckpt_path.exists():
        try:  # weights_only: a checkpoint file is data; nothing in it may run code
            ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True)
            same = ckpt["options"]["data"] == opts.data and ckpt["total_steps"] == total_steps
        except Exception as exc:  # torch raises many types for damaged or foreign files
            first = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise UserError(f"cannot read checkpoint: {first}", ckpt_path) from None
        if not same:
            raise UserError("checkpoint is from a different data set or recipe; use a new output folder", ckpt_path)
        net.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        torch.set_rng_state(ckpt["torch_rng"])
        step, history, step_log = ckpt["step"], ckpt["history"], ckpt["step_log"]
        print(f"resuming from step {step}/{total_steps} ({ckpt_path})", flush=True)

    def checkpoint() -> None:
        _save_checkpoint(
            ckpt_path,
            {
                "model": net.state_dict(),
                "optimizer": optimizer.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "step": step,
                "total_steps": total_steps,
                "history": history,
                "step_log": step_log,
                "options": asdict(opts),
            },
        )

    net.train()
    started, steps_this_run = time.perf_counter(), 0
    while step < total_steps:
        epoch, in_epoch = divmod(step, steps_per_epoch)
        order = np.random.default_rng([opts.seed, epoch]).permutation(len(train_set))
        epoch_losses: list[float] = []
        for b in range(in_epoch, steps_per_epoch):
            idx = np.sort(order[b * opts.batch_size : (b + 1) * opts.batch_size])
            x, target = batch_tensors(train_set, idx)
            lr = learning_rate(step, total_steps, opts.learning_rate, opts.warmup_steps)
            for group in optimizer.param_groups:
                group["lr"] = lr
            loss = focal_loss(net.logits(x), target, opts.gamma, opts.site_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            steps_this_run += 1
            loss_value = loss.item()
            epoch_losses.append(loss_value)
            step_log.append({"step": step, "lr": lr, "loss": loss_value})
            if step % 10 == 0:
                rate = steps_this_run * opts.batch_size / (time.perf_counter() - started)
                print(f"epoch {epoch + 1}/{opts.epochs} step {step}/{total_steps} lr {lr:.5f} "
                      f"loss {loss_value:.5f} ({rate:.1f} samples/s)", flush=True)
            if step % opts.checkpoint_every == 0:
                checkpoint()
            if opts.max_steps and steps_this_run >= opts.max_steps:
                checkpoint()
                print(f"stopped after {steps_this_run} steps; run again to resume", flush=True)
                return ckpt_path
        epoch_record = {
            "epoch": epoch + 1,
            "step": step,
            # a resumed epoch only knows the losses since the resume
            "train_loss": float(np.mean(epoch_losses)) if epoch_losses else float("nan"),
        }
        if val_set is not None:
            v = _validate(net, val_set, opts)
            epoch_record.update(
                validation_loss=v["loss"],
                validation_junction_auprc=v["junction"]["auprc"],
                validation_junction_accuracy_0_5=v["junction"]["at"]["0.5"]["accuracy"],
            )
        history["epochs"].append(epoch_record)
        print("epoch summary: " + json.dumps(epoch_record), flush=True)
        checkpoint()
        _plot_curves(history, step_log, outdir)
        with atomic_path(outdir / f"epoch{epoch + 1:02d}.pt", suffix=".pt") as tmp:
            torch.save(net.state_dict(), tmp)

    manifest = json.loads((data_dir / "manifest.json").read_text()) if (data_dir / "manifest.json").exists() else {}
    meta = {
        "version": opts.model_version or f"splamflow-{__version__}",
        "trained_with": f"splamflow {__version__}, torch {torch.__version__}",
        "training_data": manifest,
        "recipe": {k: v for k, v in asdict(opts).items() if k not in ("data", "outdir", "threads", "max_steps")}
        | {"optimizer": "AdamW", "loss": "focal", "schedule": "linear warm-up then cosine to 0",
           "steps": total_steps, "steps_per_epoch": steps_per_epoch},
        "history": history["epochs"],
    }
    final = outdir / "model.safetensors"
    save_model(net, final, meta)
    _plot_curves(history, step_log, outdir)
    print(f"model written to {final}", flush=True)
    return final
