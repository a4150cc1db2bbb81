"""Benchmark `splam_score.py extract` against Splam 1.0.12 `splam extract` on the same BAM.

Generates (once, cached in the folder bench/work) a coordinate-sorted, indexed BAM of simulated RNA-seq
records: single-end 100 bp reads on three contigs, about a third spliced (one or two N operations)
with XS tags, some multi-mapped (NH > 1), some secondary/duplicate. Then times each tool on it,
reporting wall time, records/s, the ratio to Splam and peak RSS (largest process of each run's
process tree, from GNU time), and checks that both tools report the same junctions.

Splam is taken from bench/.venv-splam (made by bench/setup_splam.sh); without it only splamflow is
timed. Run with `nice`, e.g. `nice .venv/bin/python bench/bench_extract.py --records 3000000`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pysam

ROOT = Path(__file__).resolve().parent.parent
SPLAM = ROOT / "bench" / ".venv-splam" / "bin" / "splam"
SPLAMFLOW = [sys.executable, "-m", "splamflow.cli"]
GNU_TIME = "/usr/bin/time"
CONTIGS = [("chrA", 60_000_000), ("chrB", 40_000_000), ("chrC", 20_000_000)]
READ_LEN = 100


def make_bam(path: Path, n_records: int, n_junction_sites: int = 20_000, seed: int = 1) -> None:
    """Write a sorted, indexed BAM of `n_records` simulated records.

    Spliced reads cross one of `n_junction_sites` fixed junctions (a second intron for 10% of
    them), so the number of distinct junctions saturates as records grow, as in real data.
    """
    rng = np.random.default_rng(seed)
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": n, "LN": ln} for n, ln in CONTIGS]}
    total_len = sum(ln for _, ln in CONTIGS)
    # the pool of junction sites: contig, donor position, intron length (1% beyond Splam's limit), strand
    site_contig = rng.choice(len(CONTIGS), size=n_junction_sites, p=[ln / total_len for _, ln in CONTIGS])
    site_start = np.array([rng.integers(1000, CONTIGS[c][1] - 200_000) for c in site_contig])
    site_len = np.where(rng.random(n_junction_sites) < 0.01, rng.integers(100_000, 150_000, n_junction_sites),
                        rng.integers(60, 20_000, n_junction_sites))
    site_strand = rng.choice(["+", "-"], size=n_junction_sites)
    quals = pysam.qualitystring_to_array("I" * READ_LEN)
    seq = "ACGT" * (READ_LEN // 4)
    weights = [ln / total_len for _, ln in CONTIGS]
    per_contig = np.bincount(rng.choice(len(CONTIGS), size=n_records, p=weights), minlength=len(CONTIGS))
    tmp = path.with_suffix(".unsorted.bam")
    with pysam.AlignmentFile(str(tmp), "wb", header=header, threads=2) as out:
        for tid, (_, length) in enumerate(CONTIGS):
            n = int(per_contig[tid])
            sites = np.flatnonzero(site_contig == tid)
            spliced = rng.random(n) < 0.35
            starts = rng.integers(0, length - 200_000, n)
            pick = rng.choice(sites, size=n)
            anchors = rng.integers(8, READ_LEN - 8, n)
            two = rng.random(n) < 0.1
            nh = np.where(rng.random(n) < 0.1, rng.integers(2, 5, n), 1)
            flags = np.where(rng.random(n) < 0.5, 16, 0)
            extra = rng.random(n)
            flags |= np.where(extra < 0.03, 256, 0) | np.where((extra >= 0.03) & (extra < 0.06), 1024, 0)
            for i in range(n):
                seg = pysam.AlignedSegment(out.header)
                seg.query_name = f"r{tid}_{i}"
                seg.reference_id = tid
                seg.flag = int(flags[i])
                seg.mapping_quality = 60 if nh[i] == 1 else 1
                seg.query_sequence = seq
                seg.query_qualities = quals
                if spliced[i]:
                    s = pick[i]
                    a = int(anchors[i])
                    seg.reference_start = int(site_start[s]) - a
                    if two[i] and READ_LEN - a > 30:  # a second, fixed intron 20 bases after the first
                        seg.cigarstring = f"{a}M{site_len[s]}N20M{site_len[s] // 3 + 50}N{READ_LEN - a - 20}M"
                    else:
                        seg.cigarstring = f"{a}M{site_len[s]}N{READ_LEN - a}M"
                    seg.set_tag("XS", str(site_strand[s]), "A")
                else:
                    seg.reference_start = int(starts[i])
                    seg.cigarstring = f"{READ_LEN}M"
                seg.set_tag("NH", int(nh[i]))
                out.write(seg)
    pysam.sort("-@", "2", "-o", str(path), str(tmp))
    tmp.unlink()
    pysam.index(str(path))


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, float]:
    """Run `cmd`; return (wall seconds, CPU seconds (user + system, all processes), peak RSS in MiB
    of its largest process).

    GNU time measures the RSS: a child forked straight from this (large) Python process would
    report this process's RSS from before its exec.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        start = time.perf_counter()
        proc = subprocess.run(
            [GNU_TIME, "-f", "%M %U %S", "-o", rss.name, *cmd], cwd=cwd,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False,
        )
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
        peak_kib, user, system = rss.read().split()[-3:]
    return wall, float(user) + float(system), int(peak_kib) / 1024


