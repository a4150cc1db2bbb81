"""The pipeline run by the real Nextflow with the local executor (splamflow from .venv on PATH).

- `-profile test` (BAM sample + GTF annotation of the chr20 slice, 100 junctions per scoring task):
  published files, each one's scores (from the cohort's union, scored once) byte-identical to
  `splam_score.py score` run directly on it, cleaned + discarded = input record for record (the
  discarded BAM not published), versions naming splamflow, torch and MultiQC, the MultiQC table, the
  MultiQC report whose parsed data holds the sample's clean counts and score histogram, 3 balanced
  SPLAMFLOW_SCORE tasks for the union;
- the same command with `-resume` re-executes no task;
- the strict syntax parser (NXF_SYNTAX_PARSER=v2) with typed command-line parameters and 50
  junctions per task: same bytes, the parameters (--infer_strand motif too) reach the tasks,
  `--save_discarded true` publishes the discarded BAM, `--multiqc_config` and a `--multiqc_title` with
  quotes, `$` and backquotes reach MultiQC as given;
- `-stub -profile test,gpu` with every parameter given as text (as the strict parser may pass
  them): GPU device for SPLAMFLOW_SCORE only, false stays false; room for two scoring tasks at once
  and a barrier at which each waits for the other: with gpu (maxForks 1) the first waits in vain,
  without it (the exit-175 run below, the control) both meet;
- `-stub -profile test,gpu,docker` under the strict parser: the `docker run` lines Nextflow
  builds (a stand-in `docker` records them and runs the task on this machine): GPU flags and
  the CUDA image for SPLAMFLOW_SCORE only, whatever the profile order; `--device cuda`;
- the same with `accelerator = 0` for SPLAMFLOW_SCORE in a config of the user's: the request is
  lifted (no GPU flag, the CPU image, `--device cpu`, no turns);
- `-stub -profile test` with and without `--publish_dir_mode rellink`, under both parsers: relative
  links or copies, and the reports in `--outdir`;
- `nextflow config` for docker/podman with gpu in both orders, under both parsers (no unrecognized
  config option under v2 but the named false positives);
- `-stub -profile test` without multiqc on PATH: one warning, no report; with `--skip_multiqc`: neither;
- `-stub -profile test` without `--outdir`: results in ./results, and a task that exits 175 (a
  Fusion snapshot of a reclaimed spot instance) is retried;
- bad input fails before any task with the pipeline's message; `--help`; Nextflow 24.10 refused.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pysam
import pytest
import torch

import splamflow
from tests.nextflow.nfrun import ROOT, VENV_BIN, Run, multiqc_pin, nextflow, pipeline, tasks_of, trace

pytestmark = pytest.mark.nextflow

DATA = ROOT / "tests" / "data"
SHEETS = ROOT / "tests" / "workflow" / "samplesheets"
SAMPLE = "chr20_rnaseq"  # the BAM sample of assets/samplesheet_test.csv
ANNOTATION = "chr20_slice"  # output name of tests/data/chr20_slice.gtf
V2 = {"NXF_SYNTAX_PARSER": "v2"}


def task_dirs(run: Run, process: str) -> list[Path]:
    return [Path(row["workdir"]) for row in tasks_of(trace(run), process)]


# Options that Nextflow 25.04's strict parser reports as "Unrecognized config option" although they are
# valid and read: every option under a process selector (`process.withName:X.cpus`; the selectors
# are not in its config schema, nextflow-io/nextflow#6239, fixed by #6240 in 25.06.0-edge and 25.10.0)
# and the keys of the map-valued `process.resourceLimits` (#6359, fixed in 25.08.0-edge). 25.04's
# validator stops at the first `process.ext.*` key, so what follows one is not checked. The selector must name a process
# or a label of the pipeline and the option must be one of these directives: anything else is an
# option that nothing reads.
SELECTED_DIRECTIVES = {
    "accelerator": set(),
    "clusterOptions": set(),
    "containerOptions": set(),
    "cpus": set(),
    "errorStrategy": set(),
    "ext": {"args"},
    "maxRetries": set(),
    "memory": set(),
    "publishDir": {"enabled", "mode", "path", "pattern", "saveAs"},
    "time": set(),
}
RESOURCE_LIMITS = {"process.resourceLimits.cpus", "process.resourceLimits.memory", "process.resourceLimits.time"}


def _pipeline_names() -> tuple[set[str], set[str]]:
    """(process names and aliases, process labels) of the pipeline's code."""
    modules = [path.read_text() for path in ROOT.glob("modules/**/main.nf")]
    code = [path.read_text() for path in (*ROOT.glob("workflows/**/*.nf"), *ROOT.glob("subworkflows/**/*.nf"))]
    names = {name for text in modules for name in re.findall(r"^process (\w+)", text, re.MULTILINE)}
    names |= {name for text in code for name in re.findall(r"^include \{ *\w+ +as +(\w+)", text, re.MULTILINE)}
    labels = {label for text in modules for label in re.findall(r"^\s*label '(\w+)'", text, re.MULTILINE)}
    return names, labels


