"""One version everywhere (issue 7): the package, both container images, the Apptainer definition,
the Nextflow modules, the Galaxy macros and the conda environments agree, and the pins in the
Dockerfiles satisfy what the package declares. Reads files only; no network, no Docker.
"""

from __future__ import annotations

import os
import re
import shlex
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

import splamflow

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "ghcr.io/splamflow/splamflow"
VERSION = splamflow.__version__
ALLOWED_TAGS = {VERSION, f"{VERSION}-cuda"}
DOCKERFILES = {"cuda": ROOT / "containers" / "Dockerfile", "cpu": ROOT / "containers" / "Dockerfile.cpu"}
BIOCONTAINERS_LABELS = (
    "software",
    "software.version",
    "version",
    "base_image",
    "about.summary",
    "about.home",
    "about.license",
    "about.documentation",
    "about.tags",
)
# Dockerfile ARG holding the pinned version -> distribution name
PIN_ARGS = {
    "TORCH_VERSION": "torch",
    "NUMPY_VERSION": "numpy",
    "PYSAM_VERSION": "pysam",
    "SAFETENSORS_VERSION": "safetensors",
    "TQDM_VERSION": "tqdm",
    "MATPLOTLIB_VERSION": "matplotlib",
}
# conda package names -> the PyPI distribution they provide
CONDA_ALIASES = {
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "pytorch-gpu": "torch",
    "matplotlib-base": "matplotlib",
}
# image:tag, the tag ending in a letter or digit (a sentence's full stop is not part of it)
IMAGE_REF = re.compile(re.escape(IMAGE) + r":([\w@](?:[\w.@-]*[\w@])?)")
# a quoted registry/name:tag inside a container directive
ANY_IMAGE_REF = re.compile(r"['\"](?:docker://)?([\w.-]+\.[\w.-]+/[\w./-]+:[\w.-]+)['\"]")
SKIP_DIRS = {"work", "results", "runs", "tmp", "data", "build", "dist", "node_modules", "__pycache__"}
TEXT_SUFFIXES = {".nf", ".config", ".xml", ".md", ".def", ".yml", ".yaml", ".sh", ".py", ".toml", ".txt"}


@dataclass
class Stage:
    """One build stage of a Dockerfile: its base image and instructions (continuations joined)."""

    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def values(self, keyword: str) -> list[str]:
        return [rest for key, rest in self.instructions if key == keyword]

    def args(self) -> dict[str, str]:
        out = {}
        for rest in self.values("ARG"):
            name, _, value = rest.partition("=")
            out[name.strip()] = value.strip()
        return out

    def labels(self) -> dict[str, str]:
        out = {}
        for rest in self.values("LABEL"):
            for token in shlex.split(rest):
                key, _, value = token.partition("=")
                out[key] = value
        return out


def parse_dockerfile(path: Path) -> list[Stage]:
    """Split a Dockerfile into stages of (KEYWORD, rest-of-instruction)."""
    stages: list[Stage] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        pending = ""
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            stages.append(Stage(base=rest.split()[0]))
        else:
            stages[-1].instructions.append((keyword, rest))
    return stages


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def declared_requirements() -> dict[str, Requirement]:
    """Runtime and optional requirements of the package, by distribution name."""
    project = pyproject()["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in project.get("optional-dependencies", {}).values():
        reqs += [Requirement(r) for r in extra]
    return {r.name: r for r in reqs}


def image_pins() -> dict[str, str]:
    """Pinned versions (distribution -> version) and PYTHON_VERSION of the CPU image."""
    args = parse_dockerfile(DOCKERFILES["cpu"])[0].args()
    pins = {dist: args[arg] for arg, dist in PIN_ARGS.items()}
    pins["python"] = args["PYTHON_VERSION"]
    return pins


def all_stage_args(path: Path) -> dict[str, set[str]]:
    """ARG name -> the set of default values it has across the Dockerfile's stages."""
    out: dict[str, set[str]] = {}
    for stage in parse_dockerfile(path):
        for name, value in stage.args().items():
            out.setdefault(name, set()).add(value)
    return out


def repo_text_files():
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS]
        dirnames[:] = [d for d in dirnames if not d.endswith(".egg-info")]
        for name in filenames:
            path = Path(dirpath, name)
            if path.suffix in TEXT_SUFFIXES or name.startswith("Dockerfile"):
                yield path


