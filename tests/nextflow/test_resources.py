"""The resources of extract and clean grow with the input BAM: real Nextflow resolves the modules'
directives with conf/base.config for inputs of several sizes (sparse files: a stub run reads nothing)."""

from __future__ import annotations

import csv

import pytest

from tests.nextflow.nfrun import ROOT, nextflow

pytestmark = pytest.mark.nextflow

HERE = ROOT / "tests" / "nextflow"
# name -> (apparent size, CPUs, memory, time): 2 CPUs up to 2 GB, 4 up to 20 GB, 8 beyond
SIZES = {
    "small": (1_000_000, 2, "6 GB", "3h"),
    "mid": (5_000_000_000, 4, "8 GB", "3h"),
    "large": (25_000_000_000, 8, "12 GB", "5h"),
    "huge": (100_000_000_000, 8, "12 GB", "12h"),
}


def test_resources_follow_the_bam_size(tmp_path):
    bams = []
    for name, (size, *_) in SIZES.items():
        bam = tmp_path / f"{name}.bam"
        with bam.open("wb") as handle:
            handle.truncate(size)
        bams.append(str(bam))
    run = nextflow(["run", str(HERE / "resources.nf"), "-c", str(HERE / "resources.config"), "-stub-run",
                    "--bams", ",".join(bams)], tmp_path / "launch", extra_env={"NXF_SYNTAX_PARSER": "v2"})
    assert run.returncode == 0, run.explain()
    with (tmp_path / "launch" / "trace.txt").open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    got = {(row["name"].split(" ")[0], row["name"].split("(")[1].rstrip(")")):
           (int(row["cpus"]), row["memory"], row["time"]) for row in rows}
    want = {(process, name): (cpus, memory, time) for name, (_, cpus, memory, time) in SIZES.items()
            for process in ("SPLAMFLOW_EXTRACT", "SPLAMFLOW_CLEAN")}
    assert got == want, run.explain()
    assert all(row["attempt"] == "1" for row in rows)