def unknown_config_options(run: Run) -> list[str]:
    """The options a run warned about as unrecognized, less those named above."""
    names, labels = _pipeline_names()
    warned = set(re.findall(r"Unrecognized config option '([^']+)'", run.log() + run.output))
    unknown = []
    for option in sorted(warned - RESOURCE_LIMITS):
        found = re.fullmatch(r"process\.with(Name|Label):([^.]+)\.(\w+)(?:\.(\w+))?", option)
        selected = found and (set(found[2].split("|")) <= (names if found[1] == "Name" else labels))
        known = found and found[3] in SELECTED_DIRECTIVES
        if not (selected and known and (found[4] in SELECTED_DIRECTIVES[found[3]] if found[4] else True)):
            unknown.append(option)
    return unknown


# --------------------------------------------------------------------------------------------
# -profile test, its -resume, and the strict parser, in one launch folder
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def resume_run(runs, test_run) -> tuple[Run, Path]:
    outdir = runs / "results"
    run = pipeline(runs / "launch", outdir, "resume", "-profile", "test", "-resume")
    assert run.returncode == 0, run.explain()
    return run, outdir


# a title the shell would otherwise split, expand or run
MULTIQC_TITLE = "Splam's run: $HOME `id` \"quoted\""


@pytest.fixture(scope="module")
def strict_run(runs, resume_run) -> tuple[Run, Path]:
    outdir = runs / "results_strict"
    multiqc_config = runs / "my_multiqc_config.yml"
    multiqc_config.write_text("report_comment: a MultiQC configuration of my own\n")
    run = pipeline(
        runs / "launch_strict",
        outdir,
        "strict",
        "-profile",
        "test",
        "--score_chunk_size",
        "50",
        "--threshold",
        "0.05",
        "--paired",
        "true",
        "--infer_strand",
        "motif",
        "--save_discarded",
        "true",
        "--multiqc_config",
        str(multiqc_config),
        "--multiqc_title",
        MULTIQC_TITLE,
        env=V2,
    )
    assert run.returncode == 0, run.explain()
    return run, outdir


@pytest.fixture(scope="module")
def direct(tmp_path_factory) -> dict[str, Path]:
    """The CLI run by hand on the test data, as the test profile configures it: the BAM's extraction
    with the genome (--infer_strand auto, the default, and the modules pass --fasta), so its
    `#splamflow strand_source=XS,ts,motif` header is the pipeline's (and that of --infer_strand motif)."""
    out = tmp_path_factory.mktemp("direct")
    cli = str(VENV_BIN / "splam_score.py")
    genome = str(DATA / "chr20_slice.fa.gz")
    files = {}
    for name, source, extra in (
        (SAMPLE, DATA / "chr20_slice.bam", ["--paired", "--infer-strand", "auto", "--genome", genome]),
        (ANNOTATION, DATA / "chr20_slice.gtf", []),
    ):
        junctions, scores = out / f"{name}.junctions.bed", out / f"{name}.scores.bed"
        subprocess.run([cli, "extract", str(source), "-o", str(junctions), *extra], check=True, capture_output=True)
        subprocess.run(
            [cli, "score", str(junctions), "--genome", genome, "-o", str(scores)], check=True, capture_output=True
        )
        files[f"{name}.junctions"], files[f"{name}.scores"] = junctions, scores
    return files


PUBLISHED = {
    SAMPLE: [
        "junctions.bed",
        "scores.bed",
        "cleaned.bam",
        "cleaned.bam.bai",
        "clean_stats.json",
        "clean_stats_mqc.tsv",
        "score_histogram_mqc.json",
        "clean.png",
    ],
    ANNOTATION: [
        "junctions.bed",
        "intron_counts.tsv",
        "scores.bed",
        "cleaned.gtf",
        "transcripts.tsv",
        "clean_stats.json",
        "clean.png",
    ],
}


def test_test_profile_publishes_every_output(test_run):
    _, outdir = test_run
    for sample, endings in PUBLISHED.items():
        for ending in endings:
            path = outdir / sample / f"{sample}.{ending}"
            assert path.is_file() and path.stat().st_size > 0, f"missing or empty: {path}"
    # 247 BAM junctions and 155 annotation introns, 269 distinct, in chunks of at most 100: 3 scoring tasks
    assert len(list((outdir / "score_chunks").glob("union.chunk_*.score_stats.json"))) == 3
    for name in ("execution_report_first.html", "execution_timeline_first.html", "pipeline_dag_first.html"):
        assert (outdir / "pipeline_info" / name).is_file(), name
    # without --save_discarded the discarded alignments stay in the work folder
    assert not list(outdir.glob("**/*.discarded.bam*"))


def test_the_union_is_scored_once_in_balanced_chunks(test_run):
    _, outdir = test_run
    rows = tasks_of(trace(test_run[0]), "SPLAMFLOW_SCORE")
    assert all(row["status"] == "COMPLETED" for row in rows)
    assert sorted(row["name"].split("(")[1].rstrip(")") for row in rows) == [f"union.chunk_00000{k}" for k in range(3)]
    # 269 distinct junctions: 90 + 90 + 89 (not 100 + 100 + 69), the two samples' shared ones scored once
    sizes = []
    for row in rows:
        stats = json.loads(next(Path(row["workdir"]).glob("*.score_stats.json")).read_text())
        sizes.append(stats["rows"])
    assert sorted(sizes) == [89, 90, 90]
    assert [len(tasks_of(trace(test_run[0]), name)) for name in ("SPLAMFLOW_UNITE", "SPLAMFLOW_PROJECT")] == [1, 1]


