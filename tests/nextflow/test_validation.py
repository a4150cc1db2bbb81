"""The pipeline's input checks and scatter/gather helpers, called by the real Nextflow
(tests/nextflow/validation.nf) under the strict syntax parser: committed and generated bad
samplesheets, FASTA indexes, parameters typed and as text, chunk names and order."""

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
