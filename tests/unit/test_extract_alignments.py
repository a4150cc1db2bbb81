"""`extract` on BAM/CRAM written here by pysam, with known truth per record."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pysam
import pytest

from splamflow.cli import main
from splamflow.extract.alignments import ExtractOptions, extract_junctions, junction_counts

# header order c2 before c1: output follows the header, not the names
SQ = [{"SN": "c2", "LN": 5_000}, {"SN": "c1", "LN": 300_000}]
PAIR = 1 | 2

# (name, contig, pos, cigar, flag, tags): the truth of each is in the comments
RECORDS = [
    ("r1", "c1", 100, "10M50N10M", 0, {"XS": "+"}),  # (110,160,+)
    ("r2", "c1", 105, "5M50N10M", 256, {"XS": "+", "YC": 3}),  # secondary, weight 3 -> (110,160,+)
    ("r3", "c1", 106, "4M50N10M", 16, {"ts": "+"}),  # reverse read, ts + -> (110,160,-)
    ("r4", "c1", 107, "3M2D50N10M", 1024, {}),  # duplicate, deletion before N -> (112,162,.)
    ("r10", "c1", 107, "5M50N10M", 0, {"XS": "+"}),  # (112,162,+)
    ("r5", "c1", 200, "10M99998N10M", 0, {}),  # longest intron Splam keeps -> (210,100208,.)
    ("r6", "c1", 200, "10M99999N10M", 0, {}),  # one base longer: dropped
    ("r7", "c1", 300, "10M20D10M", 0, {"XS": "+"}),  # a deletion is not an intron
    ("r8", "c1", 400, "10M50N10M", 2048, {"XS": "-"}),  # supplementary -> (410,460,-)
    ("r9", "c1", 500, "10M50N10M", 4, {"XS": "+"}),  # unmapped: never counts
    ("q1", "c1", 1000, "10M100N10M", PAIR | 64, {"XS": "+", "NH": 1}),  # (1010,1110,+)
    ("q1", "c1", 1200, "20M", PAIR | 128 | 16, {"NH": 1}),
    ("q2", "c1", 1005, "5M100N15M", PAIR | 64, {"XS": "+"}),  # pair without NH -> (1010,1110,+)
    ("q2", "c1", 1008, "2M100N18M", PAIR | 128 | 16, {"XS": "+"}),  # its mate, same intron
    ("m1", "c2", 10, "10M30N10M", 0, {"XS": "-", "NH": 2}),  # multi-mapped, MAPQ 1 -> (20,50,-)
    ("r11", "c1", 2000, "5M1I5M50N3=1X6M", 0, {"XS": "-"}),  # insertion, =/X blocks -> (2010,2060,-)
]

EXPECTED = [
    ("c2", 20, 50, "-", 1),
    ("c1", 110, 160, "+", 4),
    ("c1", 110, 160, "-", 1),
    ("c1", 112, 162, "+", 1),
    ("c1", 112, 162, ".", 1),
    ("c1", 210, 100208, ".", 1),
    ("c1", 410, 460, "-", 1),
    ("c1", 1010, 1110, "+", 3),
    ("c1", 2010, 2060, "-", 1),
]

# r2 (secondary), r4 (duplicate) and r8 (supplementary) left out
WITHOUT_SEC_DUP_SUPP = [
    ("c2", 20, 50, "-", 1),
    ("c1", 110, 160, "+", 1),
    ("c1", 110, 160, "-", 1),
    ("c1", 112, 162, "+", 1),
    ("c1", 210, 100208, ".", 1),
    ("c1", 1010, 1110, "+", 3),
    ("c1", 2010, 2060, "-", 1),
]


def write_bam(path: Path, records=RECORDS, index: bool = True, sort: bool = True) -> Path:
    header = {"HD": {"VN": "1.6", "SO": "coordinate" if sort else "unsorted"}, "SQ": SQ}
    order = sorted(records, key=lambda r: ([s["SN"] for s in SQ].index(r[1]), r[2])) if sort else records
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for name, contig, pos, cigar, flag, tags in order:
            seg = pysam.AlignedSegment(out.header)
            seg.query_name = name
            seg.reference_name = contig
            seg.reference_start = pos
            seg.cigarstring = cigar
            seg.flag = flag
            seg.mapping_quality = 1 if tags.get("NH", 1) > 1 else 60
            length = seg.infer_query_length()
            seg.query_sequence = "A" * length
            seg.query_qualities = pysam.qualitystring_to_array("I" * length)
            for key, value in tags.items():
                seg.set_tag(key, value, "A" if key in ("XS", "ts") else None)
            out.write(seg)
    if index:
        pysam.index(str(path))
    return path


@pytest.fixture()
def bam(tmp_path: Path) -> Path:
    return write_bam(tmp_path / "in.bam")


def run(argv, capsys):
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def rows(path: Path) -> list[list[str]]:
    """The data rows (the `#splamflow` provenance header, checked on its own, left out)."""
    return [line.split("\t") for line in path.read_text().splitlines() if not line.startswith("#splamflow ")]


def expected_lines(expected=EXPECTED) -> list[list[str]]:
    return [
        [c, str(s), str(e), f"JUNC{i:08d}", str(n), strand] for i, (c, s, e, strand, n) in enumerate(expected, 1)
    ]


def test_splam_default_counts_sorted_and_named(bam, tmp_path, capsys):
    out = tmp_path / "j.bed"
    code, err = run(["extract", bam, "-o", out, "--infer-strand", "none"], capsys)
    assert code == 0, err
    assert rows(out) == expected_lines()
    assert "16 records, 13 spliced records counted;" in err
    assert "9 junctions" in err and "2 junctions have no strand" in err


def test_threads_unindexed_and_unsorted_give_identical_output(bam, tmp_path, capsys):
    reference = tmp_path / "ref.bed"
    assert run(["extract", bam, "-o", reference], capsys)[0] == 0
    unindexed = tmp_path / "noindex.bam"
    shutil.copy(bam, unindexed)
    unsorted = write_bam(tmp_path / "unsorted.bam", list(reversed(RECORDS)), index=False, sort=False)
    for source, threads in ((bam, 2), (bam, 3), (unindexed, 2), (unsorted, 1)):
        out = tmp_path / f"{source.stem}_{threads}.bed"
        code, err = run(["extract", source, "-o", out, "--threads", threads], capsys)
        assert code == 0, err
        assert out.read_text() == reference.read_text(), (source, threads)
        assert ("has no index" in err) == (threads > 1 and source != bam)


def test_threads_split_one_contig_into_chunks(tmp_path):
    # many reads on one long contig: the plan splits it, each read must still be counted once
    records = [
        (f"x{i}", "c1", 50 * i, "30M400N30M", 0, {"XS": "+-"[i % 2]}) for i in range(5000)
    ]
    bam = write_bam(tmp_path / "many.bam", records)
    single = extract_junctions(bam)
    split = extract_junctions(bam, threads=2)
    assert split.rows() == single.rows()
    assert split.stats.records == single.stats.records == 5000
    assert sum(r[4][0] for r in single.rows()) == 5000


def test_junction_counts_api(bam):
    counts = junction_counts(bam)
    assert counts == {(c, s, e, strand): float(n) for c, s, e, strand, n in EXPECTED}
    assert all(isinstance(v, float) for v in counts.values())


def test_extended_columns_unique_and_multi(bam, tmp_path, capsys):
    out = tmp_path / "j.bed"
    assert run(["extract", bam, "-o", out, "--extended"], capsys)[0] == 0
    extra = {(r[0], r[1], r[5]): (r[6], r[7]) for r in rows(out)}
    assert extra[("c2", "20", "-")] == ("0", "1")
    assert extra[("c1", "110", "+")] == ("4", "0")
    assert extra[("c1", "1010", "+")] == ("3", "0")  # no NH counts as unique, as in Splam


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--exclude-flags", "SECONDARY,DUP,SUPPLEMENTARY"], WITHOUT_SEC_DUP_SUPP),
        (["--exclude-flags", "0xD00"], WITHOUT_SEC_DUP_SUPP),  # the same flags as a number
        (["--min-mapq", "10"], EXPECTED[1:]),
        (
            ["--min-anchor", "5"],  # r3 (4M) and r4 (3M2D) lose their intron; q2's mate (2M) too
            [("c2", 20, 50, "-", 1), ("c1", 110, 160, "+", 4), ("c1", 112, 162, "+", 1),
             ("c1", 210, 100208, ".", 1), ("c1", 410, 460, "-", 1), ("c1", 1010, 1110, "+", 2),
             ("c1", 2010, 2060, "-", 1)],
        ),
        (["--max-intron", "50"], [e for e in EXPECTED if e[2] - e[1] <= 50]),
        (
            ["--strandness", "rf"],  # only untagged records change: forward single-end reads -> '-'
            [e if e[3] != "." else (*e[:3], "-", e[4]) for e in EXPECTED],
        ),
        (
            ["--region", "c1:1-300"],  # records overlapping 1-based 1..300: r1-r6 and r10
            [e for e in EXPECTED if e[0] == "c1" and e[1] < 300],
        ),
    ],
)
def test_filter_options(bam, tmp_path, capsys, options, expected):
    out = tmp_path / "j.bed"
    code, err = run(["extract", bam, "-o", out, *options], capsys)
    assert code == 0, err
    assert rows(out) == expected_lines(expected)
    out2 = tmp_path / "j2.bed"
    assert run(["extract", bam, "-o", out2, "--threads", "2", *options], capsys)[0] == 0
    assert out2.read_text() == out.read_text()


def test_paired_mode_keeps_mates_without_nh(bam, tmp_path, capsys):
    out = tmp_path / "j.bed"
    code, err = run(["extract", bam, "-o", out, "--paired"], capsys)
    assert code == 0, err
    assert rows(out) == expected_lines()  # same counts as without --paired
    assert "3 spliced mate records counted, 2 of them without an NH tag" in err


def write_genome(path: Path, plants: dict[tuple[str, int], str]) -> Path:
    seqs = {s["SN"]: bytearray(b"A" * s["LN"]) for s in SQ}
    for (contig, pos), text in plants.items():
        seqs[contig][pos : pos + len(text)] = text.encode()
    with open(path, "w") as handle:
        for name, seq in seqs.items():
            handle.write(f">{name}\n")
            for i in range(0, len(seq), 60):
                handle.write(seq[i : i + 60].decode() + "\n")
    pysam.faidx(str(path))
    return path


def test_infer_strand_motif_on_bam_without_xs(tmp_path, capsys):
    untagged = [(n, c, p, cig, f, {k: v for k, v in t.items() if k not in ("XS", "ts")})
                for n, c, p, cig, f, t in RECORDS]
    bam = write_bam(tmp_path / "noxs.bam", untagged)
    # (110,160): GT..AG -> '+'; (1010,1110): CT..AC -> '-'; (20,50) on c2: GC..AG -> '+'; the
    # others read AA..AA and stay '.'
    genome = write_genome(tmp_path / "g.fa", {
        ("c1", 110): "GT", ("c1", 158): "AG", ("c1", 1010): "CT", ("c1", 1108): "AC",
        ("c2", 20): "GC", ("c2", 48): "AG",
    })
    out = tmp_path / "j.bed"
    code, err = run(["extract", bam, "-o", out, "--infer-strand", "motif", "--genome", genome], capsys)
    assert code == 0, err
    assert rows(out) == expected_lines([
        ("c2", 20, 50, "+", 1), ("c1", 110, 160, "+", 5), ("c1", 112, 162, ".", 2),
        ("c1", 210, 100208, ".", 1), ("c1", 410, 460, ".", 1), ("c1", 1010, 1110, "-", 3),
        ("c1", 2010, 2060, ".", 1),
    ])
    assert "resolved 3 of 7 unstranded junctions (+: 2, -: 1); 4 stay '.'" in err
    plain = tmp_path / "plain.bed"
    assert run(["extract", bam, "-o", plain], capsys)[0] == 0
    assert {r[5] for r in rows(plain)} == {"."}  # Splam's behaviour without a genome


def _untagged_bam_and_genome(tmp_path: Path) -> tuple[Path, Path]:
    untagged = [(n, c, p, cig, f, {k: v for k, v in t.items() if k not in ("XS", "ts")})
                for n, c, p, cig, f, t in RECORDS]
    genome = write_genome(tmp_path / "g.fa", {
        ("c1", 110): "GT", ("c1", 158): "AG", ("c1", 1010): "CT", ("c1", 1108): "AC",
        ("c2", 20): "GC", ("c2", 48): "AG",
    })
    return write_bam(tmp_path / "noxs.bam", untagged), genome


def test_auto_is_the_default_and_equals_motif_with_a_genome(tmp_path, capsys):
    bam, genome = _untagged_bam_and_genome(tmp_path)
    by_motif, by_auto, by_default = (tmp_path / f"{n}.bed" for n in ("motif", "auto", "default"))
    assert run(["extract", bam, "-o", by_motif, "--infer-strand", "motif", "--genome", genome], capsys)[0] == 0
    assert run(["extract", bam, "-o", by_auto, "--infer-strand", "auto", "--genome", genome], capsys)[0] == 0
    code, err = run(["extract", bam, "-o", by_default, "--genome", genome], capsys)
    assert code == 0, err
    assert by_motif.read_text() == by_auto.read_text() == by_default.read_text()
    header = by_default.read_text().splitlines()[0]
    assert header == "#splamflow strand_source=XS,ts,motif spliced_records=13 unstranded_records=13"
    assert "resolved 3 of 7 unstranded junctions" in err and "warning" not in err


def test_auto_without_genome_warns_once_and_records_the_count(tmp_path, capsys):
    bam, _ = _untagged_bam_and_genome(tmp_path)
    out = tmp_path / "j.bed"
    code, err = run(["extract", bam, "-o", out], capsys)
    assert code == 0, err
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith("splam_score.py extract: warning: 13 of 13 spliced records (100.0%) have no strand")
    assert "--genome GENOME.fa" in lines[0]
    assert lines[1].startswith("extract: ")
    assert out.read_text().splitlines()[0] == "#splamflow strand_source=XS,ts spliced_records=13 unstranded_records=13"
    assert {r[5] for r in rows(out)} == {"."}


@pytest.mark.parametrize(("tagged", "warned"), [(100, False), (99, False), (98, True)])
def test_auto_warns_only_above_one_percent_without_strand(tmp_path, capsys, tagged, warned):
    # one record without a strand among 101, 100 (exactly 1%: not above) and 99 spliced records
    records = [(f"t{i}", "c1", 100, "10M50N10M", 0, {"XS": "+"}) for i in range(tagged)]
    bam = write_bam(tmp_path / "few.bam", [*records, ("u0", "c1", 300, "10M50N10M", 0, {})])
    out = tmp_path / "j.bed"
    code, err = run(["extract", bam, "-o", out], capsys)
    assert code == 0, err
    assert ("warning:" in err) == warned, err
    assert out.read_text().splitlines()[0].endswith(f"spliced_records={tagged + 1} unstranded_records=1")


def test_none_is_splam_s_format_without_header_and_refuses_a_genome(bam, tmp_path, capsys):
    out = tmp_path / "j.bed"
    assert run(["extract", bam, "-o", out, "--infer-strand", "none"], capsys)[0] == 0
    assert not out.read_text().startswith("#")
    one_line_error(*run(["extract", bam, "-o", out, "--infer-strand", "none", "--genome", bam], capsys),
                   "--genome is not used with --infer-strand none")


@pytest.mark.parametrize("infer_strand", ["auto", "none"])
def test_strandness_is_part_of_the_recorded_source(bam, tmp_path, capsys, infer_strand):
    # with --strandness the junctions are not Splam's (it has no such option), so even --infer-strand none
    # records the rule: clean must be able to refuse scores keyed by a library strand it is not given
    out = tmp_path / "j.bed"
    assert run(["extract", bam, "-o", out, "--strandness", "fr", "--infer-strand", infer_strand], capsys)[0] == 0
    assert out.read_text().splitlines()[0].startswith("#splamflow strand_source=XS,ts,library-fr ")


def test_motif_merges_into_tagged_rows(bam, tmp_path, capsys):
    genome = write_genome(tmp_path / "g.fa", {("c1", 112): "GT", ("c1", 160): "AG"})
    out = tmp_path / "j.bed"
    code, err = run(["extract", bam, "-o", out, "--infer-strand", "motif", "--genome", genome], capsys)
    assert code == 0, err
    got = {(r[0], r[1], r[2], r[5]): r[4] for r in rows(out)}
    assert got[("c1", "112", "162", "+")] == "2" and ("c1", "112", "162", ".") not in got


def test_cram_needs_reference_and_matches_bam(bam, tmp_path, capsys):
    genome = write_genome(tmp_path / "g.fa", {})
    cram = tmp_path / "in.cram"
    pysam.view("-C", "-T", str(genome), "-o", str(cram), str(bam), catch_stdout=False)
    pysam.index(str(cram))
    code, err = run(["extract", cram, "-o", tmp_path / "c.bed"], capsys)
    assert code == 2 and "CRAM input needs --reference" in err and err.count("\n") == 1
    for threads in (1, 2):
        out = tmp_path / f"c{threads}.bed"
        code, err = run(["extract", cram, "--reference", genome, "-o", out, "--threads", threads], capsys)
        assert code == 0, err
        assert rows(out) == expected_lines()


def one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("splam_score.py extract: error: "), err
    for needle in needles:
        assert needle in err, err


def test_region_and_unindexed_bam(tmp_path, capsys):
    unindexed = write_bam(tmp_path / "u.bam", index=False)
    code, err = run(["extract", unindexed, "-o", tmp_path / "j.bed", "--region", "c1"], capsys)
    one_line_error(code, err, str(unindexed), "--region needs an index")
    indexed = write_bam(tmp_path / "i.bam")
    code, err = run(["extract", indexed, "-o", tmp_path / "j.bed", "--region", "chr9:1-10"], capsys)
    one_line_error(code, err, "contig not in the BAM header")
    assert not (tmp_path / "j.bed").exists()


def test_truncated_bam(bam, tmp_path, capsys):
    data = bam.read_bytes()
    cut = tmp_path / "cut.bam"
    cut.write_bytes(data[: len(data) - 40])
    code, err = run(["extract", cut, "-o", tmp_path / "j.bed"], capsys)
    one_line_error(code, err, str(cut), "truncated")
    assert not (tmp_path / "j.bed").exists()


def test_sam_empty_and_non_alignment_inputs(bam, tmp_path, capsys):
    sam = tmp_path / "in.sam"
    pysam.view("-h", "-o", str(sam), str(bam), catch_stdout=False)
    one_line_error(*run(["extract", sam, "-o", tmp_path / "j.bed"], capsys), "SAM text input is not supported")
    empty = tmp_path / "empty.bam"
    empty.write_bytes(b"")
    one_line_error(*run(["extract", empty, "-o", tmp_path / "j.bed"], capsys), str(empty), "empty")
    text = tmp_path / "notes.bam"
    text.write_text("hello\n")
    code, err = run(["extract", text, "-o", tmp_path / "j.bed"], capsys)
    one_line_error(code, err, str(text))
    one_line_error(*run(["extract", tmp_path / "missing.bam", "-o", tmp_path / "j.bed"], capsys), "does not exist")


def test_bad_option_combinations(bam, tmp_path, capsys):
    one_line_error(*run(["extract", bam, "-o", bam], capsys), "-o is the same file as the input")
    one_line_error(*run(["extract", bam, "-o", tmp_path], capsys), "is a folder")
    one_line_error(*run(["extract", bam, "-o", tmp_path / "j.bed", "--infer-strand", "motif"], capsys),
                   "needs --genome")
    one_line_error(*run(["extract", bam, "-o", tmp_path / "j.bed", "--features", "mRNA"], capsys),
                   "only for GTF/GFF3 input")
    genome = write_genome(tmp_path / "g.fa", {})
    shutil.copy(genome, tmp_path / "other.fa")
    (tmp_path / "other.fa").write_text(">c9\nACGT\n")
    pysam.faidx(str(tmp_path / "other.fa"))
    one_line_error(
        *run(["extract", bam, "-o", tmp_path / "j.bed", "--infer-strand", "motif", "--genome",
              tmp_path / "other.fa"], capsys),
        "not in the genome FASTA",
    )


def test_options_object_defaults_are_splams():
    options = ExtractOptions()
    assert (options.min_mapq, options.exclude_flags, options.min_anchor, options.max_intron) == (0, 0, 0, 99_998)


@pytest.mark.parametrize("stale", [".csi", ".bai"])
def test_the_newest_index_is_used_not_a_stale_csi(tmp_path, stale):
    """htslib prefers X.csi to X.bai whatever their age: an old index of a rewritten BAM gave wrong counts."""
    data = Path(__file__).resolve().parents[1] / "data" / "chr20_slice.bam"
    with pysam.AlignmentFile(str(data)) as src, pysam.AlignmentFile(str(tmp_path / "old.bam"), "wb",
                                                                    template=src) as out:
        for i, read in enumerate(src):
            if i % 3 == 0:  # the BAM as it was when the stale index was made
                out.write(read)
    bam = tmp_path / "x.bam"
    pysam.index(*(["-c"] if stale == ".csi" else []), str(tmp_path / "old.bam"), str(tmp_path / f"x.bam{stale}"))
    shutil.copy(data, bam)
    os.utime(tmp_path / f"x.bam{stale}", (1, 1))
    pysam.index(*(["-c"] if stale == ".bai" else []), str(bam))  # the current index, of the other kind
    expected = extract_junctions(data, region="20").rows()
    assert len(expected) > 200
    assert extract_junctions(bam, region="20").rows() == expected
    assert extract_junctions(bam, threads=2).rows() == extract_junctions(data, threads=2).rows()


def test_tags_of_the_wrong_type_are_ignored_and_counted(tmp_path, capsys):
    """NH:Z:two and YC:Z:x (a writer's mistake): the record counts once, as not multi-mapped, and a
    warning gives the number of such tags."""
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": SQ}
    path = tmp_path / "bad_tags.bam"
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for name, tags in (("a", {"XS": "+", "NH": "two"}), ("b", {"XS": "+", "YC": "x"}), ("c", {"XS": "+"})):
            seg = pysam.AlignedSegment(out.header)
            seg.query_name, seg.reference_name, seg.reference_start = name, "c1", 100
            seg.cigarstring, seg.mapping_quality = "10M50N10M", 60
            seg.query_sequence = "A" * 20
            for key, value in tags.items():
                seg.set_tag(key, value, "A" if key == "XS" else "Z")
            out.write(seg)
    pysam.index(str(path))
    bed = tmp_path / "j.bed"
    assert main(["extract", str(path), "-o", str(bed), "--extended", "--paired"]) == 0
    assert [(r[1], r[2], r[4]) for r in rows(bed)] == [("110", "160", "3")]
    assert "2 YC/NH tags were not integers and were ignored" in capsys.readouterr().err
