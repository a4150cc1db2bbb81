"""Junction BED validation: one-line errors naming file and line."""

from __future__ import annotations

import pytest

from splamflow.bed import read_junctions
from splamflow.errors import UserError


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


def test_empty_bed_is_an_error(tmp_path):
    p = _write(tmp_path, "# nothing here\n")
    with pytest.raises(UserError, match="holds no junctions"):
        list(read_junctions(p))


def test_binary_file_is_an_error(tmp_path):
    p = tmp_path / "j.bed"
    p.write_bytes(b"\xff\xfe\x00\x01" * 10)
    with pytest.raises(UserError):
        list(read_junctions(p))
