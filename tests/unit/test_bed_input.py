"""Junction BED validation: one-line errors naming file and line."""

from __future__ import annotations

import gzip

import pytest

from splamflow.errors import UserError
from splamflow.io.bed import field_text, id_list, read_junctions


def _write(tmp_path, text, name="j.bed"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_reads_bed6_and_optional_transcript_column(tmp_path):
    p = _write(tmp_path, "#header\n20\t100\t900\tJ1\t5\t+\n20\t100\t900\tJ2\t1\t-\tT1,T2\n")
    rows = list(read_junctions(p))
    assert [(r.line, r.contig, r.start, r.end, r.strand, r.extra) for r in rows] == [
        (2, "20", 100, 900, "+", None),
        (3, "20", 100, 900, "-", "T1,T2"),
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("20\t100\t900\tJ\t1", "has 5 tab-separated columns, need at least 6"),
        ("20\tx\t900\tJ\t1\t+", "not integers"),
        ("20\t-5\t900\tJ\t1\t+", "negative start"),
        ("20\t900\t900\tJ\t1\t+", "must be greater than start"),
        ("20\t100\t900\tJ\t1\t*", "unknown strand symbol '*'"),
    ],
)
def test_malformed_rows_name_file_and_line(tmp_path, row, message):
    p = _write(tmp_path, "20\t1\t500\tok\t1\t+\n" + row + "\n")
    with pytest.raises(UserError) as err:
        list(read_junctions(p))
    assert str(err.value).startswith(f"{p}:2: ")
    assert message in str(err.value)


def test_bed_without_rows_yields_nothing(tmp_path):
    """A sample without junctions is valid input: it gives empty outputs downstream."""
    assert list(read_junctions(_write(tmp_path, "# nothing here\n"))) == []
    assert list(read_junctions(_write(tmp_path, "", name="empty.bed"))) == []


def test_invalid_utf8_in_a_name_is_an_error_naming_the_line(tmp_path):
    p = tmp_path / "j.bed"
    p.write_bytes(b"20\t1\t500\tok\t1\t+\n20\t1\t600\tJ\xe9\t1\t+\n")
    with pytest.raises(UserError, match=rf"^{p}:2: BED is not UTF-8 text$"):
        list(read_junctions(p))


def test_truncated_gzip_is_an_error_naming_the_file(tmp_path):
    import gzip

    data = gzip.compress(b"".join(b"20\t%d\t%d\tJ\t1\t+\n" % (i, i + 500) for i in range(1, 5000)))
    p = tmp_path / "j.bed.gz"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="damaged or truncated gzip file"):
        list(read_junctions(p))


@pytest.mark.parametrize(
    ("raw", "safe"),
    [("tx1", "tx1"), ("tx\t1", "tx%091"), ("tx\n2", "tx%0A2"), ("tx,3", "tx%2C3"), ("5%", "5%25"), ("a b;c", "a b;c")],
)
def test_field_text_escapes_what_would_break_a_field_or_an_id_list(raw, safe):
    assert field_text(raw) == safe
    assert id_list([raw, "x"]) == f"{safe},x"


def test_binary_file_is_an_error(tmp_path):
    p = tmp_path / "j.bed"
    p.write_bytes(b"\xff\xfe\x00\x01" * 10)
    with pytest.raises(UserError):
        list(read_junctions(p))


@pytest.mark.parametrize("compressed", [False, True])
def test_a_utf8_byte_order_mark_does_not_change_row_1(tmp_path, compressed):
    rows = "20\t100\t200\tJ1\t1\t+\n20\t300\t400\tJ2\t1\t-\n"
    data = "\ufeff".encode() + rows.encode()
    path = tmp_path / ("j.bed.gz" if compressed else "j.bed")
    path.write_bytes(gzip.compress(data) if compressed else data)
    assert [(r.line, r.contig, r.start) for r in read_junctions(path)] == [(1, "20", 100), (2, "20", 300)]
    (tmp_path / "mid.bed").write_bytes(rows.encode() + "\ufeff".encode() + rows.encode())
    assert [r.contig for r in read_junctions(tmp_path / "mid.bed")][2] == "\ufeff20"  # only line 1's is a BOM
