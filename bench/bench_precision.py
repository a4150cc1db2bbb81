"""fp32 vs bf16 (and fp16 on a GPU) scoring: speed, and how often the call at a threshold agrees.

    .venv/bin/python bench/bench_precision.py JUNCTIONS.bed --genome GENOME.fa [--model M] [--device cpu]

Runs `splam_score.py score` once per precision on the same junctions and model, as child
processes, and prints wall time, junctions/s, the largest score difference from fp32, and the share
of junctions whose call (spurious when donor < t or acceptor < t, Splam's clean rule) agrees with
fp32 at t = 0.1 and 0.5. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCORER = ROOT / ".venv" / "bin" / "splam_score.py"


def score(bed: str, genome: str, model: str | None, precision: str, device: str, out: Path) -> float:
    cmd = [str(SCORER), "score", bed, "--genome", genome, "-o", str(out), "--precision", precision,
           "--device", device, "--quiet"]
    if model:
        cmd += ["--model", model]
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - start


def read(path: Path) -> np.ndarray:
    rows = [line.split("\t")[6:8] for line in path.read_text().splitlines()]
    return np.array(rows, dtype=np.float64)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("junctions")
    parser.add_argument("--genome", required=True)
    parser.add_argument("--model")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precisions", default="fp32,bf16", help="comma-separated; fp32 is the reference")
    args = parser.parse_args()
    precisions = ["fp32"] + [p for p in args.precisions.split(",") if p != "fp32"]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        scores = {}
        for precision in precisions:
            out = Path(tmp) / f"{precision}.bed"
            wall = score(args.junctions, args.genome, args.model, precision, args.device, out)
            scores[precision] = read(out)
            results[precision] = {"wall_s": round(wall, 2), "junctions": len(scores[precision]),
                                  "junctions_per_s": round(len(scores[precision]) / wall, 1)}
        ref = scores["fp32"]
        for precision in precisions[1:]:
            s = scores[precision]
            results[precision]["max_abs_diff"] = float(np.abs(s - ref).max())
            for t in (0.1, 0.5):
                agree = ((ref < t).any(axis=1) == (s < t).any(axis=1)).mean()
                results[precision][f"call_agreement_at_{t}"] = round(float(agree), 6)
            results[precision]["speedup_vs_fp32"] = round(results["fp32"]["wall_s"] / results[precision]["wall_s"], 2)
    json.dump(results, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