def test_cohort_scores_are_the_bytes_of_scoring_each_directly(test_run, direct):
    _, outdir = test_run
    for name in (SAMPLE, ANNOTATION):
        assert (outdir / name / f"{name}.junctions.bed").read_bytes() == direct[f"{name}.junctions"].read_bytes()
        projected = (outdir / name / f"{name}.scores.bed").read_bytes()
        assert projected == direct[f"{name}.scores"].read_bytes(), f"{name}: cohort scores differ from scoring it alone"


def _bam_records(path: Path) -> list[pysam.AlignedSegment]:
    with pysam.AlignmentFile(str(path), "rb") as bam:
        return list(bam)


def _identity(record: pysam.AlignedSegment) -> tuple:
    # clean updates NH/HI and mate fields of kept records; this identifies a record without them
    return (
        record.query_name,
        record.is_read1,
        record.is_secondary,
        record.is_supplementary,
        record.reference_name,
        record.reference_start,
        record.cigarstring,
        record.query_sequence,
    )


def test_cleaned_plus_discarded_is_the_input_record_for_record(test_run):
    run, outdir = test_run
    source = _bam_records(DATA / "chr20_slice.bam")
    kept = _bam_records(outdir / SAMPLE / f"{SAMPLE}.cleaned.bam")
    (clean_task,) = task_dirs(run, "SPLAMFLOW_CLEAN")  # not published without --save_discarded
    dropped = _bam_records(clean_task / f"{SAMPLE}.discarded.bam")
    assert dropped, "the test data has spurious junctions: some records must be discarded"
    assert Counter(map(_identity, source)) == Counter(map(_identity, kept)) + Counter(map(_identity, dropped))
    # discarded records are written unchanged
    originals = {r.to_string() for r in source}
    assert all(r.to_string() in originals for r in dropped)
    counts = json.loads((outdir / SAMPLE / f"{SAMPLE}.clean_stats.json").read_text())["counts"]
    assert (counts["records_in"], counts["records_kept"], counts["records_discarded"]) == (
        len(source),
        len(kept),
        len(dropped),
    )


def test_versions_name_splamflow_and_torch(test_run):
    _, outdir = test_run
    text = (outdir / "pipeline_info" / "splamflow_software_versions.yml").read_text()
    versions = {}
    process = None
    for line in text.splitlines():
        if line and not line.startswith(" "):
            process = line.rstrip(":")
        elif line.strip():
            tool, _, version = line.strip().partition(": ")
            versions.setdefault(process, {})[tool] = version
    assert versions["SPLAMFLOW_SCORE"]["splamflow"] == splamflow.__version__
    assert versions["SPLAMFLOW_SCORE"]["torch"] == torch.__version__
    assert versions["SPLAMFLOW_SCORE"]["cuda"] == (torch.version.cuda or "none")
    for process in ("SPLAMFLOW_EXTRACT", "SPLAMFLOW_CLEAN", "SPLAMFLOW_EXTRACT_ANNOTATION",
                    "SPLAMFLOW_CLEAN_ANNOTATION"):
        assert versions[process]["splamflow"] == splamflow.__version__, process
    assert versions["MULTIQC"]["multiqc"] == multiqc_pin()
    assert versions["Workflow"]["Nextflow"] == "25.04.4"
    assert versions["Workflow"]["splamflow"] == splamflow.__version__


def test_multiqc_table_has_the_clean_counts(test_run):
    _, outdir = test_run
    lines = (outdir / SAMPLE / f"{SAMPLE}.clean_stats_mqc.tsv").read_text().splitlines()
    header = [line for line in lines if line.startswith("#")]
    assert "# plot_type: 'table'" in header
    columns, row = (line.split("\t") for line in lines if not line.startswith("#"))
    table = dict(zip(columns, row))
    counts = json.loads((outdir / SAMPLE / f"{SAMPLE}.clean_stats.json").read_text())["counts"]
    assert table["Sample"] == SAMPLE
    for key in ("records_in", "records_kept", "records_discarded", "junctions_scored", "junctions_spurious"):
        assert int(table[key]) == counts[key], key


