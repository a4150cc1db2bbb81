"""Versions of splamflow, its default model, torch and the CUDA torch was built for.

Read without importing torch (seconds per import): Nextflow asks for them in every task.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
from importlib import resources
from pathlib import Path

from splamflow import __version__
from splamflow.errors import UserError

#: A shipped model is a pair of package-data files, `splamflow/models/splam_NAME.safetensors` and its
#: `splam_NAME.json` sidecar: `--model NAME` selects it in every layer (CLI, Nextflow, Galaxy).
MODEL_FILE = re.compile(r"splam_([a-z0-9][a-z0-9_-]*)\.safetensors")
DEFAULT_MODEL = "human"  # the model used when --model is omitted
DEFAULT_ALIAS = "default"  # a name for DEFAULT_MODEL


def models_dir() -> Path:
    """The package-data folder holding the shipped models."""
    return Path(str(resources.files("splamflow.models")))


def shipped_models() -> dict[str, Path]:
    """Every shipped model's weights by name (sorted), then `default`, the alias of DEFAULT_MODEL."""
    found = {}
    for path in sorted(models_dir().glob("splam_*.safetensors")):
        match = MODEL_FILE.fullmatch(path.name)
        if match and match.group(1) != DEFAULT_ALIAS:
            found[match.group(1)] = path
    if DEFAULT_MODEL in found:
        found[DEFAULT_ALIAS] = found[DEFAULT_MODEL]
    return found


def is_shipped_name(model: str | os.PathLike | None) -> bool:
    """Whether `model` names a shipped model and no file of that name exists (a file wins)."""
    return model is not None and str(model) in shipped_models() and not Path(model).exists()


def shipped_model_path(name: str) -> Path:
    return models_dir() / f"splam_{DEFAULT_MODEL if name == DEFAULT_ALIAS else name}.safetensors"


def default_model_path() -> Path:
    return shipped_model_path(DEFAULT_MODEL)


def resolve_model(model: str | os.PathLike | None) -> Path:
    """The file of a model given as a path or a shipped name (None = the default).

    An existing file wins over a shipped name, so a user's file called `human` is still read.
    """
    if model is None:
        return default_model_path()
    return shipped_model_path(str(model)) if is_shipped_name(model) else Path(model)


def model_version(path: Path) -> str:
    """The version its JSON sidecar records, "unknown" without one, "not installed" without the sidecar."""
    meta = path.with_suffix(".json")
    if not meta.exists():
        return "not installed"
    return json.loads(meta.read_text()).get("version", "unknown")


def model_listing() -> str:
    """`name<TAB>version<TAB>file` lines, one per shipped name (`--list-models`)."""
    return "".join(f"{name}\t{model_version(path)}\t{path}\n" for name, path in shipped_models().items())


def default_model_version() -> str:
    return model_version(default_model_path())


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
