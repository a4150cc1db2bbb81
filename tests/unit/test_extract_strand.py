"""Per-record strand, motif strand and CIGAR intron rules shared by extract and clean."""

from __future__ import annotations

import pysam
import pytest

from splamflow.io.alignments import library_strand, read_introns, read_introns_with_anchors, record_strand
from splamflow.motifs import motif_strand

HEADER = pysam.AlignmentHeader.from_dict({"SQ": [{"SN": "c1", "LN": 10_000}]})


def segment(cigar: str = "10M100N10M", pos: int = 100, flag: int = 0, tags: dict | None = None):
    seg = pysam.AlignedSegment(HEADER)
    seg.query_name = "r"
    seg.reference_id = 0
    seg.reference_start = pos
    seg.flag = flag
    seg.cigarstring = cigar
    length = seg.infer_query_length()
    seg.query_sequence = "A" * length
    for key, value in (tags or {}).items():
        seg.set_tag(key, value, "A" if key in ("XS", "ts") and len(value) == 1 else None)
    return seg


@pytest.mark.parametrize(
    ("flag", "tags", "expected"),
    [
        (0, {"XS": "+"}, "+"),
        (16, {"XS": "+"}, "+"),  # XS is the transcript strand whatever the read orientation
        (0, {"XS": "-"}, "-"),
        (0, {"ts": "+"}, "+"),
        (16, {"ts": "+"}, "-"),  # minimap2 ts is relative to the read: flipped on reverse reads
        (16, {"ts": "-"}, "+"),
        (0, {"XS": "-", "ts": "+"}, "-"),  # XS wins
        (0, {"XS": "?", "ts": "+"}, "."),  # an XS tag without +/- stops the look-up, as in Splam
        (0, {}, "."),
    ],
)
def test_record_strand_tags(flag, tags, expected):
    assert record_strand(segment(flag=flag, tags=tags)) == expected


@pytest.mark.parametrize(
    ("flag", "strandness", "expected"),
    [
        (0, "fr", "+"),  # single-end forward, fr: read on the transcript strand
        (16, "fr", "-"),
        (0, "rf", "-"),
        (16, "rf", "+"),
        (1 | 64, "fr", "+"),  # read 1 forward
        (1 | 128, "fr", "-"),  # read 2 forward: its mate (read 1) is reverse
        (1 | 128 | 16, "fr", "+"),
        (1 | 64 | 16, "rf", "+"),  # dUTP: read 1 reverse means '+' transcript
        (1 | 128, "rf", "+"),
        (0, "none", "."),
    ],
)
def test_library_strandness(flag, strandness, expected):
    read = segment(flag=flag)
    assert library_strand(read, strandness) == expected
    assert record_strand(read, strandness) == expected


def test_tags_beat_library_strandness():
    assert record_strand(segment(flag=0, tags={"XS": "-"}), "fr") == "-"
    assert record_strand(segment(flag=16, tags={"ts": "+"}), "fr") == "-"


def test_unknown_strandness_is_rejected():
    with pytest.raises(ValueError, match="strandness"):
        library_strand(segment(), "forward")


@pytest.mark.parametrize(
    ("donor", "acceptor", "expected"),
    [
        ("GT", "AG", "+"), ("gc", "ag", "+"), ("AT", "AC", "+"),
        ("CT", "AC", "-"), ("CT", "GC", "-"), ("GT", "AT", "-"),
        ("GG", "AG", "."), ("AC", "CT", "."), ("NN", "NN", "."),
    ],
)
def test_motif_strand(donor, acceptor, expected):
    assert motif_strand(donor, acceptor) == expected


def test_read_introns_only_from_n_operations():
    # soft clip, insertion and a deletion right before the N: the deletion advances the reference
    # but does not split the block; the intron starts after it
    read = segment("3S10M2I5M4D200N20M1000N7M5S", pos=1000)
    assert read_introns(read) == [(1000 + 10 + 5 + 4, 1000 + 19 + 200), (1239, 2239)]
    assert read_introns_with_anchors(read) == [(1019, 1219, 15, 20), (1239, 2239, 20, 7)]


def test_deletion_alone_is_no_intron():
    assert read_introns(segment("10M300D10M")) == []
    assert read_introns(segment("50M")) == []


def test_zero_length_gap_and_unmapped_record():
    assert read_introns(segment("10M0N10M")) == []
    assert read_introns(segment("10M100N10M", flag=4)) == []
