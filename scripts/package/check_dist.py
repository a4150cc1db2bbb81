#!/usr/bin/env python3
"""Build splamflow's sdist and wheel, and install them the way pip users and the conda recipe do.

1. `python -m build`: the sdist, then the wheel built from the unpacked sdist (so the sdist must be
   complete), in an isolated build environment.
2. Both carry every shipped model (byte-identical to the repository's) with its metadata, the
   `splam_score.py` script and the licence; the wheel's metadata declares pyproject.toml's
   dependencies and the `splam-score` entry point; the sdist holds no build outputs or caches.
3. The wheel goes into a fresh virtual environment with `pip install --no-deps`; the dependencies
   (torch and the rest) are those of the project's .venv, linked in rather than installed again.
4. recipes/splamflow/build.sh runs on the unpacked sdist into a second fresh environment, as
   conda-build runs it ($PYTHON, $SRC_DIR, $PREFIX), followed by the recipe's test imports and
   commands.
5. In each environment, from a scratch folder: splamflow is imported from that environment (not
   from this checkout), and extract -> score on the test slice writes the same bytes as the
   project's .venv.

Prints the sha256 of the sdist; with --update-recipe, writes it into recipes/splamflow/meta.yaml. Run
with the project's venv:

    .venv/bin/python scripts/package/check_dist.py [--update-recipe]
"""

from __future__ import annotations

import argparse
import email
import hashlib
import os
import shutil
import site
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import tomllib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from recipe import load_recipe, set_sha256  # noqa: E402  (a sibling module, not a package)

REPO = Path(__file__).resolve().parents[2]
# Every shipped model: its weights and JSON sidecar (splamflow.versions.MODEL_FILE names them).
MODEL_FILES = tuple(sorted(p.relative_to(REPO).as_posix() for p in (REPO / "splamflow" / "models").glob("splam_*.*")
                           if p.suffix in (".safetensors", ".json")))
SLICE = REPO / "tests" / "data"
# Folders that must not end up in the sdist (build outputs, caches, pipeline and test runs).
SDIST_JUNK = {"__pycache__", "runs", "results", "work", "build", "dist", ".pytest_cache", ".ruff_cache"}


def fail(message: str) -> None:
    raise SystemExit(f"package check: {message}")


