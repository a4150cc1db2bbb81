"""Records/s of `extract` and `clean` against samtools' rewrite of the same BAM, at 1 and 2 threads.

    nice .venv/bin/python bench/bench_bam.py [--copies 2000] [--threads 1,2] [--workdir DIR] [--json OUT.json]

The BAM is made from the real test data: the 5,238 records of tests/data/chr20_slice.bam copied
`--copies` times (2,000 copies: 10,476,000 records), copy k under read names `NAME.k` and shifted by
k x 2 Mb (100 copies per 200 Mb contig, so a .bai covers it), coordinate-sorted and indexed; the
scores BED is tests/data/golden/scores.bed (the CLI's scores of those junctions) shifted the same
way, so clean removes the same spurious alignments in every copy. Both live in a temporary folder
(under --workdir) that is deleted afterwards.

Runs, each as a child process, one after the other: `splam_score.py extract BAM -o J.bed --threads T`,
`splam_score.py clean BAM --scores S.bed -o C.bam --discarded D.bam --paired --threads T`, and
`samtools view -b -@ T-1 BAM -o R.bam` + `samtools index -@ T-1 R.bam` (samtools' `-@` counts the
threads *besides* the main one, so `-@ T-1` is T threads in all; without samtools on the PATH it is
skipped, and said so), each tool at every thread count back to back. Prints wall time, CPU time
(user + system of the run's processes), records per wall and per CPU second and the 1-minute load
average before and after each run, the speed-ups over the first thread count, each tool's ratio to
samtools at the same thread count, a calibration (the same pure-Python loop in 1 and in 2 processes,
before and after the runs: the 2-process speed-up this machine gives at that moment), and checks
that the outputs of every thread count are
byte-identical (junction BED, cleaned and discarded BAM and their indexes). A benchmark, not a test:
the figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pysam
from benchlib import emit

ROOT = Path(__file__).resolve().parents[1]
SLICE = ROOT / "tests" / "data" / "chr20_slice.bam"
SCORES = ROOT / "tests" / "data" / "golden" / "scores.bed"
SCORER = ROOT / ".venv" / "bin" / "splam_score.py"
SPAN = 2_000_000  # the slice's contig length: copy k starts at k x SPAN on its contig
PER_CONTIG = 100  # copies per contig: 200 Mb, below the .bai limit of 512 Mb


def make_inputs(folder: Path, copies: int) -> tuple[Path, Path, int]:
    """The big BAM (sorted, indexed) and its scores BED; returns (bam, scores, records)."""
    with pysam.AlignmentFile(str(SLICE)) as src:
        header = src.header.to_dict()
        slice_records = [r.to_dict() for r in src.fetch(until_eof=True)]
    n_contigs = -(-copies // PER_CONTIG)
    header["SQ"] = [{"SN": f"big{i + 1}", "LN": PER_CONTIG * SPAN} for i in range(n_contigs)]
    header.pop("PG", None)
    out_header = pysam.AlignmentHeader.from_dict(header)
    records = []
    for fields in slice_records:
        fields["ref_name"] = "big1"
        if fields["next_ref_name"] not in ("*", "="):
            fields["next_ref_name"] = "big1"
        records.append(pysam.AlignedSegment.from_dict(fields, out_header))
    bam = folder / "big.bam"
    original = [(r.query_name, r.reference_start, r.next_reference_id, r.next_reference_start) for r in records]
    n = 0
    with pysam.AlignmentFile(str(bam), "wb", header=out_header, threads=2) as out:
        for k in range(copies):
            tid, shift = divmod(k, PER_CONTIG)
            shift *= SPAN
            for read, (name, start, mate_tid, mate_start) in zip(records, original):
                read.query_name = f"{name}.{k}"
                read.reference_id = tid
                read.reference_start = start + shift
                if mate_tid >= 0:
                    read.next_reference_id = tid
                    read.next_reference_start = mate_start + shift
                out.write(read)
                n += 1
    pysam.index("-@", "2", str(bam))
    scores = folder / "scores.bed"
    rows = [line.split("\t") for line in SCORES.read_text().splitlines()]
    with scores.open("w") as out:
        for k in range(copies):
            tid, shift = divmod(k, PER_CONTIG)
            shift *= SPAN
            for row in rows:
                out.write("\t".join([f"big{tid + 1}", str(int(row[1]) + shift), str(int(row[2]) + shift),
                                     f"{row[3]}.{k}", *row[4:]]) + "\n")
    return bam, scores, n


def timed(cmds: list[list[str]], cwd: Path) -> tuple[float, float]:
    """Run the commands one after the other in `cwd`; (wall seconds, CPU seconds of the children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    for cmd in cmds:
        proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
        if proc.returncode:
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def calibration(work: int = 30_000_000) -> float:
    """How much faster the same pure-Python CPU work ends in 2 processes than in 1, here and now:
    the most any 2-process run can gain on this machine at this load (a shared machine may give
    this session's processes one share of the CPUs, however many there are)."""
    walls = []
    for procs in (1, 2):
        start = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(procs) as pool:
            pool.map(_burn, [work // procs] * procs)
        walls.append(time.perf_counter() - start)
    return round(walls[0] / walls[1], 2)


def commands(bam: Path, scores: Path, threads: int, samtools: str | None) -> dict[str, list[list[str]]]:
    """The runs at one thread count, writing into the current folder under the same names at every
    count (clean's @PG line holds the output names as given)."""
    t = str(threads)
    runs = {
        "extract": [[str(SCORER), "extract", str(bam), "-o", "j.bed", "--threads", t,
                     "--infer-strand", "none", "--quiet"]],
        "clean": [[str(SCORER), "clean", str(bam), "--scores", str(scores), "-o", "c.bam",
                   "--discarded",  "d.bam", "--paired", "--threads", t, "--quiet"]],
    }
    if samtools:
        extra = str(threads - 1)
        runs["samtools view -b + index"] = [
            [samtools, "view", "-b", "-@", extra, str(bam), "-o", "r.bam"],
            [samtools, "index", "-@", extra, "r.bam"],
        ]
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=2000, help="copies of the slice's 5,238 records")
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated (default 1,2)")
    parser.add_argument("--workdir", type=Path, default=None, help="where the temporary folder goes")
    parser.add_argument("--json")
    args = parser.parse_args()
    thread_counts = [int(t) for t in args.threads.split(",")]
    samtools = shutil.which("samtools")
    if not samtools:
        print("samtools not found on the PATH (e.g. `apt-get install samtools`): its rewrite is not timed",
              file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="splamflow-bench-bam-", dir=args.workdir) as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        bam, scores, n = make_inputs(folder, args.copies)
        print(f"made {n:,} records ({bam.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - start:.0f} s",
              file=sys.stderr, flush=True)
        calibrated = [calibration()]
        runs: dict[str, dict[str, dict]] = {}
        for threads in thread_counts:
            (folder / f"t{threads}").mkdir()
        # tool by tool, its thread counts back to back: the machine's load changes less between them
        for name in commands(bam, scores, 1, samtools):
            for threads in thread_counts:
                load = os.getloadavg()[0]
                wall, cpu = timed(commands(bam, scores, threads, samtools)[name], folder / f"t{threads}")
                runs.setdefault(name, {})[str(threads)] = {
                    "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "records_per_s": round(n / wall),
                    "records_per_cpu_s": round(n / cpu), "load_before": round(load, 1),
                    "load_after": round(os.getloadavg()[0], 1)}
                print(f"{name} --threads {threads}: {wall:.1f} s wall, {cpu:.1f} s CPU, {n / wall:,.0f} records/s "
                      f"(load average {load:.1f} before)", file=sys.stderr, flush=True)
        calibrated.append(calibration())
        first = str(thread_counts[0])
        same = {
            name: all((folder / f"t{t}" / name).read_bytes() == (folder / f"t{first}" / name).read_bytes()
                      for t in thread_counts)
            for name in ("j.bed", "c.bam", "c.bam.bai", "d.bam", "d.bam.bai")
        }
    results: dict = {"records": n, "samtools": samtools, "runs": runs, "same_bytes_across_threads": same,
                     "two_process_calibration_before_after": calibrated}
    for name, by_threads in runs.items():
        results.setdefault("speedup", {})[name] = {
            t: round(by_threads[first]["wall_s"] / v["wall_s"], 2) for t, v in by_threads.items() if t != first}
        if samtools and name != "samtools view -b + index":
            base = runs["samtools view -b + index"]
            results.setdefault("vs_samtools_wall", {})[name] = {
                t: round(v["wall_s"] / base[t]["wall_s"], 2) for t, v in by_threads.items()}
    emit(results, args.json)
    return 0 if all(same.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
