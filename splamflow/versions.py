"""Versions of splamflow, its default model, torch and the CUDA torch was built for.

Read without importing torch (seconds per import): Nextflow asks for them in every task.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
from importlib import resources
from pathlib import Path

from splamflow import __version__
from splamflow.errors import UserError

DEFAULT_MODEL_NAME = "splam_default.safetensors"

#: Models shipped as package data, selectable by name wherever a model file is accepted (`--model NAME`).
SHIPPED_MODELS = {
    "default": DEFAULT_MODEL_NAME,
    "human": DEFAULT_MODEL_NAME,
}


def shipped_model_path(name: str) -> Path:
    return Path(str(resources.files("splamflow.models").joinpath(SHIPPED_MODELS[name])))


def default_model_path() -> Path:
    return shipped_model_path("default")


def resolve_model(model: str | os.PathLike | None) -> Path:
    """The file of a model given as a path or a shipped name (None = the default).

    An existing file wins over a shipped name, so a user's file called `human` is still read.
    """
    if model is None:
        return default_model_path()
    path = Path(model)
    if not path.exists() and str(model) in SHIPPED_MODELS:
        return shipped_model_path(str(model))
    return path


def default_model_version() -> str:
    meta = default_model_path().with_suffix(".json")
    if not meta.exists():
        return "not installed"
    return json.loads(meta.read_text()).get("version", "unknown")


def torch_versions() -> tuple[str, str]:
    """(torch.__version__, torch.version.cuda or 'none'), parsed from torch/version.py, not run."""
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("torch is not installed")
    source = Path(next(iter(spec.submodule_search_locations))) / "version.py"
    values: dict[str, object] = {}
    for node in ast.parse(source.read_text(), str(source)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("__version__", "cuda"):
            values[target.id] = ast.literal_eval(value)
    if not isinstance(values.get("__version__"), str):
        raise UserError(f"{source}: no __version__")
    return str(values["__version__"]), str(values.get("cuda") or "none")


def tool_versions() -> str:
    """`tool=version` lines for splamflow, torch and the CUDA torch was built for."""
    torch_version, cuda = torch_versions()
    return f"splamflow={__version__}\ntorch={torch_version}\ncuda={cuda}\n"
