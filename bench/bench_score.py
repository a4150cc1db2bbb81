#!/usr/bin/env python3
"""Benchmark `splam_score.py score` against the published Splam 1.0.12 `splam score`, side by side.

Both run as child processes of this script, one after the other, on the same junctions, the same
plain FASTA and the same model file; for each the wall time and peak RSS (ru_maxrss of the child and
its descendants, from wait4) are measured, and the scores of the junctions both scored are compared.

    bash bench/setup_splam.sh            # once: Splam 1.0.12 into bench/.venv-splam
    .venv/bin/python bench/bench_score.py [--real 3000] [--random 1000] [--json RESULT.json]

Junctions: real introns of contig 20 (GENCODE canonical + RefSeq, ../shared/data/grch37/) sampled
to --real, plus --random random GT-AG pairs (seeded). The FASTA is the real chr20, written out
uncompressed (Splam reads the FASTA as text and calls bedtools getfasta). Model: --model if given,
else the shipped splamflow default model written as a plain state_dict (both tools read that), else
a seeded random-initialised model of the published class.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pysam

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data" / "grch37"
SPLAM_VENV = REPO / "bench" / ".venv-splam"
OUR_SCORER = REPO / ".venv" / "bin" / "splam_score.py"
CONTIG = "20"

RANDOM_MODEL = """
import sys, numpy as np, torch
from splam.splam import SPLAM
torch.manual_seed(int(sys.argv[2]))
W = np.asarray([11] * 12 + [21] * 8)
AR = np.asarray([1] * 4 + [5] * 4 + [10] * 4 + [15] * 4 + [20] * 4)
model = SPLAM(64, W, AR)
with torch.no_grad():
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.weight.uniform_(0.5, 1.5)
            m.bias.normal_(0, 0.1)
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
torch.save(model.state_dict(), sys.argv[1])
"""


@dataclass
class Run:
    """One measured child process."""

    tool: str
    command: list[str]
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    returncode: int
    junctions_scored: int = 0

    @property
    def junctions_per_s(self) -> float:
        return self.junctions_scored / self.wall_s if self.wall_s else 0.0


def measure(tool: str, command: list[str], log: Path) -> Run:
    """Run `command`; wall time, CPU time (user + sys) and peak RSS of it and its waited-for descendants."""
    with open(log, "w") as handle:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return Run(tool, command, wall, cpu, usage.ru_maxrss / 1024, proc.returncode)


def real_introns() -> set[tuple[int, int, str]]:
    """GENCODE canonical introns and RefSeq introns on contig 20 (0-based half-open, strand)."""
    exons: dict[str, list[tuple[int, int, str]]] = {}
    with gzip.open(SHARED / "gencode_v24lift37_canonical.gtf.gz", "rt") as handle:
        for line in handle:
            f = line.split("\t")
            if len(f) > 8 and f[0] == CONTIG and f[2] == "exon":
                tid = f[8].split('transcript_id "')[1].split('"')[0]
                exons.setdefault(tid, []).append((int(f[3]) - 1, int(f[4]), f[6]))
    introns = set()
    for blocks in exons.values():
        blocks.sort()
        introns.update((a[1], b[0], a[2]) for a, b in zip(blocks, blocks[1:], strict=False))
    with gzip.open(SHARED / "refseq_hg19_merged_exon_gaps.introns.bed.gz", "rt") as handle:
        for line in handle:
            f = line.split()
            if f[0] == CONTIG and f[5] in "+-":
                introns.add((int(f[1]), int(f[2]), f[5]))
    return introns


def random_gt_ag(genome: str, n: int, rng: random.Random) -> set[tuple[int, int, str]]:
    """n random introns whose ends read GT..AG on their strand (CT..AC on the forward strand for -)."""
    out: set[tuple[int, int, str]] = set()
    while len(out) < n:
        strand = rng.choice("+-")
        first, last = ("GT", "AG") if strand == "+" else ("CT", "AC")
        s = rng.randint(100_000, len(genome) - 100_000)
        if genome[s : s + 2] != first:
            continue
        e = genome.find(last, s + rng.randint(60, 20_000))
        if e > 0 and e + 2 < len(genome) - 1000:
            out.add((s, e + 2, strand))
    return out


def write_inputs(work: Path, n_real: int, n_random: int, seed: int) -> tuple[Path, Path, int]:
    """Plain FASTA of contig 20 (+ .fai) and a BED6 of junctions; returns paths and row count."""
    with pysam.FastaFile(str(SHARED / "chr20.fa.gz")) as fasta:
        genome = fasta.fetch(CONTIG)
    fa = work / "chr20.fa"
    with open(fa, "w") as handle:
        handle.write(f">{CONTIG}\n")
        for i in range(0, len(genome), 60):
            handle.write(genome[i : i + 60] + "\n")
    pysam.faidx(str(fa))
    rng = random.Random(seed)
    real = sorted(real_introns())
    rows = set(rng.sample(real, min(n_real, len(real)))) | random_gt_ag(genome.upper(), n_random, rng)
    bed = work / "junctions.bed"
    with open(bed, "w") as handle:
        for i, (s, e, strand) in enumerate(sorted(rows)):
            handle.write(f"{CONTIG}\t{s}\t{e}\tJUNC{i:08d}\t1\t{strand}\n")
    return fa, bed, len(rows)


def prepare_model(work: Path, model: Path | None, seed: int) -> tuple[Path, str]:
    """A model file both tools read: the given one (safetensors re-saved as a state_dict, which Splam
    reads), else the shipped default as a state_dict, else a random model of the published class."""
    from splamflow.weights import default_model_path, load_model

    if model is not None and model.suffix != ".safetensors":
        return model, f"given: {model}"
    if model is not None or default_model_path().exists():
        import torch

        loaded = load_model(model)
        out = work / "model_state_dict.pt"
        torch.save(loaded.net.state_dict(), out)
        what = "given" if model is not None else "shipped splamflow default"
        return out, f"{what} model {loaded.describe()}, re-saved as a state_dict"
    out = work / "random_published_class.pt"
    subprocess.run([str(SPLAM_VENV / "bin" / "python"), "-c", RANDOM_MODEL, str(out), str(seed)], check=True)
    return out, f"random-initialised published SPLAM class (seed {seed}), state_dict"


def read_scores(path: Path) -> dict[tuple[str, int, int, str], tuple[float, float]]:
    """Scores BED (Splam's or ours) -> {(chrom, start, end, strand): (donor, acceptor)}."""
    out = {}
    with open(path) as handle:
        for line in handle:
            f = line.rstrip("\n").split("\t")
            if len(f) >= 8 and not line.startswith(("#", "track")):
                out[(f[0], int(f[1]), int(f[2]), f[5])] = (float(f[6]), float(f[7]))
    return out


def compare(ours: dict, theirs: dict, threshold: float) -> dict:
    common = sorted(set(ours) & set(theirs))
    if not common:
        return {"common": 0}
    donor = max(abs(ours[k][0] - theirs[k][0]) for k in common)
    acceptor = max(abs(ours[k][1] - theirs[k][1]) for k in common)
    same_call = sum((min(ours[k]) < threshold) == (min(theirs[k]) < threshold) for k in common)
    return {
        "common": len(common),
        "only_ours": len(set(ours) - set(theirs)),
        "only_splam": len(set(theirs) - set(ours)),
        "max_abs_diff_donor": donor,
        "max_abs_diff_acceptor": acceptor,
        f"same_call_at_{threshold}": same_call / len(common),
    }


def run_tool(tool: str, args: argparse.Namespace, work: Path, fasta: Path, bed: Path, model: Path,
             scores: dict[str, dict]) -> Run:
    """Run one tool once (tool = "splam" or "ours"), keep its scores, return the measurement."""
    if tool == "splam":
        out = work / "splam_out"
        command = [str(SPLAM_VENV / "bin" / "splam"), "score", "-G", str(fasta), "-m", str(model),
                   "-o", str(out), "-b", str(args.splam_batch_size), "-d", "cpu", str(bed)]
        run = measure("splam 1.0.12", command, work / "splam.log")
        result = out / "junction_score.bed"
    else:
        result = work / "ours.bed"
        command = [str(OUR_SCORER), "score", str(bed), "--genome", str(fasta), "--model", str(model),
                   "-o", str(result), "--device", "cpu", "--stats", str(work / "ours_stats.json")]
        if args.batch_size:
            command += ["--batch-size", str(args.batch_size)]
        run = measure("splamflow", command, work / "ours.log")
    if run.returncode == 0:
        scores[tool] = read_scores(result)
        run.junctions_scored = len(scores[tool])
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--real", type=int, default=3000, help="real introns to sample (default 3000)")
    parser.add_argument("--random", type=int, default=1000, help="random GT-AG pairs (default 1000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--model", type=Path, help="model: state_dict, TorchScript or .safetensors")
    parser.add_argument("--splam-batch-size", type=int, default=10, help="Splam's -b (its default: 10)")
    parser.add_argument("--batch-size", type=int, help="our --batch-size (default: ours)")
    parser.add_argument("--only", choices=["splam", "ours"], help="run one tool only")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds, alternating which tool goes first; medians are compared (default 1)")
    parser.add_argument("--workdir", type=Path, help="keep inputs and outputs here (default: a temp folder)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    tools = [t for t in ("splam", "ours") if args.only in (None, t)]

    with tempfile.TemporaryDirectory(prefix="bench_score.") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        fasta, bed, n_rows = write_inputs(work, args.real, args.random, args.seed)
        model, model_note = prepare_model(work, args.model, args.seed)
        print(f"{n_rows} junctions ({bed}), genome {fasta}, model: {model_note}", flush=True)
        runs: dict[str, list[Run]] = {t: [] for t in tools}
        scores: dict[str, dict] = {}
        print(f"{'tool':<14}{'rc':>4}{'scored':>9}{'wall s':>10}{'CPU s':>10}{'junc/s':>9}{'peak RSS MB':>13}")
        for round_ in range(args.repeat):
            for tool in tools if round_ % 2 == 0 else tools[::-1]:
                r = run_tool(tool, args, work, fasta, bed, model, scores)
                runs[tool].append(r)
                print(f"{r.tool:<14}{r.returncode:>4}{r.junctions_scored:>9}{r.wall_s:>10.1f}{r.cpu_s:>10.1f}"
                      f"{r.junctions_per_s:>9.1f}{r.peak_rss_mb:>13.0f}", flush=True)
                if r.returncode:
                    print(f"  {r.tool} failed; see {work / ('splam.log' if tool == 'splam' else 'ours.log')}"
                          + ("" if args.workdir else " (use --workdir to keep it)"))
                    return 1
        result: dict = {"junctions": n_rows, "model": model_note, "runs": [
            asdict(r) | {"junctions_per_s": r.junctions_per_s} for t in tools for r in runs[t]]}
        if len(tools) == 2:
            med = {t: {k: statistics.median(getattr(r, k) for r in runs[t]) for k in ("wall_s", "cpu_s")}
                   for t in tools}
            result["speedup_wall"] = med["splam"]["wall_s"] / med["ours"]["wall_s"]
            result["speedup_cpu"] = med["splam"]["cpu_s"] / med["ours"]["cpu_s"]
            result["rss_ratio"] = max(r.peak_rss_mb for r in runs["ours"]) / max(
                r.peak_rss_mb for r in runs["splam"])
            result["agreement"] = compare(scores["ours"], scores["splam"], 0.1)
            print(f"speed-up (Splam / ours, medians of {args.repeat}): wall {result['speedup_wall']:.2f}x, "
                  f"CPU time {result['speedup_cpu']:.2f}x; "
                  f"peak RSS ours / Splam: {result['rss_ratio']:.2f}")
            print("agreement:", json.dumps(result["agreement"]))
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n")
        return 0


if __name__ == "__main__":
    sys.exit(main())
