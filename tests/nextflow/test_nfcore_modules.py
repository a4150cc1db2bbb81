"""splamflow's modules in someone else's pipeline, with nf-core tools and the real Nextflow.

A scratch pipeline is made with `nf-core pipelines create` (nf-core tools from
tests/nextflow/requirements-nf-core.txt, installed into .venv-nfcore/), the modules splamflow/extract,
splamflow/unite, splamflow/score, splamflow/project, splamflow/clean and splamflow/preparegenome
are installed into it with
`nf-core modules --git-remote ... install` and the subworkflow bed_score_cohort_splamflow with
`nf-core subworkflows --git-remote ... install`, linted with `nf-core modules lint` and `nf-core
subworkflows lint`, and a small workflow using the modules (tests/nextflow/consumer.nf) runs with
the local executor. The installed modules' own nf-test tests
find their setup modules and, where nf-test is installed (not in CI: it is on neither Maven
Central, PyPI nor npm), run in the scratch pipeline with its data path set as a user would.

The remote is this repository's committed HEAD (what CI checks out; uncommitted changes are not
part of it), pushed into a bare repository served over git's "dumb" HTTP protocol on 127.0.0.1:
nf-core tools accepts a `file://` remote for one install, but then rejects its own modules.json
(it expects an http/ssh/git URL) on the next command.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections import Counter
from functools import partial
from pathlib import Path

import pysam
import pytest
import torch

import splamflow
from tests.nextflow.nfrun import LAUNCHER, ROOT, VENV_BIN, environment

pytestmark = pytest.mark.nextflow

HERE = ROOT / "tests" / "nextflow"
DATA = ROOT / "tests" / "data"
TOOLS = ROOT / ".venv-nfcore"
REQUIREMENTS = HERE / "requirements-nf-core.txt"
MODULES = [
    "splamflow/extract",
    "splamflow/unite",
    "splamflow/score",
    "splamflow/project",
    "splamflow/clean",
    "splamflow/preparegenome",
]
SUBWORKFLOWS = ["bed_score_cohort_splamflow"]
TIMEOUT = 900


def nf_core_tools() -> Path:
    """The pinned nf-core command, installed into .venv-nfcore/ on first use."""
    pin = next(line for line in REQUIREMENTS.read_text().splitlines() if line.startswith("nf-core=="))
    nf_core = TOOLS / "bin" / "nf-core"
    stamp = TOOLS / ".installed"
    if not (nf_core.is_file() and stamp.is_file() and stamp.read_text() == REQUIREMENTS.read_text()):
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(TOOLS)], check=True)
        pip = [str(TOOLS / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True, timeout=TIMEOUT)
        stamp.write_text(REQUIREMENTS.read_text())
    version = subprocess.run([str(nf_core), "--version"], capture_output=True, text=True, check=True).stdout
    assert pin.split("==")[1] in version, version
    return nf_core


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("nfcore")


@pytest.fixture(scope="module")
def remote(work) -> str:
    """HEAD of this repository as a bare repository served over HTTP on 127.0.0.1."""
    served = work / "served"
    bare = served / "splamflow" / "splamflow.git"
    bare.parent.mkdir(parents=True)
    subprocess.run(["git", "init", "--quiet", "--bare", str(bare)], check=True)
    subprocess.run(["git", "-C", str(ROOT), "push", "--quiet", str(bare), "HEAD:refs/heads/main"], check=True)
    subprocess.run(["git", "-C", str(bare), "symbolic-ref", "HEAD", "refs/heads/main"], check=True)
    subprocess.run(["git", "-C", str(bare), "update-server-info"], check=True)
    handler = partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/splamflow/splamflow.git"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature of the method it replaces
        pass


@pytest.fixture(scope="module")
def env(work) -> dict[str, str]:
    """nf-core tools' clones and settings in the test folder; `nextflow` is the project launcher."""
    home = environment(path_first=LAUNCHER.parent)
    home["XDG_CONFIG_HOME"] = str(work / "config")
    home.setdefault("XDG_CACHE_HOME", str(Path.home() / ".cache"))
    home["NXF_HOME"] = str(work / "nxf_home")
    home["HIDE_PROGRESS"] = "1"
    for role in ("AUTHOR", "COMMITTER"):
        home[f"GIT_{role}_NAME"] = "splamflow tests"
        home[f"GIT_{role}_EMAIL"] = "tests@splamflow.invalid"
    return home


def run(command: list, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=TIMEOUT,
    )


