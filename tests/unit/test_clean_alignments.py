"""BAM clean-up on hand-built BAMs: the rule, strands, pairs, multi-mapped reads, kept + discarded = input."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pysam
import pytest

from splamflow.cli import main

CONTIG_LENGTH = 20_000


def _record(header, name, pos, cigar, *, flag=0, tags=(), next_pos=-1, tlen=0, ref=0, mapq=60):
    read = pysam.AlignedSegment(header)
    read.query_name = name
    read.flag = flag
    read.reference_id = ref
    read.reference_start = pos
    read.mapping_quality = mapq
    read.cigarstring = cigar
    length = read.infer_query_length()
    read.query_sequence = ("ACGT" * (length // 4 + 1))[:length]
    read.query_qualities = pysam.qualitystring_to_array("I" * length)
    if next_pos >= 0:
        read.next_reference_id = ref
        read.next_reference_start = next_pos
        read.template_length = tlen
    for tag in tags:
        read.set_tag(*tag)
    return read


def write_bam(path: Path, specs: list[dict], sort_order: str = "coordinate", contigs=("1",)) -> Path:
    header = pysam.AlignmentHeader.from_dict(
        {
            "HD": {"VN": "1.6", "SO": sort_order},
            "SQ": [{"SN": c, "LN": CONTIG_LENGTH} for c in contigs],
        }
    )
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for spec in specs:
            spec = dict(spec)
            out.write(_record(header, spec.pop("name"), spec.pop("pos"), spec.pop("cigar"), **spec))
    return path


def write_scores(path: Path, rows: list[tuple]) -> Path:
    """rows: (contig, start, end, strand, donor, acceptor)."""
    with open(path, "w") as out:
        for i, (contig, start, end, strand, donor, acceptor) in enumerate(rows):
            out.write(f"{contig}\t{start}\t{end}\tJ{i}\t1\t{strand}\t{donor:.10f}\t{acceptor:.10f}\n")
    return path


def read_bam(path: Path) -> list[pysam.AlignedSegment]:
    with pysam.AlignmentFile(str(path), "rb", check_sq=False) as bam:
        return list(bam)


def run_clean(tmp_path: Path, bam: Path, scores: Path, *extra: str) -> tuple[int, Path, Path, dict]:
    kept, dropped, stats = tmp_path / "kept.bam", tmp_path / "dropped.bam", tmp_path / "stats.json"
    rc = main(["clean", str(bam), "--scores", str(scores), "-o", str(kept), "--discarded", str(dropped),
               "--stats", str(stats), *extra])
    counts = json.loads(stats.read_text())["counts"] if rc == 0 else {}
    return rc, kept, dropped, counts


def identity(read: pysam.AlignedSegment) -> tuple:
    """What must survive clean-up unchanged: name, segment, position, CIGAR, sequence."""
    return (read.query_name, read.is_read1, read.is_read2, read.reference_id, read.reference_start,
            read.cigarstring, read.query_sequence)


def assert_partition(inp: Path, kept: Path, dropped: Path) -> None:
    """kept + discarded = input, record for record."""
    before = Counter(identity(r) for r in read_bam(inp))
    after = Counter(identity(r) for r in read_bam(kept)) + Counter(identity(r) for r in read_bam(dropped))
    assert before == after


# Introns (0-based half-open) used below; a 10M{gap}N10M record at pos p has intron (p+10, p+10+gap).
SPUR = ("1", 110, 210)  # scored + : donor 0.05 (spurious); scored - : 0.9/0.9 (good)
EDGE = ("1", 1110, 1310)  # + : donor exactly t, acceptor 0.5 -> not spurious
LOW_ACC = ("1", 2110, 2410)  # + : acceptor 0.0999999999 -> spurious
UNSCORED_GAP = 150


@pytest.fixture
def single_end(tmp_path: Path) -> tuple[Path, Path]:
    specs = [
        {"name": "spur_plus", "pos": 100, "cigar": "10M100N10M", "tags": [("XS", "+", "A")]},
        {"name": "spur_minus", "pos": 100, "cigar": "10M100N10M", "flag": 16, "tags": [("XS", "-", "A")]},
        {"name": "no_strand", "pos": 100, "cigar": "10M100N10M"},
        {"name": "unspliced", "pos": 150, "cigar": "30M"},
        {"name": "edge", "pos": 1100, "cigar": "10M200N10M", "tags": [("XS", "+", "A")]},
        {"name": "unscored", "pos": 1500, "cigar": f"10M{UNSCORED_GAP}N10M", "tags": [("XS", "+", "A")]},
        {"name": "two_introns", "pos": 1600, "cigar": "10M100N400M300N10M", "tags": [("XS", "+", "A")]},
        {"name": "deletion_only", "pos": 1700, "cigar": "10M100D10M", "tags": [("XS", "+", "A")]},
        {"name": "unmapped", "pos": 1800, "cigar": "20M", "flag": 4},
    ]
    # two_introns: (1610, 1710) unscored, (2110, 2410) spurious by its acceptor.
    bam = write_bam(tmp_path / "in.bam", specs)
    scores = write_scores(
        tmp_path / "scores.bed",
        [
            (*SPUR, "+", 0.05, 0.9),
            (*SPUR, "-", 0.9, 0.9),
            (*EDGE, "+", 0.1, 0.5),
            (*LOW_ACC, "+", 0.9, 0.0999999999),
        ],
    )
    return bam, scores


def test_rule_strand_keying_edges_and_partition(tmp_path, single_end):
    bam, scores = single_end
    rc, kept, dropped, counts = run_clean(tmp_path, bam, scores)
    assert rc == 0
    assert {r.query_name for r in read_bam(dropped)} == {"spur_plus", "two_introns"}
    assert {r.query_name for r in read_bam(kept)} == {
        "spur_minus", "no_strand", "unspliced", "edge", "unscored", "deletion_only", "unmapped"}
    assert_partition(bam, kept, dropped)
    # the discarded records are exactly as they were
    original = {r.query_name: r.to_string() for r in read_bam(bam)}
    for read in read_bam(dropped):
        assert read.to_string() == original[read.query_name]
    assert counts["records_in"] == 9
    assert counts["records_kept"] == 7
    assert counts["records_discarded"] == 2
    assert counts["spliced_records"] == 6
    assert counts["records_unkeyed_strand"] == 1
    assert counts["spliced_records_unscored_junction"] == 3  # no_strand, unscored, two_introns
    assert counts["junctions_scored"] == 4
    assert counts["junctions_spurious"] == 2
    assert counts["spurious_per_record"] == {"0": 4, "1": 2}
    # sorted input -> sorted, indexed outputs
    for out in (kept, dropped):
        assert Path(f"{out}.bai").exists()
        with pysam.AlignmentFile(str(out), "rb") as handle:
            assert handle.header.to_dict()["HD"]["SO"] == "coordinate"
            assert handle.header.to_dict()["PG"][-1]["PN"] == "splam_score.py"
            assert handle.count("1", 0, CONTIG_LENGTH) >= 1


def test_threshold_is_strict(tmp_path, single_end):
    bam, scores = single_end
    # at t = 0.05 the donor 0.05 is not below t (nor is 0.0999999999); just above 0.1 the edge goes
    rc, _, dropped, _ = run_clean(tmp_path, bam, scores, "--threshold", "0.05")
    assert rc == 0
    assert read_bam(dropped) == []
    rc, _, dropped, _ = run_clean(tmp_path, bam, scores, "--threshold", "0.0500000001")
    assert {r.query_name for r in read_bam(dropped)} == {"spur_plus"}
    rc, _, dropped, _ = run_clean(tmp_path, bam, scores, "--threshold", "0.1000000001")
    assert {r.query_name for r in read_bam(dropped)} == {"spur_plus", "two_introns", "edge"}
    rc, kept, dropped, _ = run_clean(tmp_path, bam, scores, "--threshold", "0")
    assert read_bam(dropped) == []
    assert len(read_bam(kept)) == 9


def test_library_strandness_keys_untagged_reads(tmp_path, single_end):
    bam, scores = single_end
    rc, kept, dropped, counts = run_clean(tmp_path, bam, scores, "--strandness", "fr")
    assert rc == 0
    # forward single-end read under fr -> '+' -> the spurious + junction
    assert "no_strand" in {r.query_name for r in read_bam(dropped)}
    assert counts["records_unkeyed_strand"] == 0
    rc, kept, dropped, counts = run_clean(tmp_path, bam, scores, "--strandness", "rf")
    assert "no_strand" in {r.query_name for r in read_bam(kept)}  # '-' junction is good


def test_mark_unmapped_like_splam(tmp_path, single_end):
    bam, scores = single_end
    rc, kept, dropped, _ = run_clean(tmp_path, bam, scores, "--mark-unmapped")
    assert rc == 0
    for read in read_bam(dropped):
        assert read.is_unmapped
        assert not read.is_paired
    assert_partition(bam, kept, dropped)


def _pair(name, pos1, cigar1, pos2, cigar2, *, r1_first_in_template=True, tags=(), proper=True, hi=None):
    """Two mates (R1 forward, R2 reverse) with consistent mate fields."""
    flag = 0x1 | (0x2 if proper else 0)
    t1 = [*tags] + ([("HI", hi, "i")] if hi is not None else [])
    tlen = abs(pos2 - pos1) + 20
    r1 = {"name": name, "pos": pos1, "cigar": cigar1, "flag": flag | 0x40 | 0x20, "next_pos": pos2,
          "tlen": tlen, "tags": [*t1, ("MC", cigar2, "Z")]}
    r2 = {"name": name, "pos": pos2, "cigar": cigar2, "flag": flag | 0x80 | 0x10, "next_pos": pos1,
          "tlen": -tlen, "tags": [*t1, ("MC", cigar1, "Z")]}
    return [r1, r2]


def _sorted(specs):
    return sorted(specs, key=lambda s: s["pos"])


@pytest.fixture
def pairs(tmp_path: Path) -> tuple[Path, Path]:
    xs = [("XS", "+", "A")]
    specs = _sorted(
        _pair("r1_spurious", 100, "10M100N10M", 400, "20M", tags=xs)
        # R2 is spurious and comes after its unspliced R1 in the file: R1 must still be fixed
        + _pair("r2_spurious", 50, "20M", 100, "10M100N10M", tags=xs)
        + _pair("both_good", 1100, "10M200N10M", 1500, "20M", tags=xs)
        + _pair("both_spurious", 100, "10M100N10M", 100, "10M100N10M", tags=xs)
    )
    bam = write_bam(tmp_path / "pairs.bam", specs)
    scores = write_scores(tmp_path / "scores.bed", [(*SPUR, "+", 0.05, 0.9), (*EDGE, "+", 0.5, 0.5)])
    return bam, scores


def _by_segment(path: Path) -> dict[tuple[str, int], pysam.AlignedSegment]:
    return {(r.query_name, 1 if r.is_read1 else 2): r for r in read_bam(path)}


def test_paired_fixes_surviving_mates(tmp_path, pairs):
    bam, scores = pairs
    rc, kept, dropped, counts = run_clean(tmp_path, bam, scores, "--paired")
    assert rc == 0
    k, d = _by_segment(kept), _by_segment(dropped)
    assert set(d) == {("r1_spurious", 1), ("r2_spurious", 2), ("both_spurious", 1), ("both_spurious", 2)}
    assert set(k) == {("r1_spurious", 2), ("r2_spurious", 1), ("both_good", 1), ("both_good", 2)}
    for key in (("r1_spurious", 2), ("r2_spurious", 1)):
        read = k[key]
        assert read.is_paired and read.mate_is_unmapped and not read.is_proper_pair
        assert (read.next_reference_id, read.next_reference_start) == (read.reference_id, read.reference_start)
        assert read.template_length == 0
        assert not read.has_tag("MC")
    for key in (("both_good", 1), ("both_good", 2)):
        assert k[key].is_proper_pair and not k[key].mate_is_unmapped
    assert counts["mates_fixed"] == 2
    assert counts["records_discarded_with_mate"] == 0
    assert_partition(bam, kept, dropped)


def test_without_paired_nothing_is_fixed(tmp_path, pairs, capsys):
    bam, scores = pairs
    rc, kept, dropped, counts = run_clean(tmp_path, bam, scores)
    assert rc == 0
    assert counts["mates_fixed"] == 0
    assert all(not r.mate_is_unmapped for r in read_bam(kept))
    assert "--paired" in capsys.readouterr().err


def test_drop_pairs_removes_both_mates(tmp_path, pairs):
    bam, scores = pairs
    rc, kept, dropped, counts = run_clean(tmp_path, bam, scores, "--drop-pairs")
    assert rc == 0
    assert {n for n, _ in _by_segment(kept)} == {"both_good"}
    assert len(read_bam(dropped)) == 6
    assert counts["records_discarded_by_rule"] == 4
    assert counts["records_discarded_with_mate"] == 2
    assert_partition(bam, kept, dropped)


def test_drop_pairs_mark_unmapped_sets_mate_unmapped(tmp_path, pairs):
    bam, scores = pairs
    rc, kept, dropped, _ = run_clean(tmp_path, bam, scores, "--drop-pairs", "--mark-unmapped")
    assert rc == 0
    for read in read_bam(dropped):
        assert read.is_unmapped and read.mate_is_unmapped
    assert_partition(bam, kept, dropped)


def test_multimapped_single_end_nh_hi(tmp_path):
    xs = ("XS", "+", "A")
    specs = _sorted([
        {"name": "multi", "pos": 1100, "cigar": "10M200N10M", "flag": 0, "tags": [xs, ("NH", 3), ("HI", 1)]},
        {"name": "multi", "pos": 100, "cigar": "10M100N10M", "flag": 256, "tags": [xs, ("NH", 3), ("HI", 2)]},
        {"name": "multi", "pos": 3000, "cigar": "20M", "flag": 256, "tags": [xs, ("NH", 3), ("HI", 3)]},
        {"name": "other", "pos": 3100, "cigar": "20M", "tags": [("NH", 2), ("HI", 1)]},
        {"name": "other", "pos": 3200, "cigar": "20M", "flag": 256, "tags": [("NH", 2), ("HI", 2)]},
    ])
    bam = write_bam(tmp_path / "multi.bam", specs)
    scores = write_scores(tmp_path / "s.bed", [(*SPUR, "+", 0.05, 0.9)])
    rc, kept, dropped, counts = run_clean(tmp_path, bam, scores)
    assert rc == 0
    multi = sorted((r.get_tag("HI"), r.get_tag("NH"), r.reference_start) for r in read_bam(kept)
                   if r.query_name == "multi")
    assert multi == [(1, 2, 1100), (2, 2, 3000)]
    other = sorted((r.get_tag("HI"), r.get_tag("NH")) for r in read_bam(kept) if r.query_name == "other")
    assert other == [(1, 2), (2, 2)]
    (gone,) = read_bam(dropped)
    assert (gone.get_tag("NH"), gone.get_tag("HI")) == (3, 2)  # discarded record as it was
    assert counts["multimapped_reads_nh_changed"] == 1
    assert_partition(bam, kept, dropped)


def _multi_pairs() -> list[dict]:
    xs = [("XS", "+", "A"), ("NH", 3, "i")]
    specs = []
    # hit 2's R1 is spurious
    for hi, (p1, c1, p2) in enumerate([(1100, "10M200N10M", 1500), (100, "10M100N10M", 400),
                                       (3000, "20M", 3300)], start=1):
        pair = _pair("mp", p1, c1, p2, "20M", tags=xs, hi=hi)
        if hi > 1:
            for spec in pair:
                spec["flag"] |= 0x100
        specs += pair
    return _sorted(specs)


def test_multimapped_pairs_keep_mates_consistent(tmp_path):
    bam = write_bam(tmp_path / "mp.bam", _multi_pairs())
    scores = write_scores(tmp_path / "s.bed", [(*SPUR, "+", 0.05, 0.9)])
    rc, kept, dropped, counts = run_clean(tmp_path, bam, scores, "--paired")
    assert rc == 0
    reads = read_bam(kept)
    r1 = {r.get_tag("HI"): r for r in reads if r.is_read1}
    r2 = {r.get_tag("HI"): r for r in reads if r.is_read2}
    assert sorted(r1) == [1, 2] and all(r.get_tag("NH") == 2 for r in r1.values())
    assert sorted(r2) == [1, 2, 3] and all(r.get_tag("NH") == 3 for r in r2.values())
    for hi, read in r1.items():  # mates that both survive share HI
        assert r2[hi].reference_start == read.next_reference_start
        assert read.reference_start == r2[hi].next_reference_start
    assert r2[3].mate_is_unmapped and r2[3].reference_start == 400  # the orphan comes last
    assert counts["multimapped_reads_nh_changed"] == 1
    assert_partition(bam, kept, dropped)


def test_multimapped_pairs_drop_pairs(tmp_path):
    bam = write_bam(tmp_path / "mp.bam", _multi_pairs())
    scores = write_scores(tmp_path / "s.bed", [(*SPUR, "+", 0.05, 0.9)])
    rc, kept, dropped, counts = run_clean(tmp_path, bam, scores, "--drop-pairs")
    assert rc == 0
    reads = read_bam(kept)
    assert sorted((r.is_read1, r.get_tag("HI"), r.get_tag("NH")) for r in reads) == [
        (False, 1, 2), (False, 2, 2), (True, 1, 2), (True, 2, 2)]
    assert len(read_bam(dropped)) == 2
    assert counts["multimapped_reads_nh_changed"] == 2
    assert_partition(bam, kept, dropped)


def test_unsorted_input_keeps_order_without_index(tmp_path):
    specs = [
        {"name": "b", "pos": 500, "cigar": "20M"},
        {"name": "a", "pos": 100, "cigar": "10M100N10M", "tags": [("XS", "+", "A")]},
        {"name": "c", "pos": 50, "cigar": "20M"},
    ]
    bam = write_bam(tmp_path / "u.bam", specs, sort_order="unsorted")
    scores = write_scores(tmp_path / "s.bed", [(*SPUR, "+", 0.05, 0.9)])
    (tmp_path / "kept.bam.bai").write_text("stale")
    rc, kept, dropped, counts = run_clean(tmp_path, bam, scores)
    assert rc == 0
    assert [r.query_name for r in read_bam(kept)] == ["b", "c"]
    assert not Path(f"{kept}.bai").exists()
    assert counts["sorted_output"] is False


def test_claimed_sorted_but_unsorted_is_an_error(tmp_path, capsys):
    specs = [{"name": "b", "pos": 500, "cigar": "20M"}, {"name": "a", "pos": 100, "cigar": "20M"}]
    bam = write_bam(tmp_path / "bad.bam", specs, sort_order="coordinate")
    scores = write_scores(tmp_path / "s.bed", [(*SPUR, "+", 0.05, 0.9)])
    rc, kept, dropped, _ = run_clean(tmp_path, bam, scores)
    assert rc == 2
    err = capsys.readouterr().err
    assert "record 2" in err and "samtools sort" in err and len(err.strip().splitlines()) == 1
    assert not kept.exists() and not dropped.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_output_equal_to_input_is_an_error(tmp_path, single_end, capsys):
    bam, scores = single_end
    before = bam.read_bytes()
    rc = main(["clean", str(bam), "--scores", str(scores), "-o", str(bam), "--discarded",
               str(tmp_path / "d.bam")])
    assert rc == 2
    assert "same file as the input" in capsys.readouterr().err
    assert bam.read_bytes() == before


def test_scores_from_another_genome_warn_with_counts(tmp_path, single_end, capsys):
    bam, _ = single_end
    scores = write_scores(tmp_path / "chr.bed", [("chr1", 110, 210, "+", 0.0, 0.0),
                                                 ("chr1", 1110, 1310, "+", 0.0, 0.0),
                                                 ("1", 110, 210, "+", 0.5, 0.5)])
    rc, kept, dropped, counts = run_clean(tmp_path, bam, scores)
    assert rc == 0
    err = capsys.readouterr().err
    assert "2 of 3 scored junctions" in err and "chr1" in err
    assert counts["score_junctions_on_unknown_contigs"] == 2
    assert read_bam(dropped) == []


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1\t110\t210\tJ\t1\t+\t1.5\t0.2\n", "outside [0, 1]"),
        ("1\t110\t210\tJ\t1\t+\tabc\t0.2\n", "not a number"),
        ("1\t110\t210\tJ\t1\t+\t0.5\tnan\n", "outside [0, 1]"),
        ("1\t110\t210\tJ\t1\t+\n", "at least 8"),
        ("1\tx\t210\tJ\t1\t+\t0.5\t0.5\n", "not integers"),
    ],
)
def test_bad_scores_name_file_and_line(tmp_path, single_end, capsys, line, message):
    bam, _ = single_end
    scores = tmp_path / "bad.bed"
    scores.write_text("# header\n1\t1110\t1310\tJ\t1\t+\t0.5\t0.5\n" + line)
    rc, kept, dropped, _ = run_clean(tmp_path, bam, scores)
    assert rc == 2
    err = capsys.readouterr().err
    assert f"{scores}:3:" in err and message in err
    assert not kept.exists()


def test_stats_tsv_and_plot(tmp_path, single_end):
    pytest.importorskip("matplotlib")
    bam, scores = single_end
    tsv, png = tmp_path / "clean_mqc.tsv", tmp_path / "plot.png"
    rc, _, _, counts = run_clean(tmp_path, bam, scores, "--stats-tsv", str(tsv), "--plot", str(png),
                                 "--threads", "2")
    assert rc == 0
    lines = tsv.read_text().splitlines()
    assert lines[0] == "# id: 'splamflow_clean'"
    assert "# plot_type: 'table'" in lines
    rows = [line.split("\t") for line in lines if not line.startswith("#")]
    table = dict(zip(rows[0], rows[1], strict=True))
    assert table["Sample"] == "in"
    assert int(table["records_discarded"]) == counts["records_discarded"] == 2
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_score_histogram_is_multiqc_line_graph_of_the_lower_scores(tmp_path, single_end):
    bam, _ = single_end
    # lower scores 0.02, 0.04 (bin 0.025), 0.5 exactly (bin 0.525: a bin holds its lower edge), 1.0 (the last
    # bin holds 1); the donor/acceptor order does not matter
    scores = write_scores(tmp_path / "h.bed", [("1", 100, 200, "+", 0.9, 0.02), ("1", 300, 400, "+", 0.04, 0.6),
                                               ("1", 500, 600, "-", 0.5, 0.7), ("1", 700, 800, "+", 1.0, 1.0)])
    out = tmp_path / "s1.score_histogram_mqc.json"
    rc, _, _, _ = run_clean(tmp_path, bam, scores, "--score-histogram", str(out), "--sample", "s1")
    assert rc == 0
    content = json.loads(out.read_text())
    assert (content["id"], content["plot_type"]) == ("splamflow_score_histogram", "linegraph")
    assert "below 0.1 a junction is spurious" in content["description"]
    assert list(content["data"]) == ["s1"]
    histogram = content["data"]["s1"]
    assert list(histogram) == [f"{0.025 + 0.05 * i:.3f}" for i in range(20)]
    assert {x: y for x, y in histogram.items() if y} == {"0.025": 50.0, "0.525": 25.0, "0.975": 25.0}


def test_score_histogram_of_no_scores_is_all_zero(tmp_path, single_end):
    bam, _ = single_end
    empty = tmp_path / "empty.bed"
    empty.write_text("")
    out = tmp_path / "h_mqc.json"
    rc, _, _, _ = run_clean(tmp_path, bam, empty, "--score-histogram", str(out))
    assert rc == 0
    data = json.loads(out.read_text())["data"]
    assert list(data) == ["in"] and set(data["in"].values()) == {0.0}


def test_annotation_options_refused_for_bam(tmp_path, single_end, capsys):
    bam, scores = single_end
    assert main(["clean", str(bam), "--scores", str(scores), "-o", str(tmp_path / "k.bam"),
                 "--discarded", str(tmp_path / "d.bam"), "--min-introns", "2"]) == 2
    assert "GTF/GFF3 input only" in capsys.readouterr().err


def test_corrupt_bam_is_one_line_error_without_outputs(tmp_path, capsys):
    specs = [{"name": f"r{i}", "pos": 100 + i, "cigar": "10M100N10M", "tags": [("XS", "+", "A")]}
             for i in range(5000)]
    bam = write_bam(tmp_path / "big.bam", specs)
    data = bytearray(bam.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 200] = b"\x55" * 200
    bam.write_bytes(bytes(data))
    scores = write_scores(tmp_path / "s.bed", [(*SPUR, "+", 0.05, 0.9)])
    rc, kept, dropped, _ = run_clean(tmp_path, bam, scores)
    assert rc == 2
    assert "cannot read alignments" in capsys.readouterr().err
    assert not kept.exists() and not dropped.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_missing_output_folder_is_reported_first(tmp_path, single_end, capsys):
    bam, scores = single_end
    rc = main(["clean", str(bam), "--scores", str(scores), "-o", str(tmp_path / "no" / "k.bam"),
               "--discarded", str(tmp_path / "d.bam")])
    assert rc == 2
    assert "output folder does not exist" in capsys.readouterr().err
    assert not (tmp_path / "d.bam").exists()


def test_input_kind_sniffs_files_without_extension(tmp_path, single_end):
    from splamflow.io.sniff import input_kind

    bam, _ = single_end
    dat = tmp_path / "dataset_1.dat"
    dat.write_bytes(bam.read_bytes())
    assert input_kind(dat) == "alignments"
    sam = tmp_path / "dataset_2.dat"
    sam.write_text("@HD\tVN:1.6\n")
    assert input_kind(sam) == "alignments"
    gtf = tmp_path / "dataset_3.dat"
    gtf.write_text('1\tt\texon\t1\t10\t.\t+\t.\tgene_id "g"; transcript_id "t";\n')
    assert input_kind(gtf) == "annotation"
