"""Repeated junctions: N copies of one junction, scored by `score` (each distinct junction is
computed once in the whole input), against the same junction scored alone.

    .venv/bin/python bench/bench_repeats.py --genome GENOME.fa --junction CHROM:START-END:STRAND
        [--copies 200000] [--model M] [--json OUT.json]

Prints the wall time, rows/s, the `computed` count from --stats (1 when the merge works) and
whether every output row carries the single run's scores. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import emit

ROOT = Path(__file__).resolve().parents[1]
SCORER = ROOT / ".venv" / "bin" / "splam_score.py"


def score(bed: Path, genome: str, model: str | None, out: Path, stats: Path) -> float:
    cmd = [str(SCORER), "score", str(bed), "--genome", genome, "-o", str(out), "--stats", str(stats),
           "--device", "cpu", "--quiet"] + (["--model", model] if model else [])
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--genome", required=True)
    parser.add_argument("--junction", required=True, help="CHROM:START-END:STRAND (BED coordinates)")
    parser.add_argument("--copies", type=int, default=200_000)
    parser.add_argument("--model")
    parser.add_argument("--json")
    args = parser.parse_args()
    where, strand = args.junction.rsplit(":", 1)
    contig, span = where.rsplit(":", 1)
    start, end = span.split("-")
    with tempfile.TemporaryDirectory(prefix="splamflow-repeats-") as tmp:
        folder = Path(tmp)
        one, many = folder / "one.bed", folder / "many.bed"
        one.write_text(f"{contig}\t{start}\t{end}\tJ\t1\t{strand}\n")
        many.write_text(one.read_text() * args.copies)
        single = score(one, args.genome, args.model, folder / "one.scores.bed", folder / "one.json")
        wall = score(many, args.genome, args.model, folder / "many.scores.bed", folder / "many.json")
        stats = json.loads((folder / "many.json").read_text())
        expected = (folder / "one.scores.bed").read_bytes()
        results = {
            "copies": args.copies,
            "single_wall_s": round(single, 2),
            "copies_wall_s": round(wall, 2),
            "rows_per_s": round(args.copies / wall, 1),
            "computed": stats["computed"],
            "same_bytes_as_single": (folder / "many.scores.bed").read_bytes() == expected * args.copies,
        }
    emit(results, args.json)
    return 0 if results["same_bytes_as_single"] else 1


if __name__ == "__main__":
    sys.exit(main())
