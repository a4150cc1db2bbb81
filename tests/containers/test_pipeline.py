"""`nextflow run . -profile test,podman` runs every task in the CPU image and gives the same merged
scores, cleaned BAM and cleaned annotation as the same run on the local executor (the host's
.venv). Nextflow is tests/nextflow/nextflow (Maven Central jars). Runs under `make container-test`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_images import TAGS, alignments

ROOT = Path(__file__).resolve().parents[2]
NEXTFLOW = ROOT / "tests" / "nextflow" / "nextflow"
OUTPUTS = (
    "chr20_rnaseq/chr20_rnaseq.junctions.bed",
    "chr20_rnaseq/chr20_rnaseq.scores.bed",
    "chr20_slice/chr20_slice.scores.bed",
    "chr20_slice/chr20_slice.cleaned.gtf",
)
BAMS = ("chr20_rnaseq/chr20_rnaseq.cleaned.bam", "chr20_rnaseq/chr20_rnaseq.discarded.bam")

pytestmark = pytest.mark.skipif(
    os.environ.get("SPLAMFLOW_CONTAINER_TESTS") != "1",
    reason="image tests run with `make container-test` (after `make containers`)",
)


def nextflow_run(where: Path, *profiles: str) -> subprocess.CompletedProcess:
    """The test profile with these profiles, in its own launch folder, work dir and outdir; the discarded
    BAM published; no MultiQC (its image is MultiQC's own, from a registry this machine may not reach)."""
    where.mkdir()
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(
        [NEXTFLOW, "run", ROOT, "-profile", ",".join(("test", *profiles)), "--outdir", where / "results",
         "-work-dir", where / "work", "--save_discarded", "--skip_multiqc"],
        cwd=where, env=env, capture_output=True, text=True,
    )


def test_podman_profile_matches_the_local_executor(tmp_path):
    assert shutil.which("podman"), "podman not found"
    local = nextflow_run(tmp_path / "local")
    assert local.returncode == 0, f"local executor run failed:\n{local.stdout[-3000:]}\n{local.stderr[-3000:]}"
    podman = nextflow_run(tmp_path / "podman", "podman")
    assert podman.returncode == 0, f"podman run failed:\n{podman.stdout[-3000:]}\n{podman.stderr[-3000:]}"

    wrappers = sorted((tmp_path / "podman" / "work").glob("*/*/.command.run"))
    assert len(wrappers) >= 5, "fewer tasks than the pipeline's five processes"
    for wrapper in wrappers:
        text = wrapper.read_text()
        assert "podman run" in text and f" {TAGS['cpu']} " in text, f"{wrapper.parent.name}: not in the CPU image"
        assert (wrapper.parent / ".exitcode").read_text().strip() == "0", f"task {wrapper.parent} failed"

    results = {name: tmp_path / name / "results" for name in ("local", "podman")}
    for rel in OUTPUTS:
        assert (results["podman"] / rel).read_bytes() == (results["local"] / rel).read_bytes(), rel
    for rel in BAMS:
        assert alignments(results["podman"] / rel) == alignments(results["local"] / rel), rel
