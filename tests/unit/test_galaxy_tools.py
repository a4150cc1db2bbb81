"""Static checks of the Galaxy tools (galaxy_tool/) that need no Galaxy server: the test data and
its golden files, failure tests, the form choices (no container and no GPU resource, models as
safetensors or from the data manager's table, no fp16 on CPUs, thread counts from GALAXY_SLOTS,
strand source 'auto' by default) and the model data manager's configuration.
scripts/checks/galaxy_tests.sh runs the tool tests themselves in a real Galaxy.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pysam
import pytest

import splamflow
from splamflow import versions
from splamflow.versions import DEFAULT_ALIAS, DEFAULT_MODEL, model_version, shipped_models

ROOT = Path(__file__).resolve().parents[2]
TOOL_DIR = ROOT / "galaxy_tool"
TEST_DATA = TOOL_DIR / "test-data"
TOOLS = sorted(TOOL_DIR.glob("splamflow_*.xml"))
DATA_MANAGER = TOOL_DIR / "data_manager" / "splamflow_model_fetcher.xml"
ALL_TOOLS = [*TOOLS, DATA_MANAGER]
MODEL_TABLE = "splamflow_models"
MAX_TEST_DATA_BYTES = 1_000_000  # IUC: test data under 1 MB


def tool(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def input_files(root: ET.Element) -> set[str]:
    # a multiple data parameter lists its files separated by commas
    return {name for p in root.iter("param") if p.get("ftype") for name in p.get("value").split(",")}


def golden_files(root: ET.Element) -> set[str]:
    return {o.get("file") for o in root.iter("output") if o.get("file")}


def test_there_are_three_tools():
    assert [p.stem for p in TOOLS] == ["splamflow_clean", "splamflow_extract", "splamflow_score"]
    assert [tool(p).get("id") for p in TOOLS] == [p.stem for p in TOOLS]


def test_test_data_is_small_and_every_file_is_used():
    files = {p.name for p in TEST_DATA.iterdir()}
    assert sum(p.stat().st_size for p in TEST_DATA.iterdir()) < MAX_TEST_DATA_BYTES
    used = {"fasta_indexes.loc", f"{MODEL_TABLE}.loc"}  # the test tables
    for path in ALL_TOOLS:
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


@pytest.mark.parametrize("path", ALL_TOOLS, ids=lambda p: p.stem)
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


def test_no_container_and_no_gpu_resource():
    # IUC: BioContainers' image comes from the requirement; the CUDA image is the admin's choice
    for path in [TOOL_DIR / "macros.xml", *ALL_TOOLS]:
        assert not list(tool(path).iter("container")), f"{path.name} names a container"
        resources = [r.get("type") for r in tool(path).iter("resource")]
        assert not [r for r in resources if "cuda" in r or "gpu" in r], f"{path.name}: GPU resources route to GPUs only"


@pytest.mark.parametrize("path", ALL_TOOLS, ids=lambda p: p.stem)
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


@pytest.mark.parametrize("path", ALL_TOOLS, ids=lambda p: p.stem)
def test_tools_name_their_creator_and_cite_the_method_and_the_software(path):
    root = tool(path)
    assert [e.get("macro") for e in root.findall("expand") if e.get("macro") in ("creator", "citations")] == [
        "creator",
        "citations",
    ]
    (creator,) = [x.find("creator") for x in tool(TOOL_DIR / "macros.xml").iter("xml") if x.get("name") == "creator"]
    assert [o.get("name") for o in creator.iter("organization")] == ["splamflow developers"]
    macros = tool(TOOL_DIR / "macros.xml")
    (citations,) = [x.find("citations") for x in macros.iter("xml") if x.get("name") == "citations"]
    kinds = [(c.get("type"), (c.text or "").strip().split("{")[0]) for c in citations.iter("citation")]
    assert kinds == [("doi", "10.1186/s13059-024-03379-4"), ("bibtex", "@software")]
    yaml = pytest.importorskip("yaml")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["title"].startswith("splamflow") and cff["version"] == splamflow.__version__
    assert cff["references"][0]["doi"] == "10.1186/s13059-024-03379-4", "the method beside the software"


def test_profile_has_the_safetensors_datatype():
    tokens = {t.get("name"): t.text for t in tool(TOOL_DIR / "macros.xml").iter("token")}
    major, minor = (int(x) for x in tokens["@PROFILE@"].split("."))
    assert (major, minor) >= (25, 0)


def shipped_choice_problems(root: ET.Element) -> list[str]:
    """How the score form's shipped-model choice differs from the package's shipped models."""
    (choice,) = [p for p in root.find("inputs").iter("param") if p.get("name") == "shipped"]
    options = {o.get("value"): o for o in choice.iter("option")}
    models = {name: path for name, path in shipped_models().items() if name != DEFAULT_ALIAS}
    problems = [f"no <option> for the shipped model {name!r}: add <option value=\"{name}\">{name}: ... "
                f"({model_version(path)})</option>" for name, path in models.items() if name not in options]
    problems += [f"<option value={name!r}> is no shipped model" for name in options if name not in models]
    problems += [f"<option value={name!r}> should name the model's version ({model_version(models[name])})"
                 for name, option in options.items() if name in models and f"({model_version(models[name])})"
                 not in option.text]
    if [name for name, option in options.items() if option.get("selected") == "true"] != [DEFAULT_MODEL]:
        problems.append(f"the selected <option> must be the default model, {DEFAULT_MODEL!r}")
    return problems


def test_the_shipped_model_choice_lists_every_shipped_model():
    assert shipped_choice_problems(tool(TOOL_DIR / "splamflow_score.xml")) == []


def package_models(folder, monkeypatch, **models: str) -> None:
    """Make `folder` the package's models folder, holding NAME -> the shipped model SOURCE (links)."""
    shipped = versions.models_dir()
    for name, source in models.items():
        for suffix in (".safetensors", ".json"):
            (folder / f"splam_{name}{suffix}").symlink_to(shipped / f"splam_{source}{suffix}")
    monkeypatch.setattr(versions, "models_dir", lambda: folder)