def test_multiqc_report_holds_the_clean_counts_and_score_histogram(test_run):
    _, outdir = test_run
    report = outdir / "multiqc" / "multiqc_report.html"
    assert report.is_file() and "splamflow" in report.read_text()
    data = outdir / "multiqc" / "multiqc_data"
    multiqc = json.loads((data / "multiqc_data.json").read_text())
    # the pipeline's assets/multiqc_config.yml, no title
    assert multiqc["config_report_comment"].startswith("This report has been generated by the splamflow pipeline")
    assert multiqc["config_title"] is None

    def table(name: str) -> dict[str, dict[str, str]]:
        with (data / name).open(newline="") as handle:
            return {row["Sample"]: row for row in csv.DictReader(handle, delimiter="\t")}

    counts = json.loads((outdir / SAMPLE / f"{SAMPLE}.clean_stats.json").read_text())["counts"]
    clean = table("multiqc_splamflow_clean_table.txt")
    assert set(clean) == {SAMPLE}
    for key in ("records_in", "records_kept", "records_discarded", "junctions_scored", "junctions_spurious"):
        assert float(clean[SAMPLE][key]) == counts[key], key
    # MultiQC's line-graph data: percent of the sample's scored junctions per score bin, as clean wrote it
    histogram = table("multiqc_splamflow_score_histogram_plot.txt")
    assert set(histogram) == {SAMPLE}
    written = json.loads((outdir / SAMPLE / f"{SAMPLE}.score_histogram_mqc.json").read_text())["data"][SAMPLE]
    assert {x: float(y) for x, y in histogram[SAMPLE].items() if x != "Sample"} == written
    assert sum(written.values()) == pytest.approx(100, abs=0.01)
    lowest = sum(y for x, y in written.items() if float(x) < 0.1)
    assert lowest == pytest.approx(100 * counts["junctions_spurious"] / counts["junctions_scored"], abs=0.01)


def test_resume_runs_no_task_again(test_run, resume_run):
    first, again = trace(test_run[0]), trace(resume_run[0])
    assert len(again) == len(first) > 0
    assert [row["status"] for row in again] == ["CACHED"] * len(again), [row["name"] for row in again]
    assert "Submitted process" not in resume_run[0].output


def test_strict_parser_runs_with_typed_parameters(strict_run, direct):
    run, outdir = strict_run
    log = run.log()
    assert "Using script parser v2" in log and "Using config parser v2" in log
    rows = trace(run)
    assert len(tasks_of(rows, "SPLAMFLOW_SCORE")) == 6  # 269 distinct junctions, at most 50 per task
    for name in (SAMPLE, ANNOTATION):
        assert (outdir / name / f"{name}.scores.bed").read_bytes() == direct[f"{name}.scores"].read_bytes()
    stats = json.loads((outdir / SAMPLE / f"{SAMPLE}.clean_stats.json").read_text())
    assert stats["threshold"] == 0.05 and stats["options"]["paired"] is True
    # every BAM record has an XS tag: the motif rule reads the genome and changes nothing here
    assert stats["options"]["infer_strand"] == "motif"
    (clean,) = task_dirs(run, "SPLAMFLOW_CLEAN")
    assert "--genome chr20_slice.fa.gz" in (clean / ".command.sh").read_text()
    annotation = json.loads((outdir / ANNOTATION / f"{ANNOTATION}.clean_stats.json").read_text())
    assert annotation["threshold"] == 0.05
    # the default --publish_dir_mode: copies
    for name, endings in PUBLISHED.items():
        for ending in endings:
            path = outdir / name / f"{name}.{ending}"
            assert path.is_file() and not path.is_symlink(), f"not a copy: {path}"
    # --save_discarded true: the discarded alignments are published, with their index
    dropped = json.loads((outdir / SAMPLE / f"{SAMPLE}.clean_stats.json").read_text())["counts"]["records_discarded"]
    assert len(_bam_records(outdir / SAMPLE / f"{SAMPLE}.discarded.bam")) == dropped > 0
    assert (outdir / SAMPLE / f"{SAMPLE}.discarded.bam.bai").is_file()
    # --multiqc_config replaces the pipeline's; --multiqc_title reaches MultiQC as one word, as given
    multiqc = json.loads((outdir / "multiqc" / "multiqc_data" / "multiqc_data.json").read_text())
    assert multiqc["config_report_comment"].strip() == "a MultiQC configuration of my own"
    assert multiqc["config_title"] == MULTIQC_TITLE
    assert unknown_config_options(run) == []


# --------------------------------------------------------------------------------------------
# an rnaseq-style launch: a TSV sheet in a subfolder, paths relative to the launch folder, a CRAM
# row beside the BAM row, and the genome as Ensembl ships it (plain gzip, no index)
# --------------------------------------------------------------------------------------------

LIMITS_CONFIG = """
process {
    resourceLimits = [cpus: 2, memory: 6.GB, time: 1.h]
}
"""


