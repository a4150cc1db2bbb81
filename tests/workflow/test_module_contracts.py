"""Contract tests of the Nextflow modules (and Galaxy tools) against the real command line.

Nextflow is not installed here, so nothing below claims that Nextflow ran. What is checked:
- every `splam_score.py` subcommand and flag in a module's script, in `conf/modules.config`'s
  `ext.args`, and in `galaxy_tool/*.xml` is accepted by `splamflow.cli.build_parser()`, and the
  choices the pipeline can pass (`--device`, `--precision`, ...) are choices the CLI accepts;
- each module's `script:` templates, rendered with test values for the Nextflow expressions, run
  as bash in a temporary folder with the committed chr20 slice staged as Nextflow stages inputs
  (symlinks), write every output the module declares (non-empty), and its `eval` version commands
  print a version; the `stub:` templates create the same declared outputs;
- the scatter/gather used for scoring (JUNCTIONS_SPLIT, one SPLAM_SCORE per chunk, the
  workflow's ordering, JUNCTIONS_MERGE) gives the same bytes as scoring the unsplit file.
"""

from __future__ import annotations

import argparse
import filecmp
import glob
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from nf_parse import Process, brace_expand, cli_invocations, read_process, render

from splamflow.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
VENV_BIN = ROOT / ".venv" / "bin"
MODULES = {
    path.parent.relative_to(ROOT / "modules").as_posix(): read_process(path)
    for path in sorted((ROOT / "modules").glob("**/main.nf"))
}
SUBCOMMAND_OF = {"SPLAM_EXTRACT": "extract", "SPLAM_SCORE": "score", "SPLAM_CLEAN": "clean"}
SUBSET = 24  # junctions scored in these tests (CPU time is scarce here)
CHUNK = 10  # lines per chunk in the scatter/gather test: chunks of 10, 10 and 4
PLACEHOLDER = "PLACEHOLDER"  # what an input path renders to when only the flags are read


def cli_options() -> dict[str, dict[str, argparse.Action]]:
    """Subcommand -> {option string -> argparse action} of the real CLI."""
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {
        name: {opt: action for action in sp._actions for opt in action.option_strings}
        for name, sp in sub.choices.items()
    }


def check_invocation(args: list[str], options: dict[str, dict[str, argparse.Action]], where: str) -> None:
    assert args, f"{where}: splam_score.py without a subcommand"
    sub, rest = args[0], args[1:]
    assert sub in options, f"{where}: unknown subcommand {sub!r} (CLI has {sorted(options)})"
    for i, word in enumerate(rest):
        if re.match(r"^--?[A-Za-z]", word):
            flag = word.split("=", 1)[0]
            assert flag in options[sub], f"{where}: `{sub}` does not accept {flag}"
            action = options[sub][flag]
            value = rest[i + 1] if i + 1 < len(rest) else None
            if action.choices and value and value != PLACEHOLDER and not value.startswith("-"):
                assert value in action.choices, f"{where}: {flag} {value} not in {action.choices}"


# ---------------------------------------------------------------------------------------------
# Flags and subcommands
# ---------------------------------------------------------------------------------------------


