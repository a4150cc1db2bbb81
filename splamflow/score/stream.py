"""Streaming scoring of a junction BED: windows read from the genome in a background thread while
the model scores the previous chunk; rows written in input order, skipped rows counted by reason."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TextIO

import numpy as np

from splamflow.errors import UserError
from splamflow.io.bed import SCORABLE_STRANDS, JunctionRow, bed_line, read_junctions, score_text
from splamflow.io.genome import open_genome
from splamflow.model import SplamNet
from splamflow.progress import bar
from splamflow.score.options import BATCH_SIZE, CHUNK_SIZE, DEVICE, PRECISION, batch_size_for
from splamflow.score.predictor import Predictor
from splamflow.windows import SEQ_LEN, junction_input

SKIP_REASONS = ("strand", "contig", "bounds", "site_n")
REMEMBERED_JUNCTIONS = 200_000  # distinct junctions whose scores are kept for repeats (~460 B each: <100 MB)


@dataclass
class _Chunk:
    rows: list[JunctionRow]
    slots: list[int | tuple | None]  # per row: index into unique_codes, a key scored earlier, or None (skipped)
    unique_codes: np.ndarray  # (U, 800) codes of the junctions first met in this chunk
    keys: list[tuple | None]  # per unique code: its key when remembered for later chunks
    skipped: dict[str, int]


class _Seen:
    """Junction keys met so far in the input -> None (scored) or the reason they are skipped.

    At most `limit` keys are remembered (memory stays bounded); a key met after that is scored
    again in each chunk it appears in, which gives the same bytes.
    """

    def __init__(self, limit: int = REMEMBERED_JUNCTIONS):
        self.outcomes: dict[tuple, str | None] = {}
        self.limit = limit

    def remember(self, key: tuple, outcome: str | None) -> bool:
        if len(self.outcomes) >= self.limit:
            return False
        self.outcomes[key] = outcome
        return True


def _prepare(rows: list[JunctionRow], genome, lengths: dict[str, int], genome_path: str, seen: _Seen) -> _Chunk:
    """Fetch and encode one chunk's windows (runs in the reader thread); each junction once per input."""
    skipped = dict.fromkeys(SKIP_REASONS, 0)
    slots: list[int | tuple | None] = []
    local: dict[tuple, int | str] = {}  # junction first met in this chunk -> slot, or the reason it is skipped
    codes: list[np.ndarray] = []
    keys: list[tuple | None] = []
    for row in rows:
        if row.strand not in SCORABLE_STRANDS:
            outcome: int | str | tuple = "strand"
        elif row.contig not in lengths:
            outcome = "contig"
        else:
            key = (row.contig, row.start, row.end, row.strand)
            if key in local:
                outcome = local[key]
            elif key in seen.outcomes:  # scored (or skipped) in an earlier chunk
                outcome = seen.outcomes[key] or key
            else:
                try:
                    row_codes, reason = junction_input(genome, *key, lengths[row.contig])
                except (OSError, ValueError) as exc:
                    raise UserError(f"cannot read {row.contig}:{row.start}-{row.end}: {exc}", genome_path) from None
                remembered = seen.remember(key, reason)
                if row_codes is not None:
                    codes.append(row_codes)
                    keys.append(key if remembered else None)
                local[key] = reason or len(codes) - 1
                outcome = local[key]
        if isinstance(outcome, str):
            skipped[outcome] += 1
            slots.append(None)
        else:
            slots.append(outcome)
    unique = np.stack(codes) if codes else np.zeros((0, SEQ_LEN), dtype=np.uint8)
    return _Chunk(rows, slots, unique, keys, skipped)


def _chunks(path: str | os.PathLike, size: int) -> Iterator[list[JunctionRow]]:
    chunk: list[JunctionRow] = []
    for row in read_junctions(path):
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _prepared(bed_path: str | os.PathLike, size: int, genome, genome_path: str) -> Iterator[_Chunk]:
    """The BED's chunks with their windows encoded; the next chunk is read in a background thread
    while the caller scores the current one."""
    lengths = dict(zip(genome.references, genome.lengths))
    chunks = _chunks(bed_path, size)
    seen = _Seen()

    def prepare() -> _Chunk:
        return _prepare(next(chunks, []), genome, lengths, genome_path, seen)

    with ThreadPoolExecutor(max_workers=1) as reader:
        pending = reader.submit(prepare)
        while True:
            chunk = pending.result()
            if not chunk.rows:
                return
            pending = reader.submit(prepare)
            yield chunk


