#!/usr/bin/env python3
"""Regenerate the committed test data slice of real GRCh37 chr20 (see tests/data/README.md).

Reads ../shared/data/grch37/ (relative to the repository root) and writes, deterministically:
chr20_slice.fa.gz (+ .fai, .gzi), chr20_slice.gtf, chr20_slice.bam (+ .bai) and
chr20_slice.truth.tsv next to this script. Run it with the project's venv:

    .venv/bin/python tests/data/make_test_data.py
"""

from __future__ import annotations

import gzip
import os
import random
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pysam

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SHARED = REPO.parent / "shared" / "data" / "grch37"
CONTIG = "20"
SLICE_END = 2_000_000  # slice is 20:1-2,000,000 (1-based), coordinates unchanged
PREFIX = "chr20_slice"
SEED = 20_2024
READ_LEN = 76
N_PAIRS = 2400  # annotated-transcript fragments
MULTI_FRACTION = 0.04  # of those fragments, also aligned a second time elsewhere (NH=2)
N_SPURIOUS = 60  # random non-canonical junctions with 1-3 supporting fragments each
SOFT_CLIP_FRACTION = 0.08
DELETION_FRACTION = 0.03
QUAL = 35
# Dinucleotide pairs (donor, acceptor) of canonical and minor splice sites on either strand.
CANONICAL_MOTIFS = {("GT", "AG"), ("CT", "AC"), ("GC", "AG"), ("CT", "GC"), ("AT", "AC"), ("GT", "AT")}
COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


@dataclass(frozen=True)
class Transcript:
    """A canonical transcript: id, strand and sorted exons as 0-based half-open intervals."""

    tid: str
    strand: str
    exons: tuple[tuple[int, int], ...]

    @property
    def length(self) -> int:
        return sum(e - s for s, e in self.exons)

    def introns(self) -> list[tuple[int, int]]:
        return [(a[1], b[0]) for a, b in zip(self.exons, self.exons[1:], strict=False)]


@dataclass
class Alignment:
    """One BAM record before it is turned into a pysam.AlignedSegment."""

    name: str
    start: int
    cigar: list[tuple[int, int]]
    seq: str
    reverse: bool
    read1: bool
    xs: str | None
    nh: int = 1
    hi: int = 1
    secondary: bool = False

    @property
    def end(self) -> int:
        return self.start + sum(n for op, n in self.cigar if op in (0, 2, 3))


def write_fasta(sequence: str, out: Path) -> None:
    """Write the slice as bgzip FASTA (60 bases a line) and index it (.fai + .gzi)."""
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "slice.fa"
        with open(plain, "w") as handle:
            handle.write(f">{CONTIG}\n")
            for i in range(0, len(sequence), 60):
                handle.write(sequence[i : i + 60] + "\n")
        pysam.tabix_compress(str(plain), str(out), force=True)
    for suffix in (".fai", ".gzi"):
        Path(str(out) + suffix).unlink(missing_ok=True)
    pysam.faidx(str(out))


def parse_attributes(text: str) -> dict[str, str]:
    out = {}
    for item in text.strip().split(";"):
        item = item.strip()
        if item:
            key, _, value = item.partition(" ")
            out[key] = value.strip('"')
    return out


def write_gtf(source: Path, out: Path) -> list[Transcript]:
    """Copy the gene/transcript/exon lines of transcripts fully inside the slice; return them."""
    with gzip.open(source, "rt") as handle:
        rows = [line.rstrip("\n").split("\t") for line in handle if not line.startswith("#")]
    rows = [r for r in rows if r[0] == CONTIG]
    inside = {
        parse_attributes(r[8])["transcript_id"]
        for r in rows
        if r[2] == "transcript" and int(r[4]) <= SLICE_END
    }
    genes = {parse_attributes(r[8])["gene_id"] for r in rows if r[2] == "transcript"
             and parse_attributes(r[8])["transcript_id"] in inside}
    exons: dict[str, list[tuple[int, int]]] = {}
    strands: dict[str, str] = {}
    kept = []
    for r in rows:
        attrs = parse_attributes(r[8])
        if r[2] == "gene" and attrs["gene_id"] in genes or attrs.get("transcript_id") in inside:
            kept.append("\t".join(r))
        if r[2] == "exon" and attrs["transcript_id"] in inside:
            exons.setdefault(attrs["transcript_id"], []).append((int(r[3]) - 1, int(r[4])))
            strands[attrs["transcript_id"]] = r[6]
    out.write_text("\n".join(kept) + "\n")
    return [Transcript(tid, strands[tid], tuple(sorted(ex))) for tid, ex in sorted(exons.items())]


