"""`splam_score.py score` end to end on the committed real chr20 slice."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pysam
import pytest

from splamflow.cli import main
from splamflow.score.predictor import Predictor
from splamflow.weights import load_model
from splamflow.windows import junction_codes, junction_windows


def _gtf_introns(gtf):
    from splamflow.io.annotation import read_transcripts

    rows = set()
    for tx in read_transcripts(gtf):
        for s, e in tx.introns:
            rows.add((tx.contig, s, e, tx.strand))
    return sorted(rows)


@pytest.fixture(scope="module")
def junction_bed(tmp_path_factory, slice_gtf):
    """Real annotated introns of the slice plus rows exercising every skip reason and edge."""
    introns = _gtf_introns(slice_gtf)[:40]
    lines = [f"{c}\t{s}\t{e}\tJ{i}\t{i}\t{st}\tTX{i}" for i, (c, s, e, st) in enumerate(introns)]
    lines.insert(3, lines[2].replace("\tJ2\t", "\tJ2dup\t"))  # same junction twice: scored twice
    lines += [
        "20\t1000000\t1000500\tnostrand\t1\t.\tT",
        "chrUn\t1000\t2000\tnocontig\t1\t+\tT",
        "20\t100\t5000\tbefore0\t1\t+\tT",
        "20\t1999000\t1999900\tpastend\t1\t+\tT",  # acceptor window ends at 2,000,100 > 2,000,000
        "20\t1999000\t1999800\tatend\t1\t+\tT",  # acceptor window ends exactly at the contig end
        "20\t30000\t31000\tsiteN\t1\t-\tT",  # the first 60 kb of chr20 are N
    ]
    p = tmp_path_factory.mktemp("score") / "junctions.bed"
    p.write_text("\n".join(lines) + "\n")
    return p, introns


def _run(*argv):
    return main([str(a) for a in argv])


def test_scores_every_scorable_row_in_input_order(tmp_path, junction_bed, slice_fasta, random_model):
    bed, introns = junction_bed
    out, stats = tmp_path / "scores.bed", tmp_path / "stats.json"
    assert _run("score", bed, "--genome", slice_fasta, "--model", random_model, "-o", out, "--stats", stats,
                "--quiet") == 0
    rows = [line.split("\t") for line in out.read_text().splitlines()]
    names = [r[3] for r in rows]
    assert names[:4] == ["J0", "J1", "J2", "J2dup"]
    assert names[-1] == "atend"
    assert len(rows) == len(introns) + 2
    assert all(len(r) == 9 for r in rows)  # 8 columns + the 7th input column carried over
    assert rows[0][8] == "TX0"
    assert rows[2][6:8] == rows[3][6:8]
    s = json.loads(stats.read_text())
    assert s["skipped"] == {"strand": 1, "contig": 1, "bounds": 2, "site_n": 1}
    assert s["scored"] == len(rows) and s["rows"] == len(rows) + 5
    assert s["computed"] == len(rows) - 1  # the duplicate is computed once


def test_scores_match_a_direct_forward_pass(tmp_path, junction_bed, slice_fasta, random_model):
    bed, introns = junction_bed
    out = tmp_path / "scores.bed"
    _run("score", bed, "--genome", slice_fasta, "--model", random_model, "-o", out, "--quiet")
    rows = [line.split("\t") for line in out.read_text().splitlines()][:5]
    net = load_model(random_model).net
    fasta = pysam.FastaFile(str(slice_fasta))
    for r in rows:
        w = junction_windows(int(r[1]), int(r[2]), r[5])
        codes = junction_codes(fasta.fetch(r[0], *w.donor), fasta.fetch(r[0], *w.acceptor), w.reverse)
        import torch

        from splamflow.windows import one_hot

        with torch.no_grad():
            probs = net(torch.from_numpy(one_hot(codes[None])))
        assert abs(float(r[6]) - probs[0, 2, 200].item()) < 1e-5
        assert abs(float(r[7]) - probs[0, 1, 600].item()) < 1e-5


def test_chunked_scoring_gives_identical_bytes(tmp_path, junction_bed, slice_fasta, random_model):
    bed, _ = junction_bed
    a, b = tmp_path / "a.bed", tmp_path / "b.bed"
    _run("score", bed, "--genome", slice_fasta, "--model", random_model, "-o", a, "--quiet")
    _run("score", bed, "--genome", slice_fasta, "--model", random_model, "-o", b, "--quiet", "--chunk-size", "7")
    assert a.read_bytes() == b.read_bytes()
    # another batch size runs another compiled graph: same scores to float rounding, not the same bytes
    c = tmp_path / "c.bed"
    _run("score", bed, "--genome", slice_fasta, "--model", random_model, "-o", c, "--quiet", "--batch-size", "5")
    fa = np.array([line.split("\t")[6:8] for line in a.read_text().splitlines()], float)
    fc = np.array([line.split("\t")[6:8] for line in c.read_text().splitlines()], float)
    assert np.abs(fa - fc).max() < 1e-5
    # and scoring the file in two halves, then concatenating, gives the same bytes (Nextflow scatter/gather)
    lines = bed.read_text().splitlines(keepends=True)
    parts = []
    for i, chunk in enumerate((lines[:17], lines[17:])):
        p = tmp_path / f"part{i}.bed"
        p.write_text("".join(chunk))
        o = tmp_path / f"part{i}.scores.bed"
        _run("score", p, "--genome", slice_fasta, "--model", random_model, "-o", o, "--quiet")
        parts.append(o.read_bytes())
    assert b"".join(parts) == a.read_bytes()


def test_bf16_scores_agree_with_fp32(tmp_path, junction_bed, slice_fasta, random_model):
    bed, _ = junction_bed
    a, b = tmp_path / "fp32.bed", tmp_path / "bf16.bed"
    _run("score", bed, "--genome", slice_fasta, "--model", random_model, "-o", a, "--quiet")
    _run("score", bed, "--genome", slice_fasta, "--model", random_model, "-o", b, "--quiet", "--precision", "bf16")
    fa = np.array([[float(x) for x in line.split("\t")[6:8]] for line in a.read_text().splitlines()])
    fb = np.array([[float(x) for x in line.split("\t")[6:8]] for line in b.read_text().splitlines()])
    assert fa.shape == fb.shape
    assert np.abs(fa - fb).max() < 0.05


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: (d / "j.bed").write_text("20\t10\n"), "j.bed:1: BED row has 2 tab-separated columns"),
        (lambda d: (d / "j.bed").mkdir(), "junction BED is a folder, not a file"),
    ],
)
def test_bad_bed_is_one_line_exit_2(tmp_path, setup, message, slice_fasta, random_model):
    setup(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "splamflow.cli", "score", str(tmp_path / "j.bed"), "--genome", str(slice_fasta),
         "--model", str(random_model), "-o", str(tmp_path / "out.bed")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert message in lines[-1]  # the error is the last line, on its own
    assert sum("error:" in line for line in lines) == 1
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out.bed").exists()


def test_fasta_without_index_is_indexed_and_corrupt_model_refused(tmp_path, junction_bed, random_model, capsys):
    bed, _ = junction_bed
    fa = tmp_path / "genome.fa"
    fa.write_text(">20\nACGT\n")
    assert _run("score", bed, "--genome", fa, "--model", random_model, "-o", tmp_path / "o.bed", "--quiet") == 0
    assert (tmp_path / "genome.fa.fai").read_text() == "20\t4\t4\t4\t5\n"  # as `samtools faidx` writes it
    (tmp_path / "o.bed").unlink()
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    assert _run("score", bed, "--genome", fa, "--model", bad, "-o", tmp_path / "o.bed") == 2
    assert "bad.pt: model file is a damaged zip archive" in capsys.readouterr().err
    assert not (tmp_path / "o.bed").exists()


def test_device_cuda_without_gpu_is_a_clear_error(tmp_path, junction_bed, slice_fasta, random_model, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    bed, _ = junction_bed
    assert _run("score", bed, "--genome", slice_fasta, "--model", random_model, "-o", tmp_path / "o.bed",
                "--device", "cuda") == 2
    assert "no CUDA device is available" in capsys.readouterr().err


def test_predictor_pads_batches_so_batch_mates_do_not_matter(slice_fasta, random_model):
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 4, size=(9, 800)).astype(np.uint8)
    p = Predictor(load_model(random_model).net, device="cpu")
    d1, a1 = p.predict_padded(codes, 4)
    d2, a2 = p.predict_padded(codes[5:], 4)
    assert np.array_equal(d1[5:], d2) and np.array_equal(a1[5:], a2)


def test_genome_without_any_of_the_contigs_is_an_error(tmp_path, slice_fasta, random_model, capsys):
    bed = tmp_path / "chr.bed"
    bed.write_text("chr20\t100000\t101000\tJ\t1\t+\nchr20\t200000\t201000\tJ\t1\t-\n")
    out = tmp_path / "o.bed"
    assert _run("score", bed, "--genome", slice_fasta, "--model", random_model, "-o", out) == 2
    assert "none of the 2 junctions is on a contig of" in capsys.readouterr().err
    assert not out.exists()


def test_repeats_across_chunks_are_scored_once_with_the_same_bytes(tmp_path, junction_bed, slice_fasta,
                                                                   random_model):
    """Copies of a few junctions spread over many chunks: each distinct junction is computed once in
    the whole input, and every copy gets the bytes an unduplicated run gives it."""
    bed, introns = junction_bed
    base = [line for line in bed.read_text().splitlines(keepends=True) if line.startswith("20\t")][:5]
    skipped = "20\t30000\t31000\tsiteN\t1\t-\tT\n"  # a skipped junction repeated too
    repeated = tmp_path / "repeated.bed"
    repeated.write_text("".join(base[i % 5] if i % 7 else skipped for i in range(300)))
    single = tmp_path / "single.bed"
    single.write_text("".join(base))
    out, stats, one = tmp_path / "rep.scores.bed", tmp_path / "rep.json", tmp_path / "single.scores.bed"
    assert _run("score", repeated, "--genome", slice_fasta, "--model", random_model, "-o", out, "--stats", stats,
                "--chunk-size", "8", "--quiet") == 0
    _run("score", single, "--genome", slice_fasta, "--model", random_model, "-o", one, "--quiet")
    s = json.loads(stats.read_text())
    distinct = {tuple(line.split("\t")[i] for i in (0, 1, 2, 5)) for line in base}  # J2 and J2dup are one
    assert s["rows"] == 300 and s["computed"] == len(distinct) == 4
    assert s["skipped"]["site_n"] == sum(1 for i in range(300) if i % 7 == 0)
    by_name = {line.split("\t")[3]: line for line in one.read_text().splitlines(keepends=True)}
    expected = [by_name[base[i % 5].split("\t")[3]] for i in range(300) if i % 7]
    assert out.read_text().splitlines(keepends=True) == expected


def test_a_full_memory_of_repeats_still_gives_the_same_bytes(tmp_path, junction_bed, slice_fasta, random_model,
                                                              monkeypatch):
    """Past the remembered-junction limit, repeats are scored again per chunk: same bytes, more work."""
    from splamflow.score import stream

    bed, _ = junction_bed
    lines = [line for line in bed.read_text().splitlines(keepends=True) if line.startswith("20\t")][:6]
    repeated = tmp_path / "repeated.bed"
    repeated.write_text("".join(lines * 10))
    a, b, stats = tmp_path / "a.bed", tmp_path / "b.bed", tmp_path / "b.json"
    _run("score", repeated, "--genome", slice_fasta, "--model", random_model, "-o", a, "--chunk-size", "4", "--quiet")
    monkeypatch.setattr(stream, "REMEMBERED_JUNCTIONS", 2)
    monkeypatch.setattr(stream._Seen.__init__, "__defaults__", (2,))
    _run("score", repeated, "--genome", slice_fasta, "--model", random_model, "-o", b, "--chunk-size", "4", "--quiet",
         "--stats", stats)
    assert a.read_bytes() == b.read_bytes()
    assert json.loads(stats.read_text())["computed"] > 6
