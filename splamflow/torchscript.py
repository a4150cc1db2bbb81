"""Read the tensors of a TorchScript archive without running anything it contains.

`torch.jit.load` compiles the archive's code and runs it (a class's `__setstate__` runs while the
archive is read), so a model file could act on the machine. Here the archive's `data.pkl` is
decoded by a small pickle interpreter that knows only what a saved module tree needs: containers,
numbers, strings, tensors (read from the archive's `data/` records) and `__torch__.*` objects,
which stay inert attribute bags. Any other callable a pickle names is refused, and no code of the
archive is ever compiled or called.

Nothing large is allocated before it is known to fit: the pickle first yields descriptions of the
tensors only; their names, shapes and total size are checked (against the expected model when the
caller gives one) and every view must lie within its storage, no larger than it; each storage record
must declare exactly the size its tensor needs before it is decompressed. Only then are the records
read and the tensors copied out.
"""

from __future__ import annotations

import math
import os
import pickletools
import zipfile
from collections import OrderedDict
from collections.abc import Callable
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
_MAX_PICKLE = 16 << 20  # bytes of data.pkl; a Splam archive's is about 22 KB
_MAX_DEPTH = 64  # modules nested in modules; Splam's tree is 4 deep
_MAX_MODULES = 100_000  # module visits while naming tensors; Splam has under 200


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
class _StorageRef:
    """A `data/KEY` record of the archive, not read yet."""

    key: str
    dtype: torch.dtype
    numel: int

    @property
    def nbytes(self) -> int:
        return self.numel * torch.empty(0, dtype=self.dtype).element_size()


@dataclass(frozen=True)
class _TensorRef:
    """A tensor as the pickle describes it: a strided view of a storage record, not materialised."""

    storage: _StorageRef
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    @property
    def numel(self) -> int:
        return math.prod(self.size)


@dataclass(frozen=True)
class _Callable:
    name: str


class _Refused(Exception):
    """The pickle asks for something this reader does not do."""


class _Reader:
    """Decodes data.pkl into ScriptObjects whose tensors are TensorRefs; reads nothing else."""

    def __init__(self) -> None:
        self.storages: dict[str, _StorageRef] = {}

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

    def _storage(self, pid) -> _StorageRef:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], _Storage)):
            raise _Refused("a persistent record that is not a tensor storage")
        _, kind, key, _location, numel = pid
        if not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise _Refused("a malformed tensor storage record")
        ref = self.storages.setdefault(key, _StorageRef(key, kind.dtype, numel))
        if ref != _StorageRef(key, kind.dtype, numel):
            raise _Refused(f"tensor record data/{key} described twice with different types or sizes")
        return ref


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
    try:
        hash(key)
    except TypeError:
        raise _Refused("a dictionary key that is not a plain value") from None
    if not isinstance(key, str | int | float | bool | type(None) | tuple):
        raise _Refused("a dictionary key that is not a plain value")
    return key


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None, *extra) -> _TensorRef:
    if not isinstance(storage, _StorageRef) or not isinstance(offset, int):
        raise _Refused("a tensor without a storage")
    if offset < 0:
        raise _Refused("a tensor starting before its storage")
    if not (isinstance(size, tuple) and isinstance(stride, tuple) and len(size) == len(stride)
            and all(isinstance(v, int) and v >= 0 for v in size + stride)):
        raise _Refused("a tensor with a malformed shape")
    if hooks:
        raise _Refused("a tensor with backward hooks")
    ref = _TensorRef(storage, offset, size, stride)
    if ref.numel > storage.numel:
        raise _Refused(f"a tensor of {ref.numel:,} elements viewing a storage of {storage.numel:,}")
    last = offset + sum((n - 1) * st for n, st in zip(size, stride)) if ref.numel else offset - 1
    if last >= storage.numel:
        raise _Refused("a tensor reaching past its storage")
    return ref


def _named_tensors(
    obj: ScriptObject, prefix: str, out: dict[str, _TensorRef], ancestors: tuple[int, ...], visits: list[int]
) -> None:
    """Tensor attributes by dotted name; a submodule shared by two parents is named under both."""
    if id(obj) in ancestors:
        raise _Refused("a module that contains itself")
    if len(ancestors) >= _MAX_DEPTH:
        raise _Refused(f"modules nested more than {_MAX_DEPTH} deep")
    visits[0] += 1
    if visits[0] > _MAX_MODULES:
        raise _Refused(f"a module tree of more than {_MAX_MODULES:,} modules")
    if obj.custom_state:
        raise _Refused(f"an object of class {obj.qualified_name!r} with its own __setstate__ (archive code)")
    for name, value in obj.attributes.items():
        if isinstance(value, _TensorRef | ScriptObject) and not (isinstance(name, str) and name.isprintable()):
            # names go into messages and state_dict keys: one printable line each
            raise _Refused(f"a module attribute named {name!r}, not a printable name")
        if isinstance(value, _TensorRef):
            out[f"{prefix}{name}"] = value
        elif isinstance(value, ScriptObject):
            _named_tensors(value, f"{prefix}{name}.", out, (*ancestors, id(obj)), visits)


