"""Contract tests of the Nextflow modules (and Galaxy tools) against the real command line.

Every `splam_score.py` subcommand and flag in a module's script and stub, in `conf/modules.config`'s
`ext.args`, and in `galaxy_tool/*.xml` is accepted by `splamflow.cli.build_parser()`, and the
choices the pipeline can pass (`--device`, `--precision`, ...) are choices the CLI accepts. That the
modules run, and what they write, is tested by real Nextflow runs in tests/nextflow/.
"""

from __future__ import annotations

import argparse
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from nf_parse import cli_invocations, read_process, render

from splamflow.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
MODULES = {
    path.parent.relative_to(ROOT / "modules").as_posix(): read_process(path)
    for path in sorted((ROOT / "modules").glob("**/main.nf"))
}
SUBCOMMAND_OF = {
    "SPLAMFLOW_EXTRACT": "extract",
    "SPLAMFLOW_EXTRACT_ANNOTATION": "extract",
    "SPLAMFLOW_SCORE": "score",
    "SPLAMFLOW_CLEAN": "clean",
    "SPLAMFLOW_CLEAN_ANNOTATION": "clean",
}
# processes of another tool and the flags modules.config gives them (the pipeline run checks the real tool takes them)
OTHER_TOOL_FLAGS = {"MULTIQC": {"--title"}}
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
    assert set(MODULES) >= {"splamflow/splamflow/extract", "splamflow/splamflow/score", "splamflow/splamflow/clean"}
    for proc in MODULES.values():
        assert proc.templates("script"), f"{proc.path}: no script template"
        assert proc.templates("stub"), f"{proc.path}: no stub block"


def test_module_commands_use_only_cli_flags():
    options = cli_options()
    top_level = {opt for action in build_parser()._actions for opt in action.option_strings}
    calls = module_invocations()
    # `splam_score.py --tool-versions` (SPLAMFLOW_SCORE's versions): a top-level option on its own
    version_calls = [(where, args) for where, args in calls if args and args[0].startswith("-")]
    assert {args[0] for _, args in version_calls} == {"--tool-versions"}
    for where, args in version_calls:
        words = args[: args.index(">")] if ">" in args else args  # the output redirection is the shell's
        assert len(words) == 1 and words[0] in top_level, f"{where}: {args}"
    calls = [call for call in calls if call not in version_calls]
    assert {args[0] for _, args in calls} == {"extract", "unite", "score", "project", "clean", "prepare-genome"}
    for where, args in calls:
        check_invocation(args, options, where)


def test_modules_config_ext_args_use_only_cli_flags():
    options = cli_options()
    text = (ROOT / "conf" / "modules.config").read_text()
    blocks = re.findall(r"withName:\s*'(\w+)'\s*\{(.*?)\n    \}", text, re.DOTALL)
    checked = 0
    for process, body in blocks:
        for flag in re.findall(r"(?<![\w-])(--[a-z][\w-]*)", body):
            if process in OTHER_TOOL_FLAGS:
                assert flag in OTHER_TOOL_FLAGS[process], f"modules.config: {process} gets unexpected {flag}"
                continue
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
    score = MODULES["splamflow/splamflow/score"].sections["script"]
    devices = set(re.findall(r"task\.accelerator\?\.request \? '(\w+)' : '(\w+)'", score)[0])
    assert devices == {"cuda", "cpu"}
    assert devices <= set(options["score"]["--device"].choices)


def galaxy_invocations() -> list[tuple[str, list[str]]]:
    calls = []
    macros = ROOT / "galaxy_tool" / "macros.xml"
    shared = list(ET.parse(macros).getroot().iter("token")) if macros.is_file() else []
    for xml in sorted([*(ROOT / "galaxy_tool").glob("*.xml"), *(ROOT / "galaxy_tool").glob("data_manager/*.xml")]):
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
