"""Remove spurious spliced alignments from a BAM (or CRAM, read with its reference), losing nothing.

Rule (Splam 1.0.12): a junction is spurious when its donor or its acceptor score is below the
threshold (strict `<`); a record is removed when any of its introns, keyed by the record's own
strand (`record_strand`: XS, minimap2 `ts`, library strandness; with `--infer-strand motif`, a
record with none of these keys each intron by its genomic motif, as `extract` does), is spurious.
Junctions without a score never remove a record. Every input record goes to exactly one of the
two outputs.

Two streaming passes over the input, with memory proportional to the *removed* records only:

1. Decide every record and remember, for the removed ones: their ordinal in their chunk (8 bytes,
   in an array walked by a cursor in pass 2); in `--paired` mode the key by which their mate will
   recognise them (name, segment, position, mate position); for multi-mapped ones (`NH` > 1), the
   hit they were (name, segment, `HI` or position). Nothing is kept for the records that stay, so a
   100 M-record BAM with 1% spurious alignments needs memory for 1 M small entries, not 100 M.
   (Grouping records by name instead would need a name-sorted copy or memory for every read.)
2. Copy records to the cleaned or the discarded BAM in input order (so a coordinate-sorted input
   gives sorted outputs, which are then indexed), fixing on the way: survivors whose mate went away
   (`--paired`), mates dropped with their pair (`--drop-pairs`), and `NH`/`HI` of the multi-mapped
   reads that lost alignments.

A coordinate-sorted, indexed BAM is read in chunks of about `--chunk-records` records
(`io.bam_chunks`); both passes run chunk by chunk, in `--threads` worker processes, each chunk
written as a part of each output and the parts gathered in order. Pass 1's findings are merged
before pass 2, so a mate or a sibling hit in another chunk is found as in one pass. The chunks, and
so the output bytes, depend on the input and `--chunk-records` only, not on `--threads`. Other
inputs (unsorted, unindexed, SAM, CRAM) are read in one pass each, with `--threads` BGZF threads;
so is a BAM whose chunks do not give every record its index counts (an unmapped record with RNAME
set and POS 0, which no region query returns), and if the whole file still does not, its index is
another file's: an error.

`HI` renumbering keeps mates consistent: the hits a read keeps are numbered from the aligner's first
index (0 or 1: the smallest `HI` among the first 100,000 records carrying one) in their original
order, except that hits whose other mate was removed come last. Mates that both survive therefore
get the same `HI`, and `HI` never exceeds the new `NH`. A read whose `HI` values are not the
contiguous run the aligner usually writes keeps its `HI` (its `NH` is still updated).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pysam
from tqdm import tqdm

from splamflow import __version__
from splamflow.clean.options import CleanOptions
from splamflow.clean.scores import Scores, spurious
from splamflow.errors import UserError, one_line
from splamflow.io.alignments import (
    MATE_UNMAPPED,
    PAIRED,
    PROPER_PAIR,
    SUPPLEMENTARY,
    UNMAPPED,
    index_bam,
    open_alignments,
    open_bam_writer,
    read_introns,
    record_strand,
    records,
    spliced_introns,
)
from splamflow.io.bam_chunks import (
    Region,
    check_total,
    chunk_records,
    expected_records,
    gather,
    header_blocks,
    plan_chunks,
)
from splamflow.io.genome import open_genome
from splamflow.motifs import MotifStrands
from splamflow.progress import bar, counted, index_total
from splamflow.workers import parallel_map

MateKey = tuple[str, int, int, int, int, int]

# The aligner's first HI value (0 or 1) is read from this many records carrying HI.
_HI_PROBES = 100_000


@dataclass
class AlignmentStats:
    """Counts reported in the stats JSON/TSV."""

    records_in: int = 0
    records_kept: int = 0
    records_discarded: int = 0
    spliced_records: int = 0
    spliced_records_discarded: int = 0
    spliced_records_unscored_junction: int = 0
    records_unkeyed_strand: int = 0
    records_motif_strand: int = 0  # records without XS/ts whose introns were keyed by --infer-strand motif
    paired_records: int = 0
    records_discarded_by_rule: int = 0
    records_discarded_with_mate: int = 0
    mates_fixed: int = 0
    multimapped_reads_nh_changed: int = 0
    junctions_scored: int = 0
    junctions_spurious: int = 0
    junctions_scored_seen: int = 0
    junctions_spurious_seen: int = 0
    score_junctions_on_unknown_contigs: int = 0
    sorted_output: bool = False
    #: number of spurious junctions per spliced record -> records
    spurious_per_record: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "spurious_per_record"}
        out["spurious_per_record"] = {str(k): v for k, v in sorted(self.spurious_per_record.items())}
        return out


def _segment(read: pysam.AlignedSegment) -> int:
    if read.is_paired:
        return 1 if read.is_read1 else 2 if read.is_read2 else 0
    return 0


def _own_key(read: pysam.AlignedSegment) -> MateKey:
    """How the mate of `read` will look `read` up."""
    return (
        read.query_name,
        _segment(read),
        read.reference_id,
        read.reference_start,
        read.next_reference_id,
        read.next_reference_start,
    )


def _mate_key(read: pysam.AlignedSegment) -> MateKey:
    """The key under which the mate of `read` was stored, were it removed."""
    seg = _segment(read)
    return (
        read.query_name,
        3 - seg if seg else 0,
        read.next_reference_id,
        read.next_reference_start,
        read.reference_id,
        read.reference_start,
    )


def _int_tag(read: pysam.AlignedSegment, tag: str) -> int | None:
    try:
        value = read.get_tag(tag)
    except KeyError:
        return None
    return value if isinstance(value, int) else None


def _hit_id(read: pysam.AlignedSegment, mate: bool = False) -> object:
    """Which of a multi-mapped read's hits this record (or its mate) is: HI, else positions."""
    hi = _int_tag(read, "HI")
    if hi is not None:
        return hi
    if mate:
        return (read.next_reference_id, read.next_reference_start, read.reference_id, read.reference_start)
    return (read.reference_id, read.reference_start, read.next_reference_id, read.next_reference_start)


