"""Read the tensors of a TorchScript archive without running anything it contains.

`torch.jit.load` compiles the archive's code and runs it (a class's `__setstate__` runs while the
archive is read), so a model file could act on the machine. Here the archive's `data.pkl` is
decoded by a small pickle interpreter that knows only what a saved module tree needs: containers,
numbers, strings, tensors (read from the archive's `data/` records) and `__torch__.*` objects,
which stay inert attribute bags. Any other callable a pickle names is refused, and no code of the
archive is ever compiled or called.
"""

from __future__ import annotations

import os
import pickletools
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field

import torch

from splamflow.errors import UserError

_STORAGE_DTYPES = {
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}
# TorchScript's typed-list markers: each returns its (first) argument unchanged.
_IDENTITY_BUILDERS = frozenset(
    {"build_intlist", "build_doublelist", "build_boollist", "build_tensorlist", "build_genericlist",
     "restore_type_tag"}
)
_MARK = object()


@dataclass
class ScriptObject:
    """A `__torch__.*` object of the archive: its class name and attributes, nothing callable."""

    qualified_name: str
    attributes: dict = field(default_factory=dict)
    custom_state: bool = False  # its class pickled a non-dict state (it has its own __setstate__)


@dataclass(frozen=True)
class _Storage:
    dtype: torch.dtype


@dataclass(frozen=True)
class _Callable:
    name: str


class _Refused(Exception):
    """The pickle asks for something this reader does not do."""


class _Reader:
    def __init__(self, archive: zipfile.ZipFile, prefix: str):
        self.archive = archive
        self.prefix = prefix
        self.storages: dict[str, torch.Tensor] = {}

    def load(self, data: bytes):
        stack: list = []
        memo: dict = {}
        for opcode, arg, _ in pickletools.genops(data):
            name = opcode.name
            if name == "PROTO":
                continue
            if name == "STOP":
                return stack.pop()
            if name == "MARK":
                stack.append(_MARK)
            elif name in ("BINPUT", "LONG_BINPUT"):
                memo[arg] = stack[-1]
            elif name in ("BINGET", "LONG_BINGET"):
                stack.append(memo[arg])
            elif name in ("BININT", "BININT1", "BININT2", "LONG1", "BINFLOAT", "BINUNICODE", "SHORT_BINUNICODE"):
                stack.append(arg)
            elif name in ("NONE", "NEWTRUE", "NEWFALSE"):
                stack.append({"NONE": None, "NEWTRUE": True, "NEWFALSE": False}[name])
            elif name == "EMPTY_TUPLE":
                stack.append(())
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(name[-1])
                items = tuple(stack[-n:])
                del stack[-n:]
                stack.append(items)
            elif name == "TUPLE":
                stack.append(tuple(_pop_mark(stack)))
            elif name == "EMPTY_LIST":
                stack.append([])
            elif name == "EMPTY_DICT":
                stack.append({})
            elif name == "APPEND":
                value = stack.pop()
                _as(stack[-1], list).append(value)
            elif name == "APPENDS":
                items = _pop_mark(stack)
                _as(stack[-1], list).extend(items)
            elif name == "SETITEM":
                value, key = stack.pop(), stack.pop()
                _as(stack[-1], dict)[_key(key)] = value
            elif name == "SETITEMS":
                items = _pop_mark(stack)
                target = _as(stack[-1], dict)
                for key, value in zip(items[::2], items[1::2]):
                    target[_key(key)] = value
            elif name == "GLOBAL":
                module, _, qualname = arg.partition(" ")
                stack.append(self._global(module, qualname))
            elif name == "NEWOBJ":
                args, cls = stack.pop(), stack.pop()
                if not isinstance(cls, str) or args != ():
                    raise _Refused("an object built with arguments")
                stack.append(ScriptObject(cls))
            elif name == "REDUCE":
                args, func = stack.pop(), stack.pop()
                stack.append(self._call(func, args))
            elif name == "BUILD":
                state = stack.pop()
                obj = stack[-1]
                if not isinstance(obj, ScriptObject):
                    raise _Refused("a state set on a non-module object")
                if isinstance(state, dict):
                    obj.attributes.update(state)
                else:
                    obj.custom_state = True
                    obj.attributes["__state__"] = state
            elif name == "BINPERSID":
                stack.append(self._storage(stack.pop()))
            else:
                raise _Refused(f"pickle opcode {name}")
        raise _Refused("a pickle without STOP")

    def _global(self, module: str, qualname: str):
        if module == "__torch__" or module.startswith("__torch__."):
            return f"{module}.{qualname}"  # a class name: NEWOBJ makes an inert ScriptObject of it
        if module == "torch" and qualname in _STORAGE_DTYPES:
            return _Storage(_STORAGE_DTYPES[qualname])
        if (module, qualname) == ("torch._utils", "_rebuild_tensor_v2"):
            return _Callable("rebuild_tensor")
        if (module, qualname) == ("collections", "OrderedDict"):
            return _Callable("ordered_dict")
        if module == "torch.jit._pickle" and qualname in _IDENTITY_BUILDERS:
            return _Callable("identity")
        raise _Refused(f"the global {module}.{qualname}")

    def _call(self, func, args):
        if not isinstance(func, _Callable) or not isinstance(args, tuple):
            raise _Refused("a call of something that is not a tensor or list builder")
        if func.name == "ordered_dict":
            if args:
                raise _Refused("an OrderedDict built with arguments")
            return OrderedDict()
        if func.name == "identity":
            if not args:
                raise _Refused("an empty list builder")
            return args[0]
        return _rebuild_tensor(*args)

    def _storage(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], _Storage)):
            raise _Refused("a persistent record that is not a tensor storage")
        _, kind, key, _location, numel = pid
        if not isinstance(key, str) or not isinstance(numel, int):
            raise _Refused("a malformed tensor storage record")
        if key not in self.storages:
            try:
                raw = bytearray(self.archive.read(f"{self.prefix}data/{key}"))
            except KeyError:
                raise _Refused(f"a tensor record data/{key} missing from the archive") from None
            itemsize = torch.empty(0, dtype=kind.dtype).element_size()
            if len(raw) != numel * itemsize:
                raise _Refused(f"tensor record data/{key} of {len(raw)} bytes, expected {numel * itemsize}")
            self.storages[key] = torch.frombuffer(raw, dtype=kind.dtype) if raw else torch.empty(0, dtype=kind.dtype)
        return self.storages[key]


