"""unite (union keys, balanced chunks) and project (a sample's scores from the union's): the logic alone."""

from __future__ import annotations

import io

import pytest

from splamflow.cli import main
from splamflow.errors import UserError, first_names
from splamflow.project.scores import project, scored_union
from splamflow.unite.union import chunk_sizes, union_chunks, union_keys


def _bed(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(("n", "size", "expected"), [
    (0, 5, [0]),
    (1, 5, [1]),
    (5, 5, [5]),
    (6, 5, [3, 3]),
    (500_001, 500_000, [250_001, 250_000]),
    (11, 5, [4, 4, 3]),
    (10, 1, [1] * 10),
])
def test_chunks_are_balanced_and_as_few_as_the_size_allows(n, size, expected):
    assert chunk_sizes(n, size) == expected


def test_chunk_size_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        chunk_sizes(3, 0)


def test_union_keys_by_contig_start_end_strand_deduplicated_and_ordered(tmp_path):
    a = _bed(tmp_path, "a.bed", "#splamflow strand_source=XS\n"
             "2\t10\t90\tJ1\t4\t+\n1\t50\t70\tJ2\t1\t-\n1\t50\t70\tJ3\t2\t+\n1\t5\t9\tJ4\t1\t.\n")
    b = _bed(tmp_path, "b.bed", "1\t50\t70\tX\t9\t+\n1\t50\t71\tY\t1\t+\n10\t1\t3\tZ\t1\t?\n")
    union = union_keys([a, b])
    # same coordinates on two strands are two junctions; '.'/'?' rows are left out; sorted by key
    assert list(union.items()) == [
        (("1", 50, 70, "+"), 2), (("1", 50, 70, "-"), 1), (("1", 50, 71, "+"), 1), (("2", 10, 90, "+"), 1),
    ]
    assert union_keys([b, a]) == union  # the order of the inputs does not matter


def test_union_chunk_rows_are_named_in_union_order(tmp_path):
    a = _bed(tmp_path, "a.bed", "".join(f"1\t{s}\t{s + 100}\tJ\t1\t+\n" for s in range(0, 70, 10)))
    chunks = list(union_chunks(union_keys([a]), 3))
    assert [len(c) for c in chunks] == [3, 2, 2]
    assert [row[3] for c in chunks for row in c] == [f"JUNC{i:08d}" for i in range(1, 8)]
    assert chunks[2][-1] == ("1", 60, 160, "JUNC00000007", 1, "+")


def test_empty_inputs_give_one_empty_chunk(tmp_path):
    empty = _bed(tmp_path, "e.bed", "")
    assert list(union_chunks(union_keys([empty, empty]), 10)) == [[]]


SAMPLE = ("#splamflow strand_source=XS,ts spliced_records=9 unstranded_records=1\n"
          "1\t50\t70\tmine\t7\t+\tT1,T2\n1\t5\t9\tJ4\t1\t.\n1\t50\t70\tneg\t1\t-\n1\t80\t99\tedge\t1\t+\n"
          "1\t50\t70\tagain\t3\t+\n")
UNION = "1\t50\t70\tJUNC00000001\t2\t+\n1\t50\t70\tJUNC00000002\t1\t-\n1\t80\t99\tJUNC00000003\t1\t+\n"
SCORES = ("1\t50\t70\tJUNC00000001\t2\t+\t0.5000000000\t0.2500000000\n"
          "1\t50\t70\tJUNC00000002\t1\t-\t0.0000000001\t1.0000000000\n")  # 1:80-99 skipped by score


def test_projection_keeps_the_samples_rows_header_and_columns(tmp_path):
    union = scored_union([_bed(tmp_path, "u.bed", UNION)], [_bed(tmp_path, "s.bed", SCORES)])
    out = io.StringIO()
    counts = project(_bed(tmp_path, "sample.bed", SAMPLE), union, out)
    assert out.getvalue() == (
        "#splamflow strand_source=XS,ts spliced_records=9 unstranded_records=1\n"
        "1\t50\t70\tmine\t7\t+\t0.5000000000\t0.2500000000\tT1,T2\n"
        "1\t50\t70\tneg\t1\t-\t0.0000000001\t1.0000000000\n"
        "1\t50\t70\tagain\t3\t+\t0.5000000000\t0.2500000000\n"
    )
    assert (counts.rows, counts.written, counts.unstranded, counts.unscorable) == (5, 3, 1, 1)


def test_the_scored_union_holds_each_key_once(tmp_path):
    union = scored_union([_bed(tmp_path, "u.bed", UNION)], [_bed(tmp_path, "s.bed", SCORES), tmp_path / "s.bed"])
    assert union.unscored == {("1", 80, 99, "+")}  # the scored keys live only in `scores`
    assert sorted(union.scores) == [("1", 50, 70, "+"), ("1", 50, 70, "-")]  # a scores file given twice: no error
    assert union.scored_contigs == {"1"}


def test_a_sample_without_rows_or_header_gives_an_empty_file(tmp_path):
    union = scored_union([_bed(tmp_path, "u.bed", "")], [_bed(tmp_path, "s.bed", "")])
    out = io.StringIO()
    assert project(_bed(tmp_path, "e.bed", ""), union, out).rows == 0
    assert out.getvalue() == ""


def test_a_sample_wholly_off_the_scored_contigs_is_an_error_as_score_alone(tmp_path):
    # score alone stops when every row is stranded and on a contig missing from the genome: so does project
    union_text = UNION + "chr1\t50\t70\tJUNC00000004\t1\t+\n"
    union = scored_union([_bed(tmp_path, "u.bed", union_text)], [_bed(tmp_path, "s.bed", SCORES)])
    off = _bed(tmp_path, "off.bed", "#splamflow strand_source=XS\nchr1\t50\t70\tJ\t1\t+\n")
    with pytest.raises(UserError, match=r"off\.bed: none of the 1 junctions is on a contig where the cohort has a "
                                        r"scored junction \(contigs chr1\)"):
        project(off, union, io.StringIO())
    # an unstranded row (score: skipped for strand, not contig), or one scored contig: no error, as alone
    mixed = _bed(tmp_path, "mixed.bed", "chr1\t50\t70\tJ\t1\t+\n1\t5\t9\tJ\t1\t.\n")
    assert project(mixed, union, io.StringIO()).written == 0
    some = _bed(tmp_path, "some.bed", "chr1\t50\t70\tJ\t1\t+\n1\t80\t99\tJ\t1\t+\n")
    assert project(some, union, io.StringIO()).written == 0
    code = main(["project", str(off), "--union", str(tmp_path / "u.bed"), "--scores", str(tmp_path / "s.bed"),
                 "-o", str(tmp_path / "off.scores.bed")])
    assert code == 2 and not (tmp_path / "off.scores.bed").exists()


def test_error_messages_name_the_first_few_contigs():
    assert first_names(["1", "2"], 5) == "1, 2"
    assert first_names([str(i) for i in range(7)], 5) == "0, 1, 2, 3, 4, ..."
    assert first_names(["a", "b", "c"], 3) == "a, b, c"


def test_a_row_missing_from_the_union_is_an_error_naming_file_and_line(tmp_path):
    union = scored_union([_bed(tmp_path, "u.bed", UNION)], [_bed(tmp_path, "s.bed", SCORES)])
    sample = _bed(tmp_path, "sample.bed", "1\t50\t70\tok\t1\t+\n1\t50\t71\tnew\t1\t+\n")
    with pytest.raises(UserError, match=r"sample\.bed:2: junction 1:50-71 \(\+\) is not in the union"):
        project(sample, union, io.StringIO())


def test_scores_of_another_union_are_an_error(tmp_path):
    other = "1\t51\t70\tJ\t1\t+\t0.5\t0.5\n"
    with pytest.raises(UserError, match=r"s\.bed:1: junction 1:51-70 \(\+\) is not in the union junctions"):
        scored_union([_bed(tmp_path, "u.bed", UNION)], [_bed(tmp_path, "s.bed", other)])


def test_unite_replaces_the_chunks_of_an_earlier_run(tmp_path, capsys):
    a = _bed(tmp_path, "a.bed", "".join(f"1\t{s}\t{s + 100}\tJ\t1\t+\n" for s in range(0, 50, 10)))
    out = tmp_path / "union"
    assert main(["unite", str(a), "-o", str(out), "--chunk-size", "2"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["chunk_000000.bed", "chunk_000001.bed", "chunk_000002.bed"]
    assert main(["unite", str(a), "-o", str(out), "--chunk-size", "3"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["chunk_000000.bed", "chunk_000001.bed"]
    assert [len(p.read_text().splitlines()) for p in sorted(out.iterdir())] == [3, 2]
    assert "5 distinct stranded junctions in 2 chunks of 2 or 3" in capsys.readouterr().err


def test_project_needs_one_output_per_input(tmp_path, capsys):
    u = _bed(tmp_path, "u.bed", UNION)
    s = _bed(tmp_path, "s.bed", SCORES)
    code = main(["project", str(u), str(u), "--union", str(u), "--scores", str(s), "-o", str(tmp_path / "x.bed")])
    assert code == 2
    assert "-o names 1 files for 2 junction BEDs" in capsys.readouterr().err
