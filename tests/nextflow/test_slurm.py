"""The pipeline on a real SLURM: Debian's slurm-wlm and munge, started by
tests/nextflow/slurm/start_slurm.sh as a one-node cluster on this machine with two GPUs declared as
GRES (stand-in device files: scoring runs on CPU, tests/nextflow/slurm/slurm.config).

`-profile test,gpu -c slurm.config -c site.config` runs every task as a SLURM job, and slurmctld's own
records (`scontrol show job`, kept for an hour after a job ends) show that every SPLAMFLOW_SCORE job,
and no other job, asked for a GPU (and went to the `gpu` partition, the others to `cpu`, as the
SLURM example of docs/nextflow.md routes them), and that every job kept the site's process-wide clusterOptions;
the scoring jobs ran side by side, never more at once than the node's two GPUs; the published
outputs are the bytes of the local-executor run; `-resume` under SLURM submits nothing. A stub run
with site clusterOptions that already ask for a GPU (a closure giving a list) adds no second one;
one whose site options carry a --gres of their own (local scratch) gets the GPU added to it.
Skipped only where SLURM is missing and cannot be installed (not root, or no apt).
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from tests.nextflow.nfrun import ROOT, Run, pipeline, tasks_of, trace

pytestmark = pytest.mark.nextflow

SLURM = ROOT / "tests" / "nextflow" / "slurm"
SCORE = "SPLAMFLOW_SCORE"
GPUS = 2  # the GRES of start_slurm.sh's node
# files whose bytes depend on the run, not on the results: reports (MultiQC's too), and the scoring speed and
# model path of each chunk's stats
NOT_COMPARED = ("pipeline_info/", ".score_stats.json", "multiqc/")


@pytest.fixture(scope="module")
def slurm(tmp_path_factory) -> dict[str, str]:
    """The running cluster: the environment its commands need. The daemons stop at the end."""
    folder = tmp_path_factory.mktemp("slurm")
    started = subprocess.run([SLURM / "start_slurm.sh", folder], capture_output=True, text=True, timeout=900)
    if started.returncode == 3:
        pytest.skip(started.stderr.strip())
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield {"SLURM_CONF": str(folder / "slurm.conf")}
    finally:
        subprocess.run([SLURM / "stop_slurm.sh", folder], check=False, timeout=120)


@pytest.fixture(scope="module")
def slurm_runs(slurm, tmp_path_factory) -> tuple[Run, Run, Path]:
    """The SLURM run, its -resume, and their --outdir."""
    where = tmp_path_factory.mktemp("slurm_run")
    args = ("-profile", "test,gpu", "-c", str(SLURM / "slurm.config"), "-c", str(SLURM / "site.config"))
    first = pipeline(where, where / "results", "slurm", *args, env=slurm)
    assert first.returncode == 0, first.explain()
    again = pipeline(where, where / "results", "slurm_resume", *args, "-resume", env=slurm)
    assert again.returncode == 0, again.explain()
    return first, again, where / "results"


def jobs(run: Run, env: dict[str, str]) -> dict[str, dict[str, str]]:
    """slurmctld's record of each job of a run (by its trace's native ids): process -> fields."""
    records = {}
    for row in trace(run):
        shown = subprocess.run(
            ["scontrol", "--oneliner", "show", "job", row["native_id"]],
            env={**os.environ, **env}, capture_output=True, text=True, check=True,
        ).stdout
        fields = dict(item.split("=", 1) for item in shown.split() if "=" in item)
        assert fields["JobId"] == row["native_id"] and fields["JobState"] == "COMPLETED", shown
        records[row["name"]] = fields
    return records


def test_every_scoring_job_and_no_other_asks_slurm_for_a_gpu(slurm, slurm_runs):
    first, _, _ = slurm_runs
    records = jobs(first, slurm)
    scoring = {name: fields for name, fields in records.items() if name.split(" ")[0].split(":")[-1] == SCORE}
    assert len(scoring) == 3, sorted(records)  # 3 chunks of the union of the BAM's and the annotation's junctions
    assert len(records) == 10, sorted(records)
    for name, fields in records.items():
        wanted = "gres:gpu:1" if name in scoring else None
        assert fields.get("TresPerNode") == wanted, f"{name}: {fields}"
        # the docs' example: the scoring jobs in the GPU partition, every other job in the CPU one
        assert fields.get("Partition") == ("gpu" if name in scoring else "cpu"), f"{name}: {fields}"
        # the site's process-wide clusterOptions, on the scoring jobs too (the GPU selector adds to them)
        assert fields.get("Comment") == "site", f"{name}: {fields}"


def test_site_options_that_ask_for_a_gpu_get_no_second_request(slurm, tmp_path):
    args = ("-profile", "test,gpu", "-stub", "-c", str(SLURM / "slurm.config"), "-c", str(SLURM / "site_gpu.config"))
    run = pipeline(tmp_path, tmp_path / "results", "site_gpu", *args, env=slurm)
    assert run.returncode == 0, run.explain()
    records = jobs(run, slurm)
    assert any(name.split(" ")[0].split(":")[-1] == SCORE for name in records), sorted(records)
    for row in trace(run):
        header = [line for line in (Path(row["workdir"]) / ".command.run").read_text().splitlines()
                  if line.startswith("#SBATCH")]
        assert header.count("#SBATCH --gres=gpu:1") == 1 and not any("--gpus" in line for line in header), header
        # the site's closure, evaluated for the task
        (comment,) = [line.split("=", 1)[1] for line in header if line.startswith("#SBATCH --comment=")]
        assert re.fullmatch(r"site-\d+", comment) and records[row["name"]]["Comment"] == comment, header
        assert records[row["name"]]["TresPerNode"] == "gres:gpu:1", records[row["name"]]


def test_a_site_gres_keeps_its_resource_and_gets_the_gpu(slurm, tmp_path):
    """A site's --gres (local scratch) on every job: the scoring jobs get the GPU added to it."""
    site = SLURM / "site_scratch.config"
    args = ("-profile", "test,gpu", "-stub", "-c", str(SLURM / "slurm.config"), "-c", str(site))
    run = pipeline(tmp_path, tmp_path / "results", "site_scratch", *args, env=slurm)
    assert run.returncode == 0, run.explain()
    records = jobs(run, slurm)
    assert any(name.split(" ")[0].split(":")[-1] == SCORE for name in records), sorted(records)
    for name, fields in records.items():
        scoring = name.split(" ")[0].split(":")[-1] == SCORE
        wanted = {"gres:lscratch:10", "gres:gpu:1"} if scoring else {"gres:lscratch:10"}
        assert set(fields.get("TresPerNode", "").split(",")) == wanted, f"{name}: {fields}"
        assert fields.get("Comment") == "site", f"{name}: {fields}"


