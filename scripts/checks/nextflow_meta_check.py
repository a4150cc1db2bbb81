"""Structure checks of the Nextflow modules and schemas that need no Nextflow (run by nextflow_lint.sh).

- every module folder under modules/splamflow/ (the modules other pipelines install) has main.nf,
  meta.yml, environment.yml and tests/main.nf.test whose `script`/`process` name the module and which
  has a stub test; a module that switches on `task.accelerator` also has tests/main.gpu.nf.test
  tagged "gpu"; those under modules/local/ (this pipeline's own, run by its tests) the same but the
  nf-test files;
- meta.yml and environment.yml validate against modules/meta-schema.json and
  modules/environment-schema.json (the schemas `nf-core modules lint` reads from this repository)
  and against nf-core/modules' own, vendored at a pinned commit in scripts/checks/nf-core-schemas/;
- meta.yml lists exactly the module's inputs and emits, with EDAM ontology URLs on file outputs,
  the same `eval` version commands as main.nf, and a `topics: versions` entry for each of them;
- nextflow_schema.json and assets/schema_input.json are valid JSON Schema (draft 2020-12); the
  schema's parameters are exactly those of nextflow.config's params block, with the same defaults;
- the committed samplesheets validate against assets/schema_input.json, and the bad one the schema
  alone can reject is rejected;
- modules/environment-schema.json rejects the environment files nf-core rejects (unpinned conda or
  pip packages, pip index options, the `defaults` channel, a `name`); the vendored nf-core schema
  accepts a pinned `pip:` list and rejects unpinned packages and a `name`.
`nf-core modules lint` itself runs in tests/nextflow/test_nfcore_modules.py.
Prints one line per problem and exits 1 if there is any.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
NF_CORE_SCHEMAS = ROOT / "scripts" / "checks" / "nf-core-schemas"
SCHEMAS = (("meta.yml", "meta-schema.json"), ("environment.yml", "environment-schema.json"))
EMIT = re.compile(r"emit:\s*(\w+)")
EVAL = re.compile(r"""eval\((?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\)""")
INPUT_NAME = re.compile(r"(?:val|path)\(\s*(\w+)")
EDAM = re.compile(r"^http://edamontology\.org/format_\d{4}$")
problems: list[str] = []


def problem(where: Path | str, message: str) -> None:
    where = where.relative_to(ROOT) if isinstance(where, Path) else where
    problems.append(f"{where}: {message}")


def section(text: str, name: str) -> str:
    match = re.search(rf"^    {name}:\s*$(.*?)(?=^    \w+:\s*$)", text, re.MULTILINE | re.DOTALL)
    return match.group(1) if match else ""


def meta_names(entries: list) -> list[str]:
    """Names declared by a meta.yml input/output list (tuples are nested lists of one-key maps)."""
    names = []
    for entry in entries:
        for item in entry if isinstance(entry, list) else [entry]:
            names.extend(item.keys())
    return names


def check_module(folder: Path, validators: dict[tuple[str, Path], jsonschema.Draft202012Validator],
                 nf_tests: bool = True) -> None:
    main = folder / "main.nf"
    text = main.read_text()
    process = re.search(r"^process\s+(\w+)", text, re.MULTILINE).group(1)
    for required in ("meta.yml", "environment.yml", *(["tests/main.nf.test"] if nf_tests else [])):
        if not (folder / required).is_file():
            problem(folder, f"missing {required}")
    if "task.accelerator" in text:
        gpu_test = folder / "tests/main.gpu.nf.test"
        if not gpu_test.is_file() or 'tag "gpu"' not in gpu_test.read_text():
            problem(folder, 'a GPU module needs tests/main.gpu.nf.test tagged "gpu"')
    for test in sorted((folder / "tests").glob("*.nf.test")):
        body = test.read_text()
        if 'script "../main.nf"' not in body or f'process "{process}"' not in body:
            problem(test, f'must say script "../main.nf" and process "{process}"')
        if 'options "-stub"' not in body:
            problem(test, "no stub test")
    for (name, schema), validator in validators.items():
        path = folder / name
        if path.is_file():
            for error in validator.iter_errors(yaml.safe_load(path.read_text())):
                where = "/".join(str(part) for part in error.absolute_path) or "(top)"
                problem(path, f"{where}: {error.message} (schema {schema.relative_to(ROOT)})")
    if not (folder / "meta.yml").is_file():
        return
    meta = yaml.safe_load((folder / "meta.yml").read_text())
    if meta.get("name") != process.lower():
        problem(folder / "meta.yml", f"name {meta.get('name')!r} should be {process.lower()!r}")
    declared_inputs = INPUT_NAME.findall(section(text, "input"))
    if meta_names(meta.get("input", [])) != declared_inputs:
        problem(folder / "meta.yml", f"inputs {meta_names(meta.get('input', []))} != main.nf {declared_inputs}")
    output_text = section(text, "output")
    emits = EMIT.findall(output_text)
    if list(meta.get("output", {})) != emits:
        problem(folder / "meta.yml", f"outputs {list(meta.get('output', {}))} != main.nf emits {emits}")
    evals = [re.sub(r"\\(.)", r"\1", a or b) for a, b in EVAL.findall(output_text)]
    topic_entries = meta.get("topics", {}).get("versions", [])
    topic_evals = [
        name for entry in topic_entries for item in entry for name, spec in item.items() if spec.get("type") == "eval"
    ]
    if topic_evals != evals:
        problem(folder / "meta.yml", f"topics.versions evals {topic_evals} != main.nf {evals}")
    for emit, entries in meta.get("output", {}).items():
        for entry in entries:
            for item in entry if isinstance(entry, list) else [entry]:
                for name, spec in item.items():
                    if spec.get("type") != "file":
                        continue
                    ontologies = spec.get("ontologies")
                    if ontologies is None or "pattern" not in spec:
                        problem(folder / "meta.yml", f"output {emit}/{name}: needs pattern and ontologies")
                    for onto in ontologies or []:
                        if not EDAM.match(onto.get("edam", "")):
                            problem(folder / "meta.yml", f"output {emit}/{name}: bad EDAM URL {onto}")


def config_params() -> dict[str, object]:
    """name -> default of nextflow.config's params block (literals; expressions become None).
    `params.NAME ?: literal` (a value that keeps the command line's) is that literal."""
    text = (ROOT / "nextflow.config").read_text()
    block = re.search(r"^params \{(.*?)^\}", text, re.MULTILINE | re.DOTALL).group(1)
    values = {}
    for name, raw in re.findall(r"^\s*(\w+)\s*=\s*(.+?)\s*$", block, re.MULTILINE):
        raw = raw.strip()
        raw = re.sub(rf"^params\.{name}\s*\?:\s*", "", raw)
        if raw == "null":
            values[name] = None
        elif raw in ("true", "false"):
            values[name] = raw == "true"
        elif re.fullmatch(r"-?\d+", raw):
            values[name] = int(raw)
        elif re.fullmatch(r"-?\d+\.\d*", raw):
            values[name] = float(raw)
        elif re.fullmatch(r"'[^']*'|\"[^\"]*\"", raw):
            values[name] = raw[1:-1]
        else:
            values[name] = None
    return values


def check_schemas() -> None:
    schema_path = ROOT / "nextflow_schema.json"
    schema = json.loads(schema_path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    properties = {k: v for group in schema["$defs"].values() for k, v in group["properties"].items()}
    defaults = config_params()
    if set(properties) != set(defaults):
        problem(
            schema_path,
            f"params only in schema: {sorted(set(properties) - set(defaults))}; "
            f"only in nextflow.config: {sorted(set(defaults) - set(properties))}",
        )
    for name, spec in properties.items():
        if name in defaults and defaults[name] is not None and spec.get("default") != defaults[name]:
            problem(schema_path, f"{name}: default {spec.get('default')!r} != nextflow.config {defaults[name]!r}")
    for name, value in defaults.items():
        if value is not None and name in properties:
            for error in jsonschema.Draft202012Validator(properties[name]).iter_errors(value):
                problem(schema_path, f"nextflow.config default of {name} does not validate: {error.message}")

    input_schema_path = ROOT / "assets" / "schema_input.json"
    input_schema = json.loads(input_schema_path.read_text())
    jsonschema.Draft202012Validator.check_schema(input_schema)
    rows_validator = jsonschema.Draft202012Validator(input_schema)

    def rows(path: Path) -> list[dict[str, str]]:
        with path.open(newline="") as handle:
            return [{k: v for k, v in row.items() if v} for row in csv.DictReader(handle)]

    sheets = ROOT / "tests" / "workflow" / "samplesheets"
    for good in (ROOT / "assets" / "samplesheet.csv", ROOT / "assets" / "samplesheet_test.csv", sheets / "valid.csv"):
        for error in rows_validator.iter_errors(rows(good)):
            problem(good, f"does not validate against schema_input.json: {error.message}")
    for bad in (sheets / "missing_bam_column.csv",):
        if rows_validator.is_valid(rows(bad)):
            problem(bad, "validates against schema_input.json, but should not")


# a pinned environment, and the ways of breaking it that nf-core's schema refuses
PINNED_ENVIRONMENT = {"channels": ["conda-forge", "bioconda"], "dependencies": ["conda-forge::python=3.12"]}
UNPINNED_ENVIRONMENTS = {
    "unpinned pip package": {"dependencies": ["conda-forge::pip=25.2", {"pip": ["torch"]}]},
    "pip lower bound": {"dependencies": ["conda-forge::pip=25.2", {"pip": ["torch>=2.13.0"]}]},
    "pip index option": {"dependencies": [{"pip": ["--extra-index-url https://download.pytorch.org/whl/cpu"]}]},
    "unpinned conda package": {"dependencies": ["conda-forge::python"]},
    "conda lower bound": {"dependencies": ["conda-forge::python>=3.12"]},
    "defaults channel": {"channels": ["conda-forge", "defaults"]},
    "name key": {"name": "splam_score"},
}


# what nf-core's own schema rejects too (it lets a channel named `defaults` and conda ranges pass)
NF_CORE_REJECTS = ("unpinned pip package", "pip lower bound", "pip index option", "unpinned conda package", "name key")
PINNED_PIP = {**PINNED_ENVIRONMENT, "dependencies": ["conda-forge::pip=25.2", {"pip": ["torch==2.13.0"]}]}


def check_environment_schema(validator: jsonschema.Draft202012Validator, defects: tuple[str, ...], where: str) -> None:
    for pinned in (PINNED_ENVIRONMENT, PINNED_PIP):
        if not validator.is_valid(pinned):
            problem(where, f"rejects a pinned environment: {pinned}")
    for defect in defects:
        if validator.is_valid({**PINNED_ENVIRONMENT, **UNPINNED_ENVIRONMENTS[defect]}):
            problem(where, f"accepts an environment with this defect: {defect}")


def main() -> int:
    modules = ROOT / "modules"
    validators = {
        (name, folder / schema): jsonschema.Draft202012Validator(json.loads((folder / schema).read_text()))
        for folder in (modules, NF_CORE_SCHEMAS)
        for name, schema in SCHEMAS
    }
    for validator in validators.values():
        jsonschema.Draft202012Validator.check_schema(validator.schema)
    folders = sorted(path.parent for path in (modules / "splamflow").glob("**/main.nf"))
    if not folders:
        problem(modules, "no module under modules/splamflow/")
    for folder in folders:
        check_module(folder, validators)
    local = sorted(path.parent for path in (modules / "local").glob("**/main.nf"))
    for folder in local:
        check_module(folder, validators, nf_tests=False)
    check_schemas()
    check_environment_schema(
        validators["environment.yml", modules / "environment-schema.json"],
        tuple(UNPINNED_ENVIRONMENTS),
        "modules/environment-schema.json",
    )
    check_environment_schema(
        validators["environment.yml", NF_CORE_SCHEMAS / "environment-schema.json"],
        NF_CORE_REJECTS,
        "scripts/checks/nf-core-schemas/environment-schema.json",
    )
    for line in problems:
        print(line)
    if problems:
        return 1
    print(f"nextflow_meta_check: {len(folders) + len(local)} modules, schemas and samplesheets OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
