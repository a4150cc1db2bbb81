"""Window coordinates, strand logic, encoding and padding: where splice tools go wrong."""

from __future__ import annotations

import numpy as np
import pytest

from splamflow.windows import (
    ACCEPTOR_INDEX,
    DONOR_INDEX,
    N_CODE,
    OTHER_CODE,
    SITE_POSITIONS,
    assemble,
    decode,
    encode,
    has_site_n,
    junction_codes,
    junction_input,
    junction_windows,
    one_hot,
    reverse_complement,
)


def test_encoding_is_acgt_with_n_and_other_letters_as_zero_vectors():
    codes = encode("ACGTNacgtnRY")
    assert codes.tolist() == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, OTHER_CODE, OTHER_CODE]
    hot = one_hot(codes[None, :5])
    assert hot.shape == (1, 4, 5)
    assert not one_hot(codes[None, 10:]).any()  # R, Y: all zeros, as N (Splam's encoding)
    assert hot[0, :, 0].tolist() == [1, 0, 0, 0]  # A
    assert hot[0, :, 1].tolist() == [0, 1, 0, 0]  # C
    assert hot[0, :, 2].tolist() == [0, 0, 1, 0]  # G
    assert hot[0, :, 3].tolist() == [0, 0, 0, 1]  # T
    assert hot[0, :, 4].tolist() == [0, 0, 0, 0]  # N


def test_reverse_complement():
    assert decode(reverse_complement(encode("AACGTN"))) == "NACGTT"
    assert decode(reverse_complement(encode("GTAAGT"))) == "ACTTAC"


def test_plus_strand_long_intron_windows():
    w = junction_windows(1000, 5000, "+")
    assert w.donor == (800, 1200) and w.acceptor == (4800, 5200) and not w.reverse


def test_minus_strand_long_intron_windows_swap_ends():
    w = junction_windows(1000, 5000, "-")
    assert w.donor == (4800, 5200) and w.acceptor == (800, 1000 + 200) and w.reverse


@pytest.mark.parametrize("length", [1, 50, 199, 200])
def test_short_intron_windows_use_the_intron_length(length):
    w = junction_windows(1000, 1000 + length, "+")
    assert w.donor == (800, 1000 + length)
    assert w.acceptor == (1000, 1000 + length + 200)
    w = junction_windows(1000, 1000 + length, "-")
    assert w.donor == (1000, 1000 + length + 200)
    assert w.acceptor == (800, 1000 + length)


def test_unknown_strand_is_rejected():
    with pytest.raises(ValueError):
        junction_windows(10, 500, ".")


def _genome(length=3000, seed=0):
    rng = np.random.default_rng(seed)
    return "".join(rng.choice(list("ACGT"), size=length))


def test_plus_strand_input_puts_splice_sites_at_200_and_600():
    g = list(_genome())
    start, end = 1000, 2000
    g[start : start + 2] = "GT"
    g[end - 2 : end] = "AG"
    g = "".join(g)
    w = junction_windows(start, end, "+")
    codes = junction_codes(g[slice(*w.donor)], g[slice(*w.acceptor)], w.reverse)
    text = decode(codes)
    assert len(text) == 800
    assert text[DONOR_INDEX : DONOR_INDEX + 2] == "GT"
    assert text[ACCEPTOR_INDEX - 2 : ACCEPTOR_INDEX] == "AG"
    assert text[:200] == g[800:1000]  # exon before the donor
    assert text[600:] == g[2000:2200]  # exon after the acceptor


def test_minus_strand_input_is_reverse_complemented_with_sites_in_place():
    g = list(_genome(seed=1))
    start, end = 1000, 2000
    g[start : start + 2] = "CT"  # AG on the minus strand
    g[end - 2 : end] = "AC"  # GT on the minus strand
    g = "".join(g)
    w = junction_windows(start, end, "-")
    codes = junction_codes(g[slice(*w.donor)], g[slice(*w.acceptor)], w.reverse)
    text = decode(codes)
    assert text[200:202] == "GT"
    assert text[598:600] == "AG"
    rc = decode(reverse_complement(encode(g[2000:2200])))
    assert text[:200] == rc  # minus-strand exon upstream of the donor


def test_short_intron_is_n_padded_in_the_middle():
    g = _genome()
    start, end = 1000, 1050
    w = junction_windows(start, end, "+")
    donor, acceptor = g[slice(*w.donor)], g[slice(*w.acceptor)]
    assert len(donor) == len(acceptor) == 250
    text = decode(junction_codes(donor, acceptor, False))
    assert text[:250] == donor
    assert text[250:550] == "N" * 300  # (400 - 250) + (400 - 250)
    assert text[550:] == acceptor
    assert text[200:202] == g[1000:1002] and text[598:600] == g[1048:1050]


def test_assemble_pads_between_windows():
    codes = assemble(np.zeros(10, np.uint8), np.ones(5, np.uint8))
    assert (codes[:10] == 0).all() and (codes[-5:] == 1).all() and (codes[10:-5] == N_CODE).all()


def test_site_n_positions():
    assert SITE_POSITIONS == (200, 201, 598, 599)
    codes = np.zeros((5, 800), np.uint8)
    for i, pos in enumerate(SITE_POSITIONS):
        codes[i, pos] = N_CODE
    codes[4, 202] = N_CODE  # an N next to, not at, the dinucleotide
    assert has_site_n(codes).tolist() == [True, True, True, True, False]


def test_only_n_at_a_site_skips_a_junction_other_iupac_letters_are_scored():
    """Splam 1.0.12 skips a junction only for a literal N at its four site bases (parse.py); R, Y, ...
    are scored as all-zero inputs. On the - strand they stay non-N after reverse complement."""

    class Genome:
        def __init__(self, seq: str):
            self.seq = seq

        def fetch(self, contig, start, end):
            return self.seq[start:end]

    base = "ACGT" * 500
    for letter, skipped in (("N", True), ("n", True), ("R", False), ("y", False), ("K", False)):
        for strand, site in (("+", 1000), ("-", 1499)):  # + : first intron base; - : last intron base
            seq = base[:site] + letter + base[site + 1:]
            codes, reason = junction_input(Genome(seq), "c", 1000, 1500, strand, len(seq))
            assert (reason == "site_n") == skipped, (letter, strand)
            if not skipped:
                assert codes[DONOR_INDEX] == OTHER_CODE and not one_hot(codes[None])[0, :, DONOR_INDEX].any()
