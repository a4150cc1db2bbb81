"""Every model format `--model` accepts, read into our own `SplamNet`.

`--model NAME` with the name of a shipped model (`splamflow.versions.shipped_models`, e.g. `human`) reads
that shipped model; anything else is a file in one of these formats:

- splamflow format: `NAME.safetensors` (the state_dict) + `NAME.json` (architecture, training data and
  recipe, metrics, sha256 of the weights). This is what we train and ship.
- a plain PyTorch state_dict saved with `torch.save` (also inside {"state_dict": ...}, with or without
  a DataParallel "module." prefix), e.g. from the published Splam class.
- a TorchScript archive (`torch.jit.save` of the published class: the format of the official `splam.pt`).
  Only its parameters and buffers are read, by `splamflow.torchscript`, which never compiles or runs
  the archive's code; every speed-up of ours applies to the published weights too.

Whatever the format, the keys and shapes must be exactly those of the published architecture, and
every weight must be finite. The sha256 a metadata sidecar records must be that of the weights it
describes (`save_model` always records it; a hand-written sidecar without one is accepted).
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

from splamflow.errors import UserError
from splamflow.io.files import sha256_file
from splamflow.model import ARCHITECTURE, N_PARAMETERS, SplamNet
from splamflow.torchscript import read_torchscript_tensors
from splamflow.versions import default_model_path as default_model_path  # part of this module's API
from splamflow.versions import resolve_model, shipped_models


@dataclass
class LoadedModel:
    """A model read by `load_model`: the eval-mode network, its file, format and metadata sidecar."""

    net: SplamNet
    path: Path
    format: str
    metadata: dict = field(default_factory=dict)

    def describe(self) -> str:
        version = self.metadata.get("version")
        tag = f", version {version}" if version else ""
        return f"{self.path} ({self.format}{tag})"


def metadata_path(weights: str | os.PathLike) -> Path:
    return Path(weights).with_suffix(".json")


def write_model(net: SplamNet, weights: Path, sidecar: Path, metadata: dict) -> dict:
    """Write weights (safetensors) and their JSON sidecar to these paths; returns the metadata written.

    The paths are usually an OutputSet's temporary files; `save_model` is the one-file-pair form.
    """
    from safetensors.torch import save

    state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    # serialised in memory, so that a failed write (disk full) is an OSError with its errno; one metadata
    # key only: safetensors writes several in a random order, and the same weights must give the same bytes
    weights.write_bytes(save(state, metadata={"format": "splamflow"}))
    meta = {"architecture": ARCHITECTURE, "parameters": N_PARAMETERS, **metadata, "sha256": sha256_file(weights)}
    sidecar.write_text(json.dumps(meta, indent=2, sort_keys=False) + "\n")
    return meta


def save_model(net: SplamNet, path: str | os.PathLike, metadata: dict) -> dict:
    """Write weights as safetensors plus the JSON metadata sidecar; returns the metadata written."""
    from splamflow.outputs import OutputSet

    path = Path(path)
    outputs = OutputSet()  # weights and sidecar (which names their sha256) are replaced together
    weights = outputs.add(path, "model", ".safetensors")
    sidecar = outputs.add(metadata_path(path), "model metadata", ".json")
    with outputs:
        return write_model(net, weights.tmp, sidecar.tmp, metadata)


# Limits on a model's JSON sidecar (ours are a few kB): no input may make the parser work without bound.
METADATA_MAX_BYTES = 1 << 20
METADATA_MAX_DEPTH = 32
METADATA_MAX_NUMBER = 40  # characters of one number
# Keys whose type other code relies on; a version is printed, so it must be one short line.
_METADATA_TYPES = {"version": str, "sha256": str, "parameters": int, "architecture": dict, "history": list}


def _bounded_number(kind: type):
    def parse(text: str):
        if len(text) > METADATA_MAX_NUMBER:
            raise ValueError(f"a number of {len(text):,} characters")
        value = kind(text)
        if not math.isfinite(value):  # 1e999: an infinity that json.dumps would write back as bare Infinity
            raise ValueError(f"{text} is not a finite number")
        return value

    return parse


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _depth(value: object, limit: int) -> bool:
    """True when `value` nests no deeper than `limit` arrays/objects."""
    if limit < 0:
        return False
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return all(_depth(child, limit - 1) for child in children)


def _check_metadata(metadata: object, meta_path: Path) -> dict:
    if not isinstance(metadata, dict):
        raise UserError(f"model metadata must be a JSON object, not {type(metadata).__name__}", meta_path)
    if not _depth(metadata, METADATA_MAX_DEPTH):
        raise UserError(f"model metadata nests more than {METADATA_MAX_DEPTH} levels deep", meta_path)
    for key, kind in _METADATA_TYPES.items():
        value = metadata.get(key)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise UserError(f'model metadata: "{key}" must be a JSON {kind.__name__}', meta_path)
    version = metadata.get("version")
    if version is not None and (len(version) > 200 or not version.isprintable()):
        raise UserError('model metadata: "version" must be one printable line of at most 200 characters', meta_path)
    return metadata


def read_metadata(weights: Path) -> dict:
    """The JSON sidecar of a safetensors model ({} when there is none), checked against the weights."""
    meta_path = metadata_path(weights)
    if not meta_path.exists():
        return {}
    if meta_path.is_dir():
        raise UserError("model metadata is a folder, not a JSON file", meta_path)
    try:
        with open(meta_path, "rb") as handle:
            data = handle.read(METADATA_MAX_BYTES + 1)
        if len(data) > METADATA_MAX_BYTES:
            raise UserError(f"model metadata is larger than {METADATA_MAX_BYTES:,} bytes", meta_path)
        metadata = json.loads(data.decode("utf-8"), parse_int=_bounded_number(int),
                              parse_float=_bounded_number(float), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise UserError("model metadata is not UTF-8 text", meta_path) from None
    except json.JSONDecodeError as exc:
        raise UserError(f"model metadata is not valid JSON (line {exc.lineno}: {exc.msg})", meta_path) from None
    except RecursionError:
        raise UserError(f"model metadata nests more than {METADATA_MAX_DEPTH} levels deep", meta_path) from None
    except ValueError as exc:
        raise UserError(f"model metadata is not usable JSON: {exc}", meta_path) from None
    except OSError as exc:
        raise UserError(f"cannot read model metadata: {exc.strerror or exc}", meta_path) from None
    _check_metadata(metadata, meta_path)
    recorded = metadata.get("sha256")
    if recorded is not None and recorded != sha256_file(weights):
        raise UserError(
            f"model metadata names sha256 {str(recorded)[:12]}... but {weights.name} has another: "
            "the sidecar belongs to other weights",
            meta_path,
        )
    return metadata


def _sniff(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(16)
    if len(head) >= 9 and head[8:9] == b"{":
        return "safetensors"
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            raise UserError("model file is a damaged zip archive", path) from None
        if any(n.endswith("constants.pkl") or "/code/" in n for n in names):
            return "torchscript"
        return "state_dict"
    if head[:1] == b"\x80":
        return "state_dict"
    raise UserError("not a model file (expected .safetensors, a TorchScript archive or a state_dict)", path)


def _read_state(path: Path, fmt: str) -> dict[str, torch.Tensor]:
    try:
        if fmt == "safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        if fmt == "torchscript":
            expected = SplamNet().state_dict()
            return read_torchscript_tensors(
                path, max_elements=sum(v.numel() for v in expected.values()),
                check=lambda shapes: _check_layout(shapes, expected, path),
            )
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except UserError:
        raise
    except Exception as exc:  # torch/safetensors raise many types for damaged files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"cannot read {fmt} model: {first}", path) from None
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise UserError("file holds no state_dict of tensors", path)
    return obj


def _check_layout(shapes: dict[str, tuple[int, ...]], expected: dict[str, torch.Tensor], path: Path) -> None:
    """Names and shapes exactly those of `expected` (a "module." prefix aside), else a UserError."""
    shapes = {k.removeprefix("module."): v for k, v in shapes.items()}
    missing = [k for k in expected if k not in shapes]
    unexpected = [k for k in shapes if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        raise UserError(f"not a Splam model: parameter names differ: {'; '.join(parts)}", path)
    for key, ref in expected.items():
        if tuple(shapes[key]) != tuple(ref.shape):
            raise UserError(
                f"not a Splam model: {key} has shape {tuple(shapes[key])}, expected {tuple(ref.shape)}", path
            )


def _match(state: dict[str, torch.Tensor], path: Path) -> dict[str, torch.Tensor]:
    state = {k.removeprefix("module."): v for k, v in state.items()}
    expected = SplamNet().state_dict()
    _check_layout({k: tuple(v.shape) for k, v in state.items()}, expected, path)
    for key, value in state.items():
        if expected[key].is_floating_point() and not value.is_floating_point():
            raise UserError(f"not a Splam model: {key} has dtype {str(value.dtype).removeprefix('torch.')}, "
                            "expected floating point", path)
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise UserError(f"not a usable model: {key} holds NaN or infinite weights", path)
    return {k: state[k].to(ref.dtype) for k, ref in expected.items()}


def load_model(path: str | os.PathLike | None = None) -> LoadedModel:
    """Load any supported model file, or a shipped model by name (None = the shipped default), into an
    eval-mode SplamNet."""
    p = resolve_model(path)
    if not p.exists():
        if path is None or str(path) in shipped_models():
            raise UserError("this shipped model is not installed", p)
        raise UserError(f"model file does not exist (shipped models by name: {', '.join(shipped_models())})", p)
    if p.stat().st_size == 0:
        raise UserError("model file is empty", p)
    fmt = _sniff(p)
    state = _match(_read_state(p, fmt), p)
    net = SplamNet()
    net.load_state_dict(state)
    net.eval()
    metadata = read_metadata(p) if fmt == "safetensors" else {}
    names = {"safetensors": "splamflow safetensors", "torchscript": "TorchScript archive", "state_dict": "state_dict"}
    return LoadedModel(net=net, path=p, format=names[fmt], metadata=metadata)
