"""Hostile inputs for the reliability tests: files a careless or a malicious user could pass."""

from __future__ import annotations

import contextlib
import gzip
import shutil
import struct
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pysam
import pytest
import torch
from torch import nn

# The BGZF end-of-file marker block (SAM/BAM specification, section 4.1.2).
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


class FileOverwriter(nn.Module):
    """A scripted module whose __setstate__ (run by torch.jit.load) overwrites the file it names."""

    def __init__(self, target: str):
        super().__init__()
        self.target = target
        self.weight = nn.Parameter(torch.ones(3))
        self.scratch = torch.zeros(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight

    @torch.jit.export
    def __getstate__(self) -> tuple[str, torch.Tensor, bool]:
        return (self.target, self.weight, self.training)

    @torch.jit.export
    def __setstate__(self, state: tuple[str, torch.Tensor, bool]) -> None:
        # kept in an attribute so that TorchScript does not drop the write as dead code
        self.scratch = torch.from_file(state[0], True, 16, dtype=torch.uint8).fill_(65)
        self.target = state[0]
        self.weight = state[1]
        self.training = state[2]


def malicious_torchscript(path: Path, victim: Path) -> Path:
    """A TorchScript archive that overwrites the first 16 bytes of `victim` when torch.jit.load reads it."""
    torch.jit.save(torch.jit.script(FileOverwriter(str(victim))), str(path))
    return path


def truncated_bam(src: Path, dst: Path) -> Path:
    """The first half of a BAM with an end-of-file block appended, so htslib sees no missing EOF."""
    data = src.read_bytes()
    dst.write_bytes(data[: len(data) // 2] + BGZF_EOF)
    return dst


def bam_named_fasta(src_bam: Path, fai_like: Path, dst: Path) -> Path:
    """A BAM renamed to .fa with a .fai beside it (pysam's FastaFile aborts on it)."""
    shutil.copy(src_bam, dst)
    shutil.copy(fai_like, f"{dst}.fai")
    return dst


def plain_gzip_fasta(src_bgzip: Path, dst: Path) -> Path:
    """The same FASTA compressed with plain gzip (not bgzip), unindexed."""
    with gzip.open(src_bgzip, "rb") as src:
        dst.write_bytes(gzip.compress(src.read()))
    return dst


def wrong_reference(fasta: Path, dst: Path) -> Path:
    """A FASTA with the same contig names and lengths as `fasta` but other bases past 100 kb, indexed."""
    with pysam.FastaFile(str(fasta)) as src, open(dst, "w") as out:
        for name in src.references:
            seq = src.fetch(name)
            seq = seq[:100_000] + seq[100_000:].translate(str.maketrans("ACGT", "CGTA"))
            out.write(f">{name}\n" + "\n".join(seq[i : i + 60] for i in range(0, len(seq), 60)) + "\n")
    pysam.faidx(str(dst))
    return dst


def big_bam(src: Path, dst: Path, copies: int) -> Path:
    """`src` with every record repeated `copies` times (renamed), still sorted, indexed."""
    with pysam.AlignmentFile(str(src)) as bam, pysam.AlignmentFile(str(dst), "wb", template=bam) as out:
        for read in bam:
            name = read.query_name
            for k in range(copies):
                read.query_name = f"{name}.{k}"
                out.write(read)
    pysam.index(str(dst))
    return dst


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[Path]:
    """`chattr +i` on `path` for the block; skips the test where that is not permitted (not root)."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot make files immutable here: {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


# Hand-made TorchScript archives: data.pkl written opcode by opcode (pickle protocol 2), as a
# malicious archive could be, with the tensor records of our choice.
def _text(s: str) -> bytes:
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def _global(module: str, name: str) -> bytes:
    return b"c" + f"{module}\n{name}\n".encode()


def _int(n: int) -> bytes:
    return b"J" + struct.pack("<i", n)


def _tuple(items: list[bytes]) -> bytes:
    return b"(" + b"".join(items) + b"t"


def pickled_tensor(key: str, numel: int, size: tuple[int, ...], stride: tuple[int, ...], offset: int = 0,
                   storage: str = "FloatStorage") -> bytes:
    """Opcodes pushing `_rebuild_tensor_v2` of a view of record data/KEY (`numel` elements)."""
    pid = _tuple([_text("storage"), _global("torch", storage), _text(key), _text("cpu"), _int(numel)]) + b"Q"
    args = [pid, _int(offset), _tuple([_int(n) for n in size]), _tuple([_int(n) for n in stride]), b"\x89",
            _global("collections", "OrderedDict") + b")R"]
    return _global("torch._utils", "_rebuild_tensor_v2") + _tuple(args) + b"R"


def pickled_module(attributes: dict[str, bytes], memo: int | None = None) -> bytes:
    """Opcodes pushing a `__torch__` module with these attributes; `memo`: also store it there."""
    body = _global("__torch__", "M") + b")\x81" + (b"q" + bytes([memo]) if memo is not None else b"") + b"}"
    for name, value in attributes.items():
        body += _text(name) + value + b"s"
    return body + b"b"


def pickled_memo(memo: int) -> bytes:
    """Opcodes pushing the object stored in `memo` again (a shared or a cyclic reference)."""
    return b"h" + bytes([memo])


def torchscript_archive(path: Path, data_pkl: bytes, records: dict[str, bytes | int]) -> Path:
    """A zip laid out as torch.jit.save lays it out; an int record is that many zero bytes, deflated."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("m/data.pkl", b"\x80\x02" + data_pkl + b".")
        archive.writestr("m/constants.pkl", b"\x80\x02).")
        archive.writestr("m/code/__torch__/m.py", "")
        for key, data in records.items():
            if isinstance(data, bytes):
                archive.writestr(f"m/data/{key}", data)
                continue
            info = zipfile.ZipInfo(f"m/data/{key}")
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=data >= 1 << 31) as out:
                for _ in range(data >> 20):
                    out.write(bytes(1 << 20))
    return path


def declare_size(path: Path, name: str, size: int) -> Path:
    """Make the zip's central directory declare `size` bytes for record `name` (a bomb that lies)."""
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + length] == name.encode():
            struct.pack_into("<I", data, at + 24, size)
            path.write_bytes(bytes(data))
            return path
        at = data.find(b"PK\x01\x02", at + 4)
    raise KeyError(name)


def splam_shaped_archive(path: Path, tensors: dict[str, bytes] | None = None,
                         records: dict[str, bytes | int] | None = None) -> Path:
    """A TorchScript-like archive with exactly SplamNet's names and shapes (zero weights).

    `tensors` replaces the opcodes of named tensors, `records` the contents of records by key
    (a tensor's key is its position in the state_dict).
    """
    from splamflow.model import SplamNet

    tree: dict = {}
    data: dict[str, bytes | int] = {}
    for i, (name, value) in enumerate(SplamNet().state_dict().items()):
        *parents, leaf = name.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        storage = "LongStorage" if value.dtype == torch.int64 else "FloatStorage"
        node[leaf] = (tensors or {}).get(name) or pickled_tensor(str(i), value.numel(), tuple(value.shape),
                                                                 value.stride(), storage=storage)
        data[str(i)] = bytes(value.numel() * value.element_size())

    def emit(node: dict) -> bytes:
        return pickled_module({k: v if isinstance(v, bytes) else emit(v) for k, v in node.items()})

    return torchscript_archive(path, emit(tree), data | (records or {}))


def curated_arrays(n: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """The arrays of a small valid curated set (as `curate` writes them)."""
    rng = np.random.default_rng(seed)
    return {
        "codes": rng.integers(0, 4, (n, 800)).astype(np.uint8), "label": np.array([0, 1] * (n // 2), np.uint8),
        "category": np.array(["negative_random", "positive_mane"] * (n // 2)), "contig": np.array(["20"] * n),
        "start": np.arange(n) * 1000 + 100_000, "end": np.arange(n) * 1000 + 100_500, "strand": np.array(["+"] * n),
    }


# Curated sets that `curate` never writes: name -> arrays to replace (None: drop the array).
BAD_CURATED = {
    "labels-of-7": {"label": np.array([7, 1] * 4, np.uint8)},
    "labels-half": {"label": np.array([0.5, 1.0] * 4)},
    "codes-wrong-width": {"codes": np.zeros((8, 799), np.uint8)},
    "codes-out-of-range": {"codes": np.full((8, 800), 9, np.uint8)},
    "codes-float": {"codes": np.zeros((8, 800), np.float32)},
    "labels-too-few": {"label": np.array([0, 1], np.uint8)},
    "start-text": {"start": np.array(["x"] * 8)},
    "contig-numbers": {"contig": np.arange(8)},
    "pickled-objects": {"category": np.array([object()] * 8, dtype=object)},
}


def write_curated(path: Path, changes: dict[str, np.ndarray | None]) -> Path:
    arrays = {k: v for k, v in {**curated_arrays(), **changes}.items() if v is not None}
    np.savez(path, **arrays)
    return path


# Model sidecars (JSON) that must be refused in one line: name -> (bytes, part of the message).
BAD_SIDECARS = {
    "5000-digit-number": (b'{"version": "x", "n": ' + b"9" * 5000 + b"}", "a number of 5,000 characters"),
    "nested-100000-deep": (b'{"n": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nests more than 32 levels"),
    "nested-40-deep": (b'{"n": ' + b"[" * 40 + b"]" * 40 + b"}", "nests more than 32 levels"),
    "bare-nan": (b'{"version": "x", "auprc": NaN}', "NaN is not a JSON number"),
    "overflowing-float": (b'{"version": "x", "auprc": 1e999}', "1e999 is not a finite number"),
    "newline-in-version": (b'{"version": "v1\\nsplam_score.py score: error: forged"}', '"version" must be one'),
    "version-a-number": (b'{"version": 3}', '"version" must be a JSON str'),
    "sha256-a-list": (b'{"sha256": [1]}', '"sha256" must be a JSON str'),
    "larger-than-1-mib": (b'{"description": "' + b"x" * (1 << 20) + b'"}', "larger than 1,048,576 bytes"),
}


def int32_model(path: Path) -> Path:
    """The Splam parameters as int32 tensors (no sidecar): a model that would score everything alike."""
    from safetensors.torch import save_file

    from splamflow.model import SplamNet

    state = {k: v.to(torch.int32) if v.is_floating_point() else v for k, v in SplamNet().state_dict().items()}
    save_file(state, str(path))
    return path
