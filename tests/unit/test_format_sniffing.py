"""Formats are judged by content, in one place each (`io/sniff`, `io/files`), whatever the file name."""

from __future__ import annotations

import gzip
import json
import os
import signal
import threading
from pathlib import Path

import pysam
import pytest

from splamflow.clean import report
from splamflow.clean.report import sample_name
from splamflow.cli import main
from splamflow.curate.recipe import annotation_introns
from splamflow.io import alignments
from splamflow.io.alignments import newest_index, read_error
from splamflow.io.files import is_gzip, text_lines
from splamflow.io.sniff import ALIGNMENT_SUFFIXES, ALIGNMENTS, ANNOTATION_SUFFIXES, input_kind, is_cram, may_be_cram

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
    # a GTF whose comment header outlasts the 64 KiB content check, with a name that says nothing:
    # the annotation reader, not the BED reader (a GFF3 with thousands of ##sequence-region lines)
    long_header = tmp_path / "big.dat"
    long_header.write_text("".join(f"#! header line {i:04d} {'x' * 60}\n" for i in range(1200)) + GTF)
    assert long_header.stat().st_size > 65536 and input_kind(long_header) is None
    assert annotation_introns(long_header) == {("1", 200, 300, "+")}
    named_bed = tmp_path / "introns.bed"  # a BED by its name, its first row aside
    named_bed.write_text("track name=introns\n1\t200\t300\tJ\t0\t-\n")
    assert annotation_introns(named_bed) == {("1", 200, 300, "-")}


def test_curate_reads_annotations_from_fifos(tmp_path, slice_fasta, capsys):
    """A FIFO as --annotation or --alt is read once (spooled), not sniffed away: the same sets as from files."""
    gtf = (Path(__file__).resolve().parents[1] / "data" / "chr20_slice.gtf").read_text()
    (tmp_path / "ann.gtf").write_text(gtf)
    fifo = tmp_path / "annotation.gtf"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "w") as out:
            out.write(gtf)

    def hung(signum, frame):
        raise TimeoutError("curate waited on the FIFO")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        results = {}
        for name, annotation, alt in (("files", "ann.gtf", "ann.gtf"), ("annotation", "annotation.gtf", "ann.gtf"),
                                      ("alt", "ann.gtf", "annotation.gtf")):
            writer = threading.Thread(target=feed) if "annotation.gtf" in (annotation, alt) else None
            if writer:
                writer.start()
            argv = ["curate", "--genome", str(slice_fasta), "--annotation", str(tmp_path / annotation),
                    "--alt", str(tmp_path / alt), "-o", str(tmp_path / name)]
            assert main(argv) == 0, capsys.readouterr().err
            if writer:
                writer.join()
            results[name] = {p.name: p.read_bytes() for p in (tmp_path / name).iterdir() if p.suffix == ".bed"}
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert results["files"] and results["annotation"] == results["files"] == results["alt"]
    # the manifest records the FIFO by its name, not by its spooled temporary copy
    recorded = json.loads((tmp_path / "alt" / "manifest.json").read_text())["options"]
    assert (recorded["annotation"], recorded["alt"]) == (str(tmp_path / "ann.gtf"), str(fifo))


def _pipe(data: bytes) -> tuple[int, str]:
    """A pipe holding `data` (its writer closed): a file that can be read once only."""
    read_fd, write_fd = os.pipe()
    os.write(write_fd, data)
    os.close(write_fd)
    return read_fd, f"/dev/fd/{read_fd}"


@pytest.mark.parametrize("data", [b"a\nb\n", gzip.compress(b"a\nb\n")])
def test_text_is_opened_once(data):
    """The gzip magic is peeked on the one open: nothing is lost from a file that can be read once."""
    read_fd, path = _pipe(data)
    try:
        assert [line for _, line in text_lines(path, "text")] == ["a\n", "b\n"]
    finally:
        os.close(read_fd)


def test_alignment_magic_is_read_once():
    """The CRAM and the SAM/BAM magics come from one read: a SAM header on a pipe is still alignments."""
    read_fd, path = _pipe(b"@HD\tVN:1.6\n")
    try:
        assert input_kind(path) == ALIGNMENTS
    finally:
        os.close(read_fd)


def test_a_remote_cram_keeps_the_reference_check(tmp_path, slice_bam, monkeypatch):
    """htslib reads URLs the sniffer cannot open: there the .cram name still calls the reference check."""
    url = "https://example.org/no/such/sample.cram"
    assert not is_cram(url) and may_be_cram(url)
    assert not may_be_cram(slice_bam) and not may_be_cram(tmp_path / "missing.bam")
    local = tmp_path / "local.cram"  # a local file is judged by its content alone
    local.write_bytes(slice_bam.read_bytes())
    assert not may_be_cram(local)
    reference = tmp_path / "ref.fa"
    gone = tmp_path / "gone" / "sample.cram"  # where the check cannot read it either, the read error stands
    assert may_be_cram(gone) and "cannot read alignments: truncated" in str(read_error(OSError("truncated"), gone,
                                                                                        reference))
    monkeypatch.setattr(alignments, "cram_reference_mismatch", lambda path, ref: "it has no sequence '20'")
    assert "is not the FASTA this CRAM was compressed against" in str(read_error(OSError("x"), url, reference))


def test_sample_name_strips_the_format_suffixes():
    assert set(report._SUFFIXES) == {".gz", *ALIGNMENT_SUFFIXES, *ANNOTATION_SUFFIXES}
    for name in ("s1.bam", "s1.cram", "s1.sam", "s1.gtf", "s1.gff3.gz", "s1.gff", "s1.gtf.gz"):
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