@pytest.fixture(scope="module")
def pipeline(work, remote, env) -> Path:
    """A scratch pipeline made by nf-core tools, with the splamflow modules and subworkflow installed from `remote`."""
    nf_core = nf_core_tools()
    created = run(
        [nf_core, "pipelines", "create", "-t", HERE / "nf-core-template.yml", "-o", work / "consumer"], work, env
    )
    consumer = work / "consumer"
    assert (consumer / "main.nf").is_file(), created.stdout[-4000:]
    for module in MODULES:
        installed = run([nf_core, "modules", "--git-remote", remote, "install", module], consumer, env)
        assert (consumer / "modules" / "splamflow" / module / "main.nf").is_file(), installed.stdout[-4000:]
    for subworkflow in SUBWORKFLOWS:
        installed = run([nf_core, "subworkflows", "--git-remote", remote, "install", subworkflow], consumer, env)
        folder = consumer / "subworkflows" / "splamflow" / subworkflow
        assert (folder / "main.nf").is_file(), installed.stdout[-4000:]
    return consumer


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout


def test_modules_install_with_nf_core_tools(pipeline, remote):
    entries = json.loads((pipeline / "modules.json").read_text())["repos"][remote]["modules"]["splamflow"]
    assert sorted(entries) == sorted(MODULES)
    for module in MODULES:
        # nf-core tools records the last commit that changed the module
        assert (
            entries[module]["git_sha"]
            == _git("log", "-1", "--format=%H", "HEAD", "--", f"modules/splamflow/{module}").strip()
        )
        folder = pipeline / "modules" / "splamflow" / module
        for name in ("main.nf", "meta.yml", "environment.yml", "tests/main.nf.test"):
            assert (folder / name).read_text() == _git("show", f"HEAD:modules/splamflow/{module}/{name}"), name


def test_subworkflow_installs_with_nf_core_tools(pipeline, remote):
    entries = json.loads((pipeline / "modules.json").read_text())["repos"][remote]["subworkflows"]["splamflow"]
    assert sorted(entries) == sorted(SUBWORKFLOWS)
    for subworkflow in SUBWORKFLOWS:
        source = f"subworkflows/splamflow/{subworkflow}"
        assert entries[subworkflow]["git_sha"] == _git("log", "-1", "--format=%H", "HEAD", "--", source).strip()
        folder = pipeline / "subworkflows" / "splamflow" / subworkflow
        for name in ("main.nf", "meta.yml", "tests/main.nf.test", "tests/main.nf.test.snap"):
            assert (folder / name).read_text() == _git("show", f"HEAD:{source}/{name}"), name


def test_nf_core_subworkflows_lint_passes(pipeline, remote, env):
    lint = ["lint", "--all", "--passed", "--plain-text"]
    linted = run([nf_core_tools(), "subworkflows", "--git-remote", remote, *lint], pipeline, env)
    report = linted.stdout
    assert linted.returncode == 0, report[-6000:]
    for subworkflow in SUBWORKFLOWS:
        assert re.search(rf"^{re.escape(subworkflow)}\b", report, re.MULTILINE), report[-6000:]
    assert "[✗]   0 Tests Failed" in report, report[-6000:]
    assert "[!]   0 Test Warnings" in report or "Test Warning" not in report, report[-6000:]


def test_nf_core_modules_lint_passes(pipeline, remote, env):
    # --registry: the modules' images are on ghcr.io/splamflow, which nf-core's lint does not know;
    # --passed lists every passed test under its module
    lint = ["lint", "--all", "--passed", "--sort-by", "module", "--plain-text", "--registry", "ghcr.io/splamflow"]
    linted = run([nf_core_tools(), "modules", "--git-remote", remote, *lint], pipeline, env)
    report = linted.stdout
    assert linted.returncode == 0, report[-6000:]
    for module in MODULES:
        assert re.search(rf"^{re.escape(module)}\b", report, re.MULTILINE), report[-6000:]
    assert "[✗]   0 Tests Failed" in report, report[-6000:]
    # the one warning: SPLAMFLOW_SCORE's `process_gpu` label (the nf-core template's base.config key for
    # GPU processes) is not in nf-core's list of standard resource labels, as for nf-core's GPU modules
    assert "[!]   1 Test Warning\n" in report, report[-6000:]
    assert "Non-standard labels found: `process_gpu`" in report, report[-6000:]


def _records(path: Path) -> list[tuple]:
    with pysam.AlignmentFile(str(path), "rb") as bam:
        return [(r.query_name, r.is_read1, r.is_secondary, r.reference_start, r.cigarstring) for r in bam]