def _is_sorted_header(header: pysam.AlignmentHeader) -> bool:
    return header.to_dict().get("HD", {}).get("SO") == "coordinate"


def _header_with_pg(header: pysam.AlignmentHeader, command_line: str) -> pysam.AlignmentHeader:
    data = header.to_dict()
    programs = list(data.get("PG", []))
    ids = {pg.get("ID") for pg in programs}
    pg_id, n = "splamflow.clean", 1
    while pg_id in ids:
        n += 1
        pg_id = f"splamflow.clean.{n}"
    pg = {"ID": pg_id, "PN": "splam_score.py", "VN": __version__}
    if programs:
        pg["PP"] = programs[-1]["ID"]
    if command_line:
        # a SAM header field is one line without tabs: a newline or tab in a path would break the header
        pg["CL"] = one_line(command_line)
    data["PG"] = [*programs, pg]
    return pysam.AlignmentHeader.from_dict(data)


class _Plan:
    """What pass 1 learns from one chunk: removed records and the facts their mates and sibling hits need."""

    def __init__(self) -> None:
        # ordinals of removed records in the chunk, increasing (pass 2 walks it with a cursor)
        self.removed = array("q")
        self.removed_mates: set[MateKey] = set()
        # name -> segment -> removed hit ids, for multi-mapped (NH > 1) reads only
        self.removed_hits: dict[str, dict[int, set]] = {}
        # the first HI values: (probe number, HI) wherever the running minimum fell, and the probes made
        self.hi_minima: list[tuple[int, int]] = []
        self.hi_probes = 0
        self.records = 0
        self.stats = AlignmentStats()
        self.seen: set = set()  # scored junctions met

    def add_hit(self, name: str, segment: int, hit: object) -> None:
        self.removed_hits.setdefault(name, {}).setdefault(segment, set()).add(hit)


