"""Pipes and devices: inputs from FIFOs and process substitution, outputs to -, /dev/null and FIFOs.

Each pipe case is compared with the same command on regular files: the same bytes, no row lost.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pysam
import pytest

from splamflow.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
BAM, GTF, GENOME = DATA / "chr20_slice.bam", DATA / "chr20_slice.gtf", DATA / "chr20_slice.fa.gz"


def _feed(fifo: Path, data: bytes) -> threading.Thread:
    def write() -> None:
        with open(fifo, "wb") as out:
            out.write(data)

    writer = threading.Thread(target=write)
    writer.start()
    return writer


def _fifo(folder: Path, name: str, data: bytes) -> tuple[Path, threading.Thread]:
    path = folder / name
    os.mkfifo(path)
    return path, _feed(path, data)


@pytest.mark.parametrize("source", [GTF, BAM], ids=["gtf", "bam"])
def test_extract_from_a_fifo_equals_extract_from_the_file(tmp_path, source):
    assert main(["extract", str(source), "-o", str(tmp_path / "file.bed"), "--quiet"]) == 0
    fifo, writer = _fifo(tmp_path, "in", source.read_bytes())
    assert main(["extract", str(fifo), "-o", str(tmp_path / "fifo.bed"), "--quiet"]) == 0
    writer.join()
    assert (tmp_path / "fifo.bed").read_bytes() == (tmp_path / "file.bed").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo.bed", "file.bed", "in"]


def test_score_from_process_substitution_loses_no_row(tmp_path):
    assert main(["extract", str(GTF), "-o", str(tmp_path / "j.bed"), "--quiet"]) == 0
    rows = (tmp_path / "j.bed").read_bytes().splitlines(keepends=True)[:20]
    (tmp_path / "j.bed").write_bytes(b"".join(rows))
    cmd = (f"{sys.executable} -m splamflow.cli score <(cat j.bed) --genome {GENOME} -o - --quiet > piped.bed && "
           f"{sys.executable} -m splamflow.cli score j.bed --genome {GENOME} -o file.bed --quiet")
    done = subprocess.run(["bash", "-c", cmd], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    piped = (tmp_path / "piped.bed").read_bytes()
    assert len(piped.splitlines()) == 20
    assert piped == (tmp_path / "file.bed").read_bytes()


def test_clean_reads_bam_and_scores_from_fifos_and_writes_to_devices(tmp_path, capfdbinary):
    assert main(["extract", str(BAM), "-o", str(tmp_path / "j.bed"), "--quiet"]) == 0
    scores = "".join("\t".join([*line.split("\t")[:6], "0.9", "0.05" if int(line.split("\t")[4]) < 2 else "0.9"]) + "\n"
                     for line in (tmp_path / "j.bed").read_text().splitlines() if not line.startswith("#"))
    bam_fifo, bam_writer = _fifo(tmp_path, "bam", BAM.read_bytes())
    scores_fifo, scores_writer = _fifo(tmp_path, "scores", scores.encode())
    null = tmp_path / "null"  # /dev/null through a link: a regression replaces the link, never /dev/null itself
    null.symlink_to("/dev/null")
    capfdbinary.readouterr()
    assert main(["clean", str(bam_fifo), "--scores", str(scores_fifo), "-o", "-", "--discarded", str(null),
                 "--quiet"]) == 0
    bam_writer.join()
    scores_writer.join()
    (tmp_path / "kept.bam").write_bytes(capfdbinary.readouterr().out)
    with pysam.AlignmentFile(str(tmp_path / "kept.bam")) as kept, pysam.AlignmentFile(str(BAM)) as src:
        assert 0 < sum(1 for _ in kept) < sum(1 for _ in src)
    assert null.is_symlink() and stat.S_ISCHR(os.stat(null).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bam", "j.bed", "kept.bam", "null", "scores"]


def test_a_fifo_nobody_writes_to_gives_way_to_sigterm(tmp_path):
    fifo = tmp_path / "in.bed"
    os.mkfifo(fifo)
    proc = subprocess.Popen([sys.executable, "-m", "splamflow.cli", "extract", str(fifo), "-o",
                             str(tmp_path / "out.bed")], stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert err.strip() == "splam_score.py extract: interrupted by SIGTERM"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.bed"]


def test_errors_in_a_piped_input_name_the_pipe_not_its_spooled_copy(tmp_path, capfd):
    fifo, writer = _fifo(tmp_path, "in.bed", b"20\t100\tx\tJ\t1\t+\n")
    capfd.readouterr()
    assert main(["score", str(fifo), "--genome", str(GENOME), "-o", str(tmp_path / "s.bed"), "--quiet"]) == 2
    writer.join()
    err = capfd.readouterr().err
    assert err == f"splam_score.py score: error: {fifo}:1: start/end are not integers: '100', 'x'\n"


def test_clean_records_the_pipes_it_read_not_their_spooled_copies(tmp_path):
    assert main(["extract", str(BAM), "-o", str(tmp_path / "j.bed"), "--quiet"]) == 0
    scores = "".join("\t".join([*line.split("\t")[:6], "0.9", "0.05"]) + "\n"
                     for line in (tmp_path / "j.bed").read_text().splitlines() if not line.startswith("#"))
    bam_fifo, bam_writer = _fifo(tmp_path, "bam", BAM.read_bytes())
    scores_fifo, scores_writer = _fifo(tmp_path, "scores", scores.encode())
    out = tmp_path / "kept.bam"
    assert main(["clean", str(bam_fifo), "--scores", str(scores_fifo), "-o", str(out), "--stats",
                 str(tmp_path / "stats.json"), "--quiet"]) == 0
    bam_writer.join()
    scores_writer.join()
    with pysam.AlignmentFile(str(out)) as kept:
        command_line = kept.header.to_dict()["PG"][-1]["CL"]
    assert command_line.startswith(f"splam_score.py clean {bam_fifo} --scores {scores_fifo} -o {out} ")
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert (stats["input"], stats["scores"]) == (str(bam_fifo), str(scores_fifo))


def test_a_newline_in_an_output_name_cannot_forge_an_error_line(tmp_path, capfd, random_model):
    """Successful runs print paths in their summary lines: escaped, so stderr holds no forged `error:` line."""
    folder = tmp_path / "a\nerror: forged"
    folder.mkdir()
    junctions, scores = folder / "j.bed", folder / "s.bed"
    cleaned = folder / "c.bam"
    assert main(["extract", str(BAM), "-o", str(junctions)]) == 0
    assert main(["score", str(junctions), "--genome", str(GENOME), "--model", str(random_model),
                 "-o", str(scores)]) == 0
    assert main(["clean", str(BAM), "--scores", str(scores), "-o", str(cleaned), "--threshold", "0.5"]) == 0
    err = capfd.readouterr().err
    assert "forged" in err  # the names are printed, escaped
    assert not [line for line in err.splitlines() if line.startswith("error: forged")], err
