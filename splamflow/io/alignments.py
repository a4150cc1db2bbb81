"""BAM / CRAM / SAM records (pysam/htslib): opening, read errors, CIGAR introns, record strand, regions.

Introns: an intron is the reference gap that CIGAR `N` operations open between two aligned blocks
(M, =, X); operations that do not touch the reference (I, S, H, P) inside the gap do not split it,
zero-length gaps are no intron, and a deletion (D) does not split a block. Extraction and clean-up
both use `spliced_introns`, so a record's introns are the same junctions in both.

Strand (`record_strand`) follows Splam 1.0.12 (gclib `GSamRecord::spliceStrand` plus its `--fr/--rf`
rule): the `XS` tag when it is present (type A or Z), else minimap2's `ts` tag (flipped for
reverse-strand reads), else the library strandness when one is given, else '.'. An `XS` tag with a
value other than '+'/'-' means "no strand" and stops the `ts` look-up, as in Splam.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pysam

from splamflow.errors import UserError
from splamflow.io.files import index_files
from splamflow.io.genome import open_genome
from splamflow.io.sniff import is_cram, may_be_cram

STRANDNESS = ("none", "fr", "rf")

# SAM flag bits (samtools names, as `--exclude-flags` accepts them).
FLAG_NAMES = {
    "PAIRED": 0x1,
    "PROPER_PAIR": 0x2,
    "UNMAP": 0x4,
    "MUNMAP": 0x8,
    "REVERSE": 0x10,
    "MREVERSE": 0x20,
    "READ1": 0x40,
    "READ2": 0x80,
    "SECONDARY": 0x100,
    "QCFAIL": 0x200,
    "DUP": 0x400,
    "SUPPLEMENTARY": 0x800,
}
PAIRED, PROPER_PAIR, UNMAPPED, MATE_UNMAPPED = 0x1, 0x2, 0x4, 0x8
SUPPLEMENTARY = 0x800

# CIGAR operations (pysam codes): aligned bases, deletion, reference skip.
_ALIGNED = frozenset({0, 7, 8})  # M = X
_DELETION = 2  # D
_SKIP = 3  # N

_FLIP = {"+": "-", "-": "+"}


def one_line(exc: BaseException) -> str:
    """An exception's text on one line (htslib messages may span several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def newest_index(path: str | os.PathLike) -> Path | None:
    """The most recently written index of a BAM (.bai, .csi) or CRAM (.crai), or None.

    htslib takes X.csi before X.bai whatever their age, so an old .csi left beside a BAM that was
    rewritten and indexed again as .bai would be used and give wrong records.
    """
    if not (os.path.isfile(path) and os.access(path, os.R_OK)):
        return None  # opening it reports the problem
    cram = is_cram(path)
    found = []
    for index in index_files(path, "alignments"):
        if (index.suffix == ".crai") == cram:
            with contextlib.suppress(OSError):
                found.append((index.stat().st_mtime_ns, index))
    return max(found)[1] if found else None


@contextlib.contextmanager
def open_alignments(
    path: str | os.PathLike,
    reference: str | os.PathLike | None = None,
    threads: int = 1,
    sam: bool = False,
    need_sequences: bool = True,
) -> Iterator[pysam.AlignmentFile]:
    """Open a BAM, a CRAM (with `reference`, the FASTA it was compressed against) or, when `sam`,
    SAM text. `need_sequences`: a header without @SQ lines is an error (htslib's check_sq).

    Unreadable files, SAM when not allowed and a CRAM without reference are UserErrors. Closing a
    file that failed part-way (htslib reports it again) does not hide the first error.
    """
    kwargs: dict = {"threads": threads} if threads > 1 else {}
    index = newest_index(path)
    if index is not None:
        kwargs["index_filename"] = os.fspath(index)
    if reference is not None:
        kwargs["reference_filename"] = os.fspath(reference)
    # htslib prints an error when a CRAM has no index, which a sequential reader never needs.
    verbosity = pysam.set_verbosity(0)
    try:
        handle = pysam.AlignmentFile(os.fspath(path), "r", check_sq=need_sequences, **kwargs)
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read alignments: {one_line(exc)}", path) from None
    finally:
        pysam.set_verbosity(verbosity)
    try:
        if handle.is_sam and not sam:
            raise UserError("SAM text input is not supported; convert it with `samtools view -b`", path)
        if handle.is_cram and reference is None:
            raise UserError("CRAM input needs --reference REF.fa (the FASTA it was compressed against)", path)
        if not (handle.is_bam or handle.is_cram or (sam and handle.is_sam)):
            raise UserError("not a BAM or CRAM file", path)
        yield handle
    finally:
        with contextlib.suppress(OSError):
            handle.close()


def read_error(exc: BaseException, path: str | os.PathLike, reference: str | os.PathLike | None) -> UserError:
    """The UserError for a failed read; for a CRAM, say so when `reference` is not its reference."""
    if reference is not None and may_be_cram(path):
        try:
            mismatch = cram_reference_mismatch(path, reference)
        except (OSError, ValueError):  # the check cannot read it either: the read error is the news
            mismatch = None
        if mismatch:
            return UserError(f"--reference {os.fspath(reference)} is not the FASTA this CRAM was compressed "
                             f"against: {mismatch}", path)
    return UserError(f"cannot read alignments: {one_line(exc)}", path)


