"""Consistency of the committed real-data slice in tests/data/ (FASTA, GTF, BAM, truth table)."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import pysam
import pytest

DATA = Path(__file__).resolve().parent.parent / "data"
FASTA = DATA / "chr20_slice.fa.gz"
GTF = DATA / "chr20_slice.gtf"
BAM = DATA / "chr20_slice.bam"
TRUTH = DATA / "chr20_slice.truth.tsv"
CANONICAL = {"+": {("GT", "AG"), ("GC", "AG"), ("AT", "AC")}, "-": {("CT", "AC"), ("CT", "GC"), ("GT", "AT")}}


@pytest.fixture(scope="module")
def genome() -> str:
    with pysam.FastaFile(str(FASTA)) as fasta:
        assert list(fasta.references) == ["20"]
        return fasta.fetch("20")


def gtf_introns() -> dict[tuple[int, int, str], str]:
    """Annotated introns (0-based half-open) -> transcript id, from the committed GTF."""
    exons: dict[str, list[tuple[int, int]]] = defaultdict(list)
    strands = {}
    for line in GTF.read_text().splitlines():
        fields = line.split("\t")
        if fields[2] == "exon":
            tid = fields[8].split('transcript_id "')[1].split('"')[0]
            exons[tid].append((int(fields[3]) - 1, int(fields[4])))
            strands[tid] = fields[6]
    introns = {}
    for tid, blocks in exons.items():
        blocks.sort()
        for (_, left_end), (right_start, _) in zip(blocks, blocks[1:], strict=False):
            introns[(left_end, right_start, strands[tid])] = tid
    return introns


def test_fasta_is_bgzip_indexed_slice(genome: str) -> None:
    assert FASTA.with_name(FASTA.name + ".fai").exists()
    assert FASTA.with_name(FASTA.name + ".gzi").exists()
    assert FASTA.read_bytes()[:4] == b"\x1f\x8b\x08\x04"  # gzip member with BGZF extra field
    assert 1_500_000 <= len(genome) <= 2_000_000
    assert set(genome) <= set("ACGTN")
    assert genome.count("N") < len(genome) // 10


def test_gtf_introns_are_canonical_in_fasta(genome: str) -> None:
    introns = gtf_introns()
    assert len(introns) >= 100
    canonical = sum(
        (genome[s : s + 2], genome[e - 2 : e]) in CANONICAL[strand] for s, e, strand in introns
    )
    gt_ag = sum(
        (genome[s : s + 2], genome[e - 2 : e]) == (("GT", "AG") if strand == "+" else ("CT", "AC"))
        for s, e, strand in introns
    )
    assert gt_ag >= 0.95 * len(introns)
    assert canonical >= gt_ag
    assert all(e + 200 <= len(genome) for _, e, _ in introns)


def test_bam_sorted_indexed_and_tagged(genome: str) -> None:
    with pysam.AlignmentFile(str(BAM)) as bam:
        assert bam.header.to_dict()["HD"]["SO"] == "coordinate"
        assert "PG" not in bam.header.to_dict()
        assert bam.check_index()
        assert bam.get_reference_length("20") == len(genome)
        records = list(bam)
    starts = [r.reference_start for r in records]
    assert starts == sorted(starts)
    assert len(records) >= 2000
    names = Counter(r.query_name for r in records if not r.is_secondary)
    assert set(names.values()) == {2}  # every primary read has exactly one primary mate
    by_name = defaultdict(list)
    for r in records:
        assert r.is_paired and r.has_tag("NH") and r.has_tag("HI")
        by_name[r.query_name].append(r)
        if "N" in r.cigarstring:
            assert r.get_tag("XS") in "+-"
    for group in by_name.values():
        nh = {r.get_tag("NH") for r in group}
        assert len(nh) == 1
        assert len(group) == 2 * nh.pop()
        for r in group:
            mate = [m for m in group if m.is_read1 != r.is_read1 and m.is_secondary == r.is_secondary]
            assert len(mate) == 1
            assert r.next_reference_start == mate[0].reference_start
            assert r.mate_is_reverse == mate[0].is_reverse
    assert any(r.is_secondary for r in records)
    assert any(op == 4 for r in records for op, _ in r.cigartuples)
    assert any(op == 2 for r in records for op, _ in r.cigartuples)


def test_primary_reads_match_reference(genome: str) -> None:
    with pysam.AlignmentFile(str(BAM)) as bam:
        for r in bam:
            if r.is_secondary:
                continue
            query = r.query_sequence
            mismatches = sum(query[q] != genome[p] for q, p in r.get_aligned_pairs(matches_only=True))
            assert mismatches == 0, r.query_name


def test_truth_matches_bam_and_gtf(genome: str) -> None:
    annotated = gtf_introns()
    counts: Counter = Counter()
    with pysam.AlignmentFile(str(BAM)) as bam:
        for r in bam:
            pos = r.reference_start
            for op, n in r.cigartuples:
                if op == 3:
                    counts[(pos, pos + n, r.get_tag("XS"))] += 1
                if op in (0, 2, 3):
                    pos += n
    with open(TRUTH, newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    truth = {(int(r["start"]), int(r["end"]), r["strand"]): r for r in rows}
    assert set(truth) == set(counts)
    strands = Counter()
    for key, row in truth.items():
        assert int(row["records"]) == counts[key]
        assert row["is_annotated"] == str(int(key in annotated))
        if row["is_annotated"] == "0":
            s, e, strand = key
            assert (genome[s : s + 2], genome[e - 2 : e]) not in CANONICAL["+"] | CANONICAL["-"]
            strands[strand] += 1
    assert strands["+"] >= 10 and strands["-"] >= 10
    assert sum(r["is_annotated"] == "1" for r in rows) >= 100
