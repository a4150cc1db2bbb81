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


def dockerfile_lines(path: Path):
    """(KEYWORD, rest-of-instruction) of a Dockerfile, continuations joined, comments dropped."""
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
        yield keyword.upper(), rest.strip()


def parse_dockerfile(path: Path) -> list[Stage]:
    """Split a Dockerfile into stages of (KEYWORD, rest-of-instruction); see global_args for the
    ARGs before the first FROM."""
    stages: list[Stage] = []
    for keyword, rest in dockerfile_lines(path):
        if keyword == "FROM":
            stages.append(Stage(base=rest.split()[0]))
        elif stages:
            stages[-1].instructions.append((keyword, rest))
    return stages


def global_args(path: Path) -> dict[str, str]:
    """The ARGs declared before the first FROM (those FROM lines can use), defaults expanded."""
    out: dict[str, str] = {}
    for keyword, rest in dockerfile_lines(path):
        if keyword == "FROM":
            break
        name, _, value = rest.partition("=")
        out[name.strip()] = expand(value.strip(), out)
    return out


def expand(value: str, args: dict[str, str]) -> str:
    """${NAME} replaced by the ARG's value."""
    return re.sub(r"\$\{(\w+)\}", lambda m: args[m[1]], value)


def default_base(path: Path) -> str:
    """The base image a Dockerfile builds on when BASE_IMAGE is not given."""
    return global_args(path)["BASE_IMAGE"]


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
    pins["python"] = global_args(DOCKERFILES["cpu"])["PYTHON_VERSION"]
    return pins


def all_stage_args(path: Path) -> dict[str, set[str]]:
    """ARG name -> the set of default values it has across the Dockerfile's stages (and before them)."""
    out: dict[str, set[str]] = {name: {value} for name, value in global_args(path).items()}
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
    assert final.base == "${BASE_IMAGE}" and "BASE_IMAGE" in final.args(), "the label needs the ARG in scope"
    assert labels["base_image"] == "${BASE_IMAGE}", "base_image records the base the image was built on"
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
    # the engine chooses the user (rootless podman maps root to the caller; docker/Galaxy pass -u)
    assert not final.values("USER"), "no USER: Nextflow's standard podman profile needs the default user"
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


def constraints() -> dict[str, str]:
    """containers/constraints.txt: distribution name -> exact version."""
    pins: dict[str, str] = {}
    for line in (ROOT / "containers" / "constraints.txt").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([a-z0-9]+(?:-[a-z0-9]+)*)==(\d[\w.]*)", line)
        assert match, f"containers/constraints.txt: not a normalised name==exact-version line: {line!r}"
        assert match[1] not in pins, f"containers/constraints.txt pins {match[1]} twice"
        pins[match[1]] = match[2]
    return pins


def test_constraints_pin_every_transitive_version_the_dockerfiles_pin():
    locked = constraints()
    args = {arg: values for arg, values in all_stage_args(DOCKERFILES["cpu"]).items()}
    for arg, dist in PIN_ARGS.items():
        assert locked.get(dist) == next(iter(args[arg])), f"constraints.txt {dist} vs the Dockerfiles' {arg}"
    assert "setuptools" in locked, "splamflow's build backend is installed from the wheelhouse too"
    for flavour, path in DOCKERFILES.items():
        build = parse_dockerfile(path)[0]
        assert "constraints.txt /src/constraints.txt" in build.values("COPY"), flavour
        assert any("PIP_CONSTRAINT=/src/constraints.txt" in rest for rest in build.values("ENV")), flavour
    assert '--constraint "$constraints"' in (ROOT / "containers" / "wheelhouse.sh").read_text()
    assert 'cp "$here/constraints.txt" "$context/"' in (ROOT / "containers" / "build.sh").read_text()