def test_rnaseq_style_sheet_with_a_cram_row_and_a_plain_gzip_genome(tmp_path, direct):
    launch = tmp_path / "launch"
    (launch / "data").mkdir(parents=True)
    (launch / "ref").mkdir()
    (launch / "sheets").mkdir()
    for name in ("chr20_slice.bam", "chr20_slice.bam.bai"):
        shutil.copy(DATA / name, launch / "data" / name)
    cram = launch / "data" / "chr20_slice.cram"
    pysam.view("-C", "-T", str(DATA / "chr20_slice.fa.gz"), "-o", str(cram), str(DATA / "chr20_slice.bam"),
               catch_stdout=False)
    pysam.index(str(cram))
    genome = launch / "ref" / "genome.fa.gz"
    genome.write_bytes(gzip.compress(gzip.decompress((DATA / "chr20_slice.fa.gz").read_bytes())))
    # quoted cells, an empty index cell (the .crai beside the CRAM is found), relative to the launch folder
    (launch / "sheets" / "samples.tsv").write_text(
        'sample\tbam\tbai\n"from_bam"\tdata/chr20_slice.bam\t"data/chr20_slice.bam.bai"\nfrom_cram\t"data/chr20_slice.cram"\t\n'
    )
    (tmp_path / "limits.config").write_text(LIMITS_CONFIG)
    outdir = tmp_path / "results"
    run = nextflow(
        ["run", str(ROOT), "--input", "sheets/samples.tsv", "--fasta", "ref/genome.fa.gz", "--paired", "true",
         "--save_discarded", "true", "--score_chunk_size", "100", "--outdir", str(outdir),
         "-c", str(tmp_path / "limits.config")],
        launch,
    )
    assert run.returncode == 0, run.explain()
    (prepare,) = task_dirs(run, "SPLAMFLOW_PREPAREGENOME")
    words = " ".join(_script(prepare).replace("\\", "").split())
    assert "prepare-genome genome.fa.gz -o prepared/genome.fa.gz" in words, words
    for process in ("SPLAMFLOW_EXTRACT", "SPLAMFLOW_CLEAN"):
        scripts = {d.name: _script(d) for d in task_dirs(run, process)}
        assert sorted("--reference genome.fa.gz" in text for text in scripts.values()) == [False, True], scripts
        assert all("--genome genome.fa.gz" in text for text in scripts.values()), scripts
    bam, cram_out = outdir / "from_bam", outdir / "from_cram"
    # the CRAM row gives what the BAM row gives, and the BAM row what the CLI gives on the committed genome
    for ending in ("junctions.bed", "scores.bed"):
        assert (cram_out / f"from_cram.{ending}").read_bytes() == (bam / f"from_bam.{ending}").read_bytes(), ending
    assert (bam / "from_bam.junctions.bed").read_bytes() == direct[f"{SAMPLE}.junctions"].read_bytes()
    assert (bam / "from_bam.scores.bed").read_bytes() == direct[f"{SAMPLE}.scores"].read_bytes()
    for ending in ("cleaned.bam", "discarded.bam"):
        from_bam = list(map(_identity, _bam_records(bam / f"from_bam.{ending}")))
        assert list(map(_identity, _bam_records(cram_out / f"from_cram.{ending}"))) == from_bam, ending
    counts = [json.loads((outdir / name / f"{name}.clean_stats.json").read_text())["counts"]
              for name in ("from_bam", "from_cram")]
    assert counts[0] == counts[1] and counts[0]["records_discarded"] > 0, counts
    assert not (launch / "ref" / "genome.fa.gz.fai").exists(), "the genome's folder is left as it was"


# --------------------------------------------------------------------------------------------
# stub runs: parameters as text, the gpu profile, the container command lines
# --------------------------------------------------------------------------------------------


def _script(task_dir: Path) -> str:
    return (task_dir / ".command.sh").read_text()


# Room for both SPLAMFLOW_SCORE tasks of a stub run at once (the test profile caps tasks at 2 CPUs, and CI
# has 2 cores), and a barrier: each scoring task waits (at most 15 s) until the other has started too
# and records how many had started. Without `maxForks 1` both record 2 (the control run); with it the
# first waits in vain and records 1.
BARRIER_CONFIG = """
executor {
    cpus = 8
    memory = '64 GB'
}
process {
    withName: 'SPLAMFLOW_SCORE' {
        cpus = 1
        memory = '1 GB'
        beforeScript = 'WAIT'
    }
}
"""
WAIT = (
    "touch BARRIER/$(basename $PWD); "
    "for i in $(seq 60); do [ $(ls BARRIER | wc -l) -ge 2 ] && break; sleep 0.25; done; "
    "ls BARRIER | wc -l >> BARRIER.seen"
)


def barrier_config(folder: Path, before: str = "") -> tuple[Path, Path]:
    """(a config file: `before`, then the barrier; the file in which each scoring task writes what it saw)"""
    barrier = folder / "barrier"
    barrier.mkdir()
    config = folder / "barrier.config"
    config.write_text(before + BARRIER_CONFIG.replace("WAIT", WAIT).replace("BARRIER", str(barrier)))
    return config, folder / "barrier.seen"


def seen_at_the_barrier(seen: Path) -> list[int]:
    return sorted(int(line) for line in seen.read_text().split())


