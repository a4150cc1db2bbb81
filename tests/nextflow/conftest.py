"""Java and Maven for tests/nextflow/nextflow: installed from Debian's packages when missing (CI runs
as root on Debian), otherwise the tests stop with what to install. And the `-profile test` run on
the local executor, made once per session: test_pipeline_runs.py checks it, test_slurm.py compares
the SLURM run with it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.nextflow.nfrun import Run, multiqc_venv, pipeline

PACKAGES = ["openjdk-17-jdk-headless", "maven"]


@pytest.fixture(scope="session", autouse=True)
def java_and_maven() -> None:
    if shutil.which("java") and shutil.which("mvn"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *PACKAGES], check=True, env=env, stdout=subprocess.DEVNULL)
    if not (shutil.which("java") and shutil.which("mvn")):
        pytest.fail(f"tests/nextflow needs java (17+) and mvn on PATH: install {' '.join(PACKAGES)}")


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("nextflow_runs")


@pytest.fixture(scope="session")
def test_run(runs) -> tuple[Run, Path]:
    """`-profile test` with the local executor (MultiQC from .venv-multiqc): the run and its --outdir."""
    multiqc_venv()
    outdir = runs / "results"
    run = pipeline(runs / "launch", outdir, "first", "-profile", "test")
    assert run.returncode == 0, run.explain()
    return run, outdir
