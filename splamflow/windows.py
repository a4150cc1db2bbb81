"""Junction -> 800 bp model input: window coordinates, sequence fetch, one-hot encoding.

Coordinates follow the published scorer (Splam 1.0.12) exactly. A junction is an intron in
0-based half-open coordinates (start = first intron base, end = last intron base + 1) and
f = min(200, intron length):

    + strand: donor window [start-200, start+f), acceptor window [end-f, end+200)
    - strand: donor window [end-f, end+200), acceptor window [start-200, start+f),
              each reverse-complemented

The input is donor + N*(400-len(donor)) + N*(400-len(acceptor)) + acceptor, upper-cased, so
the first intron base sits at index 200 and the first exon base after the intron at 600.

Letters other than A, C, G, T encode as all-zero vectors, as in Splam. Only N (the padding, or an
N in the genome) counts as unknown at a splice site: like Splam 1.0.12, a junction whose
dinucleotide holds another IUPAC letter (R, Y, ...) is scored, not skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The window geometry, here (no torch) so that curate needs no torch; model.py builds the network on it.
SEQ_LEN = 800
FLANK = 200  # donor site sits at index FLANK, acceptor site at SEQ_LEN - FLANK
DONOR_INDEX = FLANK  # output[2, 200] is the donor score
ACCEPTOR_INDEX = SEQ_LEN - FLANK  # output[1, 600] is the acceptor score
# Positions that must not be N: the intron's first two and last two bases.
SITE_POSITIONS = (FLANK, FLANK + 1, SEQ_LEN - FLANK - 2, SEQ_LEN - FLANK - 1)

N_CODE = 4
OTHER_CODE = 5  # any other letter (IUPAC R, Y, ...): encoded like N, but not an N at a splice site
_CODES = np.full(256, OTHER_CODE, dtype=np.uint8)
for _i, _b in enumerate(b"ACGTN"):
    _CODES[_b] = _i
    _CODES[ord(chr(_b).lower())] = _i
_COMPLEMENT = np.array([3, 2, 1, 0, N_CODE, OTHER_CODE], dtype=np.uint8)
_LETTERS = np.frombuffer(b"ACGTNX", dtype=np.uint8)
_ONE_HOT = np.eye(6, 4, dtype=np.float32)  # rows 4 (N) and 5 (other letters) are all zeros


@dataclass(frozen=True)
class Windows:
    """Genomic intervals of one junction's donor and acceptor windows."""

    donor: tuple[int, int]
    acceptor: tuple[int, int]
    reverse: bool


def junction_windows(start: int, end: int, strand: str) -> Windows:
    """Donor/acceptor windows of the intron [start, end) on `strand` ('+' or '-')."""
    flank = min(FLANK, end - start)
    left = (start - FLANK, start + flank)
    right = (end - flank, end + FLANK)
    if strand == "+":
        return Windows(donor=left, acceptor=right, reverse=False)
    if strand == "-":
        return Windows(donor=right, acceptor=left, reverse=True)
    raise ValueError(f"strand must be '+' or '-', not {strand!r}")


def encode(seq: str | bytes) -> np.ndarray:
    """DNA text -> uint8 codes (A=0, C=1, G=2, T=3, N=4, any other letter 5), either case."""
    raw = seq.encode("ascii") if isinstance(seq, str) else seq
    return _CODES[np.frombuffer(raw, dtype=np.uint8)]


def reverse_complement(codes: np.ndarray) -> np.ndarray:
    """Reverse complement of a uint8 code array."""
    return _COMPLEMENT[codes[::-1]]


def assemble(donor: np.ndarray, acceptor: np.ndarray) -> np.ndarray:
    """Donor and acceptor code arrays (each <= 400 long) -> one 800-long code array."""
    out = np.full(SEQ_LEN, N_CODE, dtype=np.uint8)
    out[: len(donor)] = donor
    out[SEQ_LEN - len(acceptor) :] = acceptor
    return out


def junction_codes(donor_seq: str | bytes, acceptor_seq: str | bytes, reverse: bool) -> np.ndarray:
    """Forward-strand window sequences -> 800 uint8 codes of the model input."""
    donor, acceptor = encode(donor_seq), encode(acceptor_seq)
    if reverse:
        donor, acceptor = reverse_complement(donor), reverse_complement(acceptor)
    return assemble(donor, acceptor)


def junction_input(genome, contig: str, start: int, end: int, strand: str, contig_length: int
                   ) -> tuple[np.ndarray | None, str | None]:
    """800 model-input codes of one stranded junction, or (None, reason) when it cannot be scored.

    reason is "bounds" (a window reaches before 0 or past the contig end; a window ending exactly at
    the end is valid, unlike Splam 1.0.12's `>=`) or "site_n" (an N in a splice-site dinucleotide).
    `genome` is anything with `fetch(contig, start, end)` (pysam.FastaFile, GenomeSet).
    """
    w = junction_windows(start, end, strand)
    if min(w.donor[0], w.acceptor[0]) < 0 or max(w.donor[1], w.acceptor[1]) > contig_length:
        return None, "bounds"
    codes = junction_codes(genome.fetch(contig, *w.donor), genome.fetch(contig, *w.acceptor), w.reverse)
    if has_site_n(codes)[0]:
        return None, "site_n"
    return codes, None


def has_site_n(codes: np.ndarray) -> np.ndarray:
    """True for rows (of an (N, 800) code array) with N at a splice-site dinucleotide."""
    codes = np.atleast_2d(codes)
    return (codes[:, list(SITE_POSITIONS)] == N_CODE).any(axis=1)


def one_hot(codes: np.ndarray) -> np.ndarray:
    """(N, 800) uint8 codes -> (N, 4, 800) float32 one-hot (N and other letters are all zeros)."""
    return np.ascontiguousarray(_ONE_HOT[codes].transpose(0, 2, 1))


def decode(codes: np.ndarray) -> str:
    """uint8 codes -> DNA text (for messages and tests; other letters read X)."""
    return _LETTERS[codes].tobytes().decode("ascii")
