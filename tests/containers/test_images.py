"""The built images (`make containers`) run the CLI as the host does. Both images: version and help,
the labels (the OCI revision is this checkout's commit) and the shipped model. The CPU image, which
the pipeline and Galaxy use (the CUDA image holds the same environment on machines without a GPU, so
CI checks only the above in it): the installed packages are exactly containers/constraints.txt, and
the test slice extracted, scored and cleaned as a non-root uid with the data mounted read-only, no
network and a read-only image gives the host's bytes (the host run once for the module).

Runs under `make container-test` (SPLAMFLOW_CONTAINER_TESTS=1; a missing image then fails); skipped
otherwise. The engine is $SPLAMFLOW_CONTAINER_ENGINE, else podman when installed, else docker; podman
reads $CONTAINERS_CONF (the Makefile sets it where containers/build.sh wrote one).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
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


def built(engine: str, flavour: str) -> str:
    tag = TAGS[flavour]
    found = subprocess.run([engine, "image", "inspect", tag], capture_output=True)
    assert found.returncode == 0, f"{tag} is not built: run `make containers`"
    return tag


@pytest.fixture(scope="module", params=sorted(TAGS))
def image(request, engine) -> str:
    return built(engine, request.param)


@pytest.fixture(scope="module")
def cpu_image(engine) -> str:
    return built(engine, "cpu")


def container(engine: str, image: str, *argv: str, mounts: tuple[str, ...] = (), user: str | None = None,
              writable_tmp: bool = True) -> subprocess.CompletedProcess:
    """Run argv in a fresh container: no network, a read-only image, and a writable /tmp unless
    writable_tmp is False (podman mounts one with --read-only, docker only when asked)."""
    cmd = [engine, "run", "--rm", "--network", "none", "--read-only", "--workdir", "/"]
    if writable_tmp and engine == "docker":
        cmd += ["--tmpfs", "/tmp"]
    if not writable_tmp and engine == "podman":
        cmd += ["--read-only-tmpfs=false"]
    for mount in mounts:
        cmd += ["-v", mount]
    if user:
        cmd += ["--user", user]
    return subprocess.run([*cmd, image, *argv], capture_output=True, text=True)


def run_in(engine: str, image: str, *argv: str, **options) -> str:
    """Run argv in a fresh container (see container) and return its stdout; it must succeed."""
    proc = container(engine, image, *argv, **options)
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
    for command in ("extract", "score", "clean", "curate", "train", "evaluate", "convert-model"):
        assert command in help_text


# what containers/build.sh puts into the build context, with the recipes
CONTEXT = ("pyproject.toml", "README.md", "bin", "splamflow", "containers")


def git(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True)


def built_from_this_checkout(revision: str) -> bool:
    """The OCI revision label is HEAD (as in CI, which builds and tests one clone), or a commit from
    which HEAD changed nothing that goes into the image (a later documentation commit); a build from
    uncommitted sources (-dirty) or another commit is not."""
    head = git("rev-parse", "HEAD").stdout.strip()
    if revision == head:
        return True
    assert git("merge-base", "--is-ancestor", revision, head).returncode == 0, f"{revision} is not HEAD ({head})"
    changed = git("diff", "--name-only", revision, head, "--", *CONTEXT).stdout.split()
    assert not changed, f"the image was built from {revision}; since then these changed: {changed}"
    return True


def test_labels_and_default_user(engine, image):
    out = subprocess.run([engine, "image", "inspect", image], capture_output=True, text=True, check=True).stdout
    config = json.loads(out)[0]["Config"]
    labels = config["Labels"]
    assert built_from_this_checkout(labels["org.opencontainers.image.revision"])
    created = datetime.fromisoformat(labels["org.opencontainers.image.created"].replace("Z", "+00:00"))
    assert created.tzinfo is not None and created <= datetime.now(timezone.utc)
    assert labels["software.version"] == labels["org.opencontainers.image.version"] == splamflow.__version__
    assert labels["org.opencontainers.image.title"] == "splamflow"
    assert labels["org.opencontainers.image.description"] == labels["about.summary"]
    assert labels["org.opencontainers.image.source"] == "https://github.com/splamflow/splamflow"
    assert labels["org.opencontainers.image.licenses"] == "MIT"
    # nothing about the machine it was built on: no digests of local files, no host paths
    leaks = {key: value for key, value in labels.items()
             if re.search(r"sha256|rootfs", key) or str(Path.home()) in value or str(ROOT) in value}
    assert not leaks, f"labels with host details: {leaks}"
    assert config.get("User", "") in ("", "0", "root"), "the engine or the caller chooses the user"


def test_the_shipped_model_is_inside(engine, image):
    script = (
        "import hashlib; from splamflow.weights import default_model_path as p; "
        "m = p(); print(m.name, hashlib.sha256(m.read_bytes()).hexdigest())"
    )
    name, digest = run_in(engine, image, "python", "-c", script).split()
    shipped = ROOT / "splamflow" / "models" / name
    assert shipped.is_file() and digest == sha256(shipped)


def test_installed_packages_are_the_constraints(engine, cpu_image):
    """Every package in the image's environment, transitive ones included, at the version
    containers/constraints.txt pins (pip freeze leaves out pip and setuptools, which come with the
    virtual environment; splamflow is the checkout)."""
    pins = dict(
        line.split("==") for line in (ROOT / "containers" / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    frozen = run_in(engine, cpu_image, "pip", "freeze", "--disable-pip-version-check").splitlines()
    installed = dict(line.split("==") for line in frozen if not line.startswith("splamflow"))
    normalise = {re.sub(r"[-_.]+", "-", name).lower(): version.split("+")[0] for name, version in installed.items()}
    unpinned = {name: version for name, version in normalise.items() if pins.get(name) != version}
    assert not unpinned, f"installed at other versions than containers/constraints.txt: {unpinned}"
    assert {"torch", "numpy", "pysam", "safetensors", "matplotlib"} <= normalise.keys()


def alignments(path: Path) -> list[str]:
    """The records of a BAM and its header without @PG lines (which carry the command line)."""
    with pysam.AlignmentFile(str(path)) as bam:
        header = [line for line in str(bam.header).splitlines() if not line.startswith("@PG")]
        return header + [read.to_string() for read in bam]


def counts(stats_json: Path) -> dict:
    """A stats JSON without its file paths, which differ between the host and the container."""
    stats = json.loads(stats_json.read_text())
    return {key: value for key, value in stats.items() if not (isinstance(value, str) and value.startswith("/"))}


BAM, FASTA = "chr20_slice.bam", "chr20_slice.fa.gz"
STEPS = [
    ("extract", "{d}/" + BAM, "-o", "{o}/junctions.bed"),
    ("score", "{o}/junctions.bed", "--genome", "{d}/" + FASTA, "-o", "{o}/scores.bed", "--threads", "2",
     "--stats", "{o}/score_stats.json"),
    ("clean", "{d}/" + BAM, "--scores", "{o}/scores.bed", "--paired", "-o", "{o}/cleaned.bam",
     "--discarded", "{o}/discarded.bam", "--stats", "{o}/clean_stats.json", "--plot", "{o}/clean.png"),
]


@pytest.fixture(scope="module")
def host_slice(tmp_path_factory) -> Path:
    """The slice's steps run once on the host: the reference for the container runs."""
    host = tmp_path_factory.mktemp("host")
    for step in STEPS:
        host_cli(*(arg.format(d=DATA, o=host) for arg in step))
    return host


