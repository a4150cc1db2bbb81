"""Training throughput of `splam_score.py train`: samples/s at 1 and 2 CPU threads, and on CUDA when
torch sees a GPU.

    .venv/bin/python bench/bench_train.py [--genome G.fa --annotation A.gtf] [--steps 6]
        [--batch-size 100] [--threads 1 2] [--json OUT.json]

A curated set is made with `curate` (default: GRCh37 chr20 and its canonical GENCODE introns from
../shared/data, the training positives of the shipped `human_v1` model) in a temporary folder. Each configuration
runs `train --max-steps 1` and `train --max-steps 1+STEPS` from random weights in fresh output
folders: STEPS x batch / (t(1+STEPS) - t(1)) is the rate of the optimizer steps alone (start-up,
data loading, the first step's warm-up and the checkpoint at the end cancel out). Fine-tuning
(--init-from) costs the same per step. The load average before and after each configuration is
reported: on a shared machine the rate follows the load. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import emit

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "grch37"


def splam(*args: str | Path) -> float:
    """Run `splam_score.py ARGS` (this checkout's package); its wall seconds."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "splamflow.cli", *map(str, args)], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"splam_score.py {' '.join(map(str, args[:2]))} failed: {done.stderr.strip()}")
    return time.perf_counter() - started


def rate(data: Path, scratch: Path, device: str, threads: int, steps: int, batch_size: int) -> dict:
    load = os.getloadavg()[0]
    common = ["--batch-size", batch_size, "--device", device, "--threads", threads, "--quiet",
              "--checkpoint-every", 10_000]
    one = splam("train", data, "-o", scratch / f"{device}{threads}_1", "--max-steps", 1, *common)
    more = splam("train", data, "-o", scratch / f"{device}{threads}_n", "--max-steps", 1 + steps, *common)
    return {"device": device, "threads": threads, "steps_timed": steps, "batch_size": batch_size,
            "seconds_1_step": round(one, 2), f"seconds_{1 + steps}_steps": round(more, 2),
            "samples_per_s": round(steps * batch_size / (more - one), 2),
            "load_average_before_after": [round(load, 1), round(os.getloadavg()[0], 1)]}


def cuda_available() -> bool:
    done = subprocess.run([sys.executable, "-c", "import torch; print(torch.cuda.is_available())"],
                          capture_output=True, text=True)
    return done.stdout.strip() == "True"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--genome", type=Path, default=SHARED / "chr20.fa.gz")
    parser.add_argument("--annotation", type=Path, default=SHARED / "gencode_v24lift37_canonical.gtf.gz")
    parser.add_argument("--steps", type=int, default=6, help="optimizer steps timed per configuration")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--json")
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        data = scratch / "curated"
        splam("curate", "--genome", args.genome, "--annotation", args.annotation, "--validation-fraction", 0,
              "--seed", 0, "-o", data, "--quiet")
        n_train = json.loads((data / "manifest.json").read_text())["sets"]["train"]["n"]
        if (1 + args.steps) * args.batch_size >= n_train:
            raise SystemExit(f"{n_train} training junctions: too few for {1 + args.steps} steps of "
                             f"{args.batch_size} within one epoch (an epoch's end would be timed too)")
        configs = [("cpu", t) for t in args.threads] + ([("cuda", 1)] if cuda_available() else [])
        runs = [rate(data, scratch, device, threads, args.steps, args.batch_size) for device, threads in configs]
    emit({"curated": {"genome": args.genome.name, "annotation": args.annotation.name, "train_junctions": n_train},
          "cpus": os.cpu_count(), "runs": runs}, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
