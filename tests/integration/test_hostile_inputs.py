"""Hostile inputs, end to end through the CLI: every one is refused the same way.

For each case: exit code 2, exactly one line on stderr (htslib's own messages included: stderr is
captured at the file-descriptor level), no traceback, nothing left behind in the input and output
folders, and outputs that existed before are untouched (same bytes, same mtime).

Two tables. `SPECS` holds one valid invocation per subcommand; `_generic_cases` derives from it the
mistakes every subcommand must refuse (a missing input, an output that cannot go where it is asked,
a negative number), so a new subcommand only needs its SPECS entry (`test_every_subcommand_is_covered`
fails without one). `CASES` holds the specific hostile inputs (clashing outputs, damaged files, files
that are not what their name says, model files that would run code, ...).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam
import pytest
import torch

from splamflow.cli import SUBCOMMANDS, main
from splamflow.model import SplamNet
from tests import hostile
from tests.equivalence.published_splam import randomized

DATA = Path(__file__).resolve().parents[1] / "data"
SENTINEL = b"an output of an earlier run, which must survive a failed run\n"


@pytest.fixture(scope="module")
def material(tmp_path_factory, random_model) -> Path:
    """Valid inputs: the committed slice, a junction and a scores BED, a model, tiny curated sets."""
    m = tmp_path_factory.mktemp("material")
    for name in ("chr20_slice.bam", "chr20_slice.bam.bai", "chr20_slice.fa.gz", "chr20_slice.fa.gz.fai",
                 "chr20_slice.fa.gz.gzi", "chr20_slice.gtf"):
        shutil.copy(DATA / name, m / name)
    shutil.copy(random_model, m / "model.safetensors")
    shutil.copy(random_model.with_suffix(".json"), m / "model.json")
    torch.save(randomized(seed=1).state_dict(), m / "state.pt")
    assert main(["extract", str(m / "chr20_slice.bam"), "-o", str(m / "junctions.bed")]) == 0
    with open(m / "junctions.bed") as src, open(m / "scores.bed", "w") as out:
        for line in src:
            if line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            out.write("\t".join([*f[:6], "0.9", "0.05" if int(f[4]) < 2 else "0.9"]) + "\n")
    curated = m / "curated"
    curated.mkdir()
    rng = np.random.default_rng(0)
    for name in ("train", "test"):
        np.savez_compressed(
            curated / f"{name}.npz", codes=rng.integers(0, 4, (8, 800)).astype(np.uint8),
            label=np.array([0, 1] * 4, np.uint8), category=np.array(["negative_random", "positive_mane"] * 4),
            contig=np.array(["20"] * 8), start=np.arange(8) * 1000 + 100_000, end=np.arange(8) * 1000 + 100_500,
            strand=np.array(["+"] * 8),
        )
    return m


@dataclass(frozen=True)
class Case:
    """One hostile invocation. Paths in `argv` use {m} (material), {i} (inputs) and {o} (outputs)."""

    id: str
    argv: str
    message: str
    setup: Callable[[Path, Path, Path], object] | None = None  # (material, in, out)
    existing: tuple[str, ...] = ()  # outputs that exist before the run (in {o}); must stay untouched
    immutable: tuple[str, ...] = ()  # paths made immutable (chattr +i) for the run; needs root
    subprocess: bool = False  # for inputs that crash the interpreter when mishandled


@dataclass(frozen=True)
class Spec:
    """A valid invocation of a subcommand: {input} is its main input, {output} its output (file or folder)."""

    argv: str
    input: str
    output: str
    folder_output: bool = False
    number: str | None = "--threads"  # an integer option that must not be negative (None: it has none)


SPECS = {
    "extract": Spec("extract {input} -o {output}", "{m}/chr20_slice.bam", "{o}/junctions.bed"),
    "score": Spec("score {input} --genome {m}/chr20_slice.fa.gz --model {m}/model.safetensors -o {output}",
                  "{m}/junctions.bed", "{o}/scores.bed"),
    "clean": Spec("clean {input} --scores {m}/scores.bed -o {output} --discarded {o}/discarded.bam",
                  "{m}/chr20_slice.bam", "{o}/kept.bam"),
    "curate": Spec("curate --genome {input} --annotation {m}/chr20_slice.gtf -o {output}",
                   "{m}/chr20_slice.fa.gz", "{o}/curated", folder_output=True, number="--max-intron"),
    "train": Spec("train {input} -o {output} --epochs 1", "{m}/curated", "{o}/model", folder_output=True,
                  number="--batch-size"),
    "evaluate": Spec("evaluate {input} --model {m}/model.safetensors -o {output}", "{m}/curated/test.npz",
                     "{o}/report", folder_output=True, number="--batch-size"),
    "convert-model": Spec("convert-model {input} -o {output}", "{m}/state.pt", "{o}/m.safetensors", number=None),
    "prepare-genome": Spec("prepare-genome {input} -o {output}", "{m}/chr20_slice.fa.gz", "{o}/g.fa.gz", number=None),
    "unite": Spec("unite {input} -o {output}", "{m}/junctions.bed", "{o}/union", folder_output=True,
                  number="--chunk-size"),
    "project": Spec("project {input} --union {m}/junctions.bed --scores {m}/scores.bed -o {output}",
                    "{m}/junctions.bed", "{o}/s.bed", number=None),
}


def _generic_cases() -> list[Case]:
    cases = []
    for name, spec in SPECS.items():
        def argv(inp: str = spec.input, out: str = spec.output, extra: str = "", spec: Spec = spec) -> str:
            return spec.argv.format(input=inp, output=out, m="{m}", o="{o}", i="{i}") + extra

        cases.append(Case(f"{name}-missing-input", argv(inp="{i}/missing"), "does not exist"))
        if spec.folder_output:
            cases.append(Case(f"{name}-output-folder-is-a-file", argv(out="{o}/afile"), "the output folder is a file",
                              existing=("afile",)))
        else:
            cases.append(Case(f"{name}-output-in-missing-folder", argv(out="{o}/nodir/out"),
                              "output folder does not exist"))
            cases.append(Case(f"{name}-output-is-a-folder", argv(out="{o}/afolder"), "is a folder",
                              setup=lambda m, i, o: (o / "afolder").mkdir()))
            cases.append(Case(f"{name}-output-is-the-input", argv(out=spec.input), "is the same file as the"))
        if spec.number:
            cases.append(Case(f"{name}-negative-number", argv(extra=f" {spec.number} -3"),
                              f"argument {spec.number}: -3 is negative"))
    return cases


def _write(path: str, data: bytes) -> Callable[[Path, Path, Path], None]:
    def setup(m: Path, i: Path, o: Path) -> None:
        Path(path.format(m=m, i=i, o=o)).write_bytes(data)

    return setup


def _bad_bed_and_corrupt_model(m: Path, i: Path, o: Path) -> None:
    rows = (m / "junctions.bed").read_text() * 8
    (i / "j.bed").write_text(rows + "20\t10\n")
    (i / "bad.pt").write_bytes(b"PK\x03\x04 not really a zip")


def _model_with_sidecar(sidecar: bytes | None, folder: bool = False):
    def setup(m: Path, i: Path, o: Path) -> None:
        shutil.copy(m / "model.safetensors", i / "m.safetensors")
        if folder:
            (i / "m.json").mkdir()
        else:
            (i / "m.json").write_bytes(sidecar)

    return setup


def _nan_model(m: Path, i: Path, o: Path) -> None:
    state = SplamNet().state_dict()
    state["conv1.weight"][0, 0, 0] = float("nan")
    torch.save(state, i / "nan.pt")


def _malicious_model(m: Path, i: Path, o: Path) -> None:
    (i / "victim.txt").write_text("a file the model must not touch\n")
    hostile.malicious_torchscript(i / "evil.pt", i / "victim.txt")


def _cram_and_wrong_reference(name: str = "s.cram") -> Callable[[Path, Path, Path], None]:
    """A CRAM of the slice (named `name`: the content, not the name, makes it a CRAM) and a wrong reference."""
    def setup(m: Path, i: Path, o: Path) -> None:
        pysam.view("-C", "-T", str(m / "chr20_slice.fa.gz"), "-o", str(i / name), str(m / "chr20_slice.bam"),
                   catch_stdout=False)
        hostile.wrong_reference(m / "chr20_slice.fa.gz", i / "wrong.fa")
    return setup


def _truncated_scores(m: Path, i: Path, o: Path) -> None:
    data = gzip.compress((m / "scores.bed").read_bytes() * 20)
    (i / "s.bed.gz").write_bytes(data[: len(data) // 2])


def _duplicate_records(m: Path, i: Path, o: Path) -> None:
    (i / "dup.fa").write_text(">20\n" + "ACGT" * 100 + "\n>21\n" + "A" * 50 + "\n>20\n" + "C" * 60 + "\n")
    pysam.faidx(str(i / "dup.fa"))


def _rewrapped_after_indexing(m: Path, i: Path, o: Path) -> None:
    seq = "ACGT" * 500
    (i / "g.fa").write_text(">20\n" + "\n".join(seq[k : k + 60] for k in range(0, len(seq), 60)) + "\n")
    pysam.faidx(str(i / "g.fa"))
    (i / "g.fa").write_text(">20\n" + "\n".join(seq[k : k + 80] for k in range(0, len(seq), 80)) + "\n")


def _bam_with_stem_index(m: Path, i: Path, o: Path) -> None:
    shutil.copy(m / "chr20_slice.bam", i / "s.bam")
    pysam.index(str(i / "s.bam"), str(i / "s.bai"))


CASES = [
    Case("unite-bed-row-too-short", "unite {m}/junctions.bed {i}/j.bed -o {o}/union",
         "j.bed:1: BED row has 2 tab-separated columns", setup=_write("{i}/j.bed", b"20\t10\n")),
    Case("project-row-not-in-the-union", "project {i}/j.bed --union {m}/junctions.bed --scores {m}/scores.bed "
         "-o {o}/s.bed", "j.bed:1: junction 20:5-10 (+) is not in the union",
         setup=_write("{i}/j.bed", b"20\t5\t10\tJ\t1\t+\n"), existing=("s.bed",)),
    Case("project-scores-of-another-union", "project {m}/junctions.bed --union {i}/u.bed --scores {m}/scores.bed "
         "-o {o}/s.bed", "is not in the union junctions", setup=_write("{i}/u.bed", b"20\t5\t10\tJ\t1\t+\n")),
    # issue 10 point 2: an index the tool writes replaced the discarded BAM
    Case("clean-discarded-is-the-index-of-output",
         "clean {m}/chr20_slice.bam --scores {m}/scores.bed -o {o}/k.bam --discarded {o}/k.bam.bai",
         "--discarded and index of -o name the same file"),
    Case("clean-discarded-is-the-input-index-named-without-bam",
         "clean {i}/s.bam --scores {m}/scores.bed -o {o}/k.bam --discarded {i}/s.bai",
         "--discarded is the same file as the input index", setup=_bam_with_stem_index),
    # point 3: --stats onto the scores
    Case("score-stats-is-the-output",
         "score {m}/junctions.bed --genome {m}/chr20_slice.fa.gz --model {m}/model.safetensors -o {o}/out.bed "
         "--stats {o}/out.bed", "-o and --stats name the same file", existing=("out.bed",)),
    # point 4: one output unwritable, the others must not be replaced
    Case("clean-output-is-a-folder-discarded-untouched",
         "clean {m}/chr20_slice.bam --scores {m}/scores.bed -o {o}/afolder --discarded {o}/d.bam",
         "-o is a folder", setup=lambda m, i, o: (o / "afolder").mkdir(), existing=("d.bam",)),
    Case("clean-stats-in-missing-folder-outputs-untouched",
         "clean {m}/chr20_slice.bam --scores {m}/scores.bed -o {o}/k.bam --discarded {o}/d.bam "
         "--stats {o}/nodir/s.json", "output folder does not exist", existing=("k.bam", "d.bam")),
    Case("extract-intron-counts-in-missing-folder-output-untouched",
         "extract {m}/chr20_slice.gtf -o {o}/j.bed --intron-counts {o}/nodir/x.tsv",
         "output folder does not exist", existing=("j.bed",)),
    Case("clean-immutable-output-discarded-untouched",
         "clean {m}/chr20_slice.bam --scores {m}/scores.bed -o {o}/k.bam --discarded {o}/d.bam",
         "-o exists and cannot be replaced", existing=("k.bam", "d.bam"), immutable=("{o}/k.bam",)),
    # point 6: not FASTA (pysam's FastaFile aborts with exit 139 on these)
    Case("score-genome-is-a-bam",
         "score {m}/junctions.bed --genome {i}/g.fa --model {m}/model.safetensors -o {o}/s.bed",
         "not a FASTA file: this is a BAM file", subprocess=True,
         setup=lambda m, i, o: hostile.bam_named_fasta(m / "chr20_slice.bam", m / "chr20_slice.fa.gz.fai",
                                                       i / "g.fa")),
    Case("extract-motif-genome-is-a-bam",
         "extract {m}/chr20_slice.bam -o {o}/j.bed --infer-strand motif --genome {i}/g.fa",
         "not a FASTA file: this is a BAM file", subprocess=True, existing=("j.bed",),
         setup=lambda m, i, o: hostile.bam_named_fasta(m / "chr20_slice.bam", m / "chr20_slice.fa.gz.fai",
                                                       i / "g.fa")),
    # point 1 and 8: model files
    Case("score-torchscript-that-runs-code",
         "score {m}/junctions.bed --genome {m}/chr20_slice.fa.gz --model {i}/evil.pt -o {o}/s.bed",
         "TorchScript archive refused", setup=_malicious_model),
    Case("score-nan-weights",
         "score {m}/junctions.bed --genome {m}/chr20_slice.fa.gz --model {i}/nan.pt -o {o}/s.bed",
         "conv1.weight holds NaN or infinite weights", setup=_nan_model),
    # point 9: tracebacks that were
    Case("score-output-in-proc", "score {m}/junctions.bed --genome {m}/chr20_slice.fa.gz -o /proc/s.bed",
         "cannot write in the output folder of -o"),
    Case("extract-immutable-output-folder", "extract {m}/chr20_slice.bam -o {o}/j.bed",
         "cannot write in the output folder of -o", immutable=("{o}",)),
    Case("extract-truncated-bam-with-eof-block", "extract {i}/cut.bam -o {o}/j.bed", "truncated file",
         setup=lambda m, i, o: hostile.truncated_bam(m / "chr20_slice.bam", i / "cut.bam")),
    Case("score-metadata-is-a-list",
         "score {m}/junctions.bed --genome {m}/chr20_slice.fa.gz --model {i}/m.safetensors -o {o}/s.bed",
         "model metadata must be a JSON object, not list", setup=_model_with_sidecar(b"[1, 2]\n")),
    Case("score-metadata-is-a-folder",
         "score {m}/junctions.bed --genome {m}/chr20_slice.fa.gz --model {i}/m.safetensors -o {o}/s.bed",
         "model metadata is a folder", setup=_model_with_sidecar(None, folder=True)),
    Case("score-metadata-not-utf8",
         "score {m}/junctions.bed --genome {m}/chr20_slice.fa.gz --model {i}/m.safetensors -o {o}/s.bed",
         "model metadata is not UTF-8 text", setup=_model_with_sidecar(b'{"version": "\xff"}')),
    Case("score-threads-negative",
         "score {m}/junctions.bed --genome {m}/chr20_slice.fa.gz -o {o}/s.bed --threads -3",
         "argument --threads: -3 is negative"),
    Case("clean-scores-truncated-gzip",
         "clean {m}/chr20_slice.bam --scores {i}/s.bed.gz -o {o}/k.bam --discarded {o}/d.bam",
         "damaged or truncated gzip file", setup=_truncated_scores, existing=("k.bam",)),
    # point 11
    Case("score-invalid-utf8-name",
         "score {i}/j.bed --genome {m}/chr20_slice.fa.gz -o {o}/s.bed", "j.bed:1: BED is not UTF-8 text",
         setup=_write("{i}/j.bed", b"20\t100000\t101000\tJ\xe9\t1\t+\n")),
    Case("score-duplicate-fasta-records",
         "score {m}/junctions.bed --genome {i}/dup.fa -o {o}/s.bed", "the FASTA holds sequence '20'",
         setup=_duplicate_records),
    Case("score-fasta-rewrapped-after-indexing",
         "score {m}/junctions.bed --genome {i}/g.fa -o {o}/s.bed",
         "the lines of sequence '20' are not where its .fai index says", setup=_rewrapped_after_indexing),
    Case("score-plain-gzip-fasta",
         "score {m}/junctions.bed --genome {i}/g.fa.gz -o {o}/s.bed", "plain gzip",
         setup=lambda m, i, o: hostile.plain_gzip_fasta(m / "chr20_slice.fa.gz", i / "g.fa.gz")),
    Case("extract-cram-wrong-reference",
         "extract {i}/s.cram --reference {i}/wrong.fa -o {o}/j.bed",
         "is not the FASTA this CRAM was compressed against: sequence '20' has MD5", setup=_cram_and_wrong_reference()),
    Case("extract-misnamed-cram-wrong-reference",
         "extract {i}/dataset_1.dat --reference {i}/wrong.fa -o {o}/j.bed",
         "is not the FASTA this CRAM was compressed against: sequence '20' has MD5",
         setup=_cram_and_wrong_reference("dataset_1.dat")),
    Case("clean-misnamed-cram-wrong-reference",
         "clean {i}/s.bam --reference {i}/wrong.fa --scores {m}/scores.bed -o {o}/kept.bam --discarded {o}/d.bam",
         "is not the FASTA this CRAM was compressed against: sequence '20' has MD5",
         setup=_cram_and_wrong_reference("s.bam")),
    Case("score-metadata-sha256-of-other-weights",
         "score {m}/junctions.bed --genome {m}/chr20_slice.fa.gz --model {i}/m.safetensors -o {o}/s.bed",
         "the sidecar belongs to other weights",
         setup=_model_with_sidecar(json.dumps({"version": "x", "sha256": "0" * 64}).encode())),
    Case("score-bed-checked-before-the-model",
         "score {i}/j.bed --genome {m}/chr20_slice.fa.gz --model {i}/bad.pt -o {o}/s.bed",
         "BED row has 2 tab-separated columns", setup=_bad_bed_and_corrupt_model),
    # device and precision are checked before any work: the error is the only line
    Case("score-fp16-on-cpu",
         "score {m}/junctions.bed --genome {m}/chr20_slice.fa.gz --model {m}/model.safetensors -o {o}/s.bed "
         "--device cpu --precision fp16", "--precision fp16 needs a GPU", existing=("s.bed",)),
    Case("score-device-unavailable",
         "score {m}/junctions.bed --genome {m}/chr20_slice.fa.gz -o {o}/s.bed --device mps",
         "--device mps: no Apple MPS device is available"),
    Case("evaluate-device-unavailable", "evaluate {m}/curated/test.npz -o {o}/r --device mps",
         "--device mps: no Apple MPS device is available"),
    Case("train-batch-size-zero", "train {m}/curated -o {o}/t --batch-size 0",
         "argument --batch-size: must be at least 1"),
    Case("evaluate-not-a-curated-set", "evaluate {m}/junctions.bed --model {m}/model.safetensors -o {o}/r",
         "cannot read curated set"),
    Case("evaluate-record-without-model", "evaluate {m}/curated/test.npz -o {o}/r --record-in-metadata",
         "--record-in-metadata needs --model"),
    # point 10's options, where they do not apply
    Case("clean-motif-without-genome",
         "clean {m}/chr20_slice.bam --scores {m}/scores.bed -o {o}/k.bam --discarded {o}/d.bam --infer-strand motif",
         "--infer-strand motif needs --genome"),
    Case("clean-motif-on-annotation",
         "clean {m}/chr20_slice.gtf --scores {m}/scores.bed -o {o}/c.gtf --infer-strand motif "
         "--genome {m}/chr20_slice.fa.gz", "--infer-strand motif applies to BAM input only"),
    Case("clean-report-in-missing-folder",
         "clean {m}/chr20_slice.gtf --scores {m}/scores.bed -o {o}/c.gtf --report {o}/nodir/r.tsv",
         "output folder does not exist", existing=("c.gtf",)),
    # issue 21: scores stranded by another rule than clean is asked to use
    Case("clean-scores-of-another-strand-source",
         "clean {m}/chr20_slice.bam --scores {i}/s.bed -o {o}/k.bam --discarded {o}/d.bam",
         "the scores' junctions were stranded by XS,ts,motif but this clean would key records by XS,ts",
         existing=("k.bam",), setup=lambda m, i, o: (i / "s.bed").write_text(
             "#splamflow strand_source=XS,ts,motif spliced_records=1 unstranded_records=1\n"
             + (m / "scores.bed").read_text())),
    Case("extract-genome-with-infer-strand-none",
         "extract {m}/chr20_slice.bam -o {o}/j.bed --infer-strand none --genome {m}/chr20_slice.fa.gz",
         "--genome is not used with --infer-strand none"),
    # issue 21: convert-model
    Case("convert-model-already-safetensors", "convert-model {m}/model.safetensors -o {o}/m.safetensors",
         "already a safetensors model: pass it to --model as it is", existing=("m.safetensors", "m.json")),
    Case("convert-model-not-a-model", "convert-model {m}/chr20_slice.gtf -o {o}/m.safetensors", "not a model file"),
    Case("convert-model-wrong-architecture", "convert-model {i}/other.pt -o {o}/m.safetensors",
         "not a Splam model: parameter names differ",
         setup=lambda m, i, o: torch.save(torch.nn.Linear(4, 2).state_dict(), i / "other.pt")),
    Case("convert-model-torchscript-that-runs-code", "convert-model {i}/evil.pt -o {o}/m.safetensors",
         "TorchScript archive refused", setup=_malicious_model),
    Case("convert-model-nan-weights", "convert-model {i}/nan.pt -o {o}/m.safetensors",
         "conv1.weight holds NaN or infinite weights", setup=_nan_model, existing=("m.safetensors",)),
    Case("convert-model-metadata-is-the-input", "convert-model {i}/m.json -o {i}/m.safetensors",
         "metadata of -o is the same file as the input model",
         setup=lambda m, i, o: shutil.copy(m / "state.pt", i / "m.json")),
    Case("convert-model-bad-version", "convert-model {m}/state.pt -o {o}/m.safetensors --version ../x",
         "argument --version: '../x': use 1-80 letters"),
    Case("prepare-genome-bam", "prepare-genome {m}/chr20_slice.bam -o {o}/g.fa.gz",
         "not a FASTA file: this is a BAM file", existing=("g.fa.gz",)),
    Case("prepare-genome-not-fasta", "prepare-genome {m}/chr20_slice.gtf -o {o}/g.fa",
         "does not start with a '>' header line"),
    Case("prepare-genome-truncated-gzip", "prepare-genome {i}/g.fa.gz -o {o}/g.fa.gz", "cannot read FASTA",
         setup=lambda m, i, o: (i / "g.fa.gz").write_bytes(
             gzip.compress(gzip.decompress((m / "chr20_slice.fa.gz").read_bytes()))[:100_000])),
    Case("prepare-genome-ragged-lines", "prepare-genome {i}/g.fa -o {o}/g.fa.gz", "cannot index FASTA",
         setup=_write("{i}/g.fa", b">20\nACGT\nACGTACGT\nAC\n"), existing=("g.fa.gz.fai",)),
    Case("prepare-genome-index-is-the-input", "prepare-genome {i}/g.fai -o {i}/g",
         "FASTA index is the same file as the genome FASTA",
         setup=lambda m, i, o: (i / "g.fai").write_text(">20\nACGT\n")),
    Case("curate-output-folder-in-proc", "curate --genome {m}/chr20_slice.fa.gz --annotation {m}/chr20_slice.gtf "
         "-o /proc/splamflow-curated", "cannot create the output folder"),
]


# Integer options of each subcommand, and values that are no integer (each must be refused by argparse).
INT_OPTIONS = {
    "extract": ("--threads", "--min-mapq", "--min-anchor", "--max-intron"),
    "score": ("--threads", "--batch-size", "--chunk-size"),
    "clean": ("--threads",),
    "curate": ("--max-intron",),
    "train": ("--epochs", "--batch-size", "--warmup-steps", "--threads", "--checkpoint-every", "--max-steps"),
    "evaluate": ("--batch-size",),
    "unite": ("--chunk-size",),
}
NOT_INTEGERS = ("abc", "1.5", "0x10", "1e3", "9" * 5000, "\u22121", "NaN", "inf", "1,000", "0b11", "2**3", "1.0")
FLOAT_OPTIONS = {
    "clean": ("--threshold",),
    "curate": ("--min-support", "--negatives-per-positive", "--validation-fraction"),
    "train": ("--learning-rate", "--weight-decay", "--gamma", "--site-weight"),
}
# Outputs a file may be named by, per subcommand (the socket family).
FILE_OUTPUTS = {
    "extract": ("-o", "--intron-counts"),
    "score": ("-o", "--stats"),
    "clean": ("-o", "--discarded", "--stats", "--stats-tsv"),
    "project": ("-o",),
}


def _socket(path: str) -> Callable[[Path, Path, Path], None]:
    def setup(m: Path, i: Path, o: Path) -> None:
        with socket.socket(socket.AF_UNIX) as server:  # the socket file stays after the close
            server.bind(path.format(m=m, i=i, o=o))

    return setup


def _curated(name: str, folder: bool) -> Callable[[Path, Path, Path], None]:
    def setup(m: Path, i: Path, o: Path) -> None:
        if folder:
            (i / "cur").mkdir()
            hostile.write_curated(i / "cur" / "train.npz", hostile.BAD_CURATED[name])
        else:
            hostile.write_curated(i / "t.npz", hostile.BAD_CURATED[name])

    return setup


def _table_cases() -> list[Case]:
    """The families of issue 23, generated: bad numbers, control characters in names, sockets as
    outputs, oversized batches, hostile model metadata, damaged curated sets, empty devices as inputs."""
    cases = []
    for name, spec in SPECS.items():
        def argv(inp: str = spec.input, out: str = spec.output, extra: str = "", spec: Spec = spec) -> str:
            return spec.argv.format(input=inp, output=out, m="{m}", o="{o}", i="{i}") + extra

        for option in INT_OPTIONS.get(name, ()):
            for k, value in enumerate(NOT_INTEGERS):
                cases.append(Case(f"{name}-{option[2:]}-not-an-integer-{k}", argv(extra=f" {option} {value}"),
                                  "is not an integer"))
        for option in FLOAT_OPTIONS.get(name, ()):
            cases.append(Case(f"{name}-{option[2:]}-not-a-number", argv(extra=f" {option} abc"),
                              "invalid float value"))
        for label, char in (("newline", "{nl}"), ("escape", "{esc}"), ("carriage-return", "{cr}")):
            cases.append(Case(f"{name}-{label}-in-input-name", argv(inp=f"{{i}}/x{char}error:forged"),
                              "does not exist"))
        for option in FILE_OUTPUTS.get(name, ()):
            extra = "" if option == "-o" else f" {option} {{o}}/s.sock"
            inp = "{m}/chr20_slice.gtf" if option == "--intron-counts" else spec.input
            cases.append(Case(f"{name}-{option.strip('-')}-is-a-socket",
                              argv(inp=inp, out="{o}/s.sock" if option == "-o" else spec.output, extra=extra),
                              "is a socket", setup=_socket("{o}/s.sock")))
    for name in ("score", "train", "evaluate"):
        cases.append(Case(f"{name}-batch-size-beyond-memory",
                          SPECS[name].argv.format(input=SPECS[name].input, output=SPECS[name].output, m="{m}",
                                                  o="{o}", i="{i}") + " --batch-size 100000000",
                          "junctions per batch need about"))
    model_users = {
        "score": "score {m}/junctions.bed --genome {m}/chr20_slice.fa.gz --model {i}/m.safetensors -o {o}/s.bed",
        "evaluate": "evaluate {m}/curated/test.npz --model {i}/m.safetensors -o {o}/r",
    }
    for name, line in model_users.items():
        for bad, (data, message) in hostile.BAD_SIDECARS.items():
            cases.append(Case(f"{name}-sidecar-{bad}", line, message, setup=_model_with_sidecar(data)))
        cases.append(Case(f"{name}-int32-weights", line, "has dtype int32, expected floating point",
                          setup=lambda m, i, o: hostile.int32_model(i / "m.safetensors")))
    for bad in hostile.BAD_CURATED:
        cases.append(Case(f"evaluate-curated-{bad}", "evaluate {i}/t.npz --model {m}/model.safetensors -o {o}/r",
                          "curated set", setup=_curated(bad, folder=False)))
        cases.append(Case(f"train-curated-{bad}", "train {i}/cur -o {o}/model --epochs 1", "curated set",
                          setup=_curated(bad, folder=True)))
    for contigs in ("chrZZ", "20,chrZZ", "chr20"):
        cases.append(Case(f"curate-test-contigs-{contigs.replace(',', '-')}-not-in-genome",
                          f"curate --genome {{m}}/chr20_slice.fa.gz --annotation {{m}}/chr20_slice.gtf "
                          f"--test-contigs {contigs} -o {{o}}/c", "which the genome does not have"))
    cases.append(Case("extract-empty-device-as-input", "extract /dev/null -o {o}/j.bed", "input file is empty"))
    cases.append(Case("clean-empty-device-as-input", "clean /dev/null --scores {m}/scores.bed -o {o}/k.bam",
                      "input file is empty"))
    return cases


def _snapshot(root: Path) -> dict[str, tuple]:
    """Every file and folder under `root`: bytes and mtime for files, the type of anything else."""
    out = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_dir():
            out[key] = ("dir",)
        elif path.is_file():
            out[key] = (path.read_bytes(), path.stat().st_mtime_ns)
        else:
            out[key] = ("special", stat.S_IFMT(path.lstat().st_mode))
    return out


def _run(case: Case, material: Path, tmp_path: Path, capfd) -> None:
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    outputs.mkdir()
    if case.setup:
        case.setup(material, inputs, outputs)
    for name in case.existing:
        (outputs / name).write_bytes(SENTINEL + name.encode())
    argv = [a.format(m=material, i=inputs, o=outputs, nl="\n", esc="\x1b", cr="\r") for a in case.argv.split()]
    with contextlib.ExitStack() as stack:
        for path in case.immutable:
            stack.enter_context(hostile.immutable(Path(path.format(m=material, i=inputs, o=outputs))))
        before = _snapshot(tmp_path)
        if case.subprocess:
            done = subprocess.run([sys.executable, "-m", "splamflow.cli", *argv], capture_output=True, text=True)
            code, err = done.returncode, done.stderr
        else:
            capfd.readouterr()
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code
            err = capfd.readouterr().err
        after = _snapshot(tmp_path)
    lines = err.splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert case.message in lines[0], lines[0]
    assert after == before  # no leftovers, nothing replaced or touched


@pytest.mark.parametrize("case", _generic_cases() + CASES + _table_cases(), ids=lambda c: c.id)
def test_hostile_input_is_refused_cleanly(case, material, tmp_path, capfd):
    _run(case, material, tmp_path, capfd)


def test_every_subcommand_is_covered():
    assert set(SPECS) == set(SUBCOMMANDS), "add a SPECS entry for each new subcommand"
    ids = [c.id for c in _generic_cases() + CASES + _table_cases()]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 300
    for name in SUBCOMMANDS:
        assert sum(c.id.startswith(f"{name}-") for c in CASES + _generic_cases()) >= 4, name
