"""containers/*.sh and scripts/containers/galaxy_podman.py on bad command lines and missing tools:
one-line errors, non-zero exits, nothing started. Runs the scripts themselves; no engine needed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTAINERS = ROOT / "containers"


def script(name: str, *argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(CONTAINERS / name), *argv], capture_output=True, text=True,
                          env=env or dict(os.environ))


@pytest.mark.parametrize(("name", "argv"), [
    ("build.sh", ["--engine"]),
    ("build.sh", ["--only", "cpu", "--base"]),
    ("wheelhouse.sh", ["--python"]),
    ("wheelhouse.sh", ["--torch-index", ""]),
    ("local-base.sh", ["--engine"]),
])
def test_an_option_without_its_value_is_a_one_line_error(name, argv):
    proc = script(name, *argv)
    assert proc.returncode == 2
    option = argv[-1] or argv[-2]
    assert proc.stderr.splitlines() == [f"{name}: {option} needs a value (--help for usage)"]


def test_build_without_docker_or_podman_says_so(tmp_path):
    """Only the tools build.sh needs before it looks for an engine are on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "sed"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    proc = script("build.sh", env={"PATH": str(bin_dir), "HOME": str(tmp_path)})
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "build.sh: neither docker nor podman found: install one "
        "(or run make containers, which installs podman from apt)"
    ]


def test_wheelhouse_stops_on_a_missing_pin_before_downloading(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    text = (CONTAINERS / "Dockerfile.cpu").read_text()
    dockerfile.write_text("\n".join(line for line in text.splitlines() if not line.startswith("ARG NUMPY_VERSION=")))
    dest = tmp_path / "wheels"
    proc = script("wheelhouse.sh", "--dockerfile", str(dockerfile), str(dest))
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [f"wheelhouse.sh: {dockerfile} has no ARG NUMPY_VERSION"]
    assert not dest.exists(), "a download started without every pin"


def test_galaxy_podman_matches_the_image_name_exactly():
    sys.path.insert(0, str(ROOT / "scripts" / "containers"))
    try:
        import galaxy_podman
    finally:
        sys.path.remove(str(ROOT / "scripts" / "containers"))
    image = galaxy_podman.IMAGE
    line = f'podman run -e "HOME=$HOME" -v "/jobs/5:/jobs/5:rw" --user 0:0 {image} /bin/sh /jobs/5/tool_script.sh'
    assert galaxy_podman.runs_in_image(line)
    assert galaxy_podman.runs_in_image(f"cd /jobs/5\n{line}\nexit $?")
    assert not galaxy_podman.runs_in_image(line.replace(image, f"{image}-cuda"))
    assert not galaxy_podman.runs_in_image(line.replace(image, f"{image}.1"))
    assert not galaxy_podman.runs_in_image(line.replace(image, f"docker.io/{image}"))
    assert not galaxy_podman.runs_in_image(line.replace("podman run", "docker run"))