def test_stub_gpu_profile_with_parameters_given_as_text(tmp_path):
    # the legacy parser: with NXF_SYNTAX_PARSER=v2, Nextflow 25.04 refuses -profile test with a -c
    # config that defines no profiles (docs/nextflow.md); the v2 gpu run is the docker test below
    params = tmp_path / "params.json"
    # what the strict parser may hand over: text for every value; plus a parameter of no one's
    params.write_text(
        json.dumps(
            {"threshold": "0.05", "paired": "false", "score_chunk_size": "100", "batch_size": "64", "lab_contact": "x",
             "model": "arabidopsis"}
        )
    )
    config, seen = barrier_config(tmp_path)
    outdir = tmp_path / "results"
    run = pipeline(
        tmp_path / "launch",
        outdir,
        "stub",
        "-profile",
        "test,gpu",
        "-stub",
        "-params-file",
        str(params),
        "-c",
        str(config),
    )
    assert run.returncode == 0, run.explain()
    assert "splamflow: unknown parameter --lab_contact is ignored" in run.output
    assert "-profile gpu without docker, podman, singularity, apptainer or conda" in run.output
    for task in task_dirs(run, "SPLAMFLOW_EXTRACT") + task_dirs(run, "SPLAMFLOW_CLEAN"):
        assert "--paired" not in _script(task), "paired 'false' given as text must stay false"
    (clean,) = task_dirs(run, "SPLAMFLOW_CLEAN")
    assert "--threshold 0.05" in _script(clean)
    score_rows = tasks_of(trace(run), "SPLAMFLOW_SCORE")
    assert len(score_rows) == 2
    for row in score_rows:
        said = (Path(row["workdir"]) / ".command.out").read_text()
        assert "--device cuda" in said and "--batch-size 64" in said and "--model arabidopsis" in said, said
    assert "the local executor shares the GPUs of this machine: scoring tasks run one at a time" in run.output
    # maxForks 1: the first scoring task waited at the barrier for the second in vain (the control
    # run, test_stub_test_profile_writes_to_results_and_retries_exit_175, passes the same barrier)
    assert seen_at_the_barrier(seen)[0] == 1, seen.read_text()


RETRY_CONFIG = """
// SPLAMFLOW_PROJECT's first attempt exits as a task on a reclaimed spot instance does under Fusion
process {
    withName: 'SPLAMFLOW_PROJECT' {
        beforeScript = { task.attempt == 1 ? 'exit 175' : 'true' }
    }
}
"""


def test_stub_test_profile_writes_to_results_and_retries_exit_175(tmp_path):
    # also the control run of the GPU barrier: without the gpu profile the two scoring tasks overlap
    config, seen = barrier_config(tmp_path, RETRY_CONFIG)
    launch = tmp_path / "launch"
    run = nextflow(["run", str(ROOT), "-profile", "test", "-stub", "-c", str(config)], launch)
    assert run.returncode == 0, run.explain()
    assert seen_at_the_barrier(seen) == [2, 2], seen.read_text()
    results = launch / "results"  # the test profile's outdir
    assert (results / "pipeline_info" / "splamflow_software_versions.yml").is_file()
    scores = results / SAMPLE / f"{SAMPLE}.scores.bed"
    assert scores.is_file() and not scores.is_symlink()  # the default --publish_dir_mode: copies
    rows = tasks_of(trace(run), "SPLAMFLOW_PROJECT")
    assert Path(rows[0]["workdir"]).parent.parent == launch / "work"
    attempts = sorted((row["name"], row["status"], row["exit"]) for row in rows)
    assert attempts == [
        ("SPLAMFLOW:BED_SCORE_COHORT_SPLAMFLOW:SPLAMFLOW_PROJECT (union)", status, code)
        for status, code in (("COMPLETED", "0"), ("FAILED", "175"))
    ], attempts


def test_stub_without_multiqc_on_path_skips_the_report_with_one_warning(tmp_path):
    # PATH as `pip install splamflow` leaves it (no .venv-multiqc), no container engine: one warning, no task
    path = os.pathsep.join([str(VENV_BIN), *(p for p in os.environ["PATH"].split(os.pathsep) if "multiqc" not in p)])
    launch = tmp_path / "launch"
    run = pipeline(launch, tmp_path / "results", "nomultiqc", "-profile", "test", "-stub", env={"PATH": path})
    assert run.returncode == 0, run.explain()
    assert run.output.count("no multiqc on PATH") == 1, run.output
    assert not tasks_of(trace(run), "MULTIQC")
    # --skip_multiqc: no task and nothing to warn about
    run = pipeline(launch, tmp_path / "results", "skip", "-profile", "test", "-stub", "--skip_multiqc")
    assert run.returncode == 0, run.explain()
    assert "no multiqc on PATH" not in run.output
    assert not tasks_of(trace(run), "MULTIQC") and tasks_of(trace(run), "SPLAMFLOW_CLEAN")


DOCKER_STAND_IN = """#!/usr/bin/env bash
# records what Nextflow asks of docker; `docker run ... IMAGE CMD...` runs CMD on this machine
echo "$*" >> "$DOCKER_CALLS"
[ "$1" = run ] || exit 0
shift
while [ $# -gt 0 ]; do
    case "$1" in ghcr.io/splamflow/*|quay.io/biocontainers/multiqc:*) shift; exec "$@" ;; esac
    shift
done
echo "docker stand-in: no splamflow or MultiQC image in the command" >&2
exit 1
"""


def _docker_stand_in(tmp_path: Path) -> tuple[Path, Path]:
    """A folder holding the `docker` stand-in (put it first on PATH) and the file it records its calls in."""
    shims = tmp_path / "bin"
    shims.mkdir()
    (shims / "docker").write_text(DOCKER_STAND_IN)
    (shims / "docker").chmod(0o755)
    return shims, tmp_path / "docker_calls.txt"


def _docker_runs(calls: Path) -> list[str]:
    """The `docker run` command lines the stand-in recorded."""
    return [line for line in calls.read_text().splitlines() if line.startswith("run ")]


