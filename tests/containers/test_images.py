"""The built images (`make containers`) run the CLI as the host does: version and help, the shipped
model, and the test slice extracted, scored and cleaned as a non-root uid with the data mounted
read-only, no network and a read-only image, giving the host's bytes.

Runs under `make container-test` (SPLAMFLOW_CONTAINER_TESTS=1; a missing image then fails); skipped
otherwise. The engine is $SPLAMFLOW_CONTAINER_ENGINE, else podman when installed, else docker; podman
reads $CONTAINERS_CONF (the Makefile sets it where containers/build.sh wrote one).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pysam
import pytest

import splamflow

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
IMAGE = "ghcr.io/splamflow/splamflow"
TAGS = {"cpu": f"{IMAGE}:{splamflow.__version__}", "cuda": f"{IMAGE}:{splamflow.__version__}-cuda"}
UID = "1234:1234"

pytestmark = pytest.mark.skipif(
    os.environ.get("SPLAMFLOW_CONTAINER_TESTS") != "1",
    reason="image tests run with `make container-test` (after `make containers`)",
)


@pytest.fixture(scope="module")
def engine() -> str:
    name = os.environ.get("SPLAMFLOW_CONTAINER_ENGINE") or ("podman" if shutil.which("podman") else "docker")
    assert shutil.which(name), f"container engine {name} not found"
    return name


@pytest.fixture(scope="module", params=sorted(TAGS))
def image(request, engine) -> str:
    tag = TAGS[request.param]
    found = subprocess.run([engine, "image", "inspect", tag], capture_output=True)
    assert found.returncode == 0, f"{tag} is not built: run `make containers`"
    return tag


def run_in(engine: str, image: str, *argv: str, mounts: tuple[str, ...] = (), user: str | None = None) -> str:
    """Run argv in a fresh container (no network, read-only image) and return its stdout."""
    cmd = [engine, "run", "--rm", "--network", "none", "--read-only"]
    for mount in mounts:
        cmd += ["-v", mount]
    if user:
        cmd += ["--user", user]
    proc = subprocess.run([*cmd, image, *argv], capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(argv)} in {image} failed:\n{proc.stderr}"
    return proc.stdout


def host_cli(*argv: str | Path) -> str:
    proc = subprocess.run([sys.executable, ROOT / "bin" / "splam_score.py", *map(str, argv)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_version_and_help(engine, image):
    assert run_in(engine, image, "splam_score.py", "--version") == host_cli("--version")
    help_text = run_in(engine, image, "splam_score.py", "--help")
    for command in ("extract", "score", "clean", "curate", "train", "evaluate"):
        assert command in help_text


def test_labels_and_default_user(engine, image):
    out = subprocess.run([engine, "image", "inspect", image], capture_output=True, text=True, check=True).stdout
    config = json.loads(out)[0]["Config"]
    assert config["Labels"]["software.version"] == splamflow.__version__
    assert config["Labels"]["org.opencontainers.image.version"] == splamflow.__version__
    assert config.get("User", "") in ("", "0", "root"), "the engine or the caller chooses the user"


def test_the_shipped_model_is_inside(engine, image):
    script = (
        "import hashlib; from splamflow.weights import default_model_path as p; "
        "m = p(); print(m.name, hashlib.sha256(m.read_bytes()).hexdigest())"
    )
    name, digest = run_in(engine, image, "python", "-c", script).split()
    shipped = ROOT / "splamflow" / "models" / name
    assert shipped.is_file() and digest == sha256(shipped)


def alignments(path: Path) -> list[str]:
    """The records of a BAM and its header without @PG lines (which carry the command line)."""
    with pysam.AlignmentFile(str(path)) as bam:
        header = [line for line in str(bam.header).splitlines() if not line.startswith("@PG")]
        return header + [read.to_string() for read in bam]


def counts(stats_json: Path) -> dict:
    """A stats JSON without its file paths, which differ between the host and the container."""
    stats = json.loads(stats_json.read_text())
    return {key: value for key, value in stats.items() if not (isinstance(value, str) and value.startswith("/"))}


def test_slice_extract_score_clean_match_the_host(engine, image, tmp_path):
    host, box = tmp_path / "host", tmp_path / "container"
    host.mkdir()
    box.mkdir()
    box.chmod(0o777)  # written by uid 1234
    bam, fasta = "chr20_slice.bam", "chr20_slice.fa.gz"
    steps = [
        ("extract", "{d}/" + bam, "-o", "{o}/junctions.bed"),
        ("score", "{o}/junctions.bed", "--genome", "{d}/" + fasta, "-o", "{o}/scores.bed", "--threads", "2",
         "--stats", "{o}/score_stats.json"),
        ("clean", "{d}/" + bam, "--scores", "{o}/scores.bed", "--paired", "-o", "{o}/cleaned.bam",
         "--discarded", "{o}/discarded.bam", "--stats", "{o}/clean_stats.json"),
    ]
    for step in steps:
        host_cli(*(arg.format(d=DATA, o=host) for arg in step))
        run_in(engine, image, "splam_score.py", *(arg.format(d="/data", o="/out") for arg in step),
               mounts=(f"{DATA}:/data:ro", f"{box}:/out"), user=UID)

    for name in ("junctions.bed", "scores.bed"):
        assert (box / name).read_bytes() == (host / name).read_bytes(), name
    assert len((host / "scores.bed").read_text().splitlines()) > 100
    for name in ("cleaned.bam", "discarded.bam"):
        assert alignments(box / name) == alignments(host / name), name
    assert counts(box / "clean_stats.json") == counts(host / "clean_stats.json")
    assert os.stat(box / "scores.bed").st_uid == 1234
