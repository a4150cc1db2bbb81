"""The files the Nextflow test profile and the nf-test files point at exist (Nextflow is not run here)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from splamflow.clean.alignments import AlignmentStats
from splamflow.clean.annotation import AnnotationStats
from splamflow.unite.union import chunk_sizes

ROOT = Path(__file__).resolve().parents[2]
SHEETS = ROOT / "tests" / "workflow" / "samplesheets"


def sheet_paths(sheet: Path) -> list[Path]:
    """BAM/BAI paths of a committed samplesheet, resolved against the repository (the test profile's
    --input_base_dir; relative paths are the launch folder's otherwise)."""
    with sheet.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [(ROOT / row[col]).resolve() for row in rows for col in ("bam", "bai") if row.get(col)]


def test_test_profile_inputs_exist():
    text = (ROOT / "conf" / "test.config").read_text()
    paths = re.findall(r'"\$\{projectDir\}/([^"]+)"', text)
    assert len(paths) >= 3
    for rel in paths:
        assert (ROOT / rel).is_file(), f"conf/test.config: {rel} does not exist"
    fasta = next(rel for rel in paths if ".fa" in rel)
    for index in (".fai", ".gzi"):
        assert (ROOT / (fasta + index)).is_file(), f"test FASTA without {index}"
    for path in sheet_paths(ROOT / "assets" / "samplesheet_test.csv"):
        assert path.is_file(), f"assets/samplesheet_test.csv: {path} does not exist"


# module tests name their files relative to params.splamflow_testdata_base_path (tests/data/ here, set
# in tests/workflow/nextflow.config), so that they also run where the modules are installed
TESTDATA = re.compile(r"params\.splamflow_testdata_base_path \+ '([^']+)'")


def test_nf_test_files_use_existing_test_data():
    modules = sorted(ROOT.glob("modules/**/tests/*.nf.test"))
    tests = modules + sorted((ROOT / "tests" / "workflow").glob("*.nf.test"))
    assert len(modules) >= 6
    used = set()
    for test in tests:
        text = test.read_text()
        found = re.findall(r"\$\{baseDir\}/([^\"']+)", text) + [f"tests/data/{name}" for name in TESTDATA.findall(text)]
        for rel in found:
            used.add(rel)
            assert (ROOT / rel).is_file(), f"{test.relative_to(ROOT)}: {rel} does not exist"
    assert "tests/data/chr20_slice.bam" in used
    config = (ROOT / "tests" / "workflow" / "nextflow.config").read_text()
    assert 'splamflow_testdata_base_path = "${projectDir}/tests/data/"' in config


def test_module_tests_find_their_data_through_the_base_path_parameter():
    # an installed module has no tests/data next to it: nothing may point at this repository's folders
    for test in sorted(ROOT.glob("modules/**/tests/*.nf.test")):
        text = test.read_text()
        assert "baseDir" not in text and "projectDir" not in text, test.relative_to(ROOT)
        assert TESTDATA.search(text), test.relative_to(ROOT)


def test_module_test_constants_match_the_test_data():
    # nf-test's `then` blocks do not see the Nextflow params, so two facts of tests/data are written out there
    truth = ROOT / "tests" / "data" / "chr20_slice.truth.tsv"
    junctions = len(truth.read_text().splitlines()) - 1  # the header
    unite = (ROOT / "modules/splamflow/splamflow/unite/tests/main.nf.test").read_text()
    assert f"readLines().size() }} == {chunk_sizes(junctions, 100)}" in unite
    tests = (
        "splamflow/extract/tests/main.nf.test",
        "splamflow/score/tests/main.nf.test",
        "splamflow/score/tests/main.gpu.nf.test",
    )
    for module in tests:
        text = (ROOT / "modules/splamflow" / module).read_text()
        claimed = re.findall(r"(?:readLines\(\)\.size\(\)|junctions) == (\d+)", text)
        assert claimed and all(int(n) == junctions for n in claimed), (module, claimed, junctions)


def _snapshot_counts(snapshot: Path) -> dict[str, list[str]]:
    """test name -> keys of the clean counts (the stats JSON's `counts`) that the snapshot holds."""
    found = {}
    for name, entry in json.loads(snapshot.read_text()).items():
        for item in entry["content"]:
            if isinstance(item, dict) and ("records_in" in item or "transcripts_in" in item):
                found[name] = list(item)
    return found


def test_clean_snapshot_has_the_counts_clean_writes():
    # nf-test compares the snapshot with the counts SPLAMFLOW_CLEAN writes (stats.as_dict(), in field order);
    # a field added to the stats without regenerating the snapshot fails there, and CI has no nf-test
    counts = _snapshot_counts(ROOT / "modules/splamflow/splamflow/clean/tests/main.nf.test.snap")
    alignments = list(AlignmentStats().as_dict())
    annotation = list(AnnotationStats().as_dict())
    assert sorted(counts) == ["chr20 slice - bam - paired", "chr20 slice - gtf"]
    assert counts["chr20 slice - bam - paired"] == alignments
    assert counts["chr20 slice - gtf"] == annotation


def test_bad_input_samplesheets_are_bad_in_one_way_each():
    # valid: every path exists; missing_bam_file: only its BAM is missing
    assert all(path.is_file() for path in sheet_paths(SHEETS / "valid.csv"))
    assert [p.is_file() for p in sheet_paths(SHEETS / "missing_bam_file.csv")] == [False]
    with (SHEETS / "duplicate_sample.csv").open(newline="") as handle:
        samples = [row["sample"] for row in csv.DictReader(handle)]
    assert len(samples) != len(set(samples))
    with (SHEETS / "missing_bam_column.csv").open(newline="") as handle:
        assert "bam" not in next(csv.reader(handle))
    fasta = ROOT / "tests" / "workflow" / "data" / "no_index.fa"
    assert fasta.is_file() and not Path(f"{fasta}.fai").exists()