@dataclass
class _Removed:
    """What pass 2 needs from pass 1 over the whole input."""

    removed: list[array]  # per chunk
    mates: set[MateKey] = field(default_factory=set)
    hits: dict[str, dict[int, set]] = field(default_factory=dict)
    hi_base: int = 1

    @classmethod
    def merge(cls, plans: list[_Plan]) -> _Removed:
        merged = cls([p.removed for p in plans])
        base, probes_left = None, _HI_PROBES
        for plan in plans:
            merged.mates |= plan.removed_mates
            for name, segments in plan.removed_hits.items():
                mine = merged.hits.setdefault(name, {})
                for segment, hits in segments.items():
                    mine.setdefault(segment, set()).update(hits)
            if probes_left > 0 and base != 0:
                for probe, hi in plan.hi_minima:
                    if probe < probes_left and (base is None or hi < base):
                        base = hi
                probes_left -= plan.hi_probes
        merged.hi_base = 1 if base is None else base
        return merged


def _check_order(
    path: str, n: int, read: pysam.AlignedSegment, last: tuple[int, int], header: pysam.AlignmentHeader
) -> tuple[int, int]:
    tid = read.reference_id
    here = (tid if tid >= 0 else sys.maxsize, read.reference_start if tid >= 0 else 0)
    if here < last:

        def where(key: tuple[int, int]) -> str:
            if key[0] == sys.maxsize:
                return "the unplaced unmapped records"
            return f"{header.get_reference_name(key[0])}:{key[1] + 1}"

        raise UserError(
            f"the header says the input is coordinate-sorted (@HD SO:coordinate) but record {n} "
            f"({read.query_name}) at {where(here)} comes after {where(last)}; sort it with "
            f"`samtools sort` (or fix the header) so sorted, indexed outputs can be written",
            path,
        )
    return here


def _open(path: str | os.PathLike, opts: CleanOptions, threads: int = 1):
    """The input: BAM, SAM (with or without @SQ lines) or CRAM (with its reference)."""
    return open_alignments(path, opts.reference, threads=threads, sam=True, need_sequences=False)


def reference_names(path: str | os.PathLike, opts: CleanOptions) -> set[str]:
    """The contig names of the input's header."""
    with _open(path, opts) as bam:
        return set(bam.references)


@dataclass
class _Job:
    """One clean-up: the input, its chunks (None: the whole file, read in one pass) and what
    each pass reads; forked worker processes inherit it."""

    path: str
    opts: CleanOptions
    table: dict
    motifs: MotifStrands | None
    chunks: list[list[Region]] | None
    header: pysam.AlignmentHeader  # the outputs' header
    bgzf_threads: int
    kept: Path
    discarded: Path | None
    parts: Path | None = None  # where the workers write their parts
    removed: _Removed | None = None
    shown: tqdm | None = None  # a bar shown on a terminal, advanced record by record when the parent does the work

    def reads(self, bam: pysam.AlignmentFile, chunk: int) -> Iterator[pysam.AlignedSegment]:
        reads = bam if self.chunks is None else chunk_records(bam, self.chunks[chunk])
        reads = records(reads, self.path, self.opts.reference)
        return reads if self.shown is None else counted(reads, self.shown)


_job: _Job | None = None  # the job of this process (set in each worker, or by the parent for its own runs)


def _start_worker(job: _Job) -> None:
    """In a worker: the job, with its own genome handle (a forked one shares its file offset)."""
    global _job
    if job.motifs is not None:
        job.motifs = MotifStrands(open_genome(job.motifs.path), job.motifs.path)
    _job = job


