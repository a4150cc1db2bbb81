"""GTF/GFF3 clean-up: Splam's transcript rule, strict thresholds, consistent gene lines, report."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from splamflow.cli import main


def _gtf_line(feature, start, end, strand, gene, transcript=None):
    attrs = f'gene_id "{gene}";' + (f' transcript_id "{transcript}";' if transcript else "")
    return f"1\ttest\t{feature}\t{start}\t{end}\t.\t{strand}\t.\t{attrs}\n"


def _transcript(gene, tid, strand, exons):
    lines = [_gtf_line("transcript", exons[0][0], exons[-1][1], strand, gene, tid)]
    lines += [_gtf_line("exon", s, e, strand, gene, tid) for s, e in exons]
    lines.append(_gtf_line("CDS", exons[0][0] + 10, exons[0][1], strand, gene, tid))
    return lines


T1 = [(101, 200), (301, 400), (501, 600), (701, 800)]  # introns (200,300) (400,500) (600,700)
T2 = [(101, 200), (301, 400)]  # intron (200,300), shared with T1
T3 = [(1001, 1100), (1201, 1300), (1401, 1500), (1601, 1700)]  # '-': (1100,1200) (1300,1400) (1500,1600)
T4 = [(3001 + 200 * i, 3100 + 200 * i) for i in range(6)]  # 5 introns (3100+200i, 3200+200i)
T5 = [(2001, 2100), (2201, 2300), (2401, 2500), (2601, 2700)]  # (2100,2200) (2300,2400) (2500,2600)


def gtf_text() -> str:
    lines = ["#!genome-build test\n", _gtf_line("gene", 101, 800, "+", "G1")]
    lines += _transcript("G1", "T1", "+", T1) + _transcript("G1", "T2", "+", T2)
    lines += [_gtf_line("gene", 1001, 1700, "-", "G2")] + _transcript("G2", "T3", "-", T3)
    lines += [_gtf_line("gene", 2001, 2700, "+", "G4")] + _transcript("G4", "T5", "+", T5)
    lines += [_gtf_line("gene", 3001, 4100, "+", "G3")] + _transcript("G3", "T4", "+", T4)
    return "".join(lines)


SCORES = [
    # T1 / T2: two of T1's three introns bad (both scores < t)
    (200, 300, "+", 0.01, 0.02),
    (400, 500, "+", 0.05, 0.0999999),
    (600, 700, "+", 0.9, 0.9),
    # T3 on '-': only one score below t, or exactly t -> not bad; the '+' twins are bad but not its strand
    (1100, 1200, "-", 0.05, 0.5),
    (1300, 1400, "-", 0.1, 0.1),
    (1500, 1600, "-", 0.5, 0.01),
    (1100, 1200, "+", 0.0, 0.0),
    (1300, 1400, "+", 0.0, 0.0),
    (1500, 1600, "+", 0.0, 0.0),
    # T5: all bad -> removed with its gene
    (2100, 2200, "+", 0.0, 0.0),
    (2300, 2400, "+", 0.01, 0.01),
    (2500, 2600, "+", 0.02, 0.03),
    # T4: 3 of 5 bad = 0.6, not more than 0.6 -> kept; its 5th intron is unscored
    (3100, 3200, "+", 0.0, 0.0),
    (3300, 3400, "+", 0.0, 0.0),
    (3500, 3600, "+", 0.0, 0.0),
    (3700, 3800, "+", 0.5, 0.5),
]


@pytest.fixture
def scores(tmp_path: Path) -> Path:
    path = tmp_path / "scores.bed"
    with open(path, "w") as out:
        for i, (start, end, strand, donor, acceptor) in enumerate(SCORES):
            out.write(f"1\t{start}\t{end}\tJ{i}\t1\t{strand}\t{donor:.10f}\t{acceptor:.10f}\tT\n")
    return path


@pytest.fixture
def gtf(tmp_path: Path) -> Path:
    path = tmp_path / "ann.gtf"
    path.write_text(gtf_text())
    return path


def _clean(tmp_path, annotation, scores, output_name="cleaned.gtf", *extra):
    out, report, stats = tmp_path / output_name, tmp_path / "report.tsv", tmp_path / "stats.json"
    rc = main(["clean", str(annotation), "--scores", str(scores), "-o", str(out), "--report", str(report),
               "--stats", str(stats), *extra])
    return rc, out, report, stats


def _transcript_ids(text: str) -> set[str]:
    return {part.split('"')[1] for line in text.splitlines() for part in line.split(";")
            if part.strip().startswith("transcript_id")}


def _gene_lines(text: str) -> set[str]:
    return {line.split('"')[1] for line in text.splitlines() if "\tgene\t" in line}


def test_gtf_rule_and_consistent_genes(tmp_path, gtf, scores):
    rc, out, report, stats = _clean(tmp_path, gtf, scores)
    assert rc == 0
    text = out.read_text()
    assert _transcript_ids(text) == {"T2", "T3", "T4"}
    assert _gene_lines(text) == {"G1", "G2", "G3"}  # G4 lost its only transcript
    assert text.startswith("#!genome-build test\n")
    kept_lines = [line for line in gtf_text().splitlines(keepends=True)
                  if "T1" not in line and "T5" not in line and '"G4";\n' not in line]
    assert text == "".join(kept_lines)  # everything else unchanged, in order
    rows = {r["transcript_id"]: r for r in csv.DictReader(report.read_text().splitlines(), delimiter="\t")}
    assert {k: (r["introns"], r["scored_introns"], r["bad_introns"], r["status"]) for k, r in rows.items()} == {
        "T1": ("3", "3", "2", "removed"),
        "T2": ("1", "1", "1", "kept"),
        "T3": ("3", "3", "0", "kept"),
        "T4": ("5", "4", "3", "kept"),
        "T5": ("3", "3", "3", "removed"),
    }
    assert rows["T4"]["bad_fraction"] == "0.6000"
    counts = json.loads(stats.read_text())["counts"]
    assert counts["transcripts_in"] == 5
    assert counts["transcripts_removed"] == 2
    assert counts["genes_removed"] == 1
    assert counts["introns_unscored"] == 1
    assert counts["introns_bad"] == 2 + 3 + 3


def test_gtf_options_change_the_verdicts(tmp_path, gtf, scores):
    rc, out, _, _ = _clean(tmp_path, gtf, scores, "cleaned.gtf", "--min-introns", "1")
    assert rc == 0
    text = out.read_text()
    assert _transcript_ids(text) == {"T3", "T4"}
    assert _gene_lines(text) == {"G2", "G3"}  # G1 lost both transcripts now
    rc, out, _, _ = _clean(tmp_path, gtf, scores, "cleaned.gtf", "--min-bad-fraction", "0.59")
    assert _transcript_ids(out.read_text()) == {"T2", "T3"}
    rc, out, _, _ = _clean(tmp_path, gtf, scores, "cleaned.gtf", "--threshold", "0.01")
    # at t = 0.01 only the all-zero introns are bad: T5 has one of three, T4 three of five
    assert _transcript_ids(out.read_text()) == {"T1", "T2", "T3", "T4", "T5"}


def test_gzipped_gtf_in_and_out(tmp_path, gtf, scores):
    gz = tmp_path / "ann.gtf.gz"
    gz.write_bytes(gzip.compress(gtf.read_bytes()))
    rc, out, _, _ = _clean(tmp_path, gz, scores, "cleaned.gtf.gz")
    assert rc == 0
    assert _transcript_ids(gzip.decompress(out.read_bytes()).decode()) == {"T2", "T3", "T4"}


GFF3 = """##gff-version 3
1\tt\tgene\t101\t800\t.\t+\t.\tID=G1;Name=g1
1\tt\tmRNA\t101\t800\t.\t+\t.\tID=T1;Parent=G1
1\tt\tmRNA\t101\t400\t.\t+\t.\tID=T2;Parent=G1
1\tt\texon\t101\t200\t.\t+\t.\tID=E1;Parent=T1,T2
1\tt\texon\t301\t400\t.\t+\t.\tParent=T2,T1
1\tt\texon\t501\t600\t.\t+\t.\tParent=T1
1\tt\texon\t701\t800\t.\t+\t.\tParent=T1
1\tt\tCDS\t150\t200\t.\t+\t0\tID=cds1;Parent=T1
1\tt\tCDS\t301\t350\t.\t+\t1\tID=cds1;Parent=T1
1\tt\tfive_prime_UTR\t101\t149\t.\t+\t.\tParent=T2
1\tt\tgene\t2001\t2700\t.\t+\t.\tID=G4
1\tt\tmRNA\t2001\t2700\t.\t+\t.\tID=T5;Parent=G4
1\tt\texon\t2001\t2100\t.\t+\t.\tParent=T5
1\tt\texon\t2201\t2300\t.\t+\t.\tParent=T5
1\tt\texon\t2401\t2500\t.\t+\t.\tParent=T5
1\tt\texon\t2601\t2700\t.\t+\t.\tParent=T5
###
##FASTA
>1
ACGTACGT
"""


def test_gff3_hierarchy(tmp_path, scores):
    gff = tmp_path / "ann.gff3"
    gff.write_text(GFF3)
    rc, out, report, stats = _clean(tmp_path, gff, scores, "cleaned.gff3")
    assert rc == 0
    lines = out.read_text().splitlines()
    features = [line.split("\t") for line in lines if "\t" in line]
    assert [(f[2], f[8]) for f in features] == [
        ("gene", "ID=G1;Name=g1"),
        ("mRNA", "ID=T2;Parent=G1"),
        ("exon", "ID=E1;Parent=T2"),  # shared exons stay, trimmed to the kept parent
        ("exon", "Parent=T2"),
        ("five_prime_UTR", "Parent=T2"),
    ]
    assert lines[0] == "##gff-version 3"
    assert lines[-4:] == ["###", "##FASTA", ">1", "ACGTACGT"]
    rows = {r["transcript_id"]: r["status"] for r in csv.DictReader(report.read_text().splitlines(), delimiter="\t")}
    assert rows == {"T1": "removed", "T2": "kept", "T5": "removed"}
    counts = json.loads(stats.read_text())["counts"]
    assert counts["genes_removed"] == 1
    assert counts["lines_removed"] == 11


def test_annotation_plot_and_mqc(tmp_path, gtf, scores):
    pytest.importorskip("matplotlib")
    png, tsv = tmp_path / "p.png", tmp_path / "x_mqc.tsv"
    rc, *_ = _clean(tmp_path, gtf, scores, "cleaned.gtf", "--plot", str(png), "--stats-tsv", str(tsv))
    assert rc == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    lines = tsv.read_text().splitlines()
    assert lines[0] == "# id: 'splamflow_clean_annotation'"  # its own MultiQC section, not the BAM table
    rows = [line.split("\t") for line in lines if not line.startswith("#")]
    assert dict(zip(rows[0], rows[1], strict=True))["transcripts_removed"] == "2"


def test_bam_options_rejected_for_annotations(tmp_path, gtf, scores, capsys):
    rc, out, _, _ = _clean(tmp_path, gtf, scores, "cleaned.gtf", "--discarded", str(tmp_path / "d.bam"))
    assert rc == 2
    assert "BAM input only" in capsys.readouterr().err
    assert not out.exists()


def test_no_partial_output_on_bad_scores(tmp_path, gtf, capsys):
    bad = tmp_path / "bad.bed"
    bad.write_text("1\t200\t300\tJ\t1\t+\t0.5\t-0.1\n")
    rc, out, report, _ = _clean(tmp_path, gtf, bad)
    assert rc == 2
    assert f"{bad}:1:" in capsys.readouterr().err
    assert not out.exists() and not report.exists()


@pytest.mark.parametrize(("output_name", "warns"), [("cleaned.gtf", True), ("cleaned.gff3", False),
                                                     ("cleaned.dat", False)])
def test_format_warning_judges_the_input_by_content(tmp_path, scores, capsys, output_name, warns):
    """A GFF3 named like a Galaxy dataset is GFF3: an output named .gtf is warned about, .gff3 is not."""
    gff = tmp_path / "dataset_1.dat"
    gff.write_text(GFF3)
    rc, out, *_ = _clean(tmp_path, gff, scores, output_name)
    assert rc == 0
    assert out.read_text().startswith("##gff-version 3")
    assert ("has another extension" in capsys.readouterr().err) == warns


@pytest.mark.parametrize(("output_name", "warns"), [("out.txt", False), ("out.gtf", True), ("out.gff", False)])
def test_format_warning_only_for_a_name_that_names_the_other_format(tmp_path, scores, capsys, output_name, warns):
    """An output name that names no format (out.txt, Galaxy's dataset_N.dat) is never warned about."""
    gff = tmp_path / "a.gff3"
    gff.write_text(GFF3)
    rc, out, *_ = _clean(tmp_path, gff, scores, output_name)
    assert rc == 0 and out.read_text().startswith("##gff-version 3")
    assert ("has another extension" in capsys.readouterr().err) == warns


def test_clean_judges_the_annotation_format_once(tmp_path, scores, monkeypatch):
    """The format warning, the reader and the rewrite share one GTF-or-GFF3 answer."""
    import splamflow.clean.annotation
    import splamflow.clean.cli
    import splamflow.io.annotation
    from splamflow.io import sniff

    calls = []

    def counted(path):
        calls.append(path)
        return sniff.annotation_format(path)

    for module in (splamflow.clean.cli, splamflow.clean.annotation, splamflow.io.annotation):
        monkeypatch.setattr(module, "annotation_format", counted)
    gff = tmp_path / "dataset_1.dat"
    gff.write_text(GFF3)
    rc, out, *_ = _clean(tmp_path, gff, scores, "cleaned.dat")
    assert rc == 0 and out.read_text().startswith("##gff-version 3")
    assert calls == [str(gff)]
