"""Genome FASTA checks: content sniffed before htslib, missing indexes built, index checked against the file."""

from __future__ import annotations

import pysam
import pytest

from splamflow.errors import UserError
from splamflow.io.genome import open_genome
from tests import hostile

FASTA = ">a desc\nACGTACGTAC\nACG\n>b\nTTTTTTTTTT\nTTTTTTTTTT\n"


def _fasta(tmp_path, text=FASTA, name="g.fa", bgzip=False):
    path = tmp_path / name
    path.write_text(text)
    if bgzip:
        pysam.tabix_compress(str(path), f"{path}.gz")
        path.unlink()
        path = tmp_path / f"{name}.gz"
    return path


@pytest.mark.parametrize("bgzip", [False, True])
def test_a_missing_index_is_built_beside_the_fasta(tmp_path, bgzip):
    path = _fasta(tmp_path, bgzip=bgzip)
    with open_genome(path) as fasta:
        assert fasta.fetch("a", 8, 12) == "ACAC" and fasta.get_reference_length("b") == 20
    assert (tmp_path / f"{path.name}.fai").read_text().splitlines()[0].split("\t")[:2] == ["a", "13"]
    assert (tmp_path / f"{path.name}.gzi").exists() == bgzip
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_bgzip_fasta_without_its_gzi_gets_both_indexes_again(tmp_path):
    path = _fasta(tmp_path, bgzip=True)
    open_genome(path).close()
    (tmp_path / "g.fa.gz.gzi").unlink()
    open_genome(path).close()
    assert (tmp_path / "g.fa.gz.gzi").exists()


def test_an_unindexed_fasta_in_a_read_only_folder_gets_a_hint(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = _fasta(folder)
    with hostile.immutable(folder), pytest.raises(UserError, match=r"create it with `samtools faidx .*g\.fa`"):
        open_genome(path)


@pytest.mark.parametrize("bgzip", [False, True])
@pytest.mark.parametrize(
    ("text", "where"),
    [
        (FASTA + ">a\nCCCC\n", "after the last indexed sequence"),
        (">a\nACGT\n>a\nCCCC\n>b\nAAAA\n", "before sequence 'b'"),
    ],
)
def test_a_duplicate_sequence_name_is_an_error(tmp_path, bgzip, text, where):
    path = _fasta(tmp_path, text, bgzip=bgzip)
    with pytest.raises(UserError, match=f"holds sequence 'a' {where} that its .fai index does not list"):
        open_genome(path)


def test_a_stale_index_is_an_error(tmp_path):
    path = _fasta(tmp_path)
    open_genome(path).close()
    path.write_text(">x\nAC\n" + FASTA)
    with pytest.raises(UserError, match="stale index"):
        open_genome(path)


@pytest.mark.parametrize("bgzip", [False, True])
@pytest.mark.parametrize(
    ("before", "after"),
    [
        (">a\n" + "ACGT" * 10 + "\n", ">a\n" + "ACGT" * 10 + "\n"),  # one line, unchanged: valid
        (">a\n" + "ACGTACGTAC\n" * 4, ">a\n" + "ACGTACGTACACGTA\nCGTACGTACACGTACGTAC\nACGTAC\n"),  # wider
        (">a\n" + "ACGTACGTAC\n" * 4, ">a\n" + "ACGTAC\nGTACACGTAC\nGTACACGTAC\nGTACACGTAC\n"),  # narrower
        (FASTA, FASTA.replace("TTTTTTTTTT\nTTTTTTTTTT\n", "TTTTTTTTTTTTTTTTTTTT\n")),  # last one joined
        (FASTA, FASTA.replace("TTTTTTTTTT\nTTTTTTTTTT\n", "TTTTTTTTTT\nTTTTTTTTTTT\n")),  # a base added
        (FASTA, FASTA.replace("\n", "\r\n")),  # CRLF line ends since
    ],
    ids=["unchanged", "rewrapped-wider", "rewrapped-narrower", "last-joined", "last-longer", "crlf"],
)
def test_a_fasta_rewrapped_after_indexing_is_found(tmp_path, bgzip, before, after):
    """The last (or only) sequence has no header after it to betray a stale index: its lines are checked."""
    path = _fasta(tmp_path, before, bgzip=bgzip)
    open_genome(path).close()
    fai = (tmp_path / f"{path.name}.fai").read_bytes()
    gzi = tmp_path / f"{path.name}.gzi"
    gzi_data = gzi.read_bytes() if bgzip else None
    path.unlink()
    _fasta(tmp_path, after, bgzip=bgzip)  # the FASTA rewritten, the old indexes kept
    (tmp_path / f"{path.name}.fai").write_bytes(fai)
    if bgzip:  # one block either way: the old .gzi is still right
        gzi.write_bytes(gzi_data)
    if before == after:
        open_genome(path).close()
        return
    with pytest.raises(UserError, match=r"the lines of sequence '(a|b)' are not where its \.fai index says.*stale"):
        open_genome(path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"chr1\t100\t200\n", "it does not start with a '>' header line"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 20, "plain gzip"),
    ],
)
def test_files_that_are_not_fasta(tmp_path, data, message):
    path = tmp_path / "g.fa"
    path.write_bytes(data)
    with pytest.raises(UserError, match=message):
        open_genome(path)
    assert [p.name for p in tmp_path.iterdir()] == ["g.fa"]


@pytest.mark.parametrize("bgzip", [False, True])
def test_records_without_bases_are_accepted_as_samtools_indexes_them(tmp_path, bgzip):
    """htslib leaves a header without sequence out of the .fai; that is no stale index."""
    path = _fasta(tmp_path, ">empty\n>b\nACGTACGT\nAC\n>also_empty\n\n>d\nAAAA\n", bgzip=bgzip)
    with open_genome(path) as genome:
        assert list(genome.references) == ["b", "d"]
        assert genome.fetch("b") == "ACGTACGTAC" and genome.fetch("d") == "AAAA"


def test_an_empty_record_named_like_an_indexed_one_is_a_duplicate(tmp_path):
    path = _fasta(tmp_path, ">a\nAC\n>b\n>a\nACGT\n")
    with pytest.raises(UserError, match="that its .fai index does not list"):
        open_genome(path).__enter__()
