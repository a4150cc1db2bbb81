"""Static checks of the Galaxy tools (galaxy_tool/) that need no Galaxy server: the test data and
its golden files, failure tests, and the form choices of issue 13 (CPU container and no GPU
resource, safetensors-only model input, no fp16 on CPUs, thread counts from GALAXY_SLOTS).
scripts/checks/galaxy_tests.sh runs the tool tests themselves in a real Galaxy.
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pysam
import pytest

import splamflow

ROOT = Path(__file__).resolve().parents[2]
TOOL_DIR = ROOT / "galaxy_tool"
TEST_DATA = TOOL_DIR / "test-data"
TOOLS = sorted(TOOL_DIR.glob("splamflow_*.xml"))
MAX_TEST_DATA_BYTES = 1_000_000  # IUC: test data under 1 MB
CPU_IMAGE = "ghcr.io/splamflow/splamflow"


def tool(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def input_files(root: ET.Element) -> set[str]:
    return {p.get("value") for p in root.iter("param") if p.get("ftype")}


def golden_files(root: ET.Element) -> set[str]:
    return {o.get("file") for o in root.iter("output") if o.get("file")}


def test_there_are_three_tools():
    assert [p.stem for p in TOOLS] == ["splamflow_clean", "splamflow_extract", "splamflow_score"]
    assert [tool(p).get("id") for p in TOOLS] == [p.stem for p in TOOLS]


def test_test_data_is_small_and_every_file_is_used():
    files = {p.name for p in TEST_DATA.iterdir()}
    assert sum(p.stat().st_size for p in TEST_DATA.iterdir()) < MAX_TEST_DATA_BYTES
    used = {"fasta_indexes.loc"}
    for path in TOOLS:
        root = tool(path)
        used |= input_files(root) | golden_files(root)
    # the built-in genome of fasta_indexes.loc, with its indexes
    used |= {"genome.fa.gz", "genome.fa.gz.fai", "genome.fa.gz.gzi"}
    assert used - files == set(), "tests name files that are not in test-data"
    assert files - used == set(), "test-data holds files no test uses"


# the start of a path of a developer's or a build machine's file system
MACHINE_PATH = re.compile(rb"(?<![\w.~-])/(?:work|tmp|home|root|Users|private|var/folders)/")


@pytest.mark.parametrize("path", sorted(TEST_DATA.iterdir()), ids=lambda p: p.name)
def test_test_data_holds_no_machine_paths(path):
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":  # gzip, bgzip and BAM: their headers are compressed
        data += gzip.decompress(data)
    if path.suffix == ".cram":  # CRAM blocks may be compressed too; the header as htslib reads it
        with pysam.AlignmentFile(str(path), reference_filename=str(TEST_DATA / "genome.fa.gz")) as cram:
            data += str(cram.header).encode()
    found = MACHINE_PATH.search(data)
    assert not found, f"{path.name}: a path of the machine that made it: {data[found.start() : found.start() + 60]!r}"


@pytest.mark.parametrize("path", TOOLS, ids=lambda p: p.stem)
def test_every_output_has_a_golden_file_and_failures_are_tested(path):
    root = tool(path)
    outputs = {d.get("name") for d in root.find("outputs").iter("data")}
    compared = {o.get("name") for o in root.iter("output") if o.get("file")}
    assert outputs - compared == set(), "outputs never compared with a golden file"
    failures = [t for t in root.iter("test") if t.get("expect_failure") == "true"]
    assert failures, "no failure test"
    for test in failures:
        assert test.get("expect_exit_code") == "2", "user errors exit with 2"
        assert test.find("assert_stderr") is not None


@pytest.mark.parametrize("path", TOOLS, ids=lambda p: p.stem)
def test_threads_come_from_galaxy_slots(path):
    command = tool(path).find("command").text
    assert "--threads \\${GALAXY_SLOTS:-1}" in command


def test_requirements_run_on_cpus():
    macros = tool(TOOL_DIR / "macros.xml")
    tokens = {t.get("name"): t.text for t in macros.iter("token")}
    requirements = [x for x in macros.iter("xml") if x.get("name") == "requirements"]
    (containers,) = [[c.text.replace("@TOOL_VERSION@", tokens["@TOOL_VERSION@"]) for c in r.iter("container")]
                     for r in requirements]
    assert containers == [f"{CPU_IMAGE}:{splamflow.__version__}"], "the CPU image"
    for path in [TOOL_DIR / "macros.xml", *TOOLS]:
        resources = [r.get("type") for r in tool(path).iter("resource")]
        assert not [r for r in resources if "cuda" in r or "gpu" in r], f"{path.name}: GPU resources route to GPUs only"


@pytest.mark.parametrize("path", TOOLS, ids=lambda p: p.stem)
def test_the_package_is_the_only_requirement(path):
    # a second requirement makes Galaxy look for a mulled container that nobody builds; the package
    # brings matplotlib for clean's plot (tests/unit/test_version_consistency.py checks the recipe)
    assert [r.text for r in tool(path).iter("requirement")] == []
    assert tool(path).find("expand[@macro='requirements']") is not None


def test_shed_repository_is_published_from_the_owners_repository():
    yaml = pytest.importorskip("yaml")
    shed = yaml.safe_load((TOOL_DIR / ".shed.yml").read_text())
    assert shed["name"] == "splamflow"
    assert shed["owner"] == "iuc"
    assert shed["remote_repository_url"] == f"https://github.com/galaxyproject/tools-iuc/tree/main/tools/{shed['name']}"
    assert shed["homepage_url"] == "https://github.com/splamflow/splamflow"


@pytest.mark.parametrize("path", TOOLS, ids=lambda p: p.stem)
def test_tools_name_their_creator_and_cite_the_method(path):
    root = tool(path)
    assert [e.get("macro") for e in root.findall("expand") if e.get("macro") in ("creator", "citations")] == [
        "creator",
        "citations",
    ]
    (creator,) = [x.find("creator") for x in tool(TOOL_DIR / "macros.xml").iter("xml") if x.get("name") == "creator"]
    assert [o.get("name") for o in creator.iter("organization")] == ["splamflow developers"]


def test_profile_has_the_safetensors_datatype():
    tokens = {t.get("name"): t.text for t in tool(TOOL_DIR / "macros.xml").iter("token")}
    major, minor = (int(x) for x in tokens["@PROFILE@"].split("."))
    assert (major, minor) >= (25, 0)


def test_score_form_offers_only_what_runs_anywhere():
    root = tool(TOOL_DIR / "splamflow_score.xml")
    (model,) = [p for p in root.iter("param") if p.get("argument") == "--model"]
    assert model.get("format") == "safetensors", "safetensors only: binary takes any file"
    (precision,) = [p for p in root.iter("param") if p.get("argument") == "--precision"]
    assert [o.get("value") for o in precision.iter("option")] == ["fp32", "bf16"], "fp16 needs a GPU"


def fasta_gz_lines() -> str:
    """The shell lines @LINK_REFERENCE@ runs for a fasta.gz dataset (no Cheetah in them but the path)."""
    tokens = {t.get("name"): t.text for t in tool(TOOL_DIR / "macros.xml").iter("token")}
    text = tokens["@LINK_REFERENCE@"]
    start = text.index("#if $reference_source.fasta.is_of_type('fasta.gz'):")
    block = text[start:text.index("#else:", start)].splitlines()[1:]
    assert not [line for line in block if line.lstrip().startswith("#")], "the fasta.gz branch grew Cheetah"
    return "\n".join(block)


@pytest.mark.parametrize("compression", ["bgzip", "gzip"])
def test_history_fasta_gz_is_linked_when_bgzip_and_decompressed_when_plain_gzip(tmp_path, compression):
    fasta = b">20\n" + b"ACGTN" * 2000 + b"\n"
    (tmp_path / "plain.fa").write_bytes(fasta)
    dataset = tmp_path / "dataset.dat"  # Galaxy's name: no extension to go by
    if compression == "bgzip":
        pysam.tabix_compress(str(tmp_path / "plain.fa"), str(dataset))
    else:
        dataset.write_bytes(gzip.compress(fasta))
    job = tmp_path / "job"
    job.mkdir()
    script = fasta_gz_lines().replace("'$reference_source.fasta'", f"'{dataset}'").rstrip().removesuffix("&&")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["bash", "-euc", script], cwd=job, env=env, check=True)
    genome = job / "genome.fa"
    assert genome.is_symlink() == (compression == "bgzip"), "bgzip is linked, only plain gzip decompressed"
    assert genome.read_bytes() == (dataset.read_bytes() if compression == "bgzip" else fasta)
    pysam.faidx(str(genome))
    assert pysam.FastaFile(str(genome)).fetch("20", 0, 10) == "ACGTNACGTN"
