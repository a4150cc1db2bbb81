"""The pipeline's input checks and scatter/gather helpers, called by the real Nextflow
(tests/nextflow/validation.nf) under the strict syntax parser: committed and generated bad
samplesheets, FASTA indexes, parameters typed and as text, accelerator closures, chunk names and order;
and the extract and clean modules run with --infer-strand none and a genome (no --genome passed)."""

from __future__ import annotations

import re

import pytest

from tests.nextflow.nfrun import ROOT, nextflow

pytestmark = pytest.mark.nextflow


def test_input_checks_and_chunk_helpers(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    run = nextflow(
        ["run", str(ROOT / "tests" / "nextflow" / "validation.nf"), "--root", str(ROOT), "--scratch", str(scratch)],
        tmp_path / "launch",
        extra_env={"NXF_SYNTAX_PARSER": "v2"},
    )
    assert run.returncode == 0, run.explain()
    passed = re.search(r"validation: (\d+) checks passed", run.output)
    assert passed and int(passed.group(1)) >= 50, run.explain()


def test_infer_strand_none_stops_the_modules_passing_the_genome(tmp_path):
    scores = tmp_path / "empty.scores.bed"
    scores.write_text("")
    here = ROOT / "tests" / "nextflow"
    run = nextflow(
        ["run", str(here / "infer_strand_none.nf"), "-c", str(here / "infer_strand_none.config"),
         "--root", str(ROOT), "--empty_scores", str(scores)],
        tmp_path / "launch",
    )
    assert run.returncode == 0, run.explain()
    scripts = sorted((tmp_path / "launch" / "work").glob("*/*/.command.sh"))
    assert len(scripts) == 4, scripts
    for script in scripts:
        text = script.read_text()
        assert "splam_score.py" in text and "--infer-strand" in text and "--genome" not in text, text