def galaxy_tokens() -> dict[str, str]:
    macros = ROOT / "galaxy_tool" / "macros.xml"
    return {t.get("name"): (t.text or "").strip() for t in ET.parse(macros).getroot().iter("token")}


# --- the package -------------------------------------------------------------------------------


def test_package_version_has_one_source():
    project = pyproject()
    assert "version" in project["project"]["dynamic"]
    assert "version" not in project["project"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "splamflow.__version__"}
    Version(VERSION)  # a valid PEP 440 version


def test_cli_reports_the_package_version(capsys):
    from splamflow.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code in (0, None)
    assert capsys.readouterr().out.startswith(f"splam_score.py {VERSION} ")


# --- the Dockerfiles ---------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", sorted(DOCKERFILES))
def test_dockerfile_labels(flavour):
    stages = parse_dockerfile(DOCKERFILES[flavour])
    final = stages[-1]
    labels = final.labels()
    missing = [key for key in BIOCONTAINERS_LABELS if not labels.get(key)]
    assert not missing, f"{flavour}: BioContainers labels missing: {missing}"
    license_id = pyproject()["project"]["license"]
    assert labels["software"] == "splamflow"
    assert labels["software.version"] == VERSION
    assert labels["org.opencontainers.image.version"] == VERSION
    assert labels["version"].isdigit(), "BioContainers `version` is the Dockerfile revision"
    assert labels["base_image"] == final.base
    assert labels["about.license"] == f"SPDX:{license_id}"
    assert labels["org.opencontainers.image.licenses"] == license_id
    for key in ("about.home", "about.documentation", "org.opencontainers.image.source"):
        assert labels[key].startswith("https://"), key


@pytest.mark.parametrize("flavour", sorted(DOCKERFILES))
def test_dockerfile_runtime_contract(flavour):
    text = DOCKERFILES[flavour].read_text()
    stages = parse_dockerfile(DOCKERFILES[flavour])
    final = stages[-1]
    assert len(stages) >= 2, "multi-stage: the final image gets only the built environment"
    assert any(rest.startswith("--from=") for rest in final.values("COPY"))
    assert all(rest.strip() == "[]" for rest in final.values("ENTRYPOINT")), "no ENTRYPOINT"
    users = final.values("USER")
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image runs as a non-root user"
    assert not re.search(r"(curl|wget)[^\n|]*\|\s*(ba)?sh", text), "no curl | sh"
    for stage in stages:
        for rest in stage.values("RUN"):
            if "pip install" in rest:
                assert "--no-cache-dir" in rest, rest
    runs = " ".join(final.values("RUN"))
    assert "splam_score.py --version" in runs and "default_model_path" in runs, "the build smoke-tests"


def test_dockerfiles_pin_the_same_versions():
    cuda, cpu = (all_stage_args(DOCKERFILES[f]) for f in ("cuda", "cpu"))
    for arg in (*PIN_ARGS, "PYTHON_VERSION"):
        assert len(cuda[arg]) == 1 and len(cpu[arg]) == 1, f"{arg} differs between stages"
        assert cuda[arg] == cpu[arg], f"{arg}: CUDA image {cuda[arg]} vs CPU image {cpu[arg]}"