def test_scoring_jobs_share_the_gpus_without_taking_turns(slurm, slurm_runs):
    first, _, _ = slurm_runs
    spans = [
        (datetime.fromisoformat(fields["StartTime"]), datetime.fromisoformat(fields["EndTime"]))
        for name, fields in jobs(first, slurm).items() if name.split(" ")[0].split(":")[-1] == SCORE
    ]
    at_once = max(sum(start <= moment < end for start, end in spans) for moment, _ in spans)
    assert 2 <= at_once <= GPUS, spans


def published(outdir: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every published file but NOT_COMPARED."""
    files = {path.relative_to(outdir).as_posix(): path for path in outdir.rglob("*") if path.is_file()}
    return {rel: path.read_bytes() for rel, path in files.items() if not any(part in rel for part in NOT_COMPARED)}


def test_outputs_are_the_bytes_of_the_local_run(slurm_runs, test_run):
    _, _, slurm_out = slurm_runs
    _, local_out = test_run
    local, on_slurm = published(local_out), published(slurm_out)
    assert {"chr20_rnaseq/chr20_rnaseq.cleaned.bam", "chr20_slice/chr20_slice.scores.bed"} <= set(local)
    assert sorted(on_slurm) == sorted(local)
    different = [rel for rel in local if on_slurm[rel] != local[rel]]
    assert not different


def test_resume_under_slurm_submits_nothing(slurm_runs):
    first, again, _ = slurm_runs
    rows = trace(again)
    assert len(rows) == len(trace(first)) == 10
    assert {row["status"] for row in rows} == {"CACHED"}, [(row["name"], row["status"]) for row in rows]
    assert tasks_of(rows, SCORE) and "Submitted process" not in again.output
