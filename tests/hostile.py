"""Hostile inputs for the reliability tests: files a careless or a malicious user could pass."""

from __future__ import annotations

import contextlib
import gzip
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

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
