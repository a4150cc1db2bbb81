"""A cohort scored once against each sample scored alone: the pipeline run on N samples, then on
each sample by itself, with SPLAMFLOW_SCORE's task count and CPU seconds from Nextflow's trace.

    .venv/bin/python bench/bench_cohort.py [--samples 4] [--chunk-size 500000] [--workdir DIR] [--json OUT.json]

The samples come from tests/data/chr20_slice.bam: sample k keeps the records whose read name hashes
to anything but k modulo N, so the samples share most junctions but not all. Both modes run
`nextflow run . -profile test --input SHEET --gtf null --score_chunk_size N` (the local executor,
splamflow from .venv); CPU seconds are the trace's realtime x %cpu of each task. Also checks that
each sample's published scores and cleaned BAM are the same bytes in both modes. A benchmark, not
a test: the figures depend on the machine and its load; compare the ratios.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from pathlib import Path

import pysam
from benchlib import emit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.nextflow.nfrun import nextflow, tasks_of, trace  # noqa: E402

BAM = ROOT / "tests" / "data" / "chr20_slice.bam"
# the raw trace gives realtime in milliseconds and %cpu as a number
TRACE_CONFIG = "trace.raw = true\n"


def make_samples(folder: Path, n: int) -> list[Path]:
    """N BAMs of the slice, sample k without the reads whose name hashes to k modulo n."""
    paths = []
    for k in range(n):
        path = folder / f"s{k + 1}.bam"
        with pysam.AlignmentFile(str(BAM)) as src, pysam.AlignmentFile(str(path), "wb", template=src) as out:
            for read in src:
                if sum(read.query_name.encode()) % n != k:
                    out.write(read)
        pysam.index(str(path))
        paths.append(path)
    return paths


def run_pipeline(folder: Path, bams: list[Path], chunk_size: int) -> tuple[dict, Path]:
    """One pipeline run on these samples: totals over its SPLAMFLOW_SCORE tasks and over all tasks."""
    folder.mkdir()
    sheet = folder / "samplesheet.csv"
    with sheet.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sample", "bam", "bai"])
        for bam in bams:
            writer.writerow([bam.stem, bam, f"{bam}.bai"])
    (folder / "params.json").write_text(json.dumps({"gtf": None}))
    (folder / "bench.config").write_text(TRACE_CONFIG)
    outdir = folder / "results"
    run = nextflow(["run", str(ROOT), "-profile", "test", "--input", str(sheet), "--outdir", str(outdir),
                    "--score_chunk_size", str(chunk_size), "-params-file", str(folder / "params.json"),
                    "-c", str(folder / "bench.config")], folder / "launch")
    if run.returncode:
        raise SystemExit(run.explain())
    rows = trace(run)

    def totals(selected: list[dict[str, str]]) -> dict:
        cpu = sum(float(r["realtime"]) / 1000 * float(r["%cpu"]) / 100 for r in selected)
        return {"tasks": len(selected), "cpu_s": round(cpu, 1),
                "realtime_s": round(sum(float(r["realtime"]) for r in selected) / 1000, 1)}

    return {"score": totals(tasks_of(rows, "SPLAMFLOW_SCORE")), "all": totals(rows)}, outdir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--chunk-size", type=int, default=500_000, help="--score_chunk_size of both modes")
    parser.add_argument("--workdir", help="keep the runs here (default: a temporary folder)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cohort-") as scratch:
        work = Path(args.workdir) if args.workdir else Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        bams = make_samples(work, args.samples)
        cohort, cohort_out = run_pipeline(work / "cohort", bams, args.chunk_size)
        alone = {"score": {"tasks": 0, "cpu_s": 0.0, "realtime_s": 0.0}, "all": {"tasks": 0, "cpu_s": 0.0,
                                                                                 "realtime_s": 0.0}}
        same = True
        for bam in bams:
            figures, out = run_pipeline(work / f"alone_{bam.stem}", [bam], args.chunk_size)
            for scope in alone:
                for key, value in figures[scope].items():
                    alone[scope][key] = round(alone[scope][key] + value, 1)
            for name in (f"{bam.stem}.scores.bed", f"{bam.stem}.cleaned.bam"):
                same &= (out / bam.stem / name).read_bytes() == (cohort_out / bam.stem / name).read_bytes()
        results = {
            "samples": args.samples,
            "score_chunk_size": args.chunk_size,
            "cohort": cohort,
            "per_sample": alone,
            "ratio_per_sample_to_cohort": {
                scope: {key: round(alone[scope][key] / cohort[scope][key], 2) if cohort[scope][key] else None
                        for key in ("tasks", "cpu_s", "realtime_s")}
                for scope in ("score", "all")
            },
            "scores_and_cleaned_bams_identical": same,
        }
    emit(results, args.json)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