def test_stub_gpu_then_docker_profile_gives_gpus_to_the_scorer_only(tmp_path):
    shims, calls = _docker_stand_in(tmp_path)
    outdir = tmp_path / "results"
    run = pipeline(
        tmp_path / "launch",
        outdir,
        "docker",
        "-profile",
        "test,gpu,docker",
        "-stub",
        env={**V2, "DOCKER_CALLS": str(calls)},
        path_first=shims,
    )
    assert run.returncode == 0, run.explain()
    assert unknown_config_options(run) == []
    # the gpu profile's accelerator closure reads only params: resolved at start, no warning
    assert "cannot be evaluated at start" not in run.output
    runs = _docker_runs(calls)
    rows = trace(run)
    # a stub run: 2 extract, 1 unite, 2 score (the stub's union has one chunk per input), 1 project, 2 clean, 1 MultiQC
    assert len(runs) == len(rows) == 9, runs
    score_dirs = {str(d) for d in task_dirs(run, "SPLAMFLOW_SCORE")}
    (multiqc_dir,) = task_dirs(run, "MULTIQC")
    for line in runs:
        is_score = any(d in line for d in score_dirs)
        assert "-u " in line, line  # the docker profile's runOptions survive
        assert ("--gpus all" in line) == is_score, line
        image = ("ghcr.io/splamflow/splamflow:0.1.0-cuda " if is_score
                 else "quay.io/biocontainers/multiqc:1.35--pyhdfd78af_1 " if str(multiqc_dir) in line
                 else "ghcr.io/splamflow/splamflow:0.1.0 ")
        assert image in line, line
    for task in score_dirs:
        assert "--device cuda" in (Path(task) / ".command.out").read_text(), task


# A selector of the user's own lifts -profile gpu's request for the scorer (an accelerator of 0, as
# the start-up check reads it: fp16 refused, no turns): the scoring tasks then get the CPU image,
# no GPU flag and --device cpu, as without the profile
LIFTED_CONFIG = """
process {
    withName: 'SPLAMFLOW_SCORE' {
        accelerator = 0
    }
}
"""


def test_stub_gpu_request_lifted_by_a_selector_scores_on_cpu(tmp_path):
    shims, calls = _docker_stand_in(tmp_path)
    config = tmp_path / "lifted.config"
    config.write_text(LIFTED_CONFIG)
    # the legacy parser: Nextflow 25.04's v2 refuses -profile test with a -c config without profiles
    run = pipeline(
        tmp_path / "launch",
        tmp_path / "results",
        "lifted",
        "-profile",
        "test,gpu,docker",
        "-stub",
        "-c",
        str(config),
        env={"DOCKER_CALLS": str(calls)},
        path_first=shims,
    )
    assert run.returncode == 0, run.explain()
    assert "scoring tasks run one at a time" not in run.output
    runs = _docker_runs(calls)
    score_dirs = {str(d) for d in task_dirs(run, "SPLAMFLOW_SCORE")}
    assert len(score_dirs) == 2 and len(runs) == len(trace(run)) == 9, runs
    for line in runs:
        assert "--gpus all" not in line and "0.1.0-cuda" not in line, line
    for task in score_dirs:
        said = (Path(task) / ".command.out").read_text()
        assert "--device cpu" in said, said


# Under the strict parser, Nextflow 25.04 loads the command-line params and then a config's params block
# overwrote them (nextflow-io/nextflow#6363): nextflow.config and conf/test.config keep a value given
# on the command line for the options config files read (publishDir's mode, the report files' folder
# and names). Without that, v2 published copies and wrote the reports to the test profile's ./results.
@pytest.mark.parametrize("mode", ["default", "rellink"])
@pytest.mark.parametrize("parser", ["v1", "v2"])
def test_publish_dir_mode_and_outdir_of_the_command_line(parser, mode, tmp_path):
    outdir = tmp_path / "results"
    launch = tmp_path / "launch"
    given = [] if mode == "default" else ["--publish_dir_mode", mode]
    run = pipeline(launch, outdir, "mode", "-profile", "test", "-stub", *given, env=V2 if parser == "v2" else None)
    assert run.returncode == 0, run.explain()
    assert ("Using config parser v2" in run.log()) == (parser == "v2")
    published = [outdir / name / f"{name}.{ending}" for name, endings in PUBLISHED.items() for ending in endings]
    published += list((outdir / "score_chunks").glob("*.score_stats.json"))
    # a stub run's union has one chunk per input: two
    assert len(published) == len(PUBLISHED[SAMPLE]) + len(PUBLISHED[ANNOTATION]) + 2
    for path in published:
        if mode == "default":
            assert path.is_file() and not path.is_symlink(), f"not a copy: {path}"
        else:
            # rellink: neither the default (copy) nor what PublishDir falls back to (an absolute symlink)
            assert path.is_symlink() and not os.readlink(path).startswith("/"), f"not a relative link: {path}"
    # the reports follow --outdir and --trace_report_suffix, not the test profile's outdir
    info = outdir / "pipeline_info"
    for name in ("execution_report", "execution_timeline", "execution_trace", "pipeline_dag"):
        assert len(list(info.glob(f"{name}_mode.*"))) == 1, f"{name}_mode.* not in {info}"
    assert not (launch / "results").exists()