def _pop_mark(stack: list) -> list:
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] is _MARK:
            items = stack[i + 1 :]
            del stack[i:]
            return items
    raise _Refused("a pickle with unbalanced marks")


def _as(value, kind: type):
    if not isinstance(value, kind):
        raise _Refused(f"an item added to a {type(value).__name__}")
    return value


def _key(key):
    if not isinstance(key, str | int | float | bool | type(None) | tuple):
        raise _Refused("a dictionary key that is not a plain value")
    return key


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None, *extra) -> torch.Tensor:
    if not isinstance(storage, torch.Tensor) or not isinstance(offset, int):
        raise _Refused("a tensor without a storage")
    if not (isinstance(size, tuple) and isinstance(stride, tuple) and len(size) == len(stride)
            and all(isinstance(v, int) and v >= 0 for v in size + stride)):
        raise _Refused("a tensor with a malformed shape")
    if hooks:
        raise _Refused("a tensor with backward hooks")
    try:
        return torch.as_strided(storage, size, stride, offset).clone()
    except RuntimeError:
        raise _Refused("a tensor reaching past its storage") from None


def _named_tensors(obj: ScriptObject, prefix: str, out: dict[str, torch.Tensor], seen: set[int]) -> None:
    if id(obj) in seen:
        raise _Refused("a module that contains itself")
    seen.add(id(obj))
    if obj.custom_state:
        raise _Refused(f"an object of class {obj.qualified_name} with its own __setstate__ (archive code)")
    for name, value in obj.attributes.items():
        if isinstance(value, torch.Tensor):
            out[f"{prefix}{name}"] = value
        elif isinstance(value, ScriptObject):
            _named_tensors(value, f"{prefix}{name}.", out, seen)


def read_torchscript_tensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensor attributes of the archive's module tree by dotted name (`conv1.weight`, ...).

    These are the module's parameters and buffers: what `scripted.state_dict()` would give, read
    without compiling or running the archive. Anything unexpected in the archive is a UserError.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("data.pkl") and n.count("/") <= 1]
            if len(pickles) != 1:
                raise UserError("TorchScript archive has no data.pkl record (unsupported or legacy format)", path)
            prefix = pickles[0][: -len("data.pkl")]
            order = archive.read(f"{prefix}byteorder") if f"{prefix}byteorder" in archive.namelist() else b"little"
            if order.strip() != b"little":
                raise UserError(f"TorchScript archive stores tensors as {order.strip().decode(errors='replace')}-"
                                "endian; only little-endian archives are read", path)
            root = _Reader(archive, prefix).load(archive.read(pickles[0]))
    except _Refused as exc:
        raise UserError(f"TorchScript archive refused: it holds {exc}; only module trees of tensors are read "
                        "and no code in the archive is run", path) from None
    except (zipfile.BadZipFile, ValueError, OSError, IndexError, KeyError, EOFError) as exc:
        first = " ".join(str(exc).split()) or type(exc).__name__
        raise UserError(f"cannot read TorchScript archive: {first}", path) from None
    if not isinstance(root, ScriptObject):
        raise UserError("TorchScript archive does not hold a module", path)
    tensors: dict[str, torch.Tensor] = {}
    try:
        _named_tensors(root, "", tensors, set())
    except _Refused as exc:
        raise UserError(f"TorchScript archive refused: it holds {exc}", path) from None
    return tensors
