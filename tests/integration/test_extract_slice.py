"""`splam_score.py extract` end to end on the committed chr20 slice (real sequence, simulated reads).

Checks against the truth table written with the BAM, against the real genome's splice motifs, and,
when bench/setup_splam.sh has installed it, against Splam 1.0.12 itself.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pysam
import pytest

from splamflow.extract.alignments import extract_junctions
from splamflow.motifs import motif_strand

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
BAM = DATA / "chr20_slice.bam"
GTF = DATA / "chr20_slice.gtf"
GENOME = DATA / "chr20_slice.fa.gz"
SPLAM = ROOT / "bench" / ".venv-splam" / "bin" / "splam"


def extract(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "splamflow.cli", "extract", *map(str, args)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )


def bed(path: Path) -> list[list[str]]:
    """The data rows (the `#splamflow` provenance header left out)."""
    return [line.split("\t") for line in path.read_text().splitlines() if not line.startswith("#splamflow ")]


def truth_rows() -> list[dict[str, str]]:
    with open(DATA / "chr20_slice.truth.tsv") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def truth() -> dict[tuple[str, int, int, str], int]:
    return {(r["chrom"], int(r["start"]), int(r["end"]), r["strand"]): int(r["records"]) for r in truth_rows()}


def annotated() -> set[tuple[str, int, int]]:
    return {(r["chrom"], int(r["start"]), int(r["end"])) for r in truth_rows() if r["is_annotated"] == "1"}


def test_bam_matches_truth_table(tmp_path):
    out = tmp_path / "j.bed"
    done = extract(BAM, "-o", out, "--threads", "2")
    assert done.returncode == 0, done.stderr
    rows = bed(out)
    assert {(r[0], int(r[1]), int(r[2]), r[5]): int(r[4]) for r in rows} == truth()
    assert [r[3] for r in rows] == [f"JUNC{i:08d}" for i in range(1, len(rows) + 1)]
    keys = [(int(r[1]), int(r[2]), "+-.".index(r[5])) for r in rows]
    assert keys == sorted(keys)


def test_threads_give_the_same_bytes(tmp_path):
    """Worker processes by genome chunk: the same BED at 1 and 2 (CLI) and 3 (API: the CLI caps
    --threads at the CPUs) workers."""
    outputs = []
    for threads in (1, 2):
        out = tmp_path / f"t{threads}.bed"
        done = extract(BAM, "-o", out, "--genome", GENOME, "--threads", threads)
        assert done.returncode == 0, done.stderr
        outputs.append(out.read_bytes())
    assert outputs[1] == outputs[0] and len(outputs[0].splitlines()) > 100
    junctions = {t: extract_junctions(BAM, threads=t) for t in (1, 3)}
    assert junctions[3].rows() == junctions[1].rows() and junctions[3].stats == junctions[1].stats


def test_motif_inference_on_the_slice_without_xs(tmp_path):
    stripped = tmp_path / "noxs.bam"
    with pysam.AlignmentFile(str(BAM)) as src, pysam.AlignmentFile(str(stripped), "wb", template=src) as dst:
        for read in src:
            read.set_tag("XS", None)
            dst.write(read)
    pysam.index(str(stripped))
    out = tmp_path / "j.bed"
    done = extract(stripped, "-o", out, "--infer-strand", "motif", "--genome", GENOME)
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith("#splamflow strand_source=XS,ts,motif spliced_records=788 ")
    got = {(r[0], int(r[1]), int(r[2])): (r[5], int(r[4])) for r in bed(out)}
    expected: dict[tuple[str, int, int], tuple[str, int]] = {}
    with pysam.FastaFile(str(GENOME)) as fasta:
        for (contig, start, end, strand), n in truth().items():
            motif = motif_strand(fasta.fetch(contig, start, start + 2), fasta.fetch(contig, end - 2, end))
            if motif != ".":
                assert motif == strand  # the simulator's XS agrees with the genome where it can
            have = expected.get((contig, start, end), (motif, 0))
            expected[(contig, start, end)] = (motif, have[1] + n)
    assert got == expected
    resolved = sum(1 for s, _ in expected.values() if s != ".")
    assert f"resolved {resolved:,} of {len(expected):,} unstranded junctions" in done.stderr
    # the spurious and random junctions (non-canonical motifs) stay '.'; annotated ones are resolved
    # except those whose motif is not GT-AG/GC-AG/AT-AC
    resolved_keys = {k for k, (s, _) in expected.items() if s != "."}
    assert resolved_keys <= annotated() and len(resolved_keys) >= len(annotated()) - 2


def test_gtf_slice_and_intron_counts(tmp_path):
    out, counts = tmp_path / "introns.bed", tmp_path / "n.tsv"
    done = extract(GTF, "-o", out, "--intron-counts", counts)
    assert done.returncode == 0, done.stderr
    rows = bed(out)
    assert len(rows) == 155 and all(len(r) == 7 and r[4] == str(len(r[6].split(","))) for r in rows)
    in_bam = {k[:3] for k in truth()} & {(r[0], int(r[1]), int(r[2])) for r in rows}
    assert in_bam == annotated()
    lines = counts.read_text().splitlines()
    assert lines[0] == "transcript_id\tgene_id\tintrons" and len(lines) == 39
    assert sum(int(line.split("\t")[2]) for line in lines[1:]) == 157  # 155 distinct + 2 shared


@pytest.mark.skipif(not SPLAM.exists(), reason="Splam 1.0.12 not installed (bench/setup_splam.sh)")
@pytest.mark.parametrize("paired", [False, True])
def test_same_junctions_as_splam(tmp_path, paired):
    ours = tmp_path / "ours.bed"
    assert extract(BAM, "-o", ours, *(["--paired"] if paired else [])).returncode == 0
    splam = subprocess.run(
        [str(SPLAM), "extract", "-n", *(["-P"] if paired else []), "-o", str(tmp_path / "splam"), str(BAM)],
        capture_output=True, text=True, check=False,
    )
    assert splam.returncode == 0, splam.stderr[-2000:]
    theirs = bed(tmp_path / "splam" / "junction.bed")
    assert sorted(r[:3] + r[4:] for r in bed(ours)) == sorted(r[:3] + r[4:] for r in theirs)


@pytest.mark.skipif(not SPLAM.exists(), reason="Splam 1.0.12 not installed (bench/setup_splam.sh)")
def test_splam_annotation_introns_are_one_base_too_wide(tmp_path):
    ours = tmp_path / "ours.bed"
    assert extract(GTF, "-o", ours).returncode == 0
    splam = subprocess.run(
        [str(SPLAM), "extract", "-o", str(tmp_path / "splam"), str(GTF)],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )
    assert splam.returncode == 0, splam.stderr[-2000:]
    # Splam writes an intron shared by transcripts of different "bundles" once per bundle: merge
    theirs: dict[tuple[str, int, int, str], set[str]] = {}
    for r in bed(tmp_path / "splam" / "junction.bed"):
        theirs.setdefault((r[0], int(r[1]) + 1, int(r[2]) - 1, r[5]), set()).update(r[6].split(","))
    assert {k: ",".join(sorted(v)) for k, v in theirs.items()} == {
        (r[0], int(r[1]), int(r[2]), r[5]): r[6] for r in bed(ours)
    }
    per_transcript = json.loads((tmp_path / "splam" / "intron_num.txt").read_text())
    assert sum(per_transcript.values()) == 157