def test_a_model_added_to_the_package_but_missing_from_the_form_is_found(tmp_path, monkeypatch):
    package_models(tmp_path, monkeypatch, human="human", human_v1="human_v1", arabidopsis="arabidopsis",
                   plant="human")
    assert shipped_choice_problems(tool(TOOL_DIR / "splamflow_score.xml")) == [
        "no <option> for the shipped model 'plant': add <option value=\"plant\">plant: ... "
        "(splamflow-grch37-chr20-v2)</option>"]


def test_an_option_for_a_model_the_package_lacks_is_found(tmp_path, monkeypatch):
    package_models(tmp_path, monkeypatch, human="human")
    assert shipped_choice_problems(tool(TOOL_DIR / "splamflow_score.xml")) == [
        "<option value='human_v1'> is no shipped model", "<option value='arabidopsis'> is no shipped model"]


def test_score_form_offers_only_what_runs_anywhere():
    root = tool(TOOL_DIR / "splamflow_score.xml")
    uploaded, installed = ([p for p in root.iter("param") if p.get("argument") == "--model" and p.get("type") == kind]
                           for kind in ("data", "select"))  # fmt: skip
    assert [p.get("format") for p in uploaded] == ["safetensors"], "safetensors only: binary takes any file"
    assert [p.find("options").get("from_data_table") for p in installed] == [MODEL_TABLE]
    (source,) = [p for p in root.iter("param") if p.get("name") == "source" and p.get("label") == "Model"]
    assert [o.get("value") for o in source.iter("option")] == ["default", "cached", "history"]
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


def test_strand_source_is_auto_by_default_with_an_optional_genome():
    macros = tool(TOOL_DIR / "macros.xml")
    (strand,) = [x for x in macros.iter("xml") if x.get("name") == "strand_source"]
    options = list(strand.iter("option"))
    assert [o.get("value") for o in options if o.get("selected") == "true"] == ["auto"]
    assert [o.get("value") for o in options] == ["auto", "motif", "rf", "fr", "none"]
    for path in (TOOL_DIR / "splamflow_extract.xml", TOOL_DIR / "splamflow_clean.xml"):
        expands = [e for e in tool(path).iter("expand") if e.get("macro") == "strand_source"]
        bam = [e for e in expands if e.find("token") is not None]  # CRAM: its reference serves
        (auto,) = [e.find("token[@name='auto_genome']/expand").get("macro") for e in bam]
        assert auto == "optional_reference_genome", path.name


def test_built_in_genomes_follow_the_inputs_dbkey():
    macros = tool(TOOL_DIR / "macros.xml")
    (cached,) = [x for x in macros.iter("xml") if x.get("name") == "cached_genome"]
    (dbkey,) = [f for f in cached.iter("filter") if f.get("type") == "data_meta"]
    assert (dbkey.get("key"), dbkey.get("column")) == ("dbkey", "1"), "fasta_indexes: value, dbkey, name, path"
    score = [e for e in tool(TOOL_DIR / "splamflow_score.xml").iter("expand") if e.get("macro") == "reference_genome"]
    assert [e.get("ref") for e in score] == ["junctions"]


