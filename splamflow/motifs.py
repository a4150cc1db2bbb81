"""Splice-site motifs: the strand an intron's genomic dinucleotides imply (`--infer-strand motif`).

One implementation for `extract` (unstranded junctions) and `clean` (records without XS/ts), so the
same intron gets the same strand in both.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from splamflow.errors import UserError

if TYPE_CHECKING:
    import pysam

_PLUS_MOTIFS = frozenset({("GT", "AG"), ("GC", "AG"), ("AT", "AC")})
_MINUS_MOTIFS = frozenset({("CT", "AC"), ("CT", "GC"), ("GT", "AT")})


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
    """The strand of introns from the genome's dinucleotides, per intron, cached (`clean` asks once
    per record). `fasta` is the open genome (`io.genome.open_genome`), which the caller closes;
    `path` names it in errors."""

    def __init__(self, fasta: pysam.FastaFile, path: str | os.PathLike):
        self.path = os.fspath(path)
        self.fasta = fasta
        self.lengths = dict(zip(fasta.references, fasta.lengths, strict=True))
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
