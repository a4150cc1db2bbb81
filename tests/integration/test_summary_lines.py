"""Off a terminal, every long subcommand prints one summary line on stderr (and nothing on stdout)
unless asked for more (`train --verbose`); warnings that matter still come. Output bytes are covered by
the golden-bytes test, whose captured stderr is also off a terminal."""

from __future__ import annotations

import shutil

import pytest

from splamflow.cli import main


def _lines(capsys) -> tuple[list[str], list[str]]:
    captured = capsys.readouterr()
    return captured.out.splitlines(), captured.err.splitlines()


@pytest.fixture(scope="module")
def curated(tmp_path_factory, slice_fasta, slice_gtf):
    out = tmp_path_factory.mktemp("curated")
    assert main(["curate", "--genome", str(slice_fasta), "--annotation", str(slice_gtf),
                 "--validation-fraction", "0.2", "--seed", "3", "-o", str(out), "--quiet"]) == 0
    return out


def test_extract_bam_with_notes_is_one_line(tmp_path, slice_bam, slice_fasta, capsys):
    # unstranded junctions, --infer-strand motif and an unindexed BAM with --threads: three notes, one line
    bam = tmp_path / "unindexed.bam"
    shutil.copy(slice_bam, bam)
    argv = ["extract", str(bam), "-o", str(tmp_path / "j.bed"), "--threads", "2",
            "--infer-strand", "motif", "--genome", str(slice_fasta), "--paired"]
    assert main(argv) == 0
    out, err = _lines(capsys)
    assert out == [] and len(err) == 1, err
    assert err[0].startswith("extract: ") and "junctions written" in err[0] and "no index" in err[0]
    assert "--infer-strand motif resolved" in err[0] and "--paired:" in err[0]


def test_extract_gtf_score_clean_are_one_line_each(tmp_path, slice_gtf, slice_fasta, random_model, capsys):
    bed, scores = tmp_path / "introns.bed", tmp_path / "scores.bed"
    assert main(["extract", str(slice_gtf), "-o", str(bed)]) == 0
    assert main(["score", str(bed), "--genome", str(slice_fasta), "--model", str(random_model),
                 "-o", str(scores)]) == 0
    assert main(["clean", str(slice_gtf), "--scores", str(scores), "-o", str(tmp_path / "clean.gtf")]) == 0
    out, err = _lines(capsys)
    assert out == [] and len(err) == 3, err
    assert err[0].startswith("extract: ") and err[1].startswith("scored ") and str(random_model) in err[1]
    assert "transcripts:" in err[2] and "kept" in err[2]


def test_curate_is_one_line(curated, tmp_path, slice_fasta, slice_gtf, capsys):
    assert main(["curate", "--genome", str(slice_fasta), "--annotation", str(slice_gtf),
                 "--validation-fraction", "0.2", "--seed", "3", "-o", str(tmp_path / "c")]) == 0
    out, err = _lines(capsys)
    assert out == [] and len(err) == 1, err
    assert err[0].startswith("curate: train ") and "validation " in err[0] and "positive_mane" in err[0]


@pytest.mark.parametrize("verbose", [False, True])
def test_train_prints_its_final_line_unless_verbose(curated, tmp_path, capsys, verbose):
    argv = ["train", str(curated), "-o", str(tmp_path / "t"), "--epochs", "1", "--batch-size", "8",
            "--threads", "1", "--max-steps", "10", *(["--verbose"] if verbose else [])]
    assert main(argv) == 0
    out, err = _lines(capsys)
    # --verbose step lines go to stderr through tqdm.write (so they do not tear a bar on a terminal)
    assert len(out) == 1 and out[0].startswith("stopped after 10 steps (step 10/"), out
    steps = [line for line in err if line.startswith("epoch 1/1 step 10/") and " lr " in line]
    assert steps == err and len(err) == (1 if verbose else 0), err


def test_train_verbose_details_on_stderr_final_line_on_stdout(curated, tmp_path, capsys):
    # a stopped run, then a --verbose one that resumes and ends the epoch: 235 samples / 16 = 15 steps
    argv = ["train", str(curated), "-o", str(tmp_path / "t"), "--epochs", "1", "--batch-size", "16",
            "--threads", "1"]
    assert main([*argv, "--max-steps", "2"]) == 0
    capsys.readouterr()
    assert main([*argv, "--verbose"]) == 0
    out, err = _lines(capsys)
    assert len(out) == 1 and out[0].startswith("model written to "), out
    assert err[0].startswith("resuming from step 2/15 (") and err[1].startswith("epoch 1/1 step 10/15 lr "), err
    assert err[2].startswith('epoch summary: {"epoch": 1, "step": 15, ') and len(err) == 3, err
