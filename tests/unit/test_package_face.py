"""The package face: `from splamflow import ...` gives the public API, documented and light to import."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import splamflow
from splamflow.cli import SUBCOMMANDS, main

DATA = Path(__file__).resolve().parents[1] / "data"


def test_every_public_name_resolves_to_a_documented_object():
    names = [n for n in splamflow.__all__ if n != "__version__"]
    assert {"load_model", "score_bed", "extract_junctions", "SplamNet", "Predictor"} <= set(names)
    for name in names:
        obj = getattr(splamflow, name)
        doc = inspect.getdoc(obj) or ""
        # a dataclass without a docstring gets its signature as __doc__: that documents nothing
        assert doc and not doc.startswith(f"{name}("), f"{name} has no docstring"
        assert name in dir(splamflow)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        splamflow.no_such_thing  # noqa: B018


def test_importing_the_package_loads_neither_torch_nor_pysam():
    code = "import sys, splamflow; print(sorted(m for m in ('torch', 'pysam', 'numpy') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_curate_and_the_window_geometry_load_no_torch():
    """curate builds windows (numpy) and never runs the network: its modules must not pull torch in."""
    code = ("import sys, splamflow.curate.cli, splamflow.curate.recipe, splamflow.windows; "
            "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_scoring_through_the_face_gives_the_command_line_scores(tmp_path):
    from splamflow import load_model, score_bed

    # the first rows of the score output recorded by the golden-bytes test (default model, CPU)
    golden = [line.split("\t") for line in (DATA / "golden" / "scores.bed").read_text().splitlines()[:3]]
    bed = tmp_path / "j.bed"
    bed.write_text("".join("\t".join(r[:6] + r[8:]) + "\n" for r in golden))
    out = tmp_path / "scores.bed"
    with open(out, "w") as handle:
        stats = score_bed(bed, DATA / "chr20_slice.fa.gz", load_model().net, handle, device="cpu")
    rows = [line.split("\t") for line in out.read_text().splitlines()]
    assert stats["scored"] == 3 and stats["genome"] == "chr20_slice.fa.gz"
    assert [r[:6] + r[8:] for r in rows] == [r[:6] + r[8:] for r in golden]
    assert np.allclose(np.array([r[6:8] for r in rows], float), np.array([r[6:8] for r in golden], float),
                       rtol=0, atol=1e-6)


def test_extraction_through_the_face_counts_the_truth_table():
    from splamflow import ExtractOptions, extract_junctions

    truth = {}
    for line in (DATA / "chr20_slice.truth.tsv").read_text().splitlines()[1:]:
        chrom, start, end, strand, _, records = line.split("\t")
        truth[(chrom, int(start), int(end), strand)] = int(records)
    junctions = extract_junctions(DATA / "chr20_slice.bam", options=ExtractOptions())
    assert {(c, s, e, strand): v[0] for c, s, e, strand, v in junctions.rows()} == truth


@pytest.mark.parametrize("command", sorted(SUBCOMMANDS))
def test_every_subcommand_help_formats(command, capsys):
    """argparse formats --help lazily: a stray '%' in a help string only fails when a user asks for it."""
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: splam_score.py " + command)