def _check_sizes(refs: dict[str, _TensorRef], max_elements: int) -> None:
    storages = {ref.storage for ref in refs.values()}
    for what, total in (("tensors", sum(r.numel for r in refs.values())),
                        ("tensor records", sum(s.numel for s in storages))):
        if total > max_elements:
            raise _Refused(f"{what} of {total:,} elements in all, more than the {max_elements:,} expected")


def _materialise(archive: zipfile.ZipFile, prefix: str, refs: dict[str, _TensorRef]) -> dict[str, torch.Tensor]:
    """Read each storage record once, after checking its declared size, and copy the views out."""
    storages: dict[str, torch.Tensor] = {}
    for ref in {r.storage for r in refs.values()}:
        name = f"{prefix}data/{ref.key}"
        try:
            declared = archive.getinfo(name).file_size
        except KeyError:
            raise _Refused(f"a tensor record data/{ref.key} missing from the archive") from None
        if declared != ref.nbytes:
            raise _Refused(f"tensor record data/{ref.key} of {declared} bytes, expected {ref.nbytes}")
        raw = bytearray(_read_record(archive, name, f"tensor record data/{ref.key}"))
        storages[ref.key] = torch.frombuffer(raw, dtype=ref.dtype) if raw else torch.empty(0, dtype=ref.dtype)
    return {name: torch.as_strided(storages[r.storage.key], r.size, r.stride, r.offset).clone()
            for name, r in refs.items()}


def _read_record(archive: zipfile.ZipFile, name: str, what: str) -> bytes:
    """The record's bytes, never inflating more than the size the archive declares for it.

    `ZipFile.read` inflates a deflated record whole before cutting it to its declared size, so a
    record that lies about its size (a zip bomb) would fill memory first; reading exactly the
    declared size inflates at most that much, and the record's CRC-32 then fails on a lie.
    """
    info = archive.getinfo(name)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _Refused(f"a {what} compressed with method {info.compress_type} (torch stores or deflates)")
    with archive.open(info) as handle:
        data = handle.read(info.file_size)
    if len(data) != info.file_size:
        raise _Refused(f"a {what} shorter than the {info.file_size} bytes it declares")
    return data


def read_torchscript_tensors(
    path: str | os.PathLike,
    *,
    max_elements: int,
    check: Callable[[dict[str, tuple[int, ...]]], None] | None = None,
) -> dict[str, torch.Tensor]:
    """Tensor attributes of the archive's module tree by dotted name (`conv1.weight`, ...).

    These are the module's parameters and buffers: what `scripted.state_dict()` would give, read
    without compiling or running the archive. `max_elements` caps the elements of all tensors (and
    of all records they view); `check` is given every name and shape before any tensor record is
    read and raises a UserError for a model it does not expect. Anything unexpected in the archive
    is a UserError.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("data.pkl") and n.count("/") <= 1]
            if len(pickles) != 1:
                raise UserError("TorchScript archive has no data.pkl record (unsupported or legacy format)", path)
            prefix = pickles[0][: -len("data.pkl")]
            if archive.getinfo(pickles[0]).file_size > _MAX_PICKLE:
                raise _Refused(f"a data.pkl record of more than {_MAX_PICKLE >> 20} MiB")
            order = b"little"
            if f"{prefix}byteorder" in archive.namelist():
                order = archive.open(f"{prefix}byteorder").read(16)
            if order.strip() != b"little":
                raise UserError(f"TorchScript archive stores tensors as {order.strip().decode(errors='replace')}-"
                                "endian; only little-endian archives are read", path)
            root = _Reader().load(_read_record(archive, pickles[0], "data.pkl record"))
            if not isinstance(root, ScriptObject):
                raise UserError("TorchScript archive does not hold a module", path)
            refs: dict[str, _TensorRef] = {}
            _named_tensors(root, "", refs, (), [0])
            if check is not None:
                check({name: ref.size for name, ref in refs.items()})
            _check_sizes(refs, max_elements)
            return _materialise(archive, prefix, refs)
    except _Refused as exc:
        raise UserError(f"TorchScript archive refused: it holds {exc}; only module trees of tensors are read "
                        "and no code in the archive is run", path) from None
    except (zipfile.BadZipFile, ValueError, OSError, IndexError, KeyError, EOFError) as exc:
        first = " ".join(str(exc).split()) or type(exc).__name__
        raise UserError(f"cannot read TorchScript archive: {first}", path) from None