def transcript_blocks(tx: Transcript, a: int, b: int) -> list[tuple[int, int]]:
    """Genomic blocks covered by transcript offsets [a, b) (offsets in genomic exon order)."""
    blocks = []
    offset = 0
    for s, e in tx.exons:
        length = e - s
        lo, hi = max(a, offset), min(b, offset + length)
        if lo < hi:
            blocks.append((s + lo - offset, s + hi - offset))
        offset += length
    return blocks


def blocks_to_alignment(genome: str, blocks: list[tuple[int, int]]) -> tuple[list[tuple[int, int]], str]:
    """Blocks -> (CIGAR with M/N, read sequence from the genome)."""
    cigar: list[tuple[int, int]] = []
    seq = []
    for i, (s, e) in enumerate(blocks):
        if i:
            cigar.append((3, s - blocks[i - 1][1]))
        cigar.append((0, e - s))
        seq.append(genome[s:e])
    return cigar, "".join(seq)


def add_soft_clip(rng: random.Random, start: int, cigar: list, seq: str) -> tuple[int, list, str]:
    """Clip 1-4 bases at one end (replaced by random adapter-like bases) when the end block allows."""
    n = rng.randint(1, 4)
    bases = "".join(rng.choice("ACGT") for _ in range(n))
    if rng.random() < 0.5:
        if cigar[0][1] <= n + 8:
            return start, cigar, seq
        cigar = [(4, n), (0, cigar[0][1] - n), *cigar[1:]]
        return start + n, cigar, bases + seq[n:]
    if cigar[-1][1] <= n + 8:
        return start, cigar, seq
    cigar = [*cigar[:-1], (0, cigar[-1][1] - n), (4, n)]
    return start, cigar, seq[:-n] + bases


def add_deletion(rng: random.Random, genome: str, start: int, cigar: list) -> tuple[list, str] | None:
    """Put a 1-2 base deletion inside the longest M block; the read loses those bases."""
    longest = max(range(len(cigar)), key=lambda i: cigar[i][1] if cigar[i][0] == 0 else -1)
    if cigar[longest][1] < 30:
        return None
    d = rng.randint(1, 2)
    cut = rng.randint(10, cigar[longest][1] - 10 - d)
    new = [*cigar[:longest], (0, cut), (2, d), (0, cigar[longest][1] - cut - d), *cigar[longest + 1 :]]
    seq, pos = [], start
    for op, n in new:
        if op == 0:
            seq.append(genome[pos : pos + n])
        pos += n
    return new, "".join(seq)


def mates(
    name: str, left: tuple[int, list, str], right: tuple[int, list, str], strand: str, xs_left: bool,
    xs_right: bool, **extra
) -> list[Alignment]:
    """A proper pair from a fragment in dUTP ("rf") orientation: read 1 is antisense to `strand`."""
    left_is_read1 = strand == "-"
    out = []
    for (start, cigar, seq), reverse, is_read1, xs in (
        (left, False, left_is_read1, xs_left),
        (right, True, not left_is_read1, xs_right),
    ):
        spliced = any(op == 3 for op, _ in cigar)
        out.append(Alignment(name, start, cigar, seq, reverse, is_read1, strand if xs and spliced else None,
                             **extra))
    return out


