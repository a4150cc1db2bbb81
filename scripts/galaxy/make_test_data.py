#!/usr/bin/env python3
"""Regenerate galaxy_tool/test-data/: inputs cut from the committed chr20 slice, and golden outputs.

Inputs: the first 500 kb of the slice in tests/data/ (real GRCh37 sequence; the GENCODE genes that
end in it; the simulated RNA-seq reads all of whose records lie in it) as bgzip FASTA, BAM, BAM
without XS tags, CRAM, GTF and GFF3; junction scores made from the BAM's truth table (annotated
junctions good, spurious ones bad) so that the clean-up figures do not depend on the trained model;
small bad inputs; an all-zero model, whose scores are exactly 1/3; a TorchScript archive made like
the published splam.pt, for the model data manager, and the empty model table it fills.

Golden outputs: each tool test's command is run here the way its wrapper runs it (the same command
line and file names, in a scratch job folder) and its outputs are copied. Scores of the shipped
model are compared through regular expressions that allow 1e-5 (the last digits of fp32 scores
differ between CPU instruction sets); every other output is compared exactly. The figures the tests
also assert are computed here without splamflow (from the truth table, pysam and the GTF) and
checked against the goldens. Run from the repository root with the project's venv:

    .venv/bin/python scripts/galaxy/make_test_data.py
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections import Counter, defaultdict
from pathlib import Path

import pysam
import torch
from safetensors.torch import save_file

from splamflow.model import SplamNet

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # the published network's restatement lives with the tests
from tests.equivalence.published_splam import SPLAM as PublishedSplam  # noqa: E402

SOURCE = REPO / "tests" / "data"
OUT = REPO / "galaxy_tool" / "test-data"
SPLAM = REPO / ".venv" / "bin" / "splam_score.py"
CONTIG, END = "20", 500_000
GOOD, BAD = "0.9500000000", "0.0200000000"
# A spurious junction of the alignments gets a bad donor score only: the BAM rule is
# "donor < t or acceptor < t", so one bad side must be enough to remove a record.
SPURIOUS_ACCEPTOR = "0.9000000000"
CORRUPT_MODEL_BYTES = 4096
# The data manager's test entry (galaxy_tool/data_manager/splamflow_model_fetcher.xml)
STANDIN_ID, STANDIN_NAME = "standin_splam", "Splam stand-in (test)"
# weights are multiples of 1/128 in [-1/8, 1/8]: few distinct values compress, and the scores stay
# between 0.29 and 0.39 (larger weights saturate the softmax)
STANDIN_SEED, STANDIN_HALF, STANDIN_STEPS = 21, 16, 128
STANDIN_UNITS = 4
SCORE_DECIMALS, SCORE_TOLERANCE = 5, 5e-6
# The wrappers' default strand source ('Automatic'), without a genome
AUTO = ("--strandness", "none", "--infer-strand", "auto")
# Score statistics that change from run to run, between installations or with the device.
VOLATILE_STATS = ("device", "batch_size", "junctions_per_second", "seconds", "model")
MOTIF_STRAND = {
    ("GT", "AG"): "+", ("GC", "AG"): "+", ("AT", "AC"): "+",
    ("CT", "AC"): "-", ("CT", "GC"): "-", ("GT", "AT"): "-",
}  # fmt: skip
Key = tuple[str, int, int, str]


class Job:
    """A scratch job folder holding the inputs under the names the wrappers give them."""

    def __init__(self, **links: Path) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="gx-job-")
        self.dir = Path(self._tmp.name)
        for name, source in links.items():
            name = name.replace("_", ".")
            (self.dir / name).symlink_to(source)
            if name.endswith((".bam", ".cram")):
                pysam.index(str(self.dir / name))

    def history_genome(self) -> None:
        """What the wrappers do with a bgzip fasta.gz from the history: link, then index."""
        (self.dir / "genome.fa").symlink_to(OUT / "genome.fa.gz")
        pysam.faidx(str(self.dir / "genome.fa"))

    def run(self, *args: str, expect: int = 0) -> str:
        done = subprocess.run([str(SPLAM), *args], cwd=self.dir, capture_output=True, text=True)
        if done.returncode != expect:
            raise SystemExit(f"{' '.join(args)}: exit {done.returncode}\n{done.stderr}")
        return done.stderr

    def keep(self, name: str, golden: str) -> Path:
        shutil.copyfile(self.dir / name, OUT / golden)
        return OUT / golden

    def close(self) -> None:
        self._tmp.cleanup()


def bed_rows(path: Path) -> list[list[str]]:
    """The rows of a BED, without header lines (extract's `#splamflow strand_source=...` line)."""
    return [line.split("\t") for line in path.read_text().splitlines() if not line.startswith("#")]


# --- inputs ---------------------------------------------------------------------------------------


def write_genome() -> str:
    """The first END bases of the slice as bgzip FASTA (+ .fai, .gzi); returns the sequence."""
    with pysam.FastaFile(str(SOURCE / "chr20_slice.fa.gz")) as fasta:
        seq = fasta.fetch(CONTIG, 0, END)
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "genome.fa"
        plain.write_text(f">{CONTIG}\n" + "".join(seq[i : i + 60] + "\n" for i in range(0, len(seq), 60)))
        pysam.tabix_compress(str(plain), str(OUT / "genome.fa.gz"), force=True)
    pysam.faidx(str(OUT / "genome.fa.gz"))
    # the built-in genome of the tests (galaxy_tool/tool_data_table_conf.xml.test)
    (OUT / "fasta_indexes.loc").write_text(
        f"chr20_500kb\t{CONTIG}\tGRCh37 chromosome 20, positions 1-{END:,}\t${{__HERE__}}/genome.fa.gz\n"
    )
    return seq


def write_alignments(seq: str) -> list[pysam.AlignedSegment]:
    """reads.bam: the records of the reads all of whose records end in the genome; reads_noxs.bam:
    the same without XS tags, as STAR writes them without --outSAMstrandField; sample1.bam and
    sample2.bam: its reads in two samples; reads.cram."""
    with pysam.AlignmentFile(str(SOURCE / "chr20_slice.bam")) as src:
        header = src.header.to_dict()
        records = list(src.fetch(until_eof=True))
    by_name = defaultdict(list)
    for rec in records:
        by_name[rec.query_name].append(rec)
    keep = {name for name, recs in by_name.items() if all(r.reference_end <= END for r in recs)}
    header["SQ"] = [{"SN": CONTIG, "LN": END}]
    bam_header = pysam.AlignmentHeader.from_dict(header)
    kept = [pysam.AlignedSegment.from_dict(r.to_dict(), bam_header) for r in records if r.query_name in keep]
    # sample1.bam and sample2.bam: the reads split in two by name (alternating in sorted order)
    second = set(sorted({r.query_name for r in kept})[1::2])
    with (
        pysam.AlignmentFile(str(OUT / "reads.bam"), "wb", header=bam_header) as bam,
        pysam.AlignmentFile(str(OUT / "reads_noxs.bam"), "wb", header=bam_header) as noxs,
        pysam.AlignmentFile(str(OUT / "sample1.bam"), "wb", header=bam_header) as sample1,
        pysam.AlignmentFile(str(OUT / "sample2.bam"), "wb", header=bam_header) as sample2,
    ):
        for rec in kept:
            bam.write(rec)
            (sample2 if rec.query_name in second else sample1).write(rec)
            copy = pysam.AlignedSegment.from_dict(rec.to_dict(), bam_header)
            copy.set_tag("XS", None)
            noxs.write(copy)
    # No path of this machine in the CRAM: htslib writes the absolute path of a reference file into
    # @SQ (UR:) and the output's name, as given, into the file definition. So the reference comes
    # from a scratch MD5 cache (REF_PATH; @SQ keeps only M5) and the CRAM is written by a relative name.
    md5 = hashlib.md5(seq.upper().encode()).hexdigest()
    header["SQ"][0].update(M5=md5)
    with tempfile.TemporaryDirectory() as scratch, contextlib.chdir(scratch):
        Path(md5).write_text(seq.upper())
        saved = {k: os.environ.get(k) for k in ("REF_PATH", "REF_CACHE")}
        os.environ["REF_PATH"] = os.environ["REF_CACHE"] = str(Path(scratch, "%s"))
        try:
            with pysam.AlignmentFile("reads.cram", "wc", header=header) as cram:
                for rec in kept:
                    cram.write(pysam.AlignedSegment.from_dict(rec.to_dict(), cram.header))
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        shutil.move("reads.cram", OUT / "reads.cram")
    return kept


def _gtf_attributes(text: str) -> dict[str, str]:
    return dict(re.findall(r'(\w+) "([^"]*)"', text))


def write_annotations() -> None:
    """annotation.gtf: the slice's GENCODE lines of the genes that end in the genome, unchanged;
    annotation.gff3: the same genes, transcripts (as mRNA: all are protein-coding) and exons."""
    lines = (SOURCE / "chr20_slice.gtf").read_text().splitlines(keepends=True)
    genes = {
        _gtf_attributes(f[8])["gene_id"]
        for f in (line.split("\t") for line in lines)
        if f[2] == "gene" and int(f[4]) <= END
    }
    kept = [line for line in lines if _gtf_attributes(line.split("\t")[8])["gene_id"] in genes]
    (OUT / "annotation.gtf").write_text("".join(kept))
    gff = ["##gff-version 3\n", f"##sequence-region {CONTIG} 1 {END}\n"]
    for line in kept:
        f = line.rstrip("\n").split("\t")
        a = _gtf_attributes(f[8])
        if f[2] == "gene":
            f[8] = f"ID={a['gene_id']};Name={a['gene_name']};gene_type={a['gene_type']}"
        elif f[2] == "transcript":
            f[2] = "mRNA"
            f[8] = f"ID={a['transcript_id']};Parent={a['gene_id']};tag={a['tag']}"
        else:
            f[8] = f"ID={a['transcript_id']}:exon{a['exon_number']};Parent={a['transcript_id']}"
        gff.append("\t".join(f) + "\n")
    (OUT / "annotation.gff3").write_text("".join(gff))


def truth() -> dict[Key, bool]:
    with open(SOURCE / "chr20_slice.truth.tsv") as handle:
        return {
            (r["chrom"], int(r["start"]), int(r["end"]), r["strand"]): r["is_annotated"] == "1"
            for r in csv.DictReader(handle, delimiter="\t")
        }


def write_alignment_scores(annotated: dict[Key, bool]) -> set[Key]:
    """truth_scores.bed: the extracted junctions of reads.bam in the score-output layout, without a
    strand-source header (made by hand, not by score: clean checks no strand rule against it)."""
    spurious = set()
    with open(OUT / "truth_scores.bed", "w") as out:
        for f in bed_rows(OUT / "junctions.bed"):
            key = (f[0], int(f[1]), int(f[2]), f[5])
            if not annotated[key]:
                spurious.add(key)
            out.write("\t".join([*f[:6], *((GOOD, GOOD) if annotated[key] else (BAD, SPURIOUS_ACCEPTOR))]) + "\n")
    return spurious


def write_intron_scores() -> tuple[str, str]:
    """intron_scores.bed: every intron of one transcript with 3 or more introns and of one with
    fewer is bad (both scores), the others good: the first must go, the second stay."""
    rows = bed_rows(OUT / "introns.bed")
    introns = Counter(t for r in rows for t in r[6].split(","))
    unshared = {t for t in introns if all(r[6] == t for r in rows if t in r[6].split(","))}
    removed = next(t for t in introns if introns[t] >= 3 and t in unshared)
    too_short = next(t for t in introns if introns[t] < 3 and t in unshared)
    with open(OUT / "intron_scores.bed", "w") as out:
        for r in rows:
            score = BAD if r[6] in (removed, too_short) else GOOD
            out.write("\t".join([*r[:6], score, score, r[6]]) + "\n")
    return removed, too_short


def write_bad_inputs(seq: str) -> None:
    rows = bed_rows(OUT / "introns.bed")[:3]
    (OUT / "bad_columns.bed").write_text("".join("\t".join(r[:4]) + "\n" for r in rows))
    lines = (OUT / "annotation.gtf").read_text().splitlines(keepends=True)[:4]
    lines[1] = "\t".join(lines[1].split("\t")[:5]) + "\n"
    (OUT / "bad_fields.gtf").write_text("".join(lines))
    (OUT / "wrong_contigs.fa").write_text(f">chr{CONTIG}\n{seq[100_000:100_120]}\n")


def write_models() -> None:
    """zero_model.safetensors.gz: a Splam network with every parameter 0 (every site scores 1/3;
    Galaxy decompresses it on upload); corrupt_model.safetensors: the start of that file."""
    net = SplamNet()
    state = {k: v.detach().clone().zero_() for k, v in net.state_dict().items()}
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "model.safetensors"
        save_file(state, str(model), metadata={"format": "pt"})
        data = model.read_bytes()
    with open(OUT / "zero_model.safetensors.gz", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(data)
    (OUT / "corrupt_model.safetensors").write_bytes(data[:CORRUPT_MODEL_BYTES])


def fixed_serialization_id(data: bytes) -> bytes:
    """The archive with its random `.data/serialization_id` record replaced by zeros (stored records:
    the bytes and their CRC-32 in the local and central headers), so that reruns give the same bytes."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".data/serialization_id")]
        old = archive.read(name)
    new = b"0" * len(old)
    old_crc, new_crc = (struct.pack("<I", zlib.crc32(x)) for x in (old, new))
    assert data.count(old) == 1 and data.count(old_crc) == 2, "serialization_id not found once"
    data = data.replace(old, new).replace(old_crc, new_crc)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
    return data


def write_standin_archive() -> None:
    """standin_splam.pt.gz: the published network (tests/equivalence/published_splam.py) scripted and
    saved with torch.jit.save, as the published splam.pt was; random weights on its 1x1 convolutions
    (input, skips, output) and on the first STANDIN_UNITS residual units (so that a score sees the
    bases around its site, not only the site's first base), every other parameter 0, so that the
    gzip-compressed archive stays small. not_a_model.zip: a zip file without a model.
    splamflow_models.loc: the empty model table the data manager fills in the tests;
    splamflow_models_entry.json: the data manager's output for the stand-in."""
    torch.manual_seed(STANDIN_SEED)
    net = PublishedSplam().eval()
    with torch.no_grad():
        for param in net.parameters():
            param.zero_()
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.weight.fill_(1.0)
        randomized = [m for m in net.modules() if isinstance(m, torch.nn.Conv1d) and m.kernel_size == (1,)]
        randomized += [m for block in net.residual_blocks[:STANDIN_UNITS] for m in (block.conv1, block.conv2)]
        for module in randomized:
            for param in (module.weight, module.bias):
                param.copy_(torch.randint(-STANDIN_HALF, STANDIN_HALF + 1, param.shape) / STANDIN_STEPS)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "splam.pt"  # the archive's folder is named after the file, as in splam.pt
        torch.jit.save(torch.jit.script(net), str(archive))
        data = fixed_serialization_id(archive.read_bytes())
    with open(OUT / "standin_splam.pt.gz", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(data)
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(Path(tmp) / "x.zip", "w") as archive:
            archive.writestr(zipfile.ZipInfo("readme.txt", date_time=(2020, 1, 1, 0, 0, 0)), "no model here\n")
        shutil.copyfile(Path(tmp) / "x.zip", OUT / "not_a_model.zip")
    (OUT / "splamflow_models.loc").write_text(
        "# The Splam models of the tool tests: empty, the model data manager adds its test entry\n"
    )
    entry = {"data_tables": {"splamflow_models": [{"value": STANDIN_ID, "name": STANDIN_NAME, "path": STANDIN_ID}]}}
    (OUT / "splamflow_models_entry.json").write_text(json.dumps(entry, indent=2))


# --- expected figures, computed without splamflow --------------------------------------------------


def expected_clean(records: list[pysam.AlignedSegment], spurious: set[Key], strand_of) -> tuple[int, int]:
    """Records a correct clean-up keeps and discards, each intron keyed by strand_of(record, start, end)."""
    discarded = 0
    for rec in records:
        pos = rec.reference_start
        for op, length in rec.cigartuples:
            key = (rec.reference_name, pos, pos + length, strand_of(rec, pos, pos + length))
            if op == pysam.CREF_SKIP and key in spurious:
                discarded += 1
                break
            if op in (pysam.CMATCH, pysam.CDEL, pysam.CREF_SKIP, pysam.CEQUAL, pysam.CDIFF):
                pos += length
    return len(records) - discarded, discarded


def rf_strand(rec: pysam.AlignedSegment, *_) -> str:
    """dUTP (rf) library: read 1 lies on the strand opposite to the transcript."""
    forward = rec.is_reverse if rec.is_read1 else not rec.is_reverse
    return "+" if forward else "-"


def motif_strand(seq: str, start: int, end: int) -> str:
    return MOTIF_STRAND.get((seq[start : start + 2].upper(), seq[end - 2 : end].upper()), ".")


def motif_strands(seq: str, junctions: set[tuple[int, int]]) -> Counter:
    return Counter(motif_strand(seq, s, e) for s, e in junctions)


# --- golden outputs ------------------------------------------------------------------------------


def _escape(text: str) -> str:
    return re.escape(text).replace("\\ ", " ")


def _number_regex(text: str) -> str:
    """A regular expression for the decimal numbers within SCORE_TOLERANCE of `text`, compared
    on SCORE_DECIMALS decimals."""
    value, step = float(text), 10**-SCORE_DECIMALS
    low = int(max(value - SCORE_TOLERANCE, 0.0) / step)
    high = int((value + SCORE_TOLERANCE) / step)
    prefixes = [f"{i * step:.{SCORE_DECIMALS}f}" for i in range(low, high + 1)]
    alternatives = "|".join(_escape(p) for p in prefixes)
    return f"(?:{alternatives})\\d*" if len(prefixes) > 1 else f"{alternatives}\\d*"


def scores_regex(scores: Path, golden: str) -> None:
    """Line-by-line regular expressions: columns 1-6 and 9 exact, the two scores to 1e-5."""
    with open(scores) as src, open(OUT / golden, "w") as out:
        for line in src:
            f = line.rstrip("\n").split("\t")
            cells = [_escape(c) for c in f]
            cells[6], cells[7] = _number_regex(f[6]), _number_regex(f[7])
            out.write("^" + "\\t".join(cells) + "$\n")


def stats_regex(stats: Path, golden: str) -> None:
    """Line-by-line regular expressions for score statistics, timings and model path left open."""
    with open(stats) as src, open(OUT / golden, "w") as out:
        for line in src:
            line = line.rstrip("\n")
            key = line.strip().split(":")[0].strip('"')
            if key in VOLATILE_STATS:
                out.write("^" + _escape(line.split(":")[0]) + r": .*$" + "\n")
            else:
                out.write("^" + _escape(line) + "$\n")


def extract_goldens(seq: str) -> dict:
    figures = {}
    job = Job(input_bam=OUT / "reads.bam")
    job.run("extract", "input.bam", "-o", "junctions.bed", *AUTO, "--threads", "1")
    rows = bed_rows(job.keep("junctions.bed", "junctions.bed"))
    figures["junctions"] = Counter(r[5] for r in rows)
    job.close()

    # two samples: their union is the whole BAM's junctions; the per-sample columns sum to its counts
    job = Job(sample1_bam=OUT / "sample1.bam", sample2_bam=OUT / "sample2.bam")
    job.run("extract", "sample1.bam", "sample2.bam", "-o", "junctions.bed", *AUTO,
            "--per-sample-counts", "per_sample_counts.tsv", "--threads", "1")  # fmt: skip
    assert (job.dir / "junctions.bed").read_bytes() == (OUT / "junctions.bed").read_bytes(), "union of the samples"
    table = bed_rows(job.keep("per_sample_counts.tsv", "per_sample_counts.tsv"))
    assert table[0] == ["name", "sample1", "sample2"], table[0]
    assert [[r[3], int(r[4])] for r in rows] == [[t[0], int(t[1]) + int(t[2])] for t in table[1:]]
    assert any(int(t[1]) and int(t[2]) for t in table[1:]), "junctions seen in both samples"
    job.close()

    job = Job(input_cram=OUT / "reads.cram")
    job.history_genome()
    job.run("extract", "input.cram", "-o", "junctions.bed", *AUTO, "--genome", "genome.fa", "--reference", "genome.fa",
            "--threads", "1")  # fmt: skip
    # the same junctions; the header names the motif step, which the CRAM's reference allows
    assert bed_rows(job.keep("junctions.bed", "junctions_cram.bed")) == rows, "CRAM and BAM differ"
    job.close()

    job = Job(input_bam=OUT / "reads.bam")
    job.run("extract", "input.bam", "-o", "junctions.bed", *AUTO, "--exclude-flags", "SECONDARY",
            "--min-mapq", "10", "--min-anchor", "8", "--max-intron", "5000", "--region", "20:200000-400000",
            "--extended", "--threads", "1")  # fmt: skip
    job.keep("junctions.bed", "junctions_advanced.bed")
    job.close()

    # The library is dUTP (rf): without XS tags, --strandness rf gives every junction its XS strand.
    for strandness in ("rf", "fr"):
        job = Job(input_bam=OUT / "reads_noxs.bam")
        job.run("extract", "input.bam", "-o", "junctions.bed", "--strandness", strandness, "--threads", "1")
        kept = job.keep("junctions.bed", f"junctions_noxs_{strandness}.bed")
        if strandness == "rf":
            assert bed_rows(kept) == rows, "rf gives the XS strands"
        job.close()

    job = Job(input_bam=OUT / "reads_noxs.bam")
    job.run("extract", "input.bam", "-o", "junctions.bed", "--strandness", "none", "--infer-strand", "motif",
            "--genome", str(OUT / "genome.fa.gz"), "--threads", "1")  # fmt: skip
    rows = bed_rows(job.keep("junctions.bed", "junctions_noxs_motif.bed"))
    figures["motif"] = Counter(r[5] for r in rows)
    expected = motif_strands(seq, {(int(r[1]), int(r[2])) for r in rows})
    assert figures["motif"] == expected, (figures["motif"], expected)
    job.close()

    job = Job(input_gtf=OUT / "annotation.gtf")
    job.run("extract", "input.gtf", "-o", "junctions.bed", "--intron-counts", "transcript_introns.tsv")
    job.keep("junctions.bed", "introns.bed")
    job.keep("transcript_introns.tsv", "transcript_introns.tsv")
    job.close()

    job = Job(input_gff3=OUT / "annotation.gff3")
    job.run("extract", "input.gff3", "-o", "junctions.bed", "--features", "mRNA")
    assert (job.dir / "junctions.bed").read_bytes() == (OUT / "introns.bed").read_bytes(), "GFF3 and GTF differ"
    job.close()
    return figures


def score_goldens() -> None:
    job = Job(junctions_bed=OUT / "introns.bed")
    job.history_genome()
    job.run("score", "junctions.bed", "--genome", "genome.fa", "-o", "scores.bed", "--device", "auto",
            "--precision", "fp32", "--threads", "1", "--stats", "stats.json")  # fmt: skip
    scores_regex(job.dir / "scores.bed", "introns_scores.bed.re")
    stats_regex(job.dir / "stats.json", "score_stats.json.re")
    job.close()

    # the annotation's introns (7 columns) and extract --extended junctions (8 columns: the 7th is copied)
    for junctions, golden in (("introns.bed", "zero_model_scores.bed"),
                              ("junctions_advanced.bed", "zero_model_extended_scores.bed")):  # fmt: skip
        job = Job(junctions_bed=OUT / junctions)
        with gzip.open(OUT / "zero_model.safetensors.gz", "rb") as src:
            (job.dir / "model.safetensors").write_bytes(src.read())
        job.run("score", "junctions.bed", "--genome", str(OUT / "genome.fa.gz"), "--model", "model.safetensors",
                "-o", "scores.bed", "--device", "auto", "--precision", "fp32", "--threads", "1")  # fmt: skip
        scores = job.keep("scores.bed", golden)
        rows = bed_rows(scores)
        assert {c for row in rows for c in row[6:8]} == {"0.3333333433"}
        inputs = bed_rows(OUT / junctions)
        assert [row[:6] + row[8:] for row in rows] == [row[:7] for row in inputs], "input columns 1-7 kept"
        job.close()


def standin_goldens() -> None:
    """standin_scores.bed.re: the stand-in archive's scores of the annotation's introns, read from the
    TorchScript archive itself (the Galaxy test scores with the data manager's conversion of it)."""
    job = Job(junctions_bed=OUT / "introns.bed")
    with gzip.open(OUT / "standin_splam.pt.gz", "rb") as src:
        (job.dir / "splam.pt").write_bytes(src.read())
    job.run("score", "junctions.bed", "--genome", str(OUT / "genome.fa.gz"), "--model", "splam.pt",
            "-o", "scores.bed", "--device", "auto", "--precision", "fp32", "--threads", "1")  # fmt: skip
    rows = bed_rows(job.dir / "scores.bed")
    assert len({r[6] for r in rows}) > 3, "the stand-in's scores depend on the sequence"
    scores_regex(job.dir / "scores.bed", "standin_scores.bed.re")
    job.close()


def clean_bam(
    job: Job, inp: str, *options: str, stats: bool = True, plot: bool = False, discarded: bool = True
) -> None:
    args = ["clean", inp, "--scores", "scores.bed", "--threshold", options[0], "-o", "cleaned.bam",
            *(["--discarded", "discarded.bam"] if discarded else []), *options[1:], "--threads", "1"]  # fmt: skip
    if stats:
        sample = (job.dir / inp).resolve().name  # Galaxy passes the dataset's name
        args += ["--stats", "stats.json", "--stats-tsv", "stats_mqc.tsv", "--sample", sample]
    if plot:
        args += ["--plot", "plot.png"]
    job.run(*args)


def records(path: Path) -> int:
    with pysam.AlignmentFile(str(path), "rb") as bam:
        return sum(1 for _ in bam)


def keep_clean_outputs(job: Job, suffix: str, stats: bool = True, discarded: bool = True) -> dict:
    """Keep cleaned.bam, discarded.bam (when asked for) and stats.json as golden files named with
    `suffix`; returns the counts of the statistics ({} without them)."""
    job.keep("cleaned.bam", f"cleaned{suffix}.bam")
    if discarded:
        job.keep("discarded.bam", f"discarded{suffix}.bam")
    if not stats:
        return {}
    return json.loads(job.keep("stats.json", f"clean_stats{suffix}.json").read_text())["counts"]


def motif_scores(threshold: float) -> set[Key]:
    """motif_scores.bed: the shipped model's scores of the junctions of reads_noxs.bam stranded by
    their motifs, as splamflow score writes them; returns the junctions it calls spurious."""
    job = Job(junctions_bed=OUT / "junctions_noxs_motif.bed")
    job.history_genome()
    job.run("score", "junctions.bed", "--genome", "genome.fa", "-o", "scores.bed", "--device", "auto",
            "--precision", "fp32", "--threads", "1")  # fmt: skip
    rows = bed_rows(job.keep("scores.bed", "motif_scores.bed"))
    job.close()
    return {(r[0], int(r[1]), int(r[2]), r[5]) for r in rows if min(float(r[6]), float(r[7])) < threshold}


def clean_goldens(reads: list[pysam.AlignedSegment], spurious: set[Key], seq: str) -> dict:
    figures = {}
    xs = expected_clean(reads, spurious, lambda r, *_: r.get_tag("XS") if r.has_tag("XS") else ".")
    rf = expected_clean(reads, spurious, rf_strand)

    job = Job(input_bam=OUT / "reads.bam", scores_bed=OUT / "truth_scores.bed")
    clean_bam(job, "input.bam", "0.1", "--paired", *AUTO)
    figures["bam"] = c = keep_clean_outputs(job, "")
    job.keep("stats_mqc.tsv", "clean_stats_mqc.tsv")
    assert (c["records_kept"], c["records_discarded"]) == xs, (c, xs)
    job.close()

    job = Job(input_bam=OUT / "reads.bam", scores_bed=OUT / "truth_scores.bed")
    clean_bam(job, "input.bam", "0.1", "--drop-pairs", *AUTO, "--mark-unmapped", stats=False,
              plot=True)  # fmt: skip
    keep_clean_outputs(job, "_drop_pairs", stats=False)
    job.keep("plot.png", "clean_plot.png")
    figures["drop_pairs"] = (records(job.dir / "cleaned.bam"), records(job.dir / "discarded.bam"))
    job.close()

    job = Job(input_bam=OUT / "reads.bam", scores_bed=OUT / "truth_scores.bed")
    clean_bam(job, "input.bam", "0.01", *AUTO, stats=False)
    job.keep("discarded.bam", "discarded_none.bam")
    assert records(job.dir / "discarded.bam") == 0
    job.close()

    job = Job(input_bam=OUT / "reads_noxs.bam", scores_bed=OUT / "truth_scores.bed")
    clean_bam(job, "input.bam", "0.1", "--paired", "--strandness", "rf", discarded=False)
    figures["rf"] = c = keep_clean_outputs(job, "_noxs_rf", discarded=False)
    assert not (job.dir / "discarded.bam").exists()
    assert (c["records_kept"], c["records_discarded"]) == rf, (c, rf)
    job.close()

    # A STAR-like BAM without XS: its records find their junctions' scores through the motifs. At
    # 0.1 nothing goes (every canonical junction here scores 0.51 or more; the spurious ones have no
    # canonical motif, so no strand and no score); at 0.95 the weakest annotated junctions go.
    threshold = "0.95"
    weak = motif_scores(float(threshold))
    motif = expected_clean(reads, weak, lambda r, s, e: motif_strand(seq, s, e))
    job = Job(input_bam=OUT / "reads_noxs.bam", scores_bed=OUT / "motif_scores.bed")
    job.history_genome()
    clean_bam(job, "input.bam", threshold, "--paired", "--strandness", "none", "--infer-strand", "motif",
              "--genome", "genome.fa")  # fmt: skip
    figures["noxs_motif"] = c = keep_clean_outputs(job, "_noxs_motif")
    assert (c["records_kept"], c["records_discarded"]) == motif and motif[1] > 0, (c, motif)
    # the scores record the motif step: clean without a genome (auto) refuses them
    refused = job.run("clean", "input.bam", "--scores", "scores.bed", "--threshold", threshold, "-o", "cleaned.bam",
                      "--discarded", "discarded.bam", "--paired", *AUTO, "--threads", "1", expect=2)  # fmt: skip
    assert refused.count("\n") == 1 and "stranded by XS,ts,motif" in refused, refused
    job.close()

    job = Job(input_cram=OUT / "reads.cram", scores_bed=OUT / "truth_scores.bed")
    job.history_genome()
    clean_bam(job, "input.cram", "0.1", "--paired", *AUTO, "--genome", "genome.fa", "--reference", "genome.fa")
    assert keep_clean_outputs(job, "_cram") == figures["bam"]
    job.close()

    for fmt in ("gtf", "gff3"):
        job = Job(**{f"input_{fmt}": OUT / f"annotation.{fmt}", "scores_bed": OUT / "intron_scores.bed"})
        job.run("clean", f"input.{fmt}", "--scores", "scores.bed", "--threshold", "0.1", "-o", f"cleaned.{fmt}",
                "--min-bad-fraction", "0.6", "--min-introns", "3", "--report", "transcripts.tsv",
                "--stats", "stats.json")  # fmt: skip
        job.keep(f"cleaned.{fmt}", f"cleaned.{fmt}")
        job.keep("stats.json", f"clean_annotation_stats_{fmt}.json")
        if fmt == "gtf":
            job.keep("transcripts.tsv", "transcripts.tsv")
        else:
            assert (job.dir / "transcripts.tsv").read_bytes() == (OUT / "transcripts.tsv").read_bytes()
        figures[fmt] = json.loads((job.dir / "stats.json").read_text())["counts"]
        job.close()
    return figures


def main() -> int:
    if os.environ.get("PYTHONHASHSEED") != "0":
        # TorchScript writes class constants in set order: a fixed hash seed makes the archive reproducible
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
    for old in OUT.iterdir():
        old.unlink()
    seq = write_genome()
    reads = write_alignments(seq)
    write_annotations()
    figures = extract_goldens(seq)
    spurious = write_alignment_scores(truth())
    removed, too_short = write_intron_scores()
    write_bad_inputs(seq)
    write_models()
    write_standin_archive()
    score_goldens()
    standin_goldens()
    figures.update(clean_goldens(reads, spurious, seq))
    table = (OUT / "transcript_introns.tsv").read_text().splitlines()
    genes = {r["transcript_id"]: r["gene_id"] for r in csv.DictReader(table, delimiter="\t")}
    gtf_text = (OUT / "annotation.gtf").read_text().splitlines()
    gtf = [_gtf_attributes(line.split("\t")[8])["gene_id"] for line in gtf_text]
    gtf_lines, removed_lines = len(gtf), gtf.count(genes[removed])
    print(f"reads.bam: {len(reads)} records; junctions {dict(figures['junctions'])}, {len(spurious)} spurious")
    print(f"reads_noxs.bam, strands from splice motifs: {dict(figures['motif'])}")
    for name in ("bam", "rf", "noxs_motif"):
        c = figures[name]
        print(f"clean {name}: {c['records_kept']} kept, {c['records_discarded']} discarded")
    print(f"clean --drop-pairs: {figures['drop_pairs'][0]} kept, {figures['drop_pairs'][1]} discarded")
    print(f"annotation: {removed} removed ({removed_lines} of {gtf_lines} GTF lines), {too_short} kept")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"test-data: {len(list(OUT.iterdir()))} files, {total:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
