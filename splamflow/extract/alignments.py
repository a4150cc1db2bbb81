"""Junction counting from BAM/CRAM alignments (pysam/htslib), optionally parallel by genome chunk.

Default semantics follow Splam 1.0.12's C++ extractor: an intron is a CIGAR `N` gap; every
mapped record counts (secondary, supplementary, duplicate, each mate), weighted by its integer `YC`
tag (default 1); strand from `XS`, else minimap2 `ts`, else '.'; introns longer than
`max_intron` (default 100,000 - 2, as Splam's `-M 100000` test works out) are dropped. Options add
filters (MAPQ, flags, anchors), library strandness and unique/multi-mapped counts. Records, introns
and strands are read with `splamflow.io.alignments`.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import pysam

from splamflow.errors import UserError
from splamflow.extract.options import THREADS, ExtractOptions
from splamflow.io.alignments import (
    PAIRED,
    UNMAPPED,
    open_alignments,
    parse_region,
    read_error,
    read_introns_with_anchors,
    record_strand,
    spliced_introns,
)
from splamflow.io.bed import STRAND_ORDER
from splamflow.progress import bar, counted, index_total
from splamflow.workers import parallel_map

# (contig index, start, end, strand) -> [count, unique-mapped count, multi-mapped count]
Counts = dict[tuple[int, int, int, str], list[int]]


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
    bad_tag_values: int = 0  # YC or NH tags that are not integers: ignored (weight 1, not multi-mapped)
    unstranded: int = 0  # counted spliced records without XS, ts or library strand

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

    def add(self, key: tuple[int, int, int, str], value: list[int]) -> None:
        """Add the counts of one junction."""
        have = self.counts.get(key)
        if have is None:
            self.counts[key] = list(value)
        else:
            for i in range(3):
                have[i] += value[i]

    def merge(self, counts: Counts, stats: ExtractStats) -> None:
        """Add the counts and stats of one chunk."""
        for key, value in counts.items():
            self.add(key, value)
        self.stats.add(stats)

    def rows(self) -> list[tuple[str, int, int, str, list[int]]]:
        """Rows sorted by (header contig order, start, end, strand '+', '-', '.')."""
        keys = sorted(self.counts, key=lambda k: (k[0], k[1], k[2], STRAND_ORDER[k[3]]))
        return [(self.contigs[k[0]], k[1], k[2], k[3], self.counts[k]) for k in keys]


def union(parts: list[Junctions]) -> tuple[Junctions, list[dict[tuple[str, int, int, str], int]]]:
    """The junctions of several inputs as one table (counts and stats summed; contigs in order of first
    appearance in the inputs' headers), and each input's counts keyed by (contig, start, end, strand)."""
    contigs: list[str] = []
    for part in parts:
        contigs += [c for c in part.contigs if c not in contigs]
    index = {c: i for i, c in enumerate(contigs)}
    merged = Junctions(contigs, indexed=all(p.indexed for p in parts))
    samples = []
    for part in parts:
        merged.stats.add(part.stats)
        own = {}
        for (tid, start, end, strand), value in part.counts.items():
            name = part.contigs[tid]
            merged.add((index[name], start, end, strand), value)
            own[(name, start, end, strand)] = value[0]
        samples.append(own)
    return merged, samples


def _count_records(
    reads: Iterable[pysam.AlignedSegment], options: ExtractOptions, count_from: int | None
) -> tuple[Counts, ExtractStats]:
    """Core loop: add the introns of each record to the junction table.

    `count_from` skips the leading records that start before it (a chunk's left neighbour counts
    them). Only records whose CIGAR has an `N` are looked at beyond their CIGAR string.
    """
    counts: Counts = {}
    stats = ExtractStats()
    excluded = options.exclude_flags | UNMAPPED
    min_mapq = options.min_mapq
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
            if not flag & UNMAPPED:
                filtered += 1
            continue
        spliced += 1
        _add_record(read, cigar_text, options, counts, stats)
    stats.records += n_records
    stats.spliced += spliced
    stats.filtered += filtered
    return counts, stats


def _add_record(
    read: pysam.AlignedSegment, cigar_text: str, options: ExtractOptions, counts: Counts, stats: ExtractStats
) -> None:
    """Count the introns of one spliced record that passed the filters."""
    introns = _anchored(read, options.min_anchor, stats) if options.min_anchor else spliced_introns(read, cigar_text)
    weight = read.get_tag("YC") if read.has_tag("YC") else 1
    if not isinstance(weight, int):
        stats.bad_tag_values += 1
        weight = 1
    multi = _multi_mapped(read, options, stats) if options.paired or options.multi_mapped else False
    strand = record_strand(read, options.strandness)
    if strand == ".":
        stats.unstranded += 1
    tid = read.reference_id
    for start, end in introns:
        if end - start > options.max_intron:
            stats.introns_too_long += 1
            continue
        key = (tid, start, end, strand)
        row = counts.get(key)
        if row is None:
            row = counts[key] = [0, 0, 0]
        row[0] += weight
        row[2 if multi else 1] += weight


def _multi_mapped(read: pysam.AlignedSegment, options: ExtractOptions, stats: ExtractStats) -> bool:
    """NH > 1; with --paired, also count the spliced mates and those without an NH tag."""
    mate = options.paired and read.flag & PAIRED
    if mate:
        stats.paired_spliced += 1
    if read.has_tag("NH"):
        nh = read.get_tag("NH")
        if isinstance(nh, int):
            return nh > 1
        stats.bad_tag_values += 1
        return False
    if mate:
        stats.paired_spliced_without_nh += 1
    return False


def _anchored(read: pysam.AlignedSegment, min_anchor: int, stats: ExtractStats) -> list[tuple[int, int]]:
    """The introns with at least `min_anchor` aligned bases on both sides."""
    kept = []
    for start, end, left, right in read_introns_with_anchors(read):
        if left >= min_anchor and right >= min_anchor:
            kept.append((start, end))
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
            raise read_error(exc, task.path, task.reference) from None
    return counts, stats


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
    threads: int = THREADS,
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
        total = index_total(bam) if region is None else None
    if tasks is None:
        with open_alignments(path, ref, threads=threads) as whole, bar(index_total(whole), "extract", "read") as shown:
            try:
                result.merge(*_count_records(counted(whole.fetch(until_eof=True), shown), options, None))
            except (OSError, ValueError) as exc:
                raise read_error(exc, path, ref) from None
        return result
    with bar(total, "extract", "read") as shown:
        if threads <= 1 or len(tasks) <= 1:
            for task in tasks:
                result.merge(*_run_task(task))
                shown.update(result.stats.records - shown.n)
            return result
        for counts, stats in parallel_map(_run_task, tasks, threads):
            result.merge(counts, stats)
            shown.update(stats.records)
    return result


def junction_counts(
    path: str | os.PathLike, reference: str | os.PathLike | None = None
) -> dict[tuple[str, int, int, str], float]:
    """{(contig, start, end, strand): count} with Splam 1.0.12's defaults (YC weights, all flags)."""
    junctions = extract_junctions(path, reference)
    return {(c, s, e, strand): float(v[0]) for c, s, e, strand, v in junctions.rows()}
