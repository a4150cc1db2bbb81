"""GTF/GFF3 reading and `extract` on annotations: exact introns, ids, counts, errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import pysam
import pytest

from splamflow.cli import main
from splamflow.errors import UserError
from splamflow.io.annotation import Transcript, read_transcripts
from splamflow.io.sniff import looks_like_annotation
from splamflow.motifs import motif_strand

ROOT = Path(__file__).resolve().parents[2]
SLICE_GTF = ROOT / "tests" / "data" / "chr20_slice.gtf"
SLICE_FA = ROOT / "tests" / "data" / "chr20_slice.fa.gz"
SHARED = ROOT.parent / "shared" / "data" / "grch37"

# Two transcripts of one gene sharing their first intron, exons given out of order; a third
# transcript on the other strand of another contig; a CDS line that must not matter.
GTF = """\
##description: test
c1\tt\tgene\t101\t900\t.\t+\t.\tgene_id "G1";
c1\tt\ttranscript\t101\t900\t.\t+\t.\tgene_id "G1"; transcript_id "T2";
c1\tt\texon\t501\t600\t.\t+\t.\tgene_id "G1"; transcript_id "T2";
c1\tt\texon\t101\t200\t.\t+\t.\tgene_id "G1"; transcript_id "T2";
c1\tt\tCDS\t150\t200\t.\t+\t0\tgene_id "G1"; transcript_id "T2";
c1\tt\texon\t801\t900\t.\t+\t.\tgene_id "G1"; transcript_id "T2";
c1\tt\ttranscript\t101\t600\t.\t+\t.\tgene_id "G1"; transcript_id "T1";
c1\tt\texon\t101\t200\t.\t+\t.\tgene_id "G1"; transcript_id "T1";
c1\tt\texon\t501\t600\t.\t+\t.\tgene_id "G1"; transcript_id "T1";
c0\tt\texon\t11\t20\t.\t-\t.\tgene_id "G2"; transcript_id "T3";
c0\tt\texon\t31\t40\t.\t-\t.\tgene_id "G2"; transcript_id "T3";
c1\tt\texon\t1001\t1100\t.\t+\t.\tgene_id "G3"; transcript_id "T4";
"""

GFF3 = """\
##gff-version 3
c1\tt\tgene\t101\t900\t.\t+\t.\tID=G1
c1\tt\tmRNA\t101\t900\t.\t+\t.\tID=M%3B1;Parent=G1
c1\tt\tncRNA\t101\t600\t.\t+\t.\tID=N1;Parent=G1
c1\tt\texon\t101\t200\t.\t+\t.\tID=e1;Parent=M%3B1,N1
c1\tt\texon\t501\t600\t.\t+\t.\tParent=M%3B1,N1
c1\tt\texon\t801\t900\t.\t+\t.\tParent=M%3B1
c1\tt\tCDS\t150\t850\t.\t+\t0\tParent=M%3B1
c1\tt\tpseudogene\t2000\t3000\t.\t-\t.\tID=P1
c1\tt\texon\t2001\t2100\t.\t-\t.\tParent=P1
c1\tt\texon\t2501\t2600\t.\t-\t.\tParent=P1
##FASTA
>c1
ACGT
"""

EXON_T = 'c1\tt\texon\t1\t10\t.\t+\t.\ttranscript_id "T";\n'


def write(path: Path, text: str) -> Path:
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path


def run(argv, capsys):
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def test_gtf_transcripts_and_exact_introns(tmp_path):
    transcripts = read_transcripts(write(tmp_path / "a.gtf", GTF))
    by_id = {t.id: t for t in transcripts}
    assert [t.id for t in transcripts] == ["T2", "T1", "T3", "T4"]
    assert by_id["T2"] == Transcript("T2", "G1", "c1", "+", ((100, 200), (500, 600), (800, 900)))
    # GTF 1-based inclusive exons 101-200 and 501-600: the intron is bases 201..500,
    # i.e. 0-based half-open [200, 500)
    assert by_id["T2"].introns == ((200, 500), (600, 800))
    assert by_id["T1"].introns == ((200, 500),)
    assert by_id["T3"].introns == ((20, 30),)
    assert by_id["T4"].introns == ()


def test_overlapping_or_touching_exons_give_no_intron():
    t = Transcript("t", "g", "c", "+", ((0, 10), (10, 20), (15, 30), (40, 50)))
    assert t.introns == ((30, 40),)


def test_gff3_parents_features_and_escapes(tmp_path):
    transcripts = read_transcripts(write(tmp_path / "a.gff3", GFF3))
    by_id = {t.id: t for t in transcripts}
    assert set(by_id) == {"M;1", "N1"}  # the pseudogene's exons hang off a non-transcript feature
    assert by_id["M;1"].gene_id == "G1"
    assert by_id["M;1"].introns == ((200, 500), (600, 800))
    assert by_id["N1"].introns == ((200, 500),)
    only_mrna = read_transcripts(tmp_path / "a.gff3", features=["mRNA"])
    assert [t.id for t in only_mrna] == ["M;1"]
    with_pseudo = read_transcripts(tmp_path / "a.gff3", features=["pseudogene"])
    assert [(t.id, t.strand, t.introns) for t in with_pseudo] == [("P1", "-", ((2100, 2500),))]


def test_gzipped_input_and_format_sniffing(tmp_path):
    plain = read_transcripts(write(tmp_path / "a.gtf", GTF))
    assert read_transcripts(write(tmp_path / "b.gtf.gz", GTF)) == plain
    # no telling extension: the attribute syntax decides
    assert read_transcripts(write(tmp_path / "c.txt", GTF)) == plain
    assert {t.id for t in read_transcripts(write(tmp_path / "d.txt", GFF3))} == {"M;1", "N1"}


def test_extract_cli_on_gtf(tmp_path, capsys):
    gtf = write(tmp_path / "a.gtf", GTF)
    code, err = run(["extract", gtf, "-o", tmp_path / "j.bed", "--intron-counts", tmp_path / "n.tsv"], capsys)
    assert code == 0, err
    rows = [line.split("\t") for line in (tmp_path / "j.bed").read_text().splitlines()]
    # contigs in order of first appearance (c1 before c0), then start; names after sorting
    assert rows == [
        ["c1", "200", "500", "JUNC00000001", "2", "+", "T1,T2"],
        ["c1", "600", "800", "JUNC00000002", "1", "+", "T2"],
        ["c0", "20", "30", "JUNC00000003", "1", "-", "T3"],
    ]
    assert (tmp_path / "n.tsv").read_text().splitlines() == [
        "transcript_id\tgene_id\tintrons", "T2\tG1\t2", "T1\tG1\t1", "T3\tG2\t1", "T4\tG3\t0",
    ]
    assert "4 transcripts" in err


def test_annotation_recognised_without_telling_name(tmp_path, capsys):
    gtf = write(tmp_path / "dataset_42.dat", GTF)
    code, err = run(["extract", gtf, "-o", tmp_path / "j.bed"], capsys)
    assert code == 0, err
    assert (tmp_path / "j.bed").read_text().splitlines()[0] == "c1\t200\t500\tJUNC00000001\t2\t+\tT1,T2"


def test_extract_cli_features_option(tmp_path, capsys):
    gff = write(tmp_path / "a.gff3.gz", GFF3)
    code, err = run(["extract", gff, "-o", tmp_path / "j.bed", "--features", "ncRNA"], capsys)
    assert code == 0, err
    assert (tmp_path / "j.bed").read_text() == "c1\t200\t500\tJUNC00000001\t1\t+\tN1\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("c1\tt\texon\t1\t10\t.\t+\t.\n", 1, "expected 9 tab-separated fields, found 8"),
        ('#c\nc1\tt\texon\t20\t10\t.\t+\t.\ttranscript_id "T";\n', 2, "end 10 is before start 20"),
        ('c1\tt\texon\tx\t10\t.\t+\t.\ttranscript_id "T";\n', 1, "not integers"),
        (EXON_T + 'c1\tt\texon\t21\t30\t.\t-\t.\ttranscript_id "T";\n', 2, "two strands"),
        (EXON_T + 'c2\tt\texon\t21\t30\t.\t+\t.\ttranscript_id "T";\n', 2, "two contigs"),
        ('c1\tt\texon\t1\t10\t.\t+\t.\tgene_id "G";\n', 1, "without a transcript_id"),
    ],
)
def test_gtf_errors_name_file_and_line(tmp_path, capsys, text, line, message):
    gtf = write(tmp_path / "bad.gtf", text)
    with pytest.raises(UserError) as caught:
        read_transcripts(gtf)
    assert str(caught.value).startswith(f"{gtf}:{line}: ")
    assert message in str(caught.value)
    code, err = run(["extract", gtf, "-o", tmp_path / "j.bed"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and f"{gtf}:{line}:" in err and message in err
    assert not (tmp_path / "j.bed").exists()


def test_empty_and_exonless_annotations(tmp_path, capsys):
    empty = write(tmp_path / "empty.gtf", "")
    code, err = run(["extract", empty, "-o", tmp_path / "j.bed"], capsys)
    assert code == 2 and "empty" in err and err.count("\n") == 1
    comments = write(tmp_path / "comments.gff3", "##gff-version 3\n# nothing\n")
    with pytest.raises(UserError, match="no feature lines"):
        read_transcripts(comments)
    genes_only = write(tmp_path / "genes.gtf", 'c1\tt\tgene\t1\t10\t.\t+\t.\tgene_id "G";\n')
    with pytest.raises(UserError, match="no exons of transcripts"):
        read_transcripts(genes_only)


def test_alignment_options_rejected_for_annotations(tmp_path, capsys):
    gtf = write(tmp_path / "a.gtf", GTF)
    code, err = run(["extract", gtf, "-o", tmp_path / "j.bed", "--paired", "--region", "c1"], capsys)
    assert code == 2 and "--paired, --region: only for BAM/CRAM input" in err
    code, err = run(["extract", gtf, "-o", tmp_path / "j.bed", "--threads", "2"], capsys)
    assert code == 0, err  # pipelines pass their CPU count whatever the input


def test_slice_gtf_introns_read_canonical_motifs():
    """Exactness on real data: off-by-one coordinates would almost never read GT-AG."""
    transcripts = read_transcripts(SLICE_GTF)
    introns = {(t.contig, s, e, t.strand) for t in transcripts for s, e in t.introns}
    assert len(transcripts) == 38 and len(introns) == 155  # as tests/data/README.md states
    gt_ag = {"+": ("GT", "AG"), "-": ("CT", "AC")}  # read on the genome's + strand
    with pysam.FastaFile(str(SLICE_FA)) as fasta:
        motifs = [
            (fasta.fetch(c, s, s + 2).upper(), fasta.fetch(c, e - 2, e).upper()) == gt_ag[strand]
            for c, s, e, strand in introns
        ]
    assert sum(motifs) == 153  # README: 153 of the 155 are GT-AG


@pytest.mark.skipif(not (SHARED / "chr20.fa.gz").exists(), reason="../shared/data not available")
def test_shared_gencode_gtf_slice(tmp_path):
    """A slice of the real GENCODE GTF (read at test time): chr20 transcripts starting below 5 Mb."""
    lines = []
    with gzip.open(SHARED / "gencode_v24lift37_canonical.gtf.gz", "rt") as handle:
        for line in handle:
            fields = line.split("\t")
            if fields[0] == "20" and int(fields[3]) < 5_000_000:
                lines.append(line)
    sliced = write(tmp_path / "slice.gtf.gz", "".join(lines))
    transcripts = read_transcripts(sliced)
    exon_lines = sum(1 for line in lines if line.split("\t")[2] == "exon")
    assert sum(len(t.exons) for t in transcripts) == exon_lines
    assert all(len(t.introns) == len(t.exons) - 1 for t in transcripts)  # canonical: no touching exons
    introns = {(t.contig, s, e, t.strand) for t in transcripts for s, e in t.introns}
    with pysam.FastaFile(str(SHARED / "chr20.fa.gz")) as fasta:
        canonical = sum(
            motif_strand(fasta.fetch(c, s, s + 2), fasta.fetch(c, e - 2, e)) == strand
            for c, s, e, strand in introns
        )
    assert len(introns) > 500
    assert canonical / len(introns) > 0.97  # README: 98.9% GT-AG, 0.7% GC-AG, 0.1% AT-AC overall


def test_a_byte_order_mark_does_not_hide_an_annotation(tmp_path):
    line = "20\tsrc\texon\t100\t200\t.\t+\t.\tgene_id \"g\"; transcript_id \"t\";\n"
    path = tmp_path / "genes.txt"  # a name that does not say what it is
    path.write_bytes("\ufeff".encode() + line.encode())
    assert looks_like_annotation(path)
    assert [(t.id, t.contig) for t in read_transcripts(path)] == [("t", "20")]