def records(
    reads: Iterable[pysam.AlignedSegment], path: str | os.PathLike, reference: str | os.PathLike | None = None
) -> Iterator[pysam.AlignedSegment]:
    """The records of `reads`; a corrupt or truncated file becomes a one-line UserError (`read_error`)."""
    try:
        yield from reads
    except (OSError, ValueError) as exc:
        raise read_error(exc, path, reference) from None


def cram_reference_mismatch(path: str | os.PathLike, reference: str | os.PathLike) -> str | None:
    """How `reference` differs from the sequences named in the CRAM header (@SQ LN and M5), or None."""
    with pysam.AlignmentFile(os.fspath(path), "rc", reference_filename=os.fspath(reference)) as cram:
        sequences = cram.header.to_dict().get("SQ", [])
    with open_genome(reference) as fasta:
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


def parse_region(region: str, bam: pysam.AlignmentFile, path: str | os.PathLike) -> tuple[str, int | None, int | None]:
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


def cigar_introns(cigar: Iterable[tuple[int, int]], pos: int) -> list[tuple[int, int, int, int]]:
    """(start, end, left anchor, right anchor) of each intron of a CIGAR starting at `pos`.

    An anchor is the number of read bases aligned (M, =, X) between the intron and the neighbouring
    intron or the end of the alignment.
    """
    introns: list[tuple[int, int]] = []
    anchors = [0]
    gap_start: int | None = None  # reference position where the current run of N operations began
    aligned_before = False
    for op, length in cigar:
        if op == _SKIP:
            if gap_start is None:
                gap_start = pos
            pos += length
        elif op in _ALIGNED or op == _DELETION:
            if gap_start is not None:
                if aligned_before and pos > gap_start:
                    introns.append((gap_start, pos))
                    anchors.append(0)
                gap_start = None
            if op != _DELETION:
                anchors[-1] += length
                aligned_before = True
            pos += length
    return [(s, e, anchors[i], anchors[i + 1]) for i, (s, e) in enumerate(introns)]


def spliced_introns(read: pysam.AlignedSegment, cigar_text: str | None) -> list[tuple[int, int]]:
    """Introns (0-based half-open) of a mapped record whose CIGAR string the caller already holds.

    The extraction hot loop's entry: without deletions, the gaps between pysam's aligned blocks
    (computed in C) are exactly the introns, which is several times faster than the CIGAR walk.
    """
    if not cigar_text or "N" not in cigar_text:
        return []
    if "D" not in cigar_text:
        blocks = read.get_blocks()
        if len(blocks) == 2:
            (_, left), (right, _) = blocks
            return [(left, right)] if left < right else []
        return [(a[1], b[0]) for a, b in zip(blocks, blocks[1:]) if a[1] < b[0]]
    return [(s, e) for s, e, _, _ in cigar_introns(read.cigartuples, read.reference_start)]


def read_introns(read: pysam.AlignedSegment) -> list[tuple[int, int]]:
    """Introns of a record (none for an unmapped one), 0-based half-open."""
    if read.is_unmapped:
        return []
    return spliced_introns(read, read.cigarstring)


def read_introns_with_anchors(read: pysam.AlignedSegment) -> list[tuple[int, int, int, int]]:
    """(start, end, left anchor, right anchor) per intron of a record (see `cigar_introns`)."""
    if read.is_unmapped or not read.cigartuples:
        return []
    return cigar_introns(read.cigartuples, read.reference_start)


def library_strand(read: pysam.AlignedSegment, strandness: str) -> str:
    """Transcript strand implied by a stranded library ('fr': read 1 on the transcript's strand;
    'rf': read 1 on the opposite strand, e.g. dUTP). Single-end reads count as read 1."""
    if strandness == "none":
        return "."
    if strandness not in ("fr", "rf"):
        raise ValueError(f"unknown strandness {strandness!r}")
    forward = not read.is_reverse
    if read.is_paired and not read.is_read1:
        forward = not forward
    if strandness == "rf":
        forward = not forward
    return "+" if forward else "-"


def _strand_tag(read: pysam.AlignedSegment, tag: str) -> str:
    """'+' or '-' from a character tag, '' for any other value or type."""
    value = read.get_tag(tag)
    return value[0] if isinstance(value, str) and value and value[0] in "+-" else ""


def record_strand(read: pysam.AlignedSegment, strandness: str = "none") -> str:
    """'+', '-' or '.' for the introns of one record (tags first, then library strandness).

    Called once per spliced record in extraction's hot loop: one tag look-up, no exceptions.
    """
    if read.has_tag("XS"):
        xs = _strand_tag(read, "XS")
        if xs:
            return xs
    elif read.has_tag("ts"):
        ts = _strand_tag(read, "ts")
        if ts:
            return _FLIP[ts] if read.is_reverse else ts
    return library_strand(read, strandness) if strandness != "none" else "."


def open_bam_writer(path: str | os.PathLike, header: pysam.AlignmentHeader, threads: int = 1) -> pysam.AlignmentFile:
    """A BAM writer on `path` (an OutputSet's temporary file); use it as a context manager."""
    return pysam.AlignmentFile(os.fspath(path), "wb", header=header, threads=threads)


def index_bam(bam: str | os.PathLike, index: str | os.PathLike, threads: int = 1) -> None:
    """Write the .bai of the coordinate-sorted `bam` to `index` (both OutputSet temporary files)."""
    pysam.index("-@", str(max(threads, 1)), "-o", os.fspath(index), os.fspath(bam))
