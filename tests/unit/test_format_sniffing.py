"""Formats are judged by content, in one place each (`io/sniff`, `io/files`), whatever the file name."""

from __future__ import annotations

import gzip

import pysam
import pytest

from splamflow.clean.report import sample_name
from splamflow.cli import main
from splamflow.curate.recipe import annotation_introns
from splamflow.io.alignments import newest_index
from splamflow.io.files import is_gzip, text_lines
from splamflow.io.sniff import ALIGNMENTS, input_kind, is_cram

GTF = ('1\tt\texon\t101\t200\t.\t+\t.\tgene_id "G"; transcript_id "T";\n'
       '1\tt\texon\t301\t400\t.\t+\t.\tgene_id "G"; transcript_id "T";\n')


def _cram(bam, genome, path):
    pysam.view("-C", "-T", str(genome), "-o", str(path), str(bam), catch_stdout=False)
    return path


def test_a_renamed_cram_is_a_cram(tmp_path, slice_bam, slice_fasta):
    cram = _cram(slice_bam, slice_fasta, tmp_path / "dataset_1.dat")
    pysam.index(str(cram), str(tmp_path / "dataset_1.dat.crai"))
    (tmp_path / "dataset_1.dat.bai").write_bytes(b"")  # a BAM index beside a CRAM is not its index
    assert is_cram(cram) and input_kind(cram) == ALIGNMENTS
    assert newest_index(cram) == tmp_path / "dataset_1.dat.crai"
    assert not is_cram(slice_bam) and not is_cram(tmp_path / "missing.cram")


def test_gzip_is_judged_by_its_magic(tmp_path):
    packed = tmp_path / "lines.txt"  # gzip content without a .gz name
    packed.write_bytes(gzip.compress(b"a\nb\n"))
    assert is_gzip(packed.read_bytes()) and not is_gzip(b"a\n")
    assert [line for _, line in text_lines(packed, "text")] == ["a\n", "b\n"]


def test_curate_reads_an_intron_bed_and_a_gtf_by_content(tmp_path):
    bed = tmp_path / "introns.dat"
    bed.write_text("1\t200\t300\tJ\t0\t+\n1\t500\t600\tK\t0\t.\n")
    gtf = tmp_path / "annotation.bed"  # a GTF, whatever its name says
    gtf.write_text(GTF)
    assert annotation_introns(bed) == {("1", 200, 300, "+")}
    assert annotation_introns(gtf) == {("1", 200, 300, "+")}


def test_sample_name_strips_the_format_suffixes():
    for name in ("s1.bam", "s1.cram", "s1.sam", "s1.gtf", "s1.gff3.gz", "s1.gff"):
        assert sample_name(f"dir/{name}", None) == "s1"
    assert sample_name("dir/s1.bam", "given") == "given"


@pytest.mark.parametrize("command", ["extract", "clean"])
def test_motif_genome_is_opened_once(tmp_path, slice_bam, slice_fasta, monkeypatch, command):
    """extract and clean check --genome and infer strands from the same open FASTA, as score does."""
    opened = []
    real = pysam.FastaFile

    def counting(path, *args, **kwargs):
        opened.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pysam, "FastaFile", counting)
    motif = ["--infer-strand", "motif", "--genome", str(slice_fasta)]
    if command == "extract":
        argv = ["extract", str(slice_bam), "-o", str(tmp_path / "j.bed"), *motif]
    else:
        (tmp_path / "s.bed").write_text("")
        argv = ["clean", str(slice_bam), "--scores", str(tmp_path / "s.bed"), "-o", str(tmp_path / "k.bam"),
                "--discarded", str(tmp_path / "d.bam"), *motif]
    assert main([*argv, "--quiet"]) == 0
    assert opened == [str(slice_fasta)]