def _config(profiles: str, env: dict | None, tmp_path: Path) -> list[str]:
    """`nextflow config -flat` lines, sorted; without the start time that names the report files.
    Under v2 the config of these profiles has no option that nothing reads, either."""
    launch = tmp_path / profiles.replace(",", "_")
    run = nextflow(["config", "-flat", "-profile", profiles, str(ROOT)], launch, extra_env=env)
    assert run.returncode == 0, run.explain()
    assert unknown_config_options(run) == [], profiles
    return sorted(
        line
        for line in run.output.splitlines()
        if not line.startswith("WARN: Unrecognized config option") and not re.search(r"\d{4}-\d\d-\d\d_\d\d-", line)
    )


@pytest.mark.parametrize("parser", ["v1", "v2"])
@pytest.mark.parametrize("engine", ["docker", "podman"])
def test_gpu_settings_do_not_depend_on_profile_order(parser, engine, tmp_path):
    env = V2 if parser == "v2" else None
    first, second = _config(f"{engine},gpu", env, tmp_path), _config(f"gpu,{engine}", env, tmp_path)
    assert first == second
    text = "\n".join(first)
    gpu = "process.'withLabel:process_gpu'."
    assert any(line.startswith(f"{gpu}accelerator = ") for line in first), first
    assert any(line.startswith(f"{gpu}clusterOptions = ") for line in first) and "--gres=gpu:" in text, first
    assert not any("maxForks" in line for line in first), first  # no turns on a scheduler: set at start for local
    assert f"{engine}.enabled = true" in first
    options = [line for line in first if "containerOptions" in line or "runOptions" in line]
    assert [line for line in options if "containerOptions" in line] == [f"{gpu}containerOptions = {{"], options
    assert not any("--gpus" in line or "--nv" in line for line in options), options
    assert "--gpus all" in text and "--device nvidia.com/gpu=all" in text and "'--nv'" in text


# --------------------------------------------------------------------------------------------
# bad input, --help, unsupported Nextflow
# --------------------------------------------------------------------------------------------

# samplesheet problems are looked for once the parameters are valid: one run per samplesheet; the
# parameter problems are all reported by one run (every problem is reported at once)
BAD_INPUT = {
    "missing_bam": (
        ["--input", str(SHEETS / "missing_bam_file.csv")],
        ["missing_bam_file.csv line 2: bam: file not found"],
    ),
    "duplicate_sample": (
        ["--input", str(SHEETS / "duplicate_sample.csv")],
        ["duplicate_sample.csv line 4: sample 's1' repeats line 2; sample values must be unique"],
    ),
    "unknown_column": (
        ["--input", str(SHEETS / "unknown_column.csv")],
        ["unknown_column.csv line 1: unknown column(s) condition"],
    ),
    "sheet_and_parameters": (
        ["--input", str(SHEETS / "missing_bam_file.csv"), "--threshold", "2"],
        ["missing_bam_file.csv line 2: bam: file not found", "--threshold must be at most 1, not 2"],
    ),
    "parameters": (
        ["--treshold", "0.05", "--score-chunk-size", "50", "--threshold", "abc", "--batch_size", "0"]
        + ["--score_chunk_size", "0", "--precision", "fp16", "--model", "plant"],
        [
            "unknown parameter --treshold: did you mean --threshold?",  # mistyped name
            "unknown parameter --scoreChunkSize: did you mean --score_chunk_size?",  # kebab-case name
            "--threshold must be a number, not 'abc'",  # mistyped value
            "--batch_size must be at least 1, not 0",  # out of range
            "--score_chunk_size must be at least 1, not 0",
            "--precision fp16 needs a GPU (-profile gpu, or an accelerator for SPLAMFLOW_SCORE); on CPU use bf16 or "
            "fp32",
            "--model 'plant' is not a shipped model (shipped: arabidopsis, human, human_v1, default) nor a model file "
            "(.safetensors, .pt or .pth)",
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_stops_before_any_task(case, tmp_path):
    extra, messages = BAD_INPUT[case]
    run = nextflow(["run", str(ROOT), "-profile", "test", "--outdir", str(tmp_path / "results"), *extra], tmp_path)
    assert run.returncode != 0, run.explain()
    assert "splamflow: invalid input, nothing was run:" in run.output, run.explain()
    for message in messages:
        assert f"  - {message}" in run.output, run.explain()
    assert "Submitted process" not in run.output
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())
    assert "Exception" not in run.output, run.explain()


def test_help_lists_the_parameters(tmp_path):
    run = nextflow(["run", str(ROOT), "--help"], tmp_path)
    assert run.returncode == 0, run.explain()
    for name in ("--input", "--fasta", "--gtf", "--outdir", "--score_chunk_size", "--threshold", "--paired"):
        assert name in run.output, name
    assert "[default: 500000]" in run.output
    assert "Submitted process" not in run.output


def test_nextflow_24_10_is_refused_by_the_manifest(tmp_path):
    run = nextflow(["run", str(ROOT), "--help"], tmp_path, extra_env={"NXF_VER": "24.10.0"})
    assert "version 24.10.0" in run.output, run.explain()
    assert "does not match workflow required version: >=25.04.4" in run.output, run.explain()
    assert "Submitted process" not in run.output and "--score_chunk_size" not in run.output