def test_slice_extract_score_clean_match_the_host(engine, cpu_image, host_slice, tmp_path):
    box = tmp_path / "container"
    box.mkdir()
    box.chmod(0o777)  # written by uid 1234
    mounts = (f"{DATA}:/data:ro", f"{box}:/out")
    for step in STEPS:
        run_in(engine, cpu_image, "splam_score.py", *(arg.format(d="/data", o="/out") for arg in step),
               mounts=mounts, user=UID)

    for name in ("junctions.bed", "scores.bed"):
        assert (box / name).read_bytes() == (host_slice / name).read_bytes(), name
    assert len((host_slice / "scores.bed").read_text().splitlines()) > 100
    for name in ("cleaned.bam", "discarded.bam"):
        assert alignments(box / name) == alignments(host_slice / name), name
    assert counts(box / "clean_stats.json") == counts(host_slice / "clean_stats.json")
    assert (box / "clean.png").read_bytes().startswith(b"\x89PNG"), "matplotlib drew no plot in the image"
    # the owner as the container sees it: uid 1234 with rootful podman and docker; rootless podman
    # maps it to a subordinate uid on the host, so the host's st_uid would not say 1234
    stat = "import os; s = os.stat('/out/scores.bed'); print(s.st_uid, s.st_gid)"
    owner = run_in(engine, cpu_image, "python", "-c", stat, mounts=mounts, user=UID)
    assert owner.split() == ["1234", "1234"]


def test_clean_without_a_writable_tmp_is_a_clear_error(engine, cpu_image, host_slice, tmp_path):
    """docker run --read-only gives no writable /tmp: `clean` of a BAM needs one (pysam's index call
    captures samtools' output in a temporary file; matplotlib keeps its cache there), and says so in
    one line, leaving no output behind."""
    ref, box = tmp_path / "ref", tmp_path / "container"
    ref.mkdir(mode=0o755)
    box.mkdir()
    box.chmod(0o777)
    shutil.copy(host_slice / "scores.bed", ref / "scores.bed")
    (ref / "scores.bed").chmod(0o644)
    step = ("clean", f"/data/{BAM}", "--scores", "/ref/scores.bed", "-o", "/out/cleaned.bam",
            "--discarded", "/out/discarded.bam", "--plot", "/out/clean.png")
    proc = container(engine, cpu_image, "splam_score.py", *step, user=UID, writable_tmp=False,
                     mounts=(f"{DATA}:/data:ro", f"{ref}:/ref:ro", f"{box}:/out"))
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and "temporary directory" in proc.stderr, proc.stderr
    assert not list(box.iterdir()), "outputs left behind by a failed run"