def _write(chunk: _Chunk, donor: np.ndarray, acceptor: np.ndarray, scored: dict[tuple, tuple[str, str]],
           out: TextIO) -> None:
    """The chunk's scored rows in input order: the input columns, the two scores, the 7th column.

    `scored` holds the score texts of junctions remembered from earlier chunks; this chunk's are added.
    """
    texts = [(score_text(float(d)), score_text(float(a))) for d, a in zip(donor, acceptor)]
    for key, text in zip(chunk.keys, texts):
        if key is not None:
            scored[key] = text
    for row, k in zip(chunk.rows, chunk.slots):
        if k is not None:
            extra = () if row.extra is None else (row.extra,)
            donor_text, acceptor_text = texts[k] if isinstance(k, int) else scored[k]
            out.write(bed_line(row.contig, row.start, row.end, row.name, row.score, row.strand,
                               donor_text, acceptor_text, *extra))


def _add_counts(stats: dict, chunk: _Chunk) -> None:
    stats["rows"] += len(chunk.rows)
    stats["computed"] += len(chunk.unique_codes)
    stats["scored"] += sum(k is not None for k in chunk.slots)
    for reason, n in chunk.skipped.items():
        stats["skipped"][reason] += n


def _genome_path(genome) -> str:
    """The file name of an open genome (pysam.FastaFile knows it), for messages and stats."""
    name = getattr(genome, "filename", None)
    return name.decode() if isinstance(name, bytes) else str(name or "genome")


def score_bed(
    bed_path: str | os.PathLike,
    genome,
    net: SplamNet,
    out: TextIO,
    device: str = DEVICE,
    precision: str = PRECISION,
    batch_size: int = BATCH_SIZE,
    chunk_size: int = CHUNK_SIZE,
    progress: bool = False,
    total: int | None = None,
) -> dict:
    """Stream junctions from `bed_path`, write score rows to `out` in input order; return stats.

    `genome` is a FASTA path (opened with `open_genome`, closed at the end) or an open genome
    (`open_genome`'s pysam.FastaFile, a `GenomeSet`), which stays open. `batch_size` 0 picks the
    device's default. Memory is bounded by `chunk_size`, plus the memory of repeats
    (at most REMEMBERED_JUNCTIONS distinct junctions, under 100 MB). Every forward pass has exactly `batch_size`
    rows (the last batch is padded), so a junction's score does not depend on which other junctions
    share its batch or chunk: scoring a BED in pieces (with the same batch size) gives the same bytes.
    """
    with contextlib.ExitStack() as stack:
        if isinstance(genome, (str, os.PathLike)):
            genome_path = os.fspath(genome)
            genome = stack.enter_context(open_genome(genome_path))
        else:
            genome_path = _genome_path(genome)
        predictor = Predictor(net, device=device, precision=precision)
        batch = batch_size_for(predictor.device.type, batch_size)
        stats = {
            "input": os.path.basename(bed_path),
            "genome": os.path.basename(genome_path),
            "device": str(predictor.device),
            "precision": precision,
            "batch_size": batch,
            "rows": 0,
            "scored": 0,
            "computed": 0,
            "skipped": dict.fromkeys(SKIP_REASONS, 0),
        }
        started = time.perf_counter()
        shown = stack.enter_context(bar(total, "score", "junction", quiet=not progress))
        scored: dict[tuple, tuple[str, str]] = {}
        for chunk in stack.enter_context(contextlib.closing(_prepared(bed_path, chunk_size, genome, genome_path))):
            donor, acceptor = predictor.predict_padded(chunk.unique_codes, batch)
            _write(chunk, donor, acceptor, scored, out)
            _add_counts(stats, chunk)
            shown.update(len(chunk.rows))
    elapsed = time.perf_counter() - started
    stats["junctions_per_second"] = round(stats["rows"] / elapsed, 1) if elapsed > 0 else None
    return stats