def _decide(chunk: int) -> _Plan:
    """Pass 1 over one chunk: decide every record; keep only what the removed ones imply."""
    job = _job
    opts, table, motifs = job.opts, job.table, job.motifs
    plan = _Plan()
    stats, seen = plan.stats, plan.seen
    with _open(job.path, opts, job.bgzf_threads) as bam:
        header = bam.header
        check_sorted = job.chunks is None and _is_sorted_header(header)
        last = (-1, -1)
        names = header.references
        hi_probes, hi_min = _HI_PROBES, None
        n = -1
        for n, read in enumerate(job.reads(bam, chunk)):
            if check_sorted:
                last = _check_order(job.path, n + 1, read, last, header)
            if read.is_paired:
                stats.paired_records += 1
            if read.is_unmapped:
                continue
            if hi_probes and read.has_tag("HI"):
                hi = _int_tag(read, "HI")
                if hi is not None and (hi_min is None or hi < hi_min):
                    hi_min = hi
                    plan.hi_minima.append((plan.hi_probes, hi))
                plan.hi_probes += 1
                hi_probes = 0 if hi_min == 0 else hi_probes - 1
            introns = spliced_introns(read, read.cigarstring)
            if not introns:
                continue
            stats.spliced_records += 1
            strand = record_strand(read, opts.strandness)
            by_motif = strand == "." and motifs is not None
            if by_motif:
                stats.records_motif_strand += 1
            elif strand == ".":
                stats.records_unkeyed_strand += 1
            contig = names[read.reference_id]
            n_spurious = 0
            unscored = False
            for start, end in introns:
                key = (contig, start, end, motifs.strand(contig, start, end) if by_motif else strand)
                score = table.get(key)
                if score is None:
                    unscored = True
                    continue
                seen.add(key)
                if spurious(score[0], score[1], opts.threshold):
                    n_spurious += 1
            stats.spliced_records_unscored_junction += unscored
            stats.spurious_per_record[n_spurious] += 1
            if n_spurious:
                _remember(plan, n, read, opts)
        plan.records = n + 1
    return plan


def _remember(plan: _Plan, n: int, read: pysam.AlignedSegment, opts: CleanOptions) -> None:
    plan.removed.append(n)
    has_mate = read.is_paired
    if has_mate and (opts.paired or opts.drop_pairs):
        plan.removed_mates.add(_own_key(read))
    nh = _int_tag(read, "NH")
    if nh is not None and nh > 1 and not read.flag & SUPPLEMENTARY:
        seg = _segment(read)
        plan.add_hit(read.query_name, seg, _hit_id(read))
        if opts.drop_pairs and has_mate and seg:
            plan.add_hit(read.query_name, 3 - seg, _hit_id(read, mate=True))


def _mark_unmapped(read: pysam.AlignedSegment, mate_removed: bool) -> None:
    """Splam 1.0.12's marking of removed records: unpaired, unmapped (mate unmapped when both go)."""
    flag = (read.flag & ~(PAIRED | PROPER_PAIR)) | UNMAPPED
    if mate_removed:
        flag |= MATE_UNMAPPED
    read.flag = flag


def _fix_survivor(read: pysam.AlignedSegment) -> None:
    """The mate of `read` was removed: mark it unmapped, as Splam does, and clear what described it.

    Splam also clears the paired bit; we keep it, because the SAM spec gives 0x8 a meaning only on
    paired records and downstream tools count such a read as a singleton.
    """
    read.flag = (read.flag & ~PROPER_PAIR) | MATE_UNMAPPED
    if not read.is_unmapped:
        read.next_reference_id = read.reference_id
        read.next_reference_start = read.reference_start
    read.template_length = 0
    for tag in ("MC", "MQ"):
        if read.has_tag(tag):
            read.set_tag(tag, None)


