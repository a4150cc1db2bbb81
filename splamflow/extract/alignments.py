"""Junction counting from BAM/CRAM alignments (pysam/htslib), optionally parallel by genome chunk.

Default semantics follow Splam 1.0.12's C++ extractor: an intron is a CIGAR `N` operation; every
mapped record counts (secondary, supplementary, duplicate, each mate), weighted by its integer `YC`
tag (default 1); strand from `XS`, else minimap2 `ts`, else '.'; introns longer than
`max_intron` (default 100,000 - 2, as Splam's `-M 100000` test works out) are dropped. Options add
filters (MAPQ, flags, anchors), library strandness and unique/multi-mapped counts.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context

import pysam

from splamflow import signals
from splamflow.errors import UserError
from splamflow.extract.strand import library_strand

#: Splam 1.0.12 keeps introns whose length + 2 <= 100000 (`--max-splice` default).
SPLAM_MAX_INTRON = 99_998

_STRAND_ORDER = {"+": 0, "-": 1, ".": 2}
_N = 3
_REF_ADVANCE = frozenset({0, 2, 3, 7, 8})
_ALIGNED = frozenset({0, 7, 8})

# (contig index, start, end, strand) -> [count, unique-mapped count, multi-mapped count]
Counts = dict[tuple[int, int, int, str], list[int]]


@dataclass(frozen=True)
class ExtractOptions:
    """Filters and strand rules; the defaults reproduce Splam 1.0.12."""

    strandness: str = "none"
    min_mapq: int = 0
    exclude_flags: int = 0
    min_anchor: int = 0
    max_intron: int = SPLAM_MAX_INTRON
    paired: bool = False
    multi_mapped: bool = False  # split counts by NH (uniquely vs multi-mapped records)


@dataclass
class ExtractStats:
    """What one pass saw; summed over parallel chunks."""

    records: int = 0
    spliced: int = 0
    filtered: int = 0
    paired_spliced: int = 0
    paired_spliced_without_nh: int = 0
    introns_too_long: int = 0
    introns_short_anchor: int = 0

    def add(self, other: ExtractStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Junctions:
    """Junction counts keyed by contig index, with the header's contig names for output."""

    contigs: list[str]
    counts: Counts = field(default_factory=dict)
    stats: ExtractStats = field(default_factory=ExtractStats)
    indexed: bool = True  # False: read in one sequential pass (no .bai/.csi/.crai)

    def merge(self, counts: Counts, stats: ExtractStats) -> None:
        mine = self.counts
        for key, value in counts.items():
            have = mine.get(key)
            if have is None:
                mine[key] = list(value)
            else:
                have[0] += value[0]
                have[1] += value[1]
                have[2] += value[2]
        self.stats.add(stats)

    def rows(self) -> list[tuple[str, int, int, str, list[int]]]:
        """Rows sorted by (header contig order, start, end, strand '+', '-', '.')."""
        keys = sorted(self.counts, key=lambda k: (k[0], k[1], k[2], _STRAND_ORDER[k[3]]))
        return [(self.contigs[k[0]], k[1], k[2], k[3], self.counts[k]) for k in keys]


@contextlib.contextmanager
def open_alignments(
    path: str | os.PathLike, reference: str | os.PathLike | None = None, threads: int = 1
) -> Iterator[pysam.AlignmentFile]:
    """Open a BAM or CRAM file; SAM text, CRAM without a reference and unreadable files are UserErrors.

    Closing a file that failed part-way (htslib reports it again) does not hide the first error.
    """
    path = os.fspath(path)
    kwargs = {"threads": threads} if threads > 1 else {}
    if reference is not None:
        kwargs["reference_filename"] = os.fspath(reference)
    try:
        handle = pysam.AlignmentFile(path, "r", **kwargs)
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read alignments: {_one_line(exc)}", path) from None
    try:
        if handle.is_sam:
            raise UserError("SAM text input is not supported; convert it with `samtools view -b`", path)
        if handle.is_cram and reference is None:
            raise UserError("CRAM input needs --reference REF.fa (the FASTA it was compressed against)", path)
        if not handle.is_bam and not handle.is_cram:
            raise UserError("not a BAM or CRAM file", path)
        yield handle
    finally:
        with contextlib.suppress(OSError):
            handle.close()


def _read_error(exc: BaseException, path: str, reference: str | None) -> UserError:
    """The UserError for a failed read; for a CRAM, say so when --reference is not its reference."""
    if reference is not None and path.lower().endswith(".cram"):
        mismatch = cram_reference_mismatch(path, reference)
        if mismatch:
            return UserError(f"--reference {reference} is not the FASTA this CRAM was compressed against: "
                             f"{mismatch}", path)
    return UserError(f"cannot read alignments: {_one_line(exc)}", path)


