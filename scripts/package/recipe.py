"""Read recipes/splamflow/meta.yaml as conda-build does (render its Jinja, then parse the YAML), and
write the sha256 of an sdist into it. As a script: `recipe.py SDIST` writes that sdist's sha256."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "splamflow" / "meta.yaml"
# conda-forge's global pin of the oldest Python a noarch package is built and tested with (CFEP-25);
# conda-build supplies it from the channel's conda_build_config.yaml, this stands in for it offline
PYTHON_MIN = "3.10"
SHA256_LINE = re.compile(r'^(\{% set sha256 = ")[0-9a-f]{64}(" %\})$', re.MULTILINE)


def _pin_subpackage(name: str, max_pin: str = "x.x.x", exact: bool = False) -> str:
    return f"{name} (pinned {'exactly' if exact else max_pin})"


def load_recipe(path: Path = RECIPE) -> dict:
    """The recipe as a dict, with the conda-build Jinja functions and variables it uses stubbed."""
    import jinja2
    import yaml

    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(path.read_text())
    return yaml.safe_load(template.render(pin_subpackage=_pin_subpackage, python_min=PYTHON_MIN))


def split_spec(spec: str) -> tuple[str, str]:
    """'numpy ==2.4.6' -> ('numpy', '==2.4.6'); 'pip' -> ('pip', '')."""
    match = re.fullmatch(r"([\w.-]+)\s*(.*)", spec.strip())
    if not match:
        raise ValueError(f"not a conda requirement: {spec!r}")
    return match[1], match[2].strip()


def set_sha256(sdist: Path, path: Path = RECIPE) -> str:
    """Write the sha256 of `sdist` into the recipe's `{% set sha256 = "..." %}` line; return it."""
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    text = path.read_text()
    updated, count = SHA256_LINE.subn(lambda m: f"{m[1]}{digest}{m[2]}", text)
    if count != 1:
        raise SystemExit(f"{path}: no single '{{% set sha256 = \"...\" %}}' line to update")
    path.write_text(updated)
    return digest


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: {sys.argv[0]} SDIST.tar.gz")
    print(f"{RECIPE}: sha256 {set_sha256(Path(sys.argv[1]))}")