class _Placeholders(dict):
    """Any expression renders to a placeholder word: enough to read the flags of a template."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return PLACEHOLDER


def module_invocations() -> list[tuple[str, list[str]]]:
    calls = []
    for name, proc in MODULES.items():
        for section in ("script", "stub"):
            for n, template in enumerate(proc.templates(section)):
                shell = render(template, _Placeholders(args="", model_arg="", genome=""))
                for args in cli_invocations(shell):
                    calls.append((f"modules/{name} {section} template {n}", args))
    return calls


def test_every_module_is_found():
    assert set(MODULES) >= {"local/splam/extract", "local/splam/score", "local/splam/clean"}
    for proc in MODULES.values():
        assert proc.templates("script"), f"{proc.path}: no script template"
        assert proc.templates("stub"), f"{proc.path}: no stub block"


def test_module_commands_use_only_cli_flags():
    options = cli_options()
    calls = module_invocations()
    assert {args[0] for _, args in calls} == {"extract", "score", "clean"}
    for where, args in calls:
        check_invocation(args, options, where)


def test_modules_config_ext_args_use_only_cli_flags():
    options = cli_options()
    text = (ROOT / "conf" / "modules.config").read_text()
    blocks = re.findall(r"withName:\s*'(\w+)'\s*\{(.*?)\n    \}", text, re.DOTALL)
    checked = 0
    for process, body in blocks:
        for flag in re.findall(r"(?<![\w-])(--[a-z][\w-]*)", body):
            assert process in SUBCOMMAND_OF, f"modules.config gives {flag} to {process}, which runs no CLI"
            assert flag in options[SUBCOMMAND_OF[process]], f"modules.config: {process} gets unknown {flag}"
            checked += 1
    assert checked >= 5


def test_pipeline_choices_are_cli_choices():
    import json

    options = cli_options()
    schema = json.loads((ROOT / "nextflow_schema.json").read_text())
    props = {k: v for group in schema["$defs"].values() for k, v in group["properties"].items()}
    assert set(props["precision"]["enum"]) <= set(options["score"]["--precision"].choices)
    assert set(props["strandness"]["enum"]) <= set(options["extract"]["--strandness"].choices)
    assert set(props["strandness"]["enum"]) <= set(options["clean"]["--strandness"].choices)
    assert set(props["infer_strand"]["enum"]) <= set(options["extract"]["--infer-strand"].choices)
    score = MODULES["local/splam/score"].sections["script"]
    devices = set(re.findall(r"task\.accelerator \? '(\w+)' : '(\w+)'", score)[0])
    assert devices == {"cuda", "cpu"}
    assert devices <= set(options["score"]["--device"].choices)


def galaxy_invocations() -> list[tuple[str, list[str]]]:
    calls = []
    macros = ROOT / "galaxy_tool" / "macros.xml"
    shared = list(ET.parse(macros).getroot().iter("token")) if macros.is_file() else []
    for xml in sorted((ROOT / "galaxy_tool").glob("*.xml")):
        root = ET.parse(xml).getroot()
        command = root.find("command")
        if command is None or not command.text:
            continue
        text = command.text
        for token in [*root.iter("token"), *shared]:  # the tool's own macros, then macros.xml's
            text = text.replace(token.get("name"), token.text or "")
        text = re.sub(r"^\s*#.*$", "", text, flags=re.MULTILINE)  # Cheetah directives
        for part in re.split(r"(?=splam_score\.py\s)", text)[1:]:
            part = re.split(r"&&|\|\||;|\|", part)[0]
            words = part.split()
            sub = words[1]
            flags = re.findall(r"(?<![\w$:{-])(--?[A-Za-z][\w-]*)", " ".join(words[2:]))
            # boolean parameters put their flag in truevalue/falsevalue, some selects in their values
            flags += [
                value
                for param in root.iter("param")
                for value in (param.get("truevalue"), param.get("falsevalue"))
                if value and value.startswith("-")
            ]
            flags += [o.get("value") for o in root.iter("option") if (o.get("value") or "").startswith("-")]
            calls.append((xml.name, [sub, *flags]))
    return calls


def test_galaxy_commands_use_only_cli_flags():
    if not (ROOT / "galaxy_tool").is_dir():
        pytest.skip("no galaxy_tool/ in this checkout")
    options = cli_options()
    calls = galaxy_invocations()
    assert calls, "galaxy_tool/*.xml has no splam_score.py command"
    for where, args in calls:
        check_invocation(args, options, where)


# ---------------------------------------------------------------------------------------------
# Executing the module scripts
# ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    """One rendered template executed in its own folder."""

    proc: Process
    folder: Path
    values: dict[str, str]
    expected: set[str] = field(default_factory=set)  # emits this branch must write


def stage(folder: Path, *paths: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        (folder / path.name).symlink_to(path)


def bash(script: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", "-C", "-e", "-u", "-o", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    if check:
        assert result.returncode == 0, f"exit {result.returncode} in {cwd}:\n{script}\n{result.stderr[-3000:]}"
    return result


def execute(proc: Process, section: str, branch: int, folder: Path, values: dict[str, str]) -> None:
    bash(render(proc.templates(section)[branch], values), folder)


def declared_files(run: Run, emit: str) -> list[Path]:
    (output,) = [o for o in run.proc.outputs if o.emit == emit]
    found = []
    for pattern in output.patterns:
        rendered = render(pattern, run.values)
        for plain in brace_expand(rendered):
            found += [Path(p) for p in glob.glob(str(run.folder / plain))]
    return found


def check_outputs(run: Run) -> None:
    """Every path output this branch promises exists and is non-empty; no other optional one appears
    unless listed; versions evaluate."""
    for output in run.proc.outputs:
        if output.patterns:
            files = declared_files(run, output.emit)
            if not output.optional or output.emit in run.expected:
                assert files, f"{run.proc.name}: output `{output.emit}` {output.patterns} not written in {run.folder}"
                for path in files:
                    assert path.stat().st_size > 0, f"{run.proc.name}: output {path} is empty"
            else:
                assert not files, f"{run.proc.name}: unexpected optional `{output.emit}` in this branch: {files}"
        for command in output.evals:
            version = bash(command, run.folder).stdout.strip()
            assert version and "\n" not in version, f"{run.proc.name}: eval({command!r}) printed {version!r}"


def common(prefix: str, cpus: int = 1, args: str = "") -> dict[str, str]:
    return {"prefix": prefix, "task.cpus": str(cpus), "args": args}


FASTA = [DATA / "chr20_slice.fa.gz", DATA / "chr20_slice.fa.gz.fai", DATA / "chr20_slice.fa.gz.gzi"]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("modules")


@pytest.fixture(scope="module")
def extract_runs(work: Path) -> dict[str, Run]:
    """SPLAM_EXTRACT on the BAM (branch 1, with --paired as modules.config passes it) and on the GTF
    (branch 0)."""
    proc = MODULES["local/splam/extract"]
    bam = Run(
        proc,
        work / "extract_bam",
        {**common("sample", 2, "--paired"), "input": "chr20_slice.bam", "genome": ""},
        {"bed"},
    )
    stage(bam.folder, DATA / "chr20_slice.bam", DATA / "chr20_slice.bam.bai", *FASTA)
    execute(proc, "script", 1, bam.folder, bam.values)
    gtf = Run(
        proc,
        work / "extract_gtf",
        {**common("genes"), "input": "chr20_slice.gtf", "genome": ""},
        {"bed", "intron_counts"},
    )
    stage(gtf.folder, DATA / "chr20_slice.gtf", *FASTA)
    execute(proc, "script", 0, gtf.folder, gtf.values)
    return {"bam": bam, "gtf": gtf}


def subset(source: Path, target: Path, lines: int = SUBSET) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(source.read_text().splitlines(keepends=True)[:lines]))
    return target


def score_values(prefix: str, junctions: str) -> dict[str, str]:
    # the pipeline default: no --model (the model shipped in the package), CPU (no accelerator)
    return {**common(prefix), "junctions": junctions, "fasta": "chr20_slice.fa.gz", "model_arg": "", "device": "cpu"}


@pytest.fixture(scope="module")
def score_runs(work: Path, extract_runs: dict[str, Run]) -> dict[str, Run]:
    """SPLAM_SCORE on the first SUBSET junctions of each extraction."""
    proc = MODULES["local/splam/score"]
    runs = {}
    for kind, run in extract_runs.items():
        folder = work / f"score_{kind}"
        source = declared_files(run, "bed")[0]
        subset(source, folder / "junctions.bed")
        stage(folder, *FASTA)
        runs[kind] = Run(proc, folder, score_values(run.values["prefix"], "junctions.bed"), {"bed", "stats"})
        execute(proc, "script", 0, folder, runs[kind].values)
    return runs


@pytest.fixture(scope="module")
def clean_runs(work: Path, score_runs: dict[str, Run]) -> dict[str, Run]:
    """SPLAM_CLEAN on the BAM (branch 1) and the GTF (branch 0) with the scores above."""
    proc = MODULES["local/splam/clean"]
    bam = Run(
        proc,
        work / "clean_bam",
        {
            # what conf/modules.config's ext.args gives a BAM sample with --paired
            **common("sample", 2, "--threshold 0.1 --sample sample --paired"),
            "input": "chr20_slice.bam",
            "scores": "sample.scores.bed",
        },
        {"bam", "bai", "discarded", "discarded_bai", "mqc", "stats", "plot"},
    )
    stage(bam.folder, DATA / "chr20_slice.bam", DATA / "chr20_slice.bam.bai", *declared_files(score_runs["bam"], "bed"))
    execute(proc, "script", 1, bam.folder, bam.values)
    gtf = Run(
        proc,
        work / "clean_gtf",
        {
            **common("genes", 1, "--threshold 0.1"),
            "input": "chr20_slice.gtf",
            "scores": "genes.scores.bed",
            "annotation_ext": "gtf",
        },
        {"annotation", "report", "stats", "plot"},
    )
    stage(gtf.folder, DATA / "chr20_slice.gtf", *declared_files(score_runs["gtf"], "bed"))
    execute(proc, "script", 0, gtf.folder, gtf.values)
    return {"bam": bam, "gtf": gtf}


def test_extract_script_writes_declared_outputs(extract_runs):
    for run in extract_runs.values():
        check_outputs(run)
    truth = (DATA / "chr20_slice.truth.tsv").read_text().splitlines()[1:]
    junctions = declared_files(extract_runs["bam"], "bed")[0].read_text().splitlines()
    assert len(junctions) == len(truth)  # one row per distinct (intron, strand) in the BAM


def test_score_script_writes_declared_outputs(score_runs):
    for run in score_runs.values():
        check_outputs(run)
        (scores,) = declared_files(run, "bed")
        rows = [line.split("\t") for line in scores.read_text().splitlines()]
        assert len(rows) == SUBSET
        assert all(0.0 <= float(row[6]) <= 1.0 and 0.0 <= float(row[7]) <= 1.0 for row in rows)
    gtf_rows = declared_files(score_runs["gtf"], "bed")[0].read_text().splitlines()
    assert all(len(line.split("\t")) == 9 for line in gtf_rows)  # the transcript-id column is kept


def test_clean_script_writes_declared_outputs(clean_runs):
    import pysam

    for run in clean_runs.values():
        check_outputs(run)
    bam = clean_runs["bam"]
    (kept,) = declared_files(bam, "bam")
    (discarded,) = declared_files(bam, "discarded")
    with pysam.AlignmentFile(str(DATA / "chr20_slice.bam")) as original:
        total = sum(1 for _ in original.fetch(until_eof=True))
    counts = []
    for path in (kept, discarded):
        with pysam.AlignmentFile(str(path)) as out:
            counts.append(sum(1 for _ in out.fetch(until_eof=True)))
    assert sum(counts) == total
    (table,) = declared_files(bam, "mqc")
    rows = [line.split("\t") for line in table.read_text().splitlines() if not line.startswith("#")]
    assert rows[1][0] == "sample"  # MultiQC names the row by the sample id the pipeline passes


def test_stub_blocks_write_declared_outputs(tmp_path):
    cases = {
        "local/splam/extract": [
            (0, {**common("genes"), "input": "x.gtf"}, {"bed", "intron_counts"}),
            (0, {**common("sample"), "input": "x.bam"}, {"bed"}),
        ],
        "local/splam/score": [(0, {**common("sample")}, {"bed", "stats"})],
        "local/splam/clean": [
            (0, {**common("genes"), "annotation_ext": "gtf"}, {"annotation", "report", "stats", "plot"}),
            (
                1,
                {**common("sample"), "annotation_ext": "bam"},
                {"bam", "bai", "discarded", "discarded_bai", "mqc", "stats", "plot"},
            ),
        ],
        "local/junctions/split": [(0, {"prefix": "sample"}, {"chunks"})],
        "local/junctions/merge": [(0, {"prefix": "sample"}, {"bed"})],
    }
    assert set(cases) == set(MODULES)
    for name, branches in cases.items():
        proc = MODULES[name]
        for n, (branch, values, expected) in enumerate(branches):
            folder = tmp_path / f"{name.replace('/', '_')}_{n}"
            folder.mkdir()
            # Groovy decides is_annotation before the stub runs; give the rendered value
            if "is_annotation" in proc.sections["stub"]:
                values = {**values, "is_annotation": str(values["input"].endswith(".gtf")).lower()}
            execute(proc, "stub", branch, folder, values)
            for output in proc.outputs:
                if not output.patterns:
                    continue
                files = declared_files(Run(proc, folder, values), output.emit)
                if output.emit in expected:
                    assert files, f"{name} stub: `{output.emit}` not created"
                elif output.optional:
                    assert not files, f"{name} stub: unexpected `{output.emit}`"


# ---------------------------------------------------------------------------------------------
# Scatter/gather: split, score per chunk, order, merge == unsplit
# ---------------------------------------------------------------------------------------------


def workflow_chunk_regex() -> re.Pattern:
    """The chunk-index regex of workflows/splamflow.nf (the order the gather sorts by)."""
    text = (ROOT / "workflows" / "splamflow.nf").read_text()
    (pattern,) = re.findall(r"chunk\.name =~ /(.+?)/\n", text)
    return re.compile(pattern)


def score_chunk_prefix(sample: str, chunk: int) -> str:
    """SPLAM_SCORE's ext.prefix for a chunk, from conf/modules.config."""
    text = (ROOT / "conf" / "modules.config").read_text()
    pattern = r"ext\.prefix = \{ \"\$\{meta\.id\}\.chunk_\$\{String\.format\('([^']+)', meta\.chunk\)\}\" \}"
    (fmt,) = re.findall(pattern, text)
    return f"{sample}.chunk_{fmt % chunk}"