def cram_reference_mismatch(path: str, reference: str) -> str | None:
    """How `reference` differs from the sequences named in the CRAM header (@SQ LN and M5), or None."""
    with pysam.AlignmentFile(path, "rc", reference_filename=reference) as cram:
        sequences = cram.header.to_dict().get("SQ", [])
    with pysam.FastaFile(reference) as fasta:
        lengths = dict(zip(fasta.references, fasta.lengths))
        for sq in sequences:
            name = sq.get("SN")
            if name not in lengths:
                return f"it has no sequence {name!r}"
            if "LN" in sq and sq["LN"] != lengths[name]:
                return f"sequence {name!r} is {lengths[name]:,} bases long there, {sq['LN']:,} in the CRAM header"
            if "M5" in sq:
                digest = hashlib.md5(fasta.fetch(name).upper().encode("ascii"), usedforsecurity=False).hexdigest()
                if digest != str(sq["M5"]).lower():
                    return f"sequence {name!r} has MD5 {digest} there, {sq['M5']} in the CRAM header"
    return None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _count_records(
    reads: Iterable[pysam.AlignedSegment], options: ExtractOptions, count_from: int | None
) -> tuple[Counts, ExtractStats]:
    """Core loop: add the introns of each record to the junction table.

    `count_from` skips the leading records that start before it (a chunk's left neighbour counts
    them). Only records whose CIGAR has an `N` are looked at beyond their CIGAR string.
    """
    counts: Counts = {}
    stats = ExtractStats()
    strandness = options.strandness
    excluded = options.exclude_flags | 4
    min_mapq = options.min_mapq
    min_anchor = options.min_anchor
    max_intron = options.max_intron
    paired = options.paired
    need_nh = paired or options.multi_mapped
    if count_from is not None:
        reads = itertools.dropwhile(lambda r: r.reference_start < count_from, reads)
    n_records = spliced = filtered = 0
    for read in reads:
        n_records += 1
        cigar_text = read.cigarstring
        if cigar_text is None or "N" not in cigar_text:
            continue
        flag = read.flag
        if flag & excluded or read.mapping_quality < min_mapq:
            if not flag & 4:
                filtered += 1
            continue
        spliced += 1
        if min_anchor:
            gaps = _anchored(read.cigartuples, read.reference_start, min_anchor, stats)
        elif "D" not in cigar_text:
            # without deletions, the gaps between aligned blocks are exactly the N operations
            # (blocks split by an insertion touch: no gap); get_blocks is implemented in C
            blocks = read.get_blocks()
            if len(blocks) == 2:
                gaps = [(blocks[0][1], blocks[1][0])]
            else:
                gaps = [(a[1], b[0]) for a, b in zip(blocks, blocks[1:]) if a[1] < b[0]]
        else:
            pos = read.reference_start
            gaps = []
            for op, length in read.cigartuples:
                if op == _N:
                    gaps.append((pos, pos + length))
                if op in _REF_ADVANCE:
                    pos += length
        weight = read.get_tag("YC") if read.has_tag("YC") else 1
        if not isinstance(weight, int):
            weight = 1
        multi = False
        if need_nh:
            if read.has_tag("NH"):
                multi = read.get_tag("NH") > 1
            elif paired and flag & 1:
                stats.paired_spliced_without_nh += 1
            if paired and flag & 1:
                stats.paired_spliced += 1
        strand = _strand(read, strandness)
        tid = read.reference_id
        for start, end in gaps:
            if end <= start:
                continue
            if end - start > max_intron:
                stats.introns_too_long += 1
                continue
            key = (tid, start, end, strand)
            row = counts.get(key)
            if row is None:
                row = counts[key] = [0, 0, 0]
            row[0] += weight
            row[2 if multi else 1] += weight
    stats.records += n_records
    stats.spliced += spliced
    stats.filtered += filtered
    return counts, stats


def _strand(read: pysam.AlignedSegment, strandness: str) -> str:
    """Same rule as `strand.record_strand`, written for the hot loop (no exceptions, one tag read)."""
    if read.has_tag("XS"):
        xs = read.get_tag("XS")
        if isinstance(xs, str) and xs and xs[0] in "+-":
            return xs[0]
    elif read.has_tag("ts"):
        ts = read.get_tag("ts")
        if isinstance(ts, str) and ts and ts[0] in "+-":
            if read.is_reverse:
                return "-" if ts[0] == "+" else "+"
            return ts[0]
    return library_strand(read, strandness) if strandness != "none" else "."


def _anchored(
    cigar: list[tuple[int, int]], pos: int, min_anchor: int, stats: ExtractStats
) -> list[tuple[int, int]]:
    gaps: list[tuple[int, int]] = []
    blocks = [0]
    for op, length in cigar:
        if op == _N:
            gaps.append((pos, pos + length))
            blocks.append(0)
        elif op in _ALIGNED:
            blocks[-1] += length
        if op in _REF_ADVANCE:
            pos += length
    kept = []
    for i, gap in enumerate(gaps):
        if blocks[i] >= min_anchor and blocks[i + 1] >= min_anchor:
            kept.append(gap)
        else:
            stats.introns_short_anchor += 1
    return kept


@dataclass(frozen=True)
class _Task:
    path: str
    reference: str | None
    contig: str
    start: int | None
    end: int | None
    count_from: int | None
    options: ExtractOptions