def test_apt_pins_all_allow_the_release_updates():
    """Debian and Ubuntu drop superseded package versions: every apt pin ends in `*`, the same way."""
    for flavour, path in DOCKERFILES.items():
        for arg, values in all_stage_args(path).items():
            if arg.endswith("_DEB_VERSION"):
                assert all(value.endswith("*") for value in values), f"{flavour}: {arg}={values}"


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
    args = all_stage_args(DOCKERFILES["cuda"])
    (python,) = args["PYTHON_VERSION"]
    (deb,) = args["PYTHON_DEB_VERSION"]
    assert deb.startswith(f"{python}."), f"python{python} pinned to Debian version {deb}"
    (cuda,) = args["CUDA_VERSION"]
    check = "torch.version.cuda != '${CUDA_VERSION}'"
    assert check in DOCKERFILES["cuda"].read_text(), "the build checks torch's CUDA version"
    base = default_base(DOCKERFILES["cuda"])
    match = re.fullmatch(r"docker\.io/nvidia/cuda:(\d+)\.(\d+)\.\d+-base-ubuntu[\d.]+", base)
    assert match, f"the CUDA image's default base is not NVIDIA's `base` flavour: {base}"
    assert f"{match[1]}.{match[2]}" == cuda, f"{base} vs torch built for CUDA {cuda}"


# --- offline builds: base images, wheelhouse, build script --------------------------------------


@pytest.mark.parametrize("flavour", sorted(DOCKERFILES))
def test_every_stage_builds_on_the_base_argument(flavour):
    path = DOCKERFILES[flavour]
    base = default_base(path)
    assert re.fullmatch(r"[\w.-]+\.[a-z]+/[\w./-]+:[\w.-]+", base), f"{base}: name the registry (podman needs it)"
    assert {stage.base for stage in parse_dockerfile(path)} == {"${BASE_IMAGE}"}
    for stage in parse_dockerfile(path):
        if "PIP_NO_INDEX" in " ".join(stage.values("RUN")) or any("pip install" in r for r in stage.values("RUN")):
            assert {"PIP_NO_INDEX", "PIP_FIND_LINKS"} <= stage.args().keys(), "offline pip settings"
        for rest in stage.values("RUN"):
            if "pip install" in rest:
                assert rest.startswith("--mount=type=bind,source=wheelhouse,target=/wheelhouse "), rest


def test_cpu_default_base_is_the_python_the_pins_name_on_the_local_base_release():
    args = global_args(DOCKERFILES["cpu"])
    base = default_base(DOCKERFILES["cpu"])
    match = re.fullmatch(r"docker\.io/library/python:(\d+\.\d+)-slim-(\w+)", base)
    assert match, f"the CPU image's default base is not the official slim Python image: {base}"
    assert match[1] == args["PYTHON_VERSION"]
    local = (ROOT / "containers" / "local-base.sh").read_text()
    suite = re.search(r"^SUITE=(\w+)$", local, re.M)
    assert suite and suite[1] == match[2], "containers/local-base.sh builds another Debian release"
    cpu_check = "str(torch.version.cuda) != '${TORCH_CUDA}'"
    assert cpu_check in DOCKERFILES["cpu"].read_text()
    (torch_cuda,) = all_stage_args(DOCKERFILES["cpu"])["TORCH_CUDA"]
    assert torch_cuda == "None", "the CPU image's torch is the CPU build unless build.sh says otherwise"


def test_wheelhouse_downloads_every_pin_from_the_dockerfile():
    script = (ROOT / "containers" / "wheelhouse.sh").read_text()
    read = set(re.findall(r"\$\(pin (\w+)\)", script))
    assert read == set(PIN_ARGS), f"wheelhouse.sh reads {sorted(read)}, the images pin {sorted(PIN_ARGS)}"
    assert not re.search(r"==\d", script), "wheelhouse.sh names a version of its own"


def test_build_script_tags_and_build_args():
    script = (ROOT / "containers" / "build.sh").read_text()
    assert f"IMAGE={IMAGE}\n" in script
    assert 'echo "$IMAGE:$version"' in script and 'echo "$IMAGE:$version-cuda"' in script
    assert "splamflow/__init__.py" in script and not re.search(r"\b\d+\.\d+\.\d+\b", script), "no version of its own"
    declared = {flavour: all_stage_args(path) for flavour, path in DOCKERFILES.items()}
    passed = set(re.findall(r"--build-arg \"?(\w+)=", script))
    assert passed, "build.sh passes no build arguments"
    for name in passed - {"TORCH_CUDA"}:
        for flavour, args in declared.items():
            assert name in args, f"build.sh passes {name}, which containers/{DOCKERFILES[flavour].name} lacks"
    assert "TORCH_CUDA" in declared["cpu"]
    assert re.search(r"TORCH_CUDA=\$\(arg_default \"\$\(dockerfile cuda\)\" CUDA_VERSION\)", script)


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
    assert sorted(modules.glob("splamflow/splamflow/*/main.nf")), "modules/ exists but holds no splam module"
    problems = []
    # modules/local/ runs other tools, in their own images (test_multiqc_module_pins_one_multiqc)
    for main_nf in sorted((modules / "splamflow").rglob("main.nf")):
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