def _renumber(read: pysam.AlignedSegment, plan: _Removed, nh_changed: set) -> None:
    """New NH = records left for this read; HI renumbered as described in the module docstring."""
    hits = plan.hits.get(read.query_name)
    if not hits:
        return
    nh = _int_tag(read, "NH")
    if nh is None or nh <= 1:
        return
    seg = _segment(read)
    mine = hits.get(seg, set())
    other = hits.get(3 - seg, set()) if seg else set()
    if mine:
        read.set_tag("NH", max(nh - len(mine), 1), "i")
        nh_changed.add((read.query_name, seg))
    hi = _int_tag(read, "HI")
    if hi is None or not (mine or other):
        return
    base = plan.hi_base
    kept = [h for h in range(base, base + nh) if h not in mine]
    if hi not in kept:
        return
    order = [h for h in kept if h not in other] + [h for h in kept if h in other]
    read.set_tag("HI", base + order.index(hi), "i")


def _copy(chunk: int) -> tuple[AlignmentStats, set]:
    """Pass 2 over one chunk: each record to the cleaned or the discarded part, fixed on the way."""
    job = _job
    opts, plan = job.opts, job.removed
    stats, nh_changed = AlignmentStats(), set()
    kept_path, drop_path = _part_paths(job, chunk)
    with _open(job.path, opts, job.bgzf_threads) as bam, contextlib.ExitStack() as writers:
        kept_out = writers.enter_context(open_bam_writer(kept_path, job.header, job.bgzf_threads))
        drop_out = writers.enter_context(open_bam_writer(drop_path, job.header, job.bgzf_threads)) \
            if drop_path else None
        mate_names = {key[0] for key in plan.mates}
        hit_names = plan.hits
        removed, cursor = plan.removed[chunk], 0
        next_removed = removed[0] if removed else -1
        for n, read in enumerate(job.reads(bam, chunk)):
            stats.records_in += 1
            name = read.query_name
            mate_removed = name in mate_names and read.is_paired and _mate_key(read) in plan.mates
            discard = n == next_removed
            if discard:
                cursor += 1
                next_removed = removed[cursor] if cursor < len(removed) else -1
            if discard:
                stats.records_discarded_by_rule += 1
            elif mate_removed and opts.drop_pairs:
                discard = True
                stats.records_discarded_with_mate += 1
            if discard:
                stats.records_discarded += 1
                if read_introns(read):
                    stats.spliced_records_discarded += 1
                if opts.mark_unmapped:
                    _mark_unmapped(read, mate_removed or (opts.drop_pairs and read.is_paired))
                if drop_out is not None:
                    drop_out.write(read)
                continue
            if mate_removed and opts.paired:
                _fix_survivor(read)
                stats.mates_fixed += 1
            if name in hit_names:
                _renumber(read, plan, nh_changed)
            stats.records_kept += 1
            kept_out.write(read)
    return stats, nh_changed


def _part_paths(job: _Job, chunk: int) -> tuple[Path, Path | None]:
    """Where pass 2 writes one chunk: the outputs themselves when there is one chunk, else parts."""
    if job.parts is None:
        return job.kept, job.discarded
    return job.parts / f"kept.{chunk:06d}.bam", job.parts / f"discarded.{chunk:06d}.bam" if job.discarded else None


def _run(job: _Job, fn, n_chunks: int, workers: int) -> Iterator:
    """`fn` of every chunk, in chunk order: here, or in `workers` worker processes."""
    global _job
    if workers <= 1:
        _job = job
        try:
            yield from (fn(chunk) for chunk in range(n_chunks))
        finally:
            _job = None
        return
    yield from parallel_map(fn, range(n_chunks), workers, _start_worker, (job,))


