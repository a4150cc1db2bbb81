"""A sorted, indexed BAM cut into chunks by its index, and BAM parts gathered into one file.

A chunk is a list of regions holding about `records` records (from the index's per-contig counts):
a large contig is cut into equal-length pieces, small neighbouring contigs share a chunk, and the
unplaced unmapped records (`*`) close the last one. Every record belongs to exactly one region:
the region whose span holds its start (a piece skips the records that start before it, which its
left neighbour holds), so reading the chunks in order reads the file's records in file order. The
chunks depend on the input and `records` only, never on how many processes read them.

A part is a BAM written with the output's header; `gather` writes the header's BGZF blocks once,
then each part's record blocks, then the end-of-file block. Each part starts a new BGZF block, so
the gathered bytes depend on the chunks, not on which process wrote which part.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pysam

from splamflow.errors import UserError

_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")  # SAM spec 4.1.2
_COPY_BUFFER = 4 << 20


@dataclass(frozen=True)
class Region:
    """`contig` ('*': the unplaced unmapped records) from `start` to `end` (None: the contig's end);
    records that start before `start` belong to the region before."""

    contig: str
    start: int = 0
    end: int | None = None


def plan_chunks(bam: pysam.AlignmentFile, records: int) -> list[list[Region]]:
    """The chunks of an indexed BAM, in file order."""
    chunks: list[list[Region]] = []
    group: list[Region] = []
    size = 0
    for stat in bam.get_index_statistics():
        if not stat.total:
            continue
        length = bam.get_reference_length(stat.contig)
        pieces = min(-(-stat.total // records), max(length, 1))  # never an empty piece
        if pieces == 1:
            group.append(Region(stat.contig))
            size += stat.total
            if size >= records:
                chunks.append(group)
                group, size = [], 0
            continue
        if group:
            chunks.append(group)
            group, size = [], 0
        bounds = [length * i // pieces for i in range(pieces)]
        chunks += [[Region(stat.contig, lo, hi)] for lo, hi in zip(bounds, [*bounds[1:], None])]
    if bam.nocoordinate:
        group.append(Region("*"))
    if group:
        chunks.append(group)
    return chunks


def expected_records(bam: pysam.AlignmentFile) -> int:
    """The number of records the index counts (placed and unplaced)."""
    return sum(s.total for s in bam.get_index_statistics()) + bam.nocoordinate


def chunk_records(bam: pysam.AlignmentFile, chunk: list[Region]) -> Iterator[pysam.AlignedSegment]:
    """The records of one chunk, in file order."""
    for region in chunk:
        if region.contig == "*":
            yield from bam.fetch("*")
            continue
        reads = bam.fetch(region.contig, region.start, region.end)
        if region.start:
            reads = itertools.dropwhile(lambda r, start=region.start: r.reference_start < start, reads)
        yield from reads


def check_total(path: str | os.PathLike, seen: int, expected: int) -> None:
    """Reading by the index must give every record of the file."""
    if seen != expected:
        raise UserError(
            f"reading by its index gave {seen:,} records where the index counts {expected:,}: the index does "
            "not match the BAM; index it again with `samtools index`", path)


def header_blocks(header: pysam.AlignmentHeader, folder: Path) -> bytes:
    """The BGZF blocks of `header` as a BAM writer writes them (it flushes after the header)."""
    empty = folder / "header.bam"
    with pysam.AlignmentFile(os.fspath(empty), "wb", header=header):
        pass
    data = empty.read_bytes()
    empty.unlink()
    return data[:-len(_EOF)]


def gather(parts: list[Path], header: bytes, target: Path) -> None:
    """Write `header`, the record blocks of every part (each written with that header) and the
    end-of-file block to `target`, removing each part once copied."""
    with open(target, "wb") as out:
        out.write(header)
        for part in parts:
            size = part.stat().st_size - len(header) - len(_EOF)
            with open(part, "rb") as src:
                if src.read(len(header)) != header:
                    raise ValueError(f"{part} does not start with the output's header")
                while size > 0:
                    block = src.read(min(size, _COPY_BUFFER))
                    if not block:
                        raise ValueError(f"{part} is truncated")
                    out.write(block)
                    size -= len(block)
            part.unlink()
        out.write(_EOF)