def merge_stage_names(count: int) -> list[str]:
    """How Nextflow stages a list of `count` files for JUNCTIONS_MERGE's stageAs pattern: each run of
    `?` becomes the 1-based list position, zero-padded to the run's length."""
    (pattern,) = re.findall(r"stageAs:\s*'([^']+)'", MODULES["local/junctions/merge"].sections["input"])
    run = re.search(r"\?+", pattern)
    return [
        pattern[: run.start()] + str(i).zfill(len(run.group(0))) + pattern[run.end() :] for i in range(1, count + 1)
    ]


def split(folder: Path, junctions: Path, prefix: str, chunk_size: int) -> list[Path]:
    proc = MODULES["local/junctions/split"]
    stage(folder, junctions)
    execute(proc, "script", 0, folder, {"prefix": prefix, "junctions": junctions.name, "chunk_size": str(chunk_size)})
    run = Run(proc, folder, {"prefix": prefix})
    check_outputs(Run(proc, folder, {"prefix": prefix}, {"chunks"}))
    return sorted(declared_files(run, "chunks"))


def merge(folder: Path, ordered: list[Path], prefix: str) -> Path:
    proc = MODULES["local/junctions/merge"]
    folder.mkdir(parents=True)
    for name, path in zip(merge_stage_names(len(ordered)), ordered, strict=True):
        (folder / name).symlink_to(path)
    values = {"prefix": prefix, "n_chunks": str(len(ordered))}
    execute(proc, "script", 0, folder, values)
    run = Run(proc, folder, values, {"bed"})
    check_outputs(run)
    (merged,) = declared_files(run, "bed")
    return merged