def simulate_transcript_pairs(rng: random.Random, genome: str, transcripts: list[Transcript]) -> list:
    """Paired fragments sampled from the spliced transcripts (expression ~ lognormal x length)."""
    usable = [t for t in transcripts if t.length >= 300]
    weights = [t.length * rng.lognormvariate(0, 1) for t in usable]
    out = []
    for i in range(N_PAIRS):
        tx = rng.choices(usable, weights)[0]
        frag = min(tx.length, max(2 * READ_LEN, int(rng.gauss(250, 40))))
        a = rng.randint(0, tx.length - frag)
        ends = []
        for lo, hi in ((a, a + READ_LEN), (a + frag - READ_LEN, a + frag)):
            blocks = transcript_blocks(tx, lo, hi)
            cigar, seq = blocks_to_alignment(genome, blocks)
            start = blocks[0][0]
            if rng.random() < DELETION_FRACTION:
                deleted = add_deletion(rng, genome, start, cigar)
                if deleted:
                    cigar, seq = deleted
            if rng.random() < SOFT_CLIP_FRACTION:
                start, cigar, seq = add_soft_clip(rng, start, cigar, seq)
            ends.append((start, cigar, seq))
        out.append((f"tx{i:05d}:{tx.tid}", ends[0], ends[1], tx.strand))
    return out


def random_spurious_junction(rng: random.Random, genome: str, lo: int, hi: int) -> tuple[int, int]:
    """A random intron [s, e) with non-canonical ends and no N within 250 bp of either end."""
    while True:
        s = rng.randint(lo, hi)
        e = s + rng.randint(80, 5000)
        motif = (genome[s : s + 2], genome[e - 2 : e])
        if motif in CANONICAL_MOTIFS or "N" in genome[s - 250 : s + 250] + genome[e - 250 : e + 250]:
            continue
        return s, e


def spliced_read(rng: random.Random, genome: str, s: int, e: int) -> tuple[int, list, str]:
    """A read of READ_LEN bases crossing intron [s, e) with a random anchor split."""
    left = rng.randint(8, READ_LEN - 8)
    blocks = [(s - left, s), (e, e + READ_LEN - left)]
    cigar, seq = blocks_to_alignment(genome, blocks)
    return blocks[0][0], cigar, seq


def simulate_spurious(rng: random.Random, genome: str, n_junctions: int, tag: str) -> list:
    """Fragments whose first mate crosses a random non-canonical junction (1-3 fragments each)."""
    out = []
    for j in range(n_junctions):
        s, e = random_spurious_junction(rng, genome, 60_000, SLICE_END - 6_000)
        strand = rng.choice("+-")
        for k in range(rng.randint(1, 3)):
            start, cigar, seq = spliced_read(rng, genome, s, e)
            mate_start = e + rng.randint(60, 200)
            mate = (mate_start, [(0, READ_LEN)], genome[mate_start : mate_start + READ_LEN])
            out.append((f"{tag}{j:03d}.{k}", (start, cigar, seq), mate, strand))
    return out


def to_segment(header: pysam.AlignmentHeader, aln: Alignment, mate: Alignment) -> pysam.AlignedSegment:
    seg = pysam.AlignedSegment(header)
    seg.query_name = aln.name
    seg.flag = (
        0x1 | 0x2 | (0x10 if aln.reverse else 0) | (0x20 if mate.reverse else 0)
        | (0x40 if aln.read1 else 0x80) | (0x100 if aln.secondary else 0)
    )
    seg.reference_id = 0
    seg.reference_start = aln.start
    seg.mapping_quality = 1 if aln.nh > 1 else 60
    seg.cigartuples = aln.cigar
    seg.next_reference_id = 0
    seg.next_reference_start = mate.start
    left, right = min(aln.start, mate.start), max(aln.end, mate.end)
    seg.template_length = (right - left) * (1 if aln.start <= mate.start and not aln.reverse else -1)
    seg.query_sequence = aln.seq
    seg.query_qualities = pysam.qualitystring_to_array(chr(QUAL + 33) * len(aln.seq))
    tags: list[tuple[str, object]] = [("NH", aln.nh), ("HI", aln.hi)]
    if aln.xs:
        tags.append(("XS", aln.xs))
    mate_cigar = "".join(f"{n}{'MIDNS'[op]}" for op, n in mate.cigar)
    tags.append(("MC", mate_cigar))
    seg.set_tags(tags)
    return seg


