"""Run the real Nextflow (tests/nextflow/nextflow, jars from Maven Central) and read what it leaves.

The local executor runs splamflow from the project's .venv: its bin/ goes first on PATH, then that of
.venv-multiqc/ (MultiQC at the pipeline's pin, `multiqc_venv`: its dependencies conflict with the image
pins that .venv holds, so it has an environment of its own, as in its container). Each
call runs in its own launch folder (Nextflow keeps `-resume` state there) and returns the exit
status, the console output and the launch folder.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "tests" / "nextflow" / "nextflow"
VENV_BIN = ROOT / ".venv" / "bin"
MULTIQC_VENV = ROOT / ".venv-multiqc"
# MultiQC and every package it resolved to; the MULTIQC module's conda and container pins name this version
MULTIQC_CONSTRAINTS = ROOT / "scripts" / "checks" / "multiqc-constraints.txt"
# the Nextflow release the tests run; docs/nextflow.md names the versions tested
NXF_VER = "25.04.4"
TIMEOUT = 900


@dataclass
class Run:
    """One finished `nextflow` command."""

    args: list[str]
    returncode: int
    output: str
    launch_dir: Path
    log_text: str  # the run's .nextflow.log, read when it ended (a later run in the folder replaces it)

    def log(self) -> str:
        return self.log_text

    def explain(self) -> str:
        """What to print when an assertion about this run fails."""
        return f"nextflow {' '.join(self.args)} (in {self.launch_dir}) exited {self.returncode}:\n{self.output[-6000:]}"


def multiqc_pin() -> str:
    """The MultiQC version of MULTIQC_CONSTRAINTS."""
    return next(line.split("==")[1] for line in MULTIQC_CONSTRAINTS.read_text().splitlines()
                if line.lower().startswith("multiqc=="))


def multiqc_venv() -> Path:
    """.venv-multiqc/bin with MultiQC at its pin, installed on first use (as scripts/checks/clean_multiqc.sh does)."""
    bin_dir = MULTIQC_VENV / "bin"
    found = subprocess.run([str(bin_dir / "multiqc"), "--version"], capture_output=True, text=True,
                           check=False) if (bin_dir / "multiqc").is_file() else None
    if not (found and found.stdout.split()[-1:] == [multiqc_pin()]):
        if not (bin_dir / "python").is_file():
            subprocess.run(["python3", "-m", "venv", str(MULTIQC_VENV)], check=True)
        subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-c", str(MULTIQC_CONSTRAINTS), f"multiqc=={multiqc_pin()}"], check=True, timeout=TIMEOUT)
    return bin_dir


def environment(extra: dict[str, str] | None = None, path_first: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("NXF_SYNTAX_PARSER", None)
    bins = [str(VENV_BIN), str(MULTIQC_VENV / "bin")] + ([str(path_first)] if path_first else [])
    env["PATH"] = os.pathsep.join(bins + [env.get("PATH", "")])
    env["NXF_VER"] = NXF_VER
    env["NXF_ANSI_LOG"] = "false"
    env["NXF_DISABLE_CHECK_LATEST"] = "true"
    env.update(extra or {})
    return env


def nextflow(
    args: list[str],
    launch_dir: Path,
    extra_env: dict[str, str] | None = None,
    path_first: Path | None = None,
) -> Run:
    """Run `nextflow ARGS` in launch_dir (created if needed)."""
    launch_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [str(LAUNCHER), *args],
        cwd=launch_dir,
        env=environment(extra_env, path_first),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=TIMEOUT,
    )
    log = launch_dir / ".nextflow.log"
    return Run(args, proc.returncode, proc.stdout, launch_dir, log.read_text() if log.is_file() else "")


def pipeline(launch: Path, outdir: Path, suffix: str, *extra: str, env: dict | None = None, **kw) -> Run:
    """`nextflow run` of this repository, its reports named with `suffix`."""
    return nextflow(
        ["run", str(ROOT), "--outdir", str(outdir), "--trace_report_suffix", suffix, *extra],
        launch,
        extra_env=env,
        **kw,
    )


def trace(run: Run) -> list[dict[str, str]]:
    """Rows of the execution trace of a run, found through its log (where the run wrote it)."""
    found = re.search(r"Workflow started -- trace file: (\S+)", run.log())
    assert found, f"no trace file in {run.launch_dir / '.nextflow.log'}"
    with Path(found.group(1)).open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def tasks_of(rows: list[dict[str, str]], process: str) -> list[dict[str, str]]:
    """Trace rows of one process (by its simple name, e.g. SPLAMFLOW_SCORE)."""
    return [row for row in rows if row["name"].split(" ")[0].split(":")[-1] == process]
