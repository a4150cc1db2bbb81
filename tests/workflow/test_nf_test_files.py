"""The nf-test files follow nf-test's DSL where it is strict (nf-test is not on Maven Central, so CI
cannot run them; docs/nextflow.md says what ran): no `profile` inside a test, no nft-utils plugin
functions without the plugin, only the tested process's or workflow's outputs in `then`, and one
committed snapshot per test that takes one, holding no floating-point value."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEST_FILES = (
    sorted(ROOT.glob("modules/splamflow/**/tests/*.nf.test"))
    + sorted(ROOT.glob("subworkflows/splamflow/**/tests/*.nf.test"))
    + sorted((ROOT / "tests" / "workflow").glob("*.nf.test"))
)
# functions of the nft-utils plugin, which nf-test.config does not load
NFT_UTILS = ("sanitizeOutput", "getAllFilesFromDir", "removeNextflowVersion", "removeFromYamlMap", "listToMD5")
TEST_START = re.compile(r'^\s*test\("([^"]+)"\)\s*\{', re.MULTILINE)


def blocks_of(body: str) -> dict[str, str]:
    """name -> text of each test() block (up to the next test or the end of the file)."""
    starts = list(TEST_START.finditer(body))
    ends = [match.start() for match in starts[1:]] + [len(body)]
    return {match.group(1): body[match.end() : end] for match, end in zip(starts, ends)}


def then_blocks(block: str) -> list[str]:
    """The text of each `then { ... }` in a test block, braces balanced."""
    found = []
    for match in re.finditer(r"\bthen\s*\{", block):
        depth, at = 1, match.end()
        while depth and at < len(block):
            depth += {"{": 1, "}": -1}.get(block[at], 0)
            at += 1
        found.append(block[match.end() : at - 1])
    return found


def floats_in(value: object) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [number for item in value for number in floats_in(item)]
    return []


def test_the_test_files_are_found():
    names = {path.relative_to(ROOT).as_posix() for path in TEST_FILES}
    assert "tests/workflow/default.nf.test" in names
    assert "subworkflows/splamflow/bed_score_cohort_splamflow/tests/main.nf.test" in names
    assert len([name for name in names if name.startswith("modules/")]) >= 6, names


@pytest.mark.parametrize("path", TEST_FILES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_nf_test_file(path: Path):
    body = path.read_text()
    tests = blocks_of(body)
    assert tests, "no test() block"
    config = (ROOT / "nf-test.config").read_text()
    for function in NFT_UTILS:
        assert f"{function}(" not in body or "nft-utils" in config, f"{function} needs the nft-utils plugin"
    for name, block in tests.items():
        # nf-test takes `profile` for the whole file (or nf-test.config), not inside a test
        assert not re.search(r"^\s*profile\s", block, re.MULTILINE), f"{name}: profile inside test()"
        thens = then_blocks(block)
        assert thens, f"{name}: no then block"
        for then in thens:
            # a setup process's channels are only reachable in `when`; `then` sees process/workflow
            others = set(re.findall(r"\b([A-Z][A-Z0-9_]*)\.out\b", then))
            assert not others, f"{name}: then refers to {sorted(others)}.out"
    # a module another module's setup runs must be installed too: nf-core's convention declares it as a tag
    # (`nf-core modules lint` checks the same, tests/nextflow/test_nfcore_modules.py)
    tags = set(re.findall(r'^\s*tag "([^"]+)"', body, re.MULTILINE))
    for script in re.findall(r'^\s*script "(\.\./\.\./[^"]+)/main\.nf"', body, re.MULTILINE):
        used = (path.parent / script).resolve().relative_to(ROOT / "modules" / "splamflow").as_posix()
        assert used in tags, f'setup runs {used} without `tag "{used}"`'
    with_snapshot = {name for name, block in tests.items() if "snapshot(" in block}
    snap = path.with_name(path.name + ".snap")
    if not snap.exists():
        # only the GPU tests have never run (no GPU here): no snapshot for them yet
        assert 'tag "gpu"' in body or not with_snapshot, f"{snap.name} missing"
        return
    snapshots = json.loads(snap.read_text())
    assert set(snapshots) == with_snapshot, f"{snap.name}: {sorted(set(snapshots) ^ with_snapshot)}"
    for name, entry in snapshots.items():
        assert not floats_in(entry["content"]), f"{snap.name}: {name} holds floating-point values"