def test_pins_satisfy_what_the_package_declares():
    declared = declared_requirements()
    pins = image_pins()
    runtime = {Requirement(r).name for r in pyproject()["project"]["dependencies"]}
    unpinned = runtime - set(pins)
    assert not unpinned, f"runtime dependencies without a pin in the Dockerfiles: {sorted(unpinned)}"
    for dist, version in pins.items():
        if dist == "python":
            continue
        assert dist in declared, f"the images pin {dist}, which pyproject.toml does not declare"
        assert Version(version) in declared[dist].specifier, f"{dist}=={version} vs {declared[dist]}"
    requires_python = SpecifierSet(pyproject()["project"]["requires-python"])
    assert Version(pins["python"]) in requires_python


def test_torch_pin_matches_the_dev_and_ci_pin():
    image_torch = image_pins()["torch"]
    sources = [ROOT / "Makefile", *sorted((ROOT / ".ci").glob("*"))]
    found = {
        (path.name, pin)
        for path in sources
        if path.is_file()
        for pin in re.findall(r"torch==([0-9][^\s'\"]*)", path.read_text())
    }
    assert found, "no torch==X pin found in the Makefile or .ci/"
    assert {pin for _, pin in found} == {image_torch}, f"dev/CI pins {sorted(found)} vs images {image_torch}"


def test_cuda_image_python_and_cuda_agree_with_its_base():
    stages = parse_dockerfile(DOCKERFILES["cuda"])
    args = all_stage_args(DOCKERFILES["cuda"])
    (python,) = args["PYTHON_VERSION"]
    (deb,) = args["PYTHON_DEB_VERSION"]
    assert deb.startswith(f"{python}."), f"python{python} pinned to Debian version {deb}"
    (cuda,) = args["CUDA_VERSION"]
    check = "torch.version.cuda != '${CUDA_VERSION}'"
    assert check in DOCKERFILES["cuda"].read_text(), "the build checks torch's CUDA version"
    for stage in stages:
        match = re.fullmatch(r"nvidia/cuda:(\d+)\.(\d+)\.\d+-[a-z]+-ubuntu[\d.]+", stage.base)
        assert match, f"CUDA image stage is not on an official nvidia/cuda base: {stage.base}"
        assert f"{match[1]}.{match[2]}" == cuda, f"{stage.base} vs torch built for CUDA {cuda}"


def test_apptainer_definition_pulls_this_version():
    text = (ROOT / "containers" / "splamflow.def").read_text()
    assert re.search(r"^Bootstrap:\s*docker\s*$", text, re.M)
    assert re.search(r"^From:\s*" + re.escape(IMAGE) + r":\{\{\s*TAG\s*\}\}\s*$", text, re.M)
    default = re.search(r"^%arguments\s*\n\s*TAG=(\S+)", text, re.M)
    assert default and default[1] == VERSION


# --- Nextflow modules and the Galaxy tool ------------------------------------------------------


def test_every_module_runs_in_this_version_of_the_image():
    modules = ROOT / "modules"
    if not modules.is_dir():
        pytest.skip("no modules/ yet")
    assert sorted(modules.glob("local/splam/*/main.nf")), "modules/ exists but holds no splam module"
    problems = []
    for main_nf in sorted(modules.rglob("main.nf")):
        rel = main_nf.relative_to(ROOT)
        directives = re.findall(r"^\s*container\s+(.+)$", main_nf.read_text(), re.M)
        if len(directives) != 1:
            problems.append(f"{rel}: {len(directives)} container directives")
            continue
        tags = IMAGE_REF.findall(directives[0])
        if not tags:
            problems.append(f"{rel}: container is not {IMAGE}: {directives[0]}")
        bad_tags = [tag for tag in tags if tag not in ALLOWED_TAGS]
        problems += [f"{rel}: image tag {tag!r} is not one of {sorted(ALLOWED_TAGS)}" for tag in bad_tags]
        problems += [
            f"{rel}: other image in the container directive: {ref}"
            for ref in ANY_IMAGE_REF.findall(directives[0])
            if not ref.startswith(f"{IMAGE}:")
        ]
    assert not problems, "\n".join(problems)


