#!/usr/bin/env python3
"""Galaxy tool tests with Galaxy's container execution through podman: the route a Galaxy admin
takes with `docker_enabled` and `docker_cmd: podman` in a job destination.

Runs scripts/galaxy/run_tool_tests.py (the real, throw-away Galaxy server of the Galaxy tests) with
its job configuration replaced by one destination that requires a container and runs it with
podman in the CPU image (ghcr.io/splamflow/splamflow, built by `make containers`), not in the
project's .venv. The tools name no container (BioContainers' image of the requirement serves on a
Tool Shed install); the destination names this one, as an administrator does for a local image.
Job folders are kept, and every job's script must have run `podman run` on that image. Run with the
Python of .venv-galaxy (installed by scripts/checks/galaxy_tests.sh); arguments go to
run_tool_tests.py. The default, what `make container-test` and CI run, is two of splamflow_score's
tests: 0 (the genome from the history, scores and stats) and 1 (the genome from Galaxy's reference
data, bf16), which between them mount every kind of input the tools take; `--tool splamflow_score`
alone runs all of its tests.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# splamflow (a light package module: its version) and the Galaxy test runner, for Galaxy's Python
sys.path[:0] = [str(REPO), str(REPO / "scripts" / "galaxy")]

import splamflow  # noqa: E402

IMAGE = f"ghcr.io/splamflow/splamflow:{splamflow.__version__}"
DEFAULT_ARGS = ["--tool", "splamflow_score", "--test-index", "0", "--test-index", "1"]
PODMAN_DESTINATION = {
    "runner": "local",
    "docker_enabled": True,
    "docker_cmd": "podman",
    "docker_sudo": False,
    "require_container": True,
    "docker_container_id_override": IMAGE,
}


def route_to_podman(path: Path, tools: tuple[str, ...]) -> Path:
    """run_tool_tests' galaxy.yml with our tools sent to the podman destination (Galaxy's own upload
    jobs stay on the default one: they need Galaxy's Python, not a container); job folders kept."""
    config = json.loads(path.read_text())
    config["galaxy"]["cleanup_job"] = "never"
    job_config = config["galaxy"]["job_config"]
    podman = dict(PODMAN_DESTINATION)
    if os.environ.get("CONTAINERS_CONF"):
        # Galaxy's job scripts do not inherit the server's environment: podman's settings (see
        # docs/containers.md) go in with the destination
        podman["env"] = [{"name": "CONTAINERS_CONF", "value": os.environ["CONTAINERS_CONF"]}]
    job_config["execution"]["environments"]["podman"] = podman
    job_config["tools"] = [{"id": tool, "environment": "podman"} for tool in tools]
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


def runs_in_image(script: str, image: str = IMAGE) -> bool:
    """Whether a job script runs `podman run` on exactly this image (not on a tag that merely starts
    with its name, such as the -cuda image)."""
    name = re.compile(rf"(?<![\w.:/@-]){re.escape(image)}(?![\w.:/@-])")
    return any("podman run" in line and name.search(line) for line in script.splitlines())


def jobs_not_in_the_image(run: Path) -> tuple[int, list[str]]:
    """How many jobs ran splam_score.py, and those whose job script did not run it with podman in IMAGE."""
    jobs = sorted(s.parent for s in (run / "jobs").rglob("tool_script.sh") if "splam_score.py" in s.read_text())
    outside = [
        str(job) for job in jobs
        if not any(runs_in_image(script.read_text()) for script in job.glob("*.sh"))
    ]
    return len(jobs), outside


def main() -> int:
    args = sys.argv[1:] or DEFAULT_ARGS
    if "--run-dir" not in args:
        args += ["--run-dir", str(REPO / "runs" / "galaxy-podman")]
    run = Path(args[args.index("--run-dir") + 1]).resolve()
    sys.argv = [sys.argv[0], *args]
    import run_tool_tests  # Galaxy's venv (psutil); imported here so the checks above import anywhere

    write_venv_config = run_tool_tests.write_config
    run_tool_tests.write_config = lambda run, venv: route_to_podman(write_venv_config(run, venv), run_tool_tests.TOOLS)
    status = run_tool_tests.main()
    count, outside = jobs_not_in_the_image(run)
    for script in outside:
        print(f"FAILED not run with podman in {IMAGE}: {script}")
    print(f"galaxy_podman: {count - len(outside)} of {count} jobs ran with podman in {IMAGE}")
    return status if count and not outside else 1


if __name__ == "__main__":
    sys.exit(main())