def test_multiqc_module_pins_one_multiqc():
    """The MULTIQC module's image, Singularity image and conda package, and the MultiQC the tests run
    (scripts/checks/multiqc-constraints.txt), are one version."""
    module = ROOT / "modules" / "local" / "multiqc"
    constraints = (ROOT / "scripts" / "checks" / "multiqc-constraints.txt").read_text().splitlines()
    pin = next(line.split("==")[1] for line in constraints if line.lower().startswith("multiqc=="))
    (directive,) = re.findall(r"^\s*container\s+(.+?)\}\"$", (module / "main.nf").read_text(), re.M | re.S)
    images = re.findall(r"multiqc:([\w.]+)--", directive)
    assert images and set(images) == {pin}, directive
    assert environment_specs(module / "environment.yml") == {"multiqc": f"={pin}"}


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


def test_module_environments_install_this_splamflow():
    """Every module that runs splam_score.py installs splamflow itself, at this repository's version."""
    mains = sorted((ROOT / "modules").rglob("main.nf"))
    modules = [path.parent for path in mains if "splam_score.py" in path.read_text()]
    assert modules
    for module in modules:
        assert environment_specs(module / "environment.yml").get("splamflow") == f"=={splamflow.__version__}", module


# --- the conda recipe and the Galaxy requirements -----------------------------------------------


def test_recipe_requires_what_the_package_declares():
    pytest.importorskip("jinja2")
    pytest.importorskip("yaml")
    from scripts.package.recipe import PYTHON_MIN, load_recipe, split_spec

    recipe = load_recipe()
    assert recipe["package"] == {"name": "splamflow", "version": VERSION}
    assert recipe["source"]["url"].endswith(f"/splamflow-{VERSION}.tar.gz"), "the recipe builds from the sdist"
    assert recipe["build"]["noarch"] == "python"
    entry_points = {f"{name} = {target}" for name, target in pyproject()["project"]["scripts"].items()}
    assert set(recipe["build"]["entry_points"]) == entry_points
    run = dict(split_spec(r) for r in recipe["requirements"]["run"])
    run = {CONDA_ALIASES.get(name, name): spec for name, spec in run.items()}
    project = pyproject()["project"]
    declared = {r.name: r.specifier for r in map(Requirement, project["dependencies"])}
    assert set(run) == set(declared) | {"python"}, "run requirements: the package's"
    # noarch python (CFEP-25): the oldest Python the package supports, no exact pins (those are the images')
    assert SpecifierSet(project["requires-python"]) == SpecifierSet(f">={PYTHON_MIN}")
    assert run.pop("python") == f">={PYTHON_MIN}"
    assert dict(split_spec(r) for r in recipe["requirements"]["host"])["python"] == PYTHON_MIN
    assert recipe["test"]["requires"] == [f"python {PYTHON_MIN}", "pip"]  # pip check
    for name, spec in run.items():
        spec = SpecifierSet(spec.replace(" ", ""))
        assert spec == declared[name], f"{name} {spec} vs pyproject.toml {declared[name]}"
        assert Version(image_pins()[name]) in spec, f"the images install {name} {image_pins()[name]}, outside {spec}"
    host = dict(split_spec(r) for r in recipe["requirements"]["host"])
    build_requires = [Requirement(r) for r in pyproject()["build-system"]["requires"]]
    for req in build_requires:
        assert req.name in host and SpecifierSet(host[req.name].replace(" ", "")) == req.specifier, (
            f"host {req.name} {host.get(req.name)} vs pyproject.toml build-system {req}"
        )


def test_galaxy_requirements_are_the_package_and_image_versions():
    macros = ET.parse(ROOT / "galaxy_tool" / "macros.xml").getroot()
    tokens = galaxy_tokens()
    (requirements,) = [x.find("requirements") for x in macros.iter("xml") if x.get("name") == "requirements"]
    packages = {r.text: r.get("version") for r in requirements.iter("requirement") if r.get("type") == "package"}
    assert packages == {"splamflow": "@TOOL_VERSION@"}
    assert tokens["@TOOL_VERSION@"] == VERSION
