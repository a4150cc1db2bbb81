"""Parity with the published Splam 1.0.12 `score` on which junctions are skipped at N and IUPAC sites.

Needs the reference install made by `bench/setup_splam.sh` (`bench/.venv-splam/bin/splam`, or the
`SPLAM_BIN` environment variable); skipped without it. `tests/unit/test_windows.py` checks the same
rule against Splam's source without the install.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pysam
import pytest
import torch

from splamflow.cli import main
from splamflow.weights import load_model

ROOT = Path(__file__).resolve().parents[2]
SPLAM = Path(os.environ.get("SPLAM_BIN", ROOT / "bench" / ".venv-splam" / "bin" / "splam"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SPLAM.exists(), reason="Splam 1.0.12 reference not installed"),
]

# (position, letter) written into a random genome, and a junction whose splice site it hits
SITES = [
    (1000, "R", ("c", 1000, 1500, "R_plus_donor", "+")),
    (2000, "N", ("c", 2000, 2400, "N_plus_donor", "+")),
    (3499, "Y", ("c", 3000, 3500, "Y_minus_donor", "-")),
    (4600, "k", ("c", 4000, 4602, "k_plus_acceptor", "+")),
    (5100, "n", ("c", 5100, 5500, "n_minus_acceptor", "-")),
]


def test_same_junctions_scored_as_splam_at_iupac_and_n_sites(tmp_path):
    seq = list("".join(np.random.default_rng(5).choice(list("ACGT"), 6000)))
    for position, letter, _ in SITES:
        seq[position] = letter
    text = "".join(seq)
    genome = tmp_path / "g.fa"
    genome.write_text(">c\n" + "\n".join(text[i : i + 60] for i in range(0, len(text), 60)) + "\n")
    pysam.faidx(str(genome))
    rows = [site[2] for site in SITES] + [("c", 300, 700, "control", "+")]
    bed = tmp_path / "j.bed"
    bed.write_text("".join(f"{c}\t{s}\t{e}\t{n}\t1\t{strand}\n" for c, s, e, n, strand in rows))
    model = tmp_path / "m.pt"
    torch.save(load_model(None).net.state_dict(), model)  # the published parameter names
    subprocess.run([str(SPLAM), "score", "-G", str(genome), "-m", str(model), "-o", str(tmp_path / "splam"),
                    "-d", "cpu", str(bed)], check=True, capture_output=True)
    theirs = [line.split("\t") for line in (tmp_path / "splam" / "junction_score.bed").read_text().splitlines()]
    assert main(["score", str(bed), "--genome", str(genome), "--model", str(model), "-o", str(tmp_path / "o.bed"),
                 "--quiet"]) == 0
    ours = [line.split("\t") for line in (tmp_path / "o.bed").read_text().splitlines()]
    assert [r[3] for r in ours] == [r[3] for r in theirs] == [
        "R_plus_donor", "Y_minus_donor", "k_plus_acceptor", "control"]
    for a, b in zip(ours, theirs):
        assert abs(float(a[6]) - float(b[6])) < 1e-5 and abs(float(a[7]) - float(b[7])) < 1e-5