def test_split_writes_fixed_size_chunks_in_order(tmp_path):
    junctions = subset(DATA / "chr20_slice.truth.tsv", tmp_path / "in" / "sample.junctions.bed", 26)
    chunks = split(tmp_path / "split", junctions, "sample", CHUNK)
    regex = workflow_chunk_regex()
    assert [int(regex.search(c.name).group(1)) for c in chunks] == [0, 1, 2]
    assert [len(c.read_text().splitlines()) for c in chunks] == [10, 10, 6]
    assert "".join(c.read_text() for c in chunks) == junctions.read_text()


def test_split_of_empty_input_gives_one_empty_chunk(tmp_path):
    empty = tmp_path / "in" / "sample.junctions.bed"
    empty.parent.mkdir()
    empty.write_text("")
    folder = tmp_path / "split"
    stage(folder, empty)
    execute(
        MODULES["local/junctions/split"],
        "script",
        0,
        folder,
        {"prefix": "sample", "junctions": empty.name, "chunk_size": "5"},
    )
    assert [p.name for p in folder.glob("sample.chunk_*.bed")] == ["sample.chunk_000000.bed"]


def test_merge_fails_when_a_part_is_missing(tmp_path):
    folder = tmp_path / "merge"
    folder.mkdir()
    names = merge_stage_names(3)
    for name in (names[0], names[2]):
        (folder / name).write_text("x\n")
    result = bash(
        render(MODULES["local/junctions/merge"].templates("script")[0], {"prefix": "sample", "n_chunks": "3"}),
        folder,
        check=False,
    )
    assert result.returncode != 0


def test_sharded_scoring_merges_to_the_unsplit_bytes(tmp_path, score_runs):
    """Split the junctions the unsplit score run used, score each chunk as its own task (finishing
    in reverse order, as parallel tasks may), sort by the workflow's chunk index, merge, compare."""
    unsplit = score_runs["bam"]
    (expected,) = declared_files(unsplit, "bed")
    junctions = unsplit.folder / "junctions.bed"
    chunks = split(tmp_path / "split", junctions, "sample", CHUNK)
    assert len(chunks) == 3
    regex = workflow_chunk_regex()
    finished = []
    for chunk in reversed(chunks):
        index = int(regex.search(chunk.name).group(1))
        folder = tmp_path / f"score_{index}"
        stage(folder, chunk, *FASTA)
        values = score_values(score_chunk_prefix("sample", index), chunk.name)
        execute(MODULES["local/splam/score"], "script", 0, folder, values)
        (scores,) = declared_files(Run(MODULES["local/splam/score"], folder, values), "bed")
        finished.append((index, scores))
    ordered = [scores for _, scores in sorted(finished)]
    merged = merge(tmp_path / "merge", ordered, "sample")
    assert filecmp.cmp(merged, expected, shallow=False), "merged chunk scores differ from the unsplit scores"