def test_galaxy_tool_version_token():
    if not (ROOT / "galaxy_tool").is_dir():
        pytest.skip("no galaxy_tool/ yet")
    tokens = galaxy_tokens()
    assert tokens.get("@TOOL_VERSION@") == VERSION, f"@TOOL_VERSION@ is {tokens.get('@TOOL_VERSION@')!r}"


def test_every_image_reference_in_the_repository_is_this_version():
    tokens = galaxy_tokens() if (ROOT / "galaxy_tool" / "macros.xml").is_file() else {}
    problems = []
    for path in repo_text_files():
        if path == Path(__file__).resolve():
            continue
        text = path.read_text(errors="replace")
        if path.suffix == ".xml":
            for name, value in tokens.items():
                text = text.replace(name, value)
        for number, line in enumerate(text.splitlines(), 1):
            for tag in IMAGE_REF.findall(line):
                if tag not in ALLOWED_TAGS:
                    problems.append(f"{path.relative_to(ROOT)}:{number}: {IMAGE}:{tag}")
    assert not problems, f"image tags other than {sorted(ALLOWED_TAGS)}:\n" + "\n".join(problems)


# --- conda environments ------------------------------------------------------------------------


def environment_files() -> list[Path]:
    files = [ROOT / "containers" / "environment.yml"]
    if (ROOT / "modules").is_dir():
        files += sorted((ROOT / "modules").rglob("environment*.yml"))
    return files


def environment_specs(path: Path) -> dict[str, str]:
    """Package -> version spec ('' when unpinned) from a conda environment file, pip section included."""
    yaml = pytest.importorskip("yaml")
    specs: dict[str, str] = {}
    for dep in yaml.safe_load(path.read_text()).get("dependencies", []):
        if isinstance(dep, dict):
            for line in dep.get("pip", []):
                if line.startswith("-") or line.startswith(".") or "/" in line:
                    continue  # an index option, or a local path (this package)
                req = Requirement(line)
                specs[req.name.lower()] = str(req.specifier)
            continue
        match = re.fullmatch(r"(?:[\w.-]+::)?([\w.-]+)\s*(.*)", str(dep).strip())
        name, spec = match[1].lower(), match[2].strip()
        specs[CONDA_ALIASES.get(name, name)] = spec
    return specs


def conda_pin(spec: str) -> str | None:
    """The exact version of a conda/pip spec ('=1.2', '==1.2', '1.2', '=1.2=build'), else None."""
    match = re.fullmatch(r"(?:==?)?\s*([0-9][\w.]*)(?:=[\w.*]+)?", spec)
    return match[1] if match else None


@pytest.mark.parametrize("path", environment_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_environment_installs_the_image_versions(path):
    specs = environment_specs(path)
    pins = image_pins()
    runtime = {Requirement(r).name for r in pyproject()["project"]["dependencies"]}
    if not ({"python"} | runtime | {"matplotlib"}) & specs.keys():
        pytest.skip(f"{path.name} is not a splamflow environment (no python or splamflow dependency)")
    rel = path.relative_to(ROOT)
    problems = [f"{rel}: {name} missing" for name in sorted(runtime | {"python"}) if name not in specs]
    for name, want in sorted(pins.items()):
        if name not in specs:
            continue
        got = conda_pin(specs[name])
        if got and name == "python":
            got = ".".join(got.split(".")[:2])  # the images pin Python's minor version
        if got != want:
            problems.append(f"{rel}: {name} {specs[name] or '(unpinned)'}, the images install {want}")
    if "cuda-version" in specs:
        cuda = next(iter(all_stage_args(DOCKERFILES["cuda"])["CUDA_VERSION"]))
        if Version(cuda) not in SpecifierSet(specs["cuda-version"]):
            problems.append(f"{rel}: cuda-version {specs['cuda-version']}, the CUDA image has CUDA {cuda}")
    assert not problems, "\n".join(problems)
