"""Per-record strand and intron logic shared by extraction and BAM clean-up.

`record_strand` follows Splam 1.0.12 (gclib `GSamRecord::spliceStrand` plus its `--fr/--rf` rule):
the `XS` tag when it is present (type A or Z), else minimap2's `ts` tag (flipped for reverse-strand
reads), else the library strandness when one is given, else '.'. An `XS` tag with a value other
than '+'/'-' means "no strand" and stops the `ts` look-up, as in Splam.
"""

from __future__ import annotations

import os

import pysam

from splamflow.errors import UserError

STRANDNESS = ("none", "fr", "rf")

_PLUS_MOTIFS = frozenset({("GT", "AG"), ("GC", "AG"), ("AT", "AC")})
_MINUS_MOTIFS = frozenset({("CT", "AC"), ("CT", "GC"), ("GT", "AT")})

_FLIP = {"+": "-", "-": "+"}

# CIGAR operations (pysam codes) that advance on the reference, and those that align read bases.
_REF_ADVANCE = frozenset({0, 2, 3, 7, 8})  # M D N = X
_ALIGNED = frozenset({0, 7, 8})  # M = X
_N = 3


def _char_tag(read: pysam.AlignedSegment, tag: str) -> str | None:
    """First character of an A/Z tag, '' for another type, None when the tag is absent."""
    try:
        value, kind = read.get_tag(tag, with_value_type=True)
    except KeyError:
        return None
    if kind in ("A", "Z") and value:
        return str(value)[0]
    return ""


def tag_strand(read: pysam.AlignedSegment) -> str:
    """Strand from the XS tag, else the minimap2 ts tag (flipped on reverse reads), else '.'."""
    xs = _char_tag(read, "XS")
    if xs is None:
        ts = _char_tag(read, "ts")
        if ts in ("+", "-"):
            return _FLIP[ts] if read.is_reverse else ts
        return "."
    return xs if xs in ("+", "-") else "."


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


def record_strand(read: pysam.AlignedSegment, strandness: str = "none") -> str:
    """'+', '-' or '.' for the introns of one record (tags first, then library strandness)."""
    strand = tag_strand(read)
    if strand == "." and strandness != "none":
        return library_strand(read, strandness)
    return strand


def motif_strand(donor_dinuc: str, acceptor_dinuc: str) -> str:
    """Strand from the genome's first and last two intron bases (read on the + strand).

    GT-AG, GC-AG, AT-AC give '+'; their reverse complements (CT-AC, CT-GC, GT-AT) give '-';
    anything else '.'.
    """
    pair = (donor_dinuc.upper(), acceptor_dinuc.upper())
    if pair in _PLUS_MOTIFS:
        return "+"
    if pair in _MINUS_MOTIFS:
        return "-"
    return "."


class MotifStrands:
    """`--infer-strand motif`: the strand of introns from the genome's dinucleotides, per intron.

    One implementation for `extract` (unstranded junctions) and `clean` (records without XS/ts):
    the same intron gets the same strand in both. Results are cached, as `clean` asks once per record.
    """

    def __init__(self, genome: str | os.PathLike):
        from splamflow.genome import open_genome

        self.path = os.fspath(genome)
        self.fasta = open_genome(genome)
        self.lengths = dict(zip(self.fasta.references, self.fasta.lengths, strict=True))
        self._known: dict[tuple[str, int, int], str] = {}

    def strand(self, contig: str, start: int, end: int) -> str:
        """'+', '-' or '.' for the intron [start, end) of `contig` (see `motif_strand`)."""
        key = (contig, start, end)
        known = self._known.get(key)
        if known is None:
            length = self.lengths.get(contig)
            if length is None:
                raise UserError(f"contig {contig!r} of the alignments is not in the genome FASTA", self.path)
            if end > length:
                raise UserError(
                    f"junction {contig}:{start}-{end} lies beyond the end of {contig} in the genome FASTA", self.path
                )
            fetch = self.fasta.fetch
            known = self._known[key] = motif_strand(fetch(contig, start, start + 2), fetch(contig, end - 2, end))
        return known

    def close(self) -> None:
        self.fasta.close()


def check_infer_strand(infer_strand: str, genome: str | None) -> None:
    """`--infer-strand motif` and `--genome` go together (extract and clean)."""
    if infer_strand == "motif" and not genome:
        raise UserError("--infer-strand motif needs --genome GENOME.fa")
    if genome and infer_strand != "motif":
        raise UserError("--genome is only used with --infer-strand motif")


def read_introns(read: pysam.AlignedSegment) -> list[tuple[int, int]]:
    """Introns of a mapped record from CIGAR `N` operations only, 0-based half-open.

    Deletions do not split blocks; zero-length `N` operations give no intron.
    """
    return [(start, end) for start, end, _, _ in read_introns_with_anchors(read)]


def read_introns_with_anchors(read: pysam.AlignedSegment) -> list[tuple[int, int, int, int]]:
    """(start, end, left_anchor, right_anchor) per intron.

    An anchor is the number of read bases aligned (M, =, X) in the block on that side of the gap,
    up to the neighbouring `N` or the end of the alignment.
    """
    if read.is_unmapped:
        return []
    cigar = read.cigartuples
    if not cigar:
        return []
    pos = read.reference_start
    gaps: list[tuple[int, int]] = []
    blocks: list[int] = [0]
    for op, length in cigar:
        if op == _N:
            if length > 0:
                gaps.append((pos, pos + length))
                blocks.append(0)
            pos += length
        elif op in _REF_ADVANCE:
            pos += length
            if op in _ALIGNED:
                blocks[-1] += length
    return [(s, e, blocks[i], blocks[i + 1]) for i, (s, e) in enumerate(gaps)]