def bed_rows(path: Path) -> set[tuple[str, ...]]:
    """(contig, start, end, count, strand) of a junction BED, names ignored."""
    with open(path) as handle:
        return {tuple(f[:3] + f[4:6]) for f in (line.rstrip("\n").split("\t") for line in handle)}


def bench_one(bam: Path, n: int, repeats: int, workdir: Path) -> None:
    """Time every tool on one BAM (runs interleaved, best of `repeats`) and compare their outputs."""
    runs: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(dir=workdir) as tmp_name:
        tmp = Path(tmp_name)
        if SPLAM.exists():
            splam = [str(SPLAM), "extract"]
            runs["splam 1.0.12 extract"] = [*splam, "-o", str(tmp / "splam"), str(bam)]
            runs["splam 1.0.12 extract -n"] = [*splam, "-n", "-o", str(tmp / "splam_n"), str(bam)]
        for threads in (1, 2):
            runs[f"splamflow --threads {threads}"] = [
                *SPLAMFLOW, "extract", str(bam), "-o", str(tmp / f"splamflow_t{threads}.bed"),
                "--threads", str(threads),
            ]
        best: dict[str, tuple[float, float, float]] = {}
        load = os.getloadavg()[0]
        for _ in range(repeats):
            for name, cmd in runs.items():
                result = timed(cmd, ROOT)
                if name not in best or result[0] < best[name][0]:
                    best[name] = result
        print(f"{n:,} records ({bam.name}), best of {repeats}; load average at start {load:.1f}")
        for name, (wall, cpu, rss) in best.items():
            print(f"  {name:26s} wall {wall:7.2f} s {n / wall:11,.0f} records/s   CPU {cpu:7.2f} s "
                  f"{n / cpu:11,.0f} records/CPU-s   peak RSS {rss:7.1f} MiB")

        ours = bed_rows(tmp / "splamflow_t2.bed")
        if ours != bed_rows(tmp / "splamflow_t1.bed"):
            raise SystemExit("splamflow --threads 1 and --threads 2 disagree")
        if SPLAM.exists():
            theirs = bed_rows(tmp / "splam" / "junction.bed")
            same = "identical" if ours == theirs else f"DIFFERENT ({len(ours ^ theirs)} rows differ)"
            print(f"  junctions (contig, start, end, count, strand): splamflow {len(ours):,}, "
                  f"splam {len(theirs):,}: {same}")
            for name in (k for k in best if k.startswith("splamflow")):
                print(f"  {name}: {best['splam 1.0.12 extract'][0] / best[name][0]:.2f}x splam extract, "
                      f"{best['splam 1.0.12 extract -n'][0] / best[name][0]:.2f}x splam extract -n "
                      "(records/s ratio)")
        else:
            print(f"  Splam not found at {SPLAM} (run bench/setup_splam.sh): timed splamflow only")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--records", type=int, nargs="+", default=[3_000_000],
        help="records in the simulated BAM; several sizes show how memory grows (default 3000000)",
    )
    parser.add_argument(
        "--junctions", type=int, default=20_000, help="junction sites the reads are drawn from"
    )
    parser.add_argument(
        "--workdir", type=Path, default=ROOT / "bench" / "work", help="where the BAMs are cached"
    )
    parser.add_argument("--repeats", type=int, default=1, help="runs per tool (best wall time is kept)")
    args = parser.parse_args()

    args.workdir.mkdir(parents=True, exist_ok=True)
    for n in args.records:
        bam = args.workdir / f"sim_{n}_{args.junctions}.bam"
        if not bam.exists():
            t = time.perf_counter()
            make_bam(bam, n, args.junctions)
            print(f"simulated {n:,} records -> {bam} in {time.perf_counter() - t:.0f} s", flush=True)
        bench_one(bam, n, args.repeats, args.workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