def run(*args: str | Path, cwd: Path | None = None, env: dict | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode:
        fail(f"`{' '.join(map(str, args))}` exited {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return done.stdout


def build(out: Path) -> tuple[Path, Path]:
    run(sys.executable, "-m", "build", "--outdir", out, REPO)
    version = package_version()
    sdist, wheel = out / f"splamflow-{version}.tar.gz", out / f"splamflow-{version}-py3-none-any.whl"
    for path in (sdist, wheel):
        if not path.is_file():
            fail(f"python -m build wrote no {path.name} (found {sorted(p.name for p in out.iterdir())})")
    return sdist, wheel


def package_version() -> str:
    import splamflow

    return splamflow.__version__


def check_wheel(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        version = package_version()
        info = f"splamflow-{version}.dist-info"
        wanted = [*MODEL_FILES, f"splamflow-{version}.data/scripts/splam_score.py", f"{info}/entry_points.txt"]
        missing = [n for n in wanted if n not in names]
        if missing:
            fail(f"{wheel.name} lacks {missing}")
        if not any(n.startswith(f"{info}/licenses/LICENSE") for n in names):
            fail(f"{wheel.name} carries no LICENSE")
        for model in MODEL_FILES:
            if zf.read(model) != (REPO / model).read_bytes():
                fail(f"{wheel.name}: {model} differs from the repository's")
        if "splam-score = splamflow.cli:main" not in zf.read(f"{info}/entry_points.txt").decode():
            fail(f"{wheel.name}: no splam-score entry point")
        metadata = email.message_from_bytes(zf.read(f"{info}/METADATA"))
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    requires = [r for r in metadata.get_all("Requires-Dist") or [] if "extra ==" not in r]
    if sorted(r.replace(" ", "") for r in requires) != sorted(d.replace(" ", "") for d in declared):
        fail(f"{wheel.name} requires {requires}, pyproject.toml declares {declared}")
    if metadata["Version"] != version:
        fail(f"{wheel.name} has version {metadata['Version']}")


def check_sdist(sdist: Path, into: Path) -> Path:
    """Check the sdist's contents and unpack it; returns the unpacked source folder."""
    with tarfile.open(sdist) as tf:
        names = tf.getnames()
        root = names[0].split("/")[0]
        rel = {n.removeprefix(f"{root}/") for n in names}
        wanted = ["pyproject.toml", "README.md", "LICENSE", "bin/splam_score.py", *MODEL_FILES]
        missing = [n for n in wanted if n not in rel]
        if missing:
            fail(f"{sdist.name} lacks {missing}")
        junk = sorted(
            n
            for n in rel
            if n.endswith(".pyc") or any(p in SDIST_JUNK or p.startswith((".venv", ".nextflow")) for p in Path(n).parts)
        )
        if junk:
            fail(f"{sdist.name} holds build outputs or caches: {junk[:5]}")
        tf.extractall(into, filter="data")
    return into / root


def deps_folder(into: Path) -> Path:
    """Links to everything in the project's .venv site-packages except splamflow itself."""
    into.mkdir()
    (project_site,) = [p for p in site.getsitepackages() if p.endswith("site-packages")]
    for entry in Path(project_site).iterdir():
        if entry.name.startswith(("splamflow", "__editable__")):
            continue
        (into / entry.name).symlink_to(entry)
    return into


def fresh_venv(path: Path, deps: Path) -> Path:
    """A new venv of this Python, without pip, that sees `deps` after its own site-packages."""
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    run(base, "-m", "venv", "--without-pip", path)
    purelib = run(path / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip()
    (Path(purelib) / "project_deps.pth").write_text(f"{deps}\n")
    return path / "bin" / "python"


def clean_env(venv: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def score_slice(bin_dir: Path, work: Path, env: dict) -> bytes:
    """extract -> score on the committed chr20 slice with the splam_score.py of `bin_dir`."""
    work.mkdir()
    cli = bin_dir / "splam_score.py"
    run(cli, "extract", SLICE / "chr20_slice.bam", "-o", "junctions.bed", cwd=work, env=env)
    run(cli, "score", "junctions.bed", "--genome", SLICE / "chr20_slice.fa.gz", "-o", "scores.bed",
        "--threads", "1", "--quiet", cwd=work, env=env)  # fmt: skip
    return (work / "junctions.bed").read_bytes() + (work / "scores.bed").read_bytes()


def check_installed(python: Path, scratch: Path, label: str) -> None:
    """splamflow and its shipped model are imported from the venv of `python`, not this checkout."""
    env = clean_env(python.parent.parent)
    where = run(python, "-c", "import splamflow, splamflow.weights as w; print(splamflow.__file__); "
                "print(w.default_model_path())", cwd=scratch, env=env).split()  # fmt: skip
    venv = python.parent.parent.resolve()
    for path in where:
        if not Path(path).resolve().is_relative_to(venv):
            fail(f"{label}: {path} is not inside the fresh environment {venv}")
    out = run(python.parent / "splam_score.py", "--version", cwd=scratch, env=env)
    if not out.startswith(f"splam_score.py {package_version()} "):
        fail(f"{label}: splam_score.py --version printed {out!r}")
    listed = run(python.parent / "splam_score.py", "--list-models", cwd=scratch, env=env)
    files = {Path(line.split("\t")[2]).name for line in listed.splitlines()}
    if files != {Path(m).name for m in MODEL_FILES if m.endswith(".safetensors")}:
        fail(f"{label}: splam_score.py --list-models lists {sorted(files)}, the repository ships {MODEL_FILES}")


def run_recipe_tests(python: Path, scratch: Path) -> None:
    test = load_recipe()["test"]
    env = clean_env(python.parent.parent)
    for module in test["imports"]:
        run(python, "-c", f"import {module}", cwd=scratch, env=env)
    for command in test["commands"]:
        run("bash", "-c", command, cwd=scratch, env=env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (printed)")
    parser.add_argument("--update-recipe", action="store_true", help="write the sdist's sha256 into the recipe")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="splamflow-dist-"))
    try:
        dist = scratch / "dist"
        sdist, wheel = build(dist)
        check_wheel(wheel)
        src = check_sdist(sdist, scratch / "src")
        print(f"built {sdist.name} (sha256 {hashlib.sha256(sdist.read_bytes()).hexdigest()}) and {wheel.name}")
        if args.update_recipe:
            print(f"recipes/splamflow/meta.yaml: sha256 {set_sha256(sdist)}")
        deps = deps_folder(scratch / "deps")

        expected = score_slice(Path(sys.executable).parent, scratch / "score-project", clean_env(Path(sys.prefix)))

        wheel_py = fresh_venv(scratch / "wheel-venv", deps)
        env = clean_env(wheel_py.parent.parent)
        run(wheel_py, "-m", "pip", "install", "--no-deps", "--no-index", "--no-cache-dir", wheel, env=env)
        run(wheel_py, "-m", "pip", "check", env=env)
        check_installed(wheel_py, scratch, "wheel")
        if score_slice(wheel_py.parent, scratch / "score-wheel", env) != expected:
            fail("the wheel's command line scores the slice differently from the project's")
        print("wheel: installed into a fresh venv; the model is in it; extract -> score on the slice as in .venv")

        recipe_py = fresh_venv(scratch / "recipe-venv", deps)
        env = clean_env(recipe_py.parent.parent)
        env.update(PYTHON=str(recipe_py), SRC_DIR=str(src), PREFIX=str(recipe_py.parent.parent))
        run("bash", REPO / "recipes" / "splamflow" / "build.sh", cwd=src, env=env)
        run(recipe_py, "-m", "pip", "check", env=env)
        check_installed(recipe_py, scratch, "recipe")
        run_recipe_tests(recipe_py, scratch)
        if score_slice(recipe_py.parent, scratch / "score-recipe", env) != expected:
            fail("the recipe build's command line scores the slice differently from the project's")
        print("recipe: build.sh installed the sdist; its test commands pass; extract -> score on the slice as in .venv")
    finally:
        if args.keep:
            print(f"scratch folder kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