def build_alignments(rng: random.Random, genome: str, transcripts: list[Transcript]) -> list[tuple]:
    """All (record, mate) pairs: transcript fragments, multi-mapped copies and spurious fragments."""
    pairs = []
    for name, left, right, strand in simulate_transcript_pairs(rng, genome, transcripts):
        multi = rng.random() < MULTI_FRACTION
        extra = {"nh": 2, "hi": 1} if multi else {}
        r = mates(name, left, right, strand, True, True, **extra)
        pairs.append((r[0], r[1]))
        pairs.append((r[1], r[0]))
        if multi:
            # second alignment of the same read sequences elsewhere: half of them cross a random
            # non-canonical junction, half are unspliced (sequences do not match the genome there)
            if rng.random() < 0.5:
                s, e = random_spurious_junction(rng, genome, 60_000, SLICE_END - 6_000)
                start, cigar, _ = spliced_read(rng, genome, s, e)
                span = e + rng.randint(60, 200)
            else:
                start = rng.randint(60_000, SLICE_END - 6_000)
                cigar = [(0, READ_LEN)]
                span = start + READ_LEN + rng.randint(20, 150)
            first = r[0] if not r[0].reverse else r[1]
            second = r[1] if first is r[0] else r[0]
            a = Alignment(name, start, _fit(cigar, len(first.seq)), first.seq, False, first.read1,
                          None, 2, 2, True)
            b = Alignment(name, span, [(0, len(second.seq))], second.seq, True, second.read1,
                          None, 2, 2, True)
            if any(op == 3 for op, _ in a.cigar):
                a.xs = rng.choice("+-")
            pairs.append((a, b))
            pairs.append((b, a))
    for name, left, right, strand in simulate_spurious(rng, genome, N_SPURIOUS, "spur"):
        r = mates(name, left, right, strand, True, True)
        pairs.append((r[0], r[1]))
        pairs.append((r[1], r[0]))
    return pairs


def _fit(cigar: list[tuple[int, int]], read_len: int) -> list[tuple[int, int]]:
    """Resize the last M operation so the CIGAR consumes exactly read_len query bases."""
    used = sum(n for op, n in cigar[:-1] if op in (0, 4))
    if read_len - used <= 0:
        return [(0, read_len)]
    return [*cigar[:-1], (0, read_len - used)]


def write_bam(out: Path, pairs: list[tuple], length: int) -> list:
    header = pysam.AlignmentHeader.from_dict(
        {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": CONTIG, "LN": length}]}
    )
    records = sorted(
        pairs, key=lambda p: (p[0].start, p[0].name, p[0].read1, p[0].secondary, p[0].end)
    )
    tmp = out.with_suffix(".tmp.bam")
    with pysam.AlignmentFile(str(tmp), "wb", header=header) as bam:
        for aln, mate in records:
            bam.write(to_segment(header, aln, mate))
    os.replace(tmp, out)
    Path(str(out) + ".bai").unlink(missing_ok=True)
    pysam.index(str(out))
    return [aln for aln, _ in records]


def write_truth(out: Path, records: list[Alignment], transcripts: list[Transcript]) -> None:
    """Every junction in the BAM (intron + XS strand), whether it is annotated, and its record count."""
    annotated = {(s, e, t.strand) for t in transcripts for s, e in t.introns()}
    counts: Counter = Counter()
    for aln in records:
        pos = aln.start
        for op, n in aln.cigar:
            if op == 3:
                counts[(pos, pos + n, aln.xs or ".")] += 1
            if op in (0, 2, 3):
                pos += n
    lines = ["chrom\tstart\tend\tstrand\tis_annotated\trecords"]
    for (s, e, strand), n in sorted(counts.items()):
        lines.append(f"{CONTIG}\t{s}\t{e}\t{strand}\t{int((s, e, strand) in annotated)}\t{n}")
    out.write_text("\n".join(lines) + "\n")


def main() -> None:
    rng = random.Random(SEED)
    with pysam.FastaFile(str(SHARED / "chr20.fa.gz")) as fasta:
        genome = fasta.fetch(CONTIG, 0, SLICE_END).upper()
    write_fasta(genome, HERE / f"{PREFIX}.fa.gz")
    transcripts = write_gtf(SHARED / "gencode_v24lift37_canonical.gtf.gz", HERE / f"{PREFIX}.gtf")
    pairs = build_alignments(rng, genome, transcripts)
    records = write_bam(HERE / f"{PREFIX}.bam", pairs, len(genome))
    write_truth(HERE / f"{PREFIX}.truth.tsv", records, transcripts)
    print(f"{len(transcripts)} transcripts, {len(records)} BAM records written to {HERE}")


if __name__ == "__main__":
    main()
