"""A rerun of containers/wheelhouse.sh on the complete wheelhouse `make containers` made needs no
network: with the package index unreachable it resolves every pin from the folder and changes
nothing. Runs under `make container-test`, after an offline `make containers`.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    os.environ.get("SPLAMFLOW_CONTAINER_TESTS") != "1",
    reason="image tests run with `make container-test` (after `make containers`)",
)


def test_rerun_on_a_complete_wheelhouse_is_offline():
    cache = Path(os.environ.get("SPLAMFLOW_CONTAINER_CACHE", Path.home() / ".cache" / "splamflow-containers"))
    wheelhouses = sorted(cache.glob("wheelhouse-py*-glibc*"))
    if not wheelhouses:
        pytest.skip(f"no wheelhouse in {cache}: the images were built online")
    for wheelhouse in wheelhouses:
        python, glibc = re.fullmatch(r"wheelhouse-py([\d.]+)-glibc([\d.]+)", wheelhouse.name).groups()
        before = {path.name: path.stat().st_mtime_ns for path in wheelhouse.iterdir()}
        # port 9 (discard) on the loopback: any attempt to reach an index fails at once
        env = dict(os.environ, PIP_INDEX_URL="http://127.0.0.1:9/simple", PIP_RETRIES="0", PIP_TIMEOUT="2")
        proc = subprocess.run(
            ["bash", ROOT / "containers" / "wheelhouse.sh", "--python", python, "--glibc", glibc, wheelhouse],
            capture_output=True, text=True, env=env,
        )
        assert proc.returncode == 0, proc.stderr
        assert "complete (resolved offline; nothing downloaded)" in proc.stdout
        assert {path.name: path.stat().st_mtime_ns for path in wheelhouse.iterdir()} == before
