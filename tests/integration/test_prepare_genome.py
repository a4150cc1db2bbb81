"""`prepare-genome`: a plain-gzip, bgzip or plain FASTA becomes the indexed FASTA samtools would write."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pysam
import pytest

from splamflow.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
GENOME = DATA / "chr20_slice.fa.gz"  # bgzip, indexed with samtools faidx


@pytest.fixture(scope="module")
def forms(tmp_path_factory) -> dict[str, Path]:
    """The slice's FASTA as plain gzip (as Ensembl and GENCODE ship), bgzip without indexes, and plain text."""
    folder = tmp_path_factory.mktemp("forms")
    text = gzip.decompress(GENOME.read_bytes())
    (folder / "gzip.fa.gz").write_bytes(gzip.compress(text))
    shutil.copy(GENOME, folder / "bgzip.fa.gz")
    (folder / "plain.fa").write_bytes(text)
    return {name: folder / f"{name}.fa{'' if name == 'plain' else '.gz'}" for name in ("gzip", "bgzip", "plain")}


@pytest.mark.parametrize("form", ["gzip", "bgzip", "plain"])
def test_any_form_becomes_the_bgzip_fasta_and_indexes_of_samtools(form, forms, tmp_path):
    out = tmp_path / "genome.fa.gz"
    assert main(["prepare-genome", str(forms[form]), "-o", str(out)]) == 0
    # the committed FASTA was written by bgzip and indexed by samtools faidx: the same bytes
    for suffix in ("", ".fai", ".gzi"):
        assert Path(f"{out}{suffix}").read_bytes() == Path(f"{GENOME}{suffix}").read_bytes(), suffix
    assert sorted(p.name for p in tmp_path.iterdir()) == ["genome.fa.gz", "genome.fa.gz.fai", "genome.fa.gz.gzi"]


def test_a_plain_output_is_plain_and_indexed(forms, tmp_path):
    out = tmp_path / "genome.fa"
    assert main(["prepare-genome", str(forms["gzip"]), "-o", str(out)]) == 0
    assert out.read_bytes() == forms["plain"].read_bytes()
    assert not Path(f"{out}.gzi").exists()
    with pysam.FastaFile(str(out)) as prepared, pysam.FastaFile(str(GENOME)) as committed:
        assert prepared.references == committed.references
        name = committed.references[0]
        assert prepared.fetch(name, 1000, 1200) == committed.fetch(name, 1000, 1200)
