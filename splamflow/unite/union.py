"""The union of junction BEDs keyed as everywhere, `(contig, start, end, strand)`, and its balanced chunks."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from splamflow.io.bed import SCORABLE_STRANDS, STRAND_ORDER, JunctionKey, junction_name, read_junctions


def union_keys(paths: Iterable[str | os.PathLike]) -> dict[JunctionKey, int]:
    """Each distinct scorable junction of the BEDs -> the number of BEDs that hold it, sorted by key.

    Rows without a strand are left out: `score` skips them, and `project` skips them again per sample.
    The order (contig name, start, end, then +, -) does not depend on the order of the inputs.
    """
    files: dict[JunctionKey, int] = {}
    for path in paths:
        own = {(r.contig, r.start, r.end, r.strand) for r in read_junctions(path) if r.strand in SCORABLE_STRANDS}
        for key in own:
            files[key] = files.get(key, 0) + 1
    return {key: files[key] for key in sorted(files, key=lambda k: (k[0], k[1], k[2], STRAND_ORDER[k[3]]))}


def chunk_sizes(n: int, chunk_size: int) -> list[int]:
    """Sizes of ceil(n / chunk_size) chunks (one when n <= chunk_size, also when n is 0) differing by at most one."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    k = max(1, -(-n // chunk_size))
    return [n // k + (i < n % k) for i in range(k)]


def union_chunks(union: dict[JunctionKey, int], chunk_size: int) -> Iterator[list[tuple]]:
    """The union as junction BED rows (named JUNC00000001... in union order, score = BEDs holding it), in chunks."""
    rows = [(c, s, e, junction_name(i), n, strand) for i, ((c, s, e, strand), n) in enumerate(union.items(), 1)]
    first = 0
    for size in chunk_sizes(len(rows), chunk_size):
        yield rows[first:first + size]
        first += size
