"""The files the Nextflow test profile and the nf-test files point at exist (Nextflow is not run here)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHEETS = ROOT / "tests" / "workflow" / "samplesheets"


def sheet_paths(sheet: Path) -> list[Path]:
    """BAM/BAI paths of a samplesheet, resolved against its folder as the input subworkflow does."""
    with sheet.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [(sheet.parent / row[col]).resolve() for row in rows for col in ("bam", "bai") if row.get(col)]


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


def test_nf_test_files_use_existing_test_data():
    tests = sorted(ROOT.glob("modules/**/tests/*.nf.test")) + sorted((ROOT / "tests" / "workflow").glob("*.nf.test"))
    assert len(tests) >= 7
    used = set()
    for test in tests:
        for rel in re.findall(r"\$\{baseDir\}/([^\"']+)", test.read_text()):
            used.add(rel)
            assert (ROOT / rel).is_file(), f"{test.relative_to(ROOT)}: {rel} does not exist"
    assert "tests/data/chr20_slice.bam" in used


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