def test_a_consuming_workflow_runs_the_installed_modules(pipeline, env, tmp_path):
    shutil.copy(HERE / "consumer.nf", pipeline / "splamflow_demo.nf")
    outdir = tmp_path / "results"
    bam, fasta = DATA / "chr20_slice.bam", DATA / "chr20_slice.fa.gz"
    done = run(
        [
            LAUNCHER,
            "run",
            "splamflow_demo.nf",
            "-c",
            HERE / "consumer.config",
            "--bam",
            bam,
            "--fasta",
            fasta,
            "--outdir",
            outdir,
        ],
        pipeline,
        env,
    )
    assert done.returncode == 0, done.stdout[-6000:]
    published = outdir / "splamflow"  # the template publishes each module under its tool name
    # the same bytes as the command line run by hand
    cli = VENV_BIN / "splam_score.py"
    junctions, scores = tmp_path / "junctions.bed", tmp_path / "scores.bed"
    # the module reads the genome it is given (--infer-strand auto): so does the run by hand
    subprocess.run([cli, "extract", bam, "-o", junctions, "--genome", fasta], check=True, capture_output=True)
    subprocess.run([cli, "score", junctions, "--genome", fasta, "-o", scores], check=True, capture_output=True)
    assert (published / "sample1.junctions.bed").read_bytes() == junctions.read_bytes()
    assert (published / "sample1.scores.bed").read_bytes() == scores.read_bytes()
    kept, dropped = _records(published / "sample1.cleaned.bam"), _records(published / "sample1.discarded.bam")
    assert Counter(_records(bam)) == Counter(kept) + Counter(dropped) and dropped
    versions = {tuple(line.split("\t")) for line in (outdir / "versions.tsv").read_text().splitlines()}
    assert ("SPLAMFLOW_SCORE", "splamflow", splamflow.__version__) in versions
    assert ("SPLAMFLOW_SCORE", "torch", torch.__version__) in versions


def test_installed_module_tests_find_their_setup_modules(pipeline):
    # a test's setup runs another module through a path relative to the test: installed, it must resolve
    # to a module installed next to it, and no test may point into this repository
    scripts = 0
    for module in MODULES:
        test = pipeline / "modules" / "splamflow" / module / "tests" / "main.nf.test"
        text = test.read_text()
        assert "baseDir" not in text and "projectDir" not in text, module
        for script in re.findall(r'^\s*script "([^"]+)"', text, re.MULTILINE):
            assert (test.parent / script).resolve().is_file(), f"{module}: {script}"
            scripts += 1
    assert scripts >= 4  # the module itself in each, and extract/score in the setups of score and clean


def _nf_test() -> list[str] | None:
    command = os.environ.get("SPLAMFLOW_NF_TEST") or shutil.which("nf-test")
    return shlex.split(command) if command else None


def test_installed_module_tests_run_with_nf_test(pipeline, env):
    nf_test = _nf_test()
    if not nf_test:
        pytest.skip("nf-test is not installed (not on Maven Central, PyPI or npm); SPLAMFLOW_NF_TEST='java -jar ...'")
    # what a consuming pipeline adds to its nf-test config (the template's tests/nextflow.config): where
    # splamflow's test data is (a clone's tests/data/ here; a URL of it works too), and the small machine
    # and the Nextflow release of tests/nextflow/consumer.config
    config = pipeline / "tests" / "nextflow.config"
    config.write_text(
        config.read_text()
        + (HERE / "consumer.config").read_text()
        + f"\nparams.splamflow_testdata_base_path = '{DATA}/'\n"
    )
    # the template's nf-test config loads the nft-utils plugin, which nf-test downloads from GitHub: not
    # reachable here, and the splamflow module tests do not use it
    nft_config = pipeline / "nf-test.config"
    nft_config.write_text(re.sub(r"\n\s*plugins \{[^}]*\}", "", nft_config.read_text()))
    tests = [f"modules/splamflow/{module}/tests/main.nf.test" for module in MODULES]
    done = run([*nf_test, "test", "--verbose", *tests], pipeline, {**env, "NFT_WORKDIR": str(pipeline / ".nf-test")})
    assert done.returncode == 0, done.stdout[-6000:]
    count = sum(len(re.findall(r'^\s*test\("', (pipeline / test).read_text(), re.MULTILINE)) for test in tests)
    assert re.search(rf"SUCCESS: \S*Executed {count} tests", done.stdout), done.stdout[-6000:]