def test_data_manager_fills_the_table_the_score_form_reads():
    conf = tool(TOOL_DIR / "data_manager_conf.xml")
    (manager,) = conf.iter("data_manager")
    assert (TOOL_DIR / manager.get("tool_file")).resolve() == DATA_MANAGER
    assert tool(DATA_MANAGER).get("id") == manager.get("id")
    assert tool(DATA_MANAGER).get("tool_type") == "manage_data"
    (table,) = manager.iter("data_table")
    assert table.get("name") == MODEL_TABLE
    written = [c.get("name") for c in table.iter("column")]
    for conf_name in ("tool_data_table_conf.xml.sample", "tool_data_table_conf.xml.test"):
        tables = {t.get("name"): t for t in tool(TOOL_DIR / conf_name).iter("table")}
        columns = [c.strip() for c in tables[MODEL_TABLE].find("columns").text.split(",")]
        assert columns == written, conf_name
    (path,) = [c for c in table.iter("column") if c.get("name") == "path"]
    assert path.get("output_ref") == "out_file" and path.find("move/source").text == "${value}"
    # the entry the tool writes names exactly the table's columns
    entry = json.loads((TEST_DATA / "splamflow_models_entry.json").read_text())
    (row,) = entry["data_tables"][MODEL_TABLE]
    assert list(row) == written
    sample = (TOOL_DIR / "tool-data" / f"{MODEL_TABLE}.loc.sample").read_text().splitlines()
    assert all(line.startswith("#") for line in sample if line.strip())


def test_data_manager_refuses_an_id_the_table_already_holds():
    """The id names the folder the entry's files move to: a second run with the same id would replace
    the installed model's files while the table (no duplicate entries) keeps its old row."""
    (model_id,) = [p for p in tool(DATA_MANAGER).find("inputs").iter("param") if p.get("name") == "model_id"]
    unique = [v for v in model_id.iter("validator") if v.get("type") == "value_not_in_data_table"]
    assert [(v.get("table_name"), v.get("metadata_column", "0")) for v in unique] == [(MODEL_TABLE, "value")]


def test_data_manager_ids_are_versions_convert_model_accepts():
    """The form's id check admits no id that `convert-model --version` would refuse (a job failing late)."""
    from splamflow.convert_model.options import VERSION

    (model_id,) = [p for p in tool(DATA_MANAGER).find("inputs").iter("param") if p.get("name") == "model_id"]
    (regex,) = [v.text for v in model_id.iter("validator") if v.get("type") == "regex"]
    for candidate in ("splam_1.0.12", "a" * 80, "a" * 81, "_x", "x y", "x+y", "x/y"):
        if re.fullmatch(regex, candidate):
            assert VERSION.fullmatch(candidate), candidate
    assert re.fullmatch(regex, "splam_1.0.12") and re.fullmatch(regex, "a" * 80)


def _fetch(tmp_path: Path, kind: str, source: str) -> bytes:
    script = DATA_MANAGER.parent / "fetch_archive.py"
    subprocess.run([sys.executable, str(script), kind, source, str(tmp_path / "archive.pt")], check=True)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("archive")) == ["archive.pt"]
    return (tmp_path / "archive.pt").read_bytes()


@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize("kind", ["history", "url"])
def test_data_manager_fetches_plain_and_gzip_archives(tmp_path, kind, compressed):
    archive = b"PK\x03\x04 a zip archive's first bytes" * 100
    dataset = tmp_path / "input" / "dataset.dat"
    dataset.parent.mkdir()
    dataset.write_bytes(gzip.compress(archive) if compressed else archive)
    source = dataset.as_uri() if kind == "url" else str(dataset)
    assert _fetch(tmp_path, kind, source) == archive


@pytest.mark.parametrize("kind", ["history", "url"])
def test_data_manager_fetch_failure_is_one_line(tmp_path, kind):
    """An archive that cannot be read (a dead URL, a truncated gzip) fails the job with one line, exit 2."""
    script = DATA_MANAGER.parent / "fetch_archive.py"
    truncated = tmp_path / "truncated.gz"
    truncated.write_bytes(gzip.compress(b"PK\x03\x04" * 1000)[:40])
    source = (tmp_path / "missing.pt").as_uri() if kind == "url" else str(truncated)
    out = tmp_path / "archive.pt"
    proc = subprocess.run([sys.executable, str(script), kind, source, str(out)], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("fetch_archive.py: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("archive")]
