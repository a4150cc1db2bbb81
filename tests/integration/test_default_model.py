"""The shipped default model: intact, documented, and scoring real biology the right way round."""

from __future__ import annotations

import csv
import json

import numpy as np

from splamflow.cli import main
from splamflow.io.files import sha256_file
from splamflow.weights import default_model_path, load_model, metadata_path
from tests.conftest import DATA


def test_shipped_model_matches_its_metadata():
    path = default_model_path()
    meta = json.loads(metadata_path(path).read_text())
    assert sha256_file(path) == meta["sha256"]
    assert meta["parameters"] == 651_715
    assert meta["heldout_evaluation"]["contigs"] == ["X"]
    assert meta["heldout_evaluation"]["junction"]["auprc"] >= 0.95
    assert meta["heldout_evaluation"]["junction"]["accuracy@0.5"] >= 0.93
    assert "20" in meta["training_data"]["sets"]["train"]["contigs"]
    assert "X" not in meta["training_data"]["sets"]["train"]["contigs"]
    loaded = load_model(None)
    assert loaded.format == "splamflow safetensors" and loaded.metadata["version"] == meta["version"]


def test_annotated_junctions_score_high_and_spurious_ones_low(tmp_path, slice_fasta, capsys):
    with open(DATA / "chr20_slice.truth.tsv") as handle:
        truth = list(csv.DictReader(handle, delimiter="\t"))
    bed = tmp_path / "truth.bed"
    bed.write_text("".join(f"{r['chrom']}\t{r['start']}\t{r['end']}\tJ{i}\t{r['records']}\t{r['strand']}\n"
                           for i, r in enumerate(truth)))
    out = tmp_path / "scores.bed"
    assert main(["score", str(bed), "--genome", str(slice_fasta), "-o", str(out)]) == 0
    assert "splam_human.safetensors (splamflow safetensors" in capsys.readouterr().err
    scores = {line.split("\t")[3]: np.array(line.split("\t")[6:8], float) for line in out.read_text().splitlines()}
    annotated = np.array([scores[f"J{i}"].min() for i, r in enumerate(truth) if r["is_annotated"] == "1"])
    spurious = np.array([scores[f"J{i}"].min() for i, r in enumerate(truth) if r["is_annotated"] == "0"])
    assert len(annotated) > 100 and len(spurious) > 50
    assert (annotated >= 0.5).mean() >= 0.9
    assert (spurious < 0.1).mean() >= 0.9