def clean_alignments(
    input_path: str | os.PathLike,
    scores: Scores,
    kept: tuple[Path, Path | None],
    discarded: tuple[Path, Path | None] | None,
    opts: CleanOptions,
    motifs: MotifStrands | None = None,
) -> AlignmentStats:
    """Write the cleaned BAM and its index to `kept` (BAM, index), and the removed records to `discarded`.

    An index is written when the input is sorted and its path is not None; with `discarded` None
    removed records are only counted. The paths are an OutputSet's temporary files: they replace
    the final names only when the caller's whole run succeeds. `motifs` keys records without a
    strand by their introns' motifs. A coordinate-sorted, indexed BAM is cleaned chunk by chunk
    (`io.bam_chunks`), in `opts.threads` worker processes; other inputs in one pass each, with
    `opts.threads` BGZF threads. The outputs' bytes do not depend on `opts.threads`.
    """
    path = os.fspath(input_path)
    stats = AlignmentStats(junctions_scored=len(scores))
    stats.junctions_spurious = sum(1 for d, a in scores.table.values() if spurious(d, a, opts.threshold))
    with _open(path, opts) as bam:
        stats.sorted_output = _is_sorted_header(bam.header)
        chunked = stats.sorted_output and bam.is_bam and bam.has_index()
        # a BAM without records has no chunk: it is read (and its empty outputs written) in one pass
        chunks = (plan_chunks(bam, opts.chunk_records) or None) if chunked else None
        expected = expected_records(bam) if chunked else None
        total = index_total(bam)
        header = _header_with_pg(bam.header, opts.command_line)
    n_chunks = len(chunks) if chunks is not None else 1
    workers = min(opts.threads, n_chunks)
    job = _Job(path, opts, scores.table, motifs, chunks, header, opts.threads if workers <= 1 else 1,
               kept[0], discarded[0] if discarded else None)

    plans = _pass_one(job, total, n_chunks, workers)
    if expected is not None and sum(p.records for p in plans) != expected:
        # No region query returns a record placed on a contig at POS 0 (RNAME set, unmapped): the
        # file is then read in one pass, and a count that still differs is an index of another file
        job.chunks, job.bgzf_threads, n_chunks, workers = None, opts.threads, 1, 1
        plans = _pass_one(job, total, n_chunks, workers)
        check_total(path, sum(p.records for p in plans), expected)
    seen: set = set()
    for plan in plans:
        _add_stats(stats, plan.stats)
        seen |= plan.seen
    stats.junctions_scored_seen = len(seen)
    stats.junctions_spurious_seen = sum(1 for key in seen if spurious(*scores.table[key], opts.threshold))
    job.removed = _Removed.merge(plans)
    del plans

    nh_changed: set = set()
    with contextlib.ExitStack() as stack, bar(total, "clean: pass 2 of 2", "read") as shown:
        if n_chunks > 1:
            job.parts = Path(stack.enter_context(tempfile.TemporaryDirectory(
                prefix=".splamflow-parts-", dir=kept[0].parent)))
        job.shown = shown if workers <= 1 and not shown.disable else None
        for part_stats, part_nh in _run(job, _copy, n_chunks, workers):
            _add_stats(stats, part_stats)
            nh_changed |= part_nh
            if workers > 1:
                shown.update(part_stats.records_in)
        if job.parts is not None:
            blocks = header_blocks(header, job.parts)
            gather([_part_paths(job, i)[0] for i in range(n_chunks)], blocks, kept[0])
            if discarded:
                gather([_part_paths(job, i)[1] for i in range(n_chunks)], blocks, discarded[0])
    stats.multimapped_reads_nh_changed = len(nh_changed)
    if stats.sorted_output:
        for bam_path, bai_path in (kept, *([discarded] if discarded else [])):
            if bai_path is not None:
                index_bam(bam_path, bai_path, opts.threads)
    return stats


def _pass_one(job: _Job, total: int | None, n_chunks: int, workers: int) -> list[_Plan]:
    """Pass 1 over every chunk, in chunk order."""
    plans = []
    with bar(total, "clean: pass 1 of 2", "read") as shown:
        job.shown = shown if workers <= 1 and not shown.disable else None
        for plan in _run(job, _decide, n_chunks, workers):
            plans.append(plan)
            if workers > 1:
                shown.update(plan.records)
    return plans


def _add_stats(total: AlignmentStats, part: AlignmentStats) -> None:
    """Add the counts of one chunk's pass."""
    for name, value in part.__dict__.items():
        if name == "spurious_per_record":
            total.spurious_per_record.update(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            setattr(total, name, getattr(total, name) + value)
