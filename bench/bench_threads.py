"""Threads and shards: one `score` process at 1 and at N threads, and the same BED split into
shards scored by parallel processes (one thread each), concatenated.

    .venv/bin/python bench/bench_threads.py JUNCTIONS.bed --genome GENOME.fa [--model M]
        [--threads 2] [--shards 2] [--json OUT.json]

Prints wall time and junctions/s for each run, the speed-ups, and whether the concatenated shard
outputs are byte-identical to the single run's output (they must be: every forward pass has the
same batch shape, so a junction's score does not depend on its neighbours). A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import emit

ROOT = Path(__file__).resolve().parents[1]
SCORER = ROOT / ".venv" / "bin" / "splam_score.py"


def score_cmd(bed: Path, genome: str, model: str | None, out: Path, threads: int) -> list[str]:
    cmd = [str(SCORER), "score", str(bed), "--genome", genome, "-o", str(out), "--device", "cpu",
           "--threads", str(threads), "--quiet"]
    return cmd + (["--model", model] if model else [])


def timed(cmds: list[list[str]]) -> float:
    """Run the commands in parallel; wall seconds until the last one ends."""
    started = time.perf_counter()
    procs = [subprocess.Popen(cmd) for cmd in cmds]
    if any(p.wait() for p in procs):
        raise SystemExit("a score run failed")
    return time.perf_counter() - started


def split(bed: Path, shards: int, folder: Path) -> list[Path]:
    """Contiguous row ranges (as a Nextflow scatter makes them), in order."""
    lines = bed.read_text().splitlines(keepends=True)
    size = -(-len(lines) // shards)
    paths = []
    for i in range(shards):
        p = folder / f"shard{i}.bed"
        p.write_text("".join(lines[i * size : (i + 1) * size]))
        paths.append(p)
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("junctions", type=Path)
    parser.add_argument("--genome", required=True)
    parser.add_argument("--model")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args()
    rows = sum(1 for _ in args.junctions.open())
    with tempfile.TemporaryDirectory(prefix="splamflow-threads-") as tmp:
        folder = Path(tmp)
        one, many = folder / "t1.bed", folder / f"t{args.threads}.bed"
        walls = {"1_thread": timed([score_cmd(args.junctions, args.genome, args.model, one, 1)]),
                 f"{args.threads}_threads": timed([score_cmd(args.junctions, args.genome, args.model, many,
                                                              args.threads)])}
        parts = split(args.junctions, args.shards, folder)
        outs = [p.with_suffix(".scores.bed") for p in parts]
        walls[f"{args.shards}_shards_x_1_thread"] = timed(
            [score_cmd(p, args.genome, args.model, o, 1) for p, o in zip(parts, outs)])
        shard_bytes = b"".join(o.read_bytes() for o in outs)
        results = {
            "rows": rows,
            "runs": {k: {"wall_s": round(v, 2), "junctions_per_s": round(rows / v, 1)} for k, v in walls.items()},
            "speedup_threads": round(walls["1_thread"] / walls[f"{args.threads}_threads"], 2),
            "speedup_shards": round(walls["1_thread"] / walls[f"{args.shards}_shards_x_1_thread"], 2),
            "threads_same_bytes": one.read_bytes() == many.read_bytes(),
            "shards_same_bytes": shard_bytes == one.read_bytes(),
        }
    emit(results, args.json)
    return 0 if results["shards_same_bytes"] else 1


if __name__ == "__main__":
    sys.exit(main())
