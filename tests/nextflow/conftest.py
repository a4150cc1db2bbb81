"""Java and Maven for tests/nextflow/nextflow: installed from Debian's packages when missing (CI runs
as root on Debian), otherwise the tests stop with what to install."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

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