def _run_task(task: _Task) -> tuple[Counts, ExtractStats]:
    with open_alignments(task.path, task.reference) as bam:
        try:
            reads = bam.fetch(task.contig, task.start, task.end)
            counts, stats = _count_records(reads, task.options, task.count_from)
        except (OSError, ValueError) as exc:
            raise _read_error(exc, task.path, task.reference) from None
    return counts, stats


def parse_region(region: str, bam: pysam.AlignmentFile, path: str) -> tuple[str, int | None, int | None]:
    """samtools-style region `contig[:start[-end]]` (1-based, inclusive) -> 0-based half-open."""
    if region in bam.references:
        return region, None, None
    contig, sep, span = region.rpartition(":")
    if not sep or contig not in bam.references:
        raise UserError(f"region {region!r}: contig not in the BAM header", path)
    first, dash, last = span.replace(",", "").partition("-")
    try:
        start = int(first) - 1
        end = int(last) if dash and last else bam.get_reference_length(contig)
    except ValueError:
        raise UserError(f"region {region!r} is not contig[:start[-end]]", path) from None
    if start < 0 or end <= start:
        raise UserError(f"region {region!r} is empty or starts before 1", path)
    return contig, start, min(end, bam.get_reference_length(contig))


def _plan(
    bam: pysam.AlignmentFile, path: str, reference: str | None, options: ExtractOptions,
    region: str | None, threads: int,
) -> list[_Task]:
    """Split the work into roughly equal chunks (by mapped records per contig from the index)."""
    if region is not None:
        contig, start, end = parse_region(region, bam, path)
        spans = {contig: (start or 0, end if end is not None else bam.get_reference_length(contig))}
        weights = {contig: 1}
    else:
        weights = {s.contig: s.mapped for s in bam.get_index_statistics() if s.mapped}
        spans = {c: (0, bam.get_reference_length(c)) for c in weights}
        if bam.is_cram and not weights:
            weights = {c: 1 for c in bam.references}
            spans = {c: (0, bam.get_reference_length(c)) for c in weights}
    total = sum(weights.values()) or 1
    target = threads * 4 if threads > 1 else 1
    tasks = []
    for contig, weight in weights.items():
        lo, hi = spans[contig]
        pieces = max(1, min(round(weight / total * target), (hi - lo) // 10_000 or 1))
        bounds = [lo + (hi - lo) * i // pieces for i in range(pieces)] + [hi]
        for i in range(pieces):
            whole = region is None and pieces == 1
            tasks.append(
                _Task(
                    path, reference, contig,
                    None if whole else bounds[i], None if whole else bounds[i + 1],
                    None if i == 0 else bounds[i], options,
                )
            )
    return tasks


def extract_junctions(
    path: str | os.PathLike,
    reference: str | os.PathLike | None = None,
    options: ExtractOptions | None = None,
    region: str | None = None,
    threads: int = 1,
) -> Junctions:
    """Count junctions in a BAM/CRAM. `region` and `threads > 1` need an index."""
    options = options or ExtractOptions()
    path = os.fspath(path)
    ref = os.fspath(reference) if reference is not None else None
    with open_alignments(path, ref) as bam:
        contigs = list(bam.references)
        indexed = bam.has_index()
        if region is not None and not indexed:
            raise UserError(
                "--region needs an index (.bai/.csi/.crai); create one with `samtools index`", path
            )
        result = Junctions(contigs, indexed=indexed)
        tasks = None if not indexed or (threads <= 1 and region is None) else _plan(
            bam, path, ref, options, region, threads
        )
    if tasks is None:
        with open_alignments(path, ref, threads=threads) as whole:
            try:
                result.merge(*_count_records(whole.fetch(until_eof=True), options, None))
            except (OSError, ValueError) as exc:
                raise _read_error(exc, path, ref) from None
        return result
    if threads <= 1 or len(tasks) <= 1:
        for task in tasks:
            result.merge(*_run_task(task))
        return result
    pool = ProcessPoolExecutor(max_workers=threads, mp_context=_mp_context(), initializer=signals.reset_in_worker)
    try:
        for counts, stats in pool.map(_run_task, tasks):
            result.merge(counts, stats)
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown()
    return result


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what is queued and end the running workers now (an error or an interruption)."""
    pool.shutdown(wait=False, cancel_futures=True)
    # Python < 3.14 has no public call that stops running workers; they hold no output files.
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        process.terminate()
        process.join()


def _mp_context():
    """fork where available: workers need no re-import of the caller's main module."""
    return get_context("fork" if "fork" in get_all_start_methods() else "spawn")


def junction_counts(
    path: str | os.PathLike, reference: str | os.PathLike | None = None
) -> dict[tuple[str, int, int, str], float]:
    """{(contig, start, end, strand): count} with Splam 1.0.12's defaults (YC weights, all flags)."""
    junctions = extract_junctions(path, reference)
    return {(c, s, e, strand): float(v[0]) for c, s, e, strand, v in junctions.rows()}
