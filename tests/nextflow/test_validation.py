"""The pipeline's input checks and scatter/gather helpers, called by the real Nextflow
(tests/nextflow/validation.nf) under the strict syntax parser: committed and generated bad
samplesheets, FASTA indexes, parameters typed and as text, accelerator closures, chunk names and order;
and the extract and clean modules run with --infer-strand none and a genome (no --genome passed); the
#SBATCH lines -profile gpu gives a task with a site's clusterOptions (a stand-in sbatch), under both parsers;
the pipeline's warning on SLURM when a selector's clusterOptions drop the scoring task's GPU request."""

from __future__ import annotations

import re
from pathlib import Path

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


SBATCH_STAND_IN = """#!/usr/bin/env bash
# records the job script's #SBATCH lines, then refuses the job
grep '^#SBATCH' .command.run > "$SBATCH_HEADER"
exit 1
"""
SITES = {
    "text": ("'--comment=site --qos=normal'", ["--comment=site --qos=normal --gres=gpu:1"]),
    "list": ("['--comment=site', '--qos=normal']", ["--comment=site", "--qos=normal", "--gres=gpu:1"]),
    "closure": ('{ "--comment=site-${task.cpus}" }', ["--comment=site-1 --gres=gpu:1"]),
    "asks for a GPU": ("['--comment=site', '--gres=gpu:a100:2']", ["--comment=site", "--gres=gpu:a100:2"]),
    "none": ("null", ["--gres=gpu:1"]),
    # a site's own --gres (local scratch) gets the GPU added: sbatch keeps only the last of two --gres
    "text with a gres": (
        "'--comment=site --gres=lscratch:10 --qos=normal'", ["--comment=site --gres=lscratch:10,gpu:1 --qos=normal"],
    ),
    "list with a gres": ("['--comment=site', '--gres=lscratch:10']", ["--comment=site", "--gres=lscratch:10,gpu:1"]),
}


def sbatch_stand_in(tmp_path: Path) -> Path:
    """A folder holding the stand-in `sbatch` (writes the job's #SBATCH lines, refuses the job)."""
    shims = tmp_path / "bin"
    shims.mkdir()
    (shims / "sbatch").write_text(SBATCH_STAND_IN)
    (shims / "sbatch").chmod(0o755)
    return shims


@pytest.mark.parametrize("parser", ["v1", "v2"])
@pytest.mark.parametrize("site", SITES)
def test_gpu_profile_keeps_the_site_cluster_options(site, parser, tmp_path):
    given, wanted = SITES[site]
    config = tmp_path / "nextflow.config"
    config.write_text(
        "params.gpu_type = null\n"
        f"process {{\n    executor = 'slurm'\n    clusterOptions = {given}\n}}\n"
        f"includeConfig '{ROOT / 'conf' / 'gpu.config'}'\n"
    )
    header = tmp_path / "header.txt"
    run = nextflow(
        ["run", str(ROOT / "tests" / "nextflow" / "cluster_options.nf"), "-c", str(config)],
        tmp_path / "launch",
        extra_env={"NXF_SYNTAX_PARSER": parser, "SBATCH_HEADER": str(header)},
        path_first=sbatch_stand_in(tmp_path),
    )
    assert "Failed to submit process to grid scheduler" in run.output, run.explain()  # the stand-in refused it
    options = [line.removeprefix("#SBATCH ") for line in header.read_text().splitlines()]
    assert [o for o in options if o.startswith(("--comment", "--qos", "--gres"))] == wanted, options


SLURM_GPU_NOTE = "splamflow: SPLAMFLOW_SCORE asks for a GPU (accelerator) but its SLURM clusterOptions"
SCORE_SELECTORS = {
    # a selector that replaces the gpu profile's request: warned at start
    "by name": ("withName: 'SPLAMFLOW_SCORE' { clusterOptions = '--qos=gpu' }", True),
    "by a new label pattern": ("withLabel: 'process_.*' { clusterOptions = '--qos=site' }", True),
    # merged into conf/base.config's earlier process_medium block: the profile's request still wins
    "by process_medium": ("withLabel: 'process_medium' { clusterOptions = '--qos=site' }", False),
    "with the request": ("withName: 'SPLAMFLOW_SCORE' { clusterOptions = '--qos=gpu --gres=gpu:1' }", False),
}


@pytest.mark.parametrize("selector", SCORE_SELECTORS)
def test_pipeline_warns_when_a_selector_drops_the_slurm_gpu_request(selector, tmp_path):
    given, warned = SCORE_SELECTORS[selector]
    config = tmp_path / "site.config"
    config.write_text(f"process {{\n    executor = 'slurm'\n    {given}\n}}\n")
    run = nextflow(
        ["run", str(ROOT), "-profile", "test,gpu", "-stub", "-c", str(config), "--outdir", str(tmp_path / "out")],
        tmp_path / "launch",
        extra_env={"SBATCH_HEADER": str(tmp_path / "header.txt")},
        path_first=sbatch_stand_in(tmp_path),
    )
    assert "Failed to submit process to grid scheduler" in run.output, run.explain()  # the stand-in refused it
    assert (SLURM_GPU_NOTE in run.output) == warned, run.explain()
