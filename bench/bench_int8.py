"""int8 on CPU (torch.ao FX graph-mode quantization, x86/oneDNN backend) against fp32: speed and
agreement on held-out chrX. Decides whether `--precision int8` belongs in the CLI (it needs >= 1.5x
over fp32 with >= 99.9% of calls agreeing at 0.1 and 0.5 and AUPRC within 0.002).

    .venv/bin/python bench/bench_int8.py [--heldout 1000] [--calibration 256] [--batch-size 16]
        [--model M] [--json OUT.json]

Calibration: --calibration windows from ../shared/data/grch37 chr20 (half RefSeq introns, half random
GT-AG pairs; seed 0), i.e. not from the evaluation contig. Held out: --heldout RefSeq introns of
chrX_0-70Mb (label 1) and as many random GT-AG pairs there (label 0). The quantized part is the
convolution stack (convolutions, LeakyReLU, residual adds); the 64->3 site heads and the softmax stay
fp32. fp32 is the CLI's path (`Predictor.predict_padded`: frozen fused graph); both are timed on the
same windows at the same batch size, one after the other. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import random
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchlib import emit  # noqa: E402

from splamflow.evaluate.metrics import average_precision  # noqa: E402
from splamflow.io.genome import open_genome  # noqa: E402
from splamflow.model import LEAKY_SLOPE, FusedSplam  # noqa: E402
from splamflow.score.predictor import Predictor  # noqa: E402
from splamflow.weights import load_model  # noqa: E402
from splamflow.windows import FLANK, SEQ_LEN, junction_input, one_hot  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "grch37"
SITES = slice(FLANK, SEQ_LEN - FLANK + 1, SEQ_LEN - 2 * FLANK)  # positions 200 and 600


class _Stack(nn.Module):
    """The fused network's convolution stack; returns the activations every skip reads, at the two sites."""

    def __init__(self, fused: FusedSplam):
        super().__init__()
        self.convs, self.plan, self.first = fused.convs, fused.plan, fused.input_conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.convs[self.first](x)
        taken = [h[:, :, :, SITES]]
        for kind, i, _ in self.plan:
            if kind == "unit":
                u = F.leaky_relu(self.convs[i](h), LEAKY_SLOPE)
                h = h + F.leaky_relu(self.convs[i + 1](u), LEAKY_SLOPE)
            else:
                taken.append(h[:, :, :, SITES])
        return torch.cat(taken, 1)  # (N, S*64, 1, 2)


class Int8Sites:
    """int8 convolution stack (FX, x86 backend) + fp32 site heads: (N, 4, 800) -> (N, 3, 2)."""

    def __init__(self, fused: FusedSplam, calibration: np.ndarray, batch: int, mapping=None):
        from torch.ao.quantization import get_default_qconfig_mapping
        from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

        torch.backends.quantized.engine = "x86"
        example = self._input(calibration[:batch])
        mapping = mapping or get_default_qconfig_mapping("x86")
        prepared = prepare_fx(copy.deepcopy(_Stack(fused)).eval(), mapping, (example,))
        with torch.inference_mode():
            for i in range(0, len(calibration), batch):
                prepared(self._input(calibration[i : i + batch]))
        self.stack = convert_fx(prepared)
        self.heads, self.bias = fused.site_heads, fused.site_bias

    @staticmethod
    def _input(codes: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(one_hot(codes)).unsqueeze(2).contiguous(memory_format=torch.channels_last)

    def predict(self, codes: np.ndarray, batch: int) -> tuple[np.ndarray, np.ndarray]:
        out = []
        with torch.inference_mode():
            for i in range(0, len(codes), batch):
                taken = self.stack(self._input(codes[i : i + batch]))
                stacked = taken.reshape(len(taken), -1, 64, 2)
                logits = torch.einsum("sck,nskp->ncp", self.heads, stacked) + self.bias[None, :, None]
                out.append(torch.softmax(logits, dim=1))
        probs = torch.cat(out).numpy()
        return probs[:, 2, 0], probs[:, 1, 1]


def refseq(contig: str) -> list[tuple[int, int, str]]:
    with gzip.open(SHARED / "refseq_hg19_merged_exon_gaps.introns.bed.gz", "rt") as handle:
        rows = {(int(f[1]), int(f[2]), f[5]) for f in (line.split() for line in handle)
                if f[0] == contig and f[5] in "+-"}
    return sorted(rows)


def random_gt_ag(seq: str, n: int, rng: random.Random) -> list[tuple[int, int, str]]:
    out: set[tuple[int, int, str]] = set()
    while len(out) < n:
        strand = rng.choice("+-")
        first, last = ("GT", "AG") if strand == "+" else ("CT", "AC")
        s = rng.randint(100_000, len(seq) - 100_000)
        if seq[s : s + 2].upper() != first:
            continue
        e = seq.upper().find(last, s + rng.randint(60, 20_000), s + 30_000)
        if e > 0:
            out.add((s, e + 2, strand))
    return sorted(out)


def windows(fasta: Path, contig: str, introns: list[tuple[int, int, str]]) -> np.ndarray:
    with open_genome(str(fasta)) as genome:
        length = genome.get_reference_length(contig)
        rows = [junction_input(genome, contig, s, e, strand, length)[0] for s, e, strand in introns]
    return np.stack([r for r in rows if r is not None])


def sample(fasta: Path, contig: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n real introns (label 1) and n random GT-AG pairs (label 0) of `contig`, as windows."""
    rng = random.Random(seed)
    real = rng.sample(refseq(contig), n)
    with open_genome(str(fasta)) as genome:
        seq = genome.fetch(contig, 0, min(genome.get_reference_length(contig), 70_000_000))
    fake = random_gt_ag(seq, n, rng)
    pos, neg = windows(fasta, contig, real), windows(fasta, contig, fake)
    return np.concatenate([pos, neg]), np.r_[np.ones(len(pos)), np.zeros(len(neg))]


def timed(fn) -> tuple[float, tuple[np.ndarray, np.ndarray]]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--heldout", type=int, default=1000, help="real introns (and as many decoys) on chrX")
    parser.add_argument("--calibration", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--model")
    parser.add_argument("--json")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    net = load_model(args.model).net
    fp32 = Predictor(net, device="cpu")
    calibration, _ = sample(SHARED / "chr20.fa.gz", "20", args.calibration // 2, seed=0)
    codes, labels = sample(SHARED / "chrX_0-70Mb.fa.gz", "X", args.heldout, seed=1)
    int8 = Int8Sites(fp32.net, calibration, args.batch_size)
    fp32.predict_padded(codes[: args.batch_size], args.batch_size)  # build the frozen graph
    int8.predict(codes[: args.batch_size], args.batch_size)
    t32, (d32, a32) = timed(lambda: fp32.predict_padded(codes, args.batch_size))
    t8, (d8, a8) = timed(lambda: int8.predict(codes, args.batch_size))
    j32, j8 = np.minimum(d32, a32), np.minimum(d8, a8)
    results = {
        "windows": len(codes), "calibration_windows": len(calibration), "threads": torch.get_num_threads(),
        "fp32_junctions_per_s": round(len(codes) / t32, 2), "int8_junctions_per_s": round(len(codes) / t8, 2),
        "int8_speedup_vs_fp32": round(t32 / t8, 2),
        "max_abs_diff": float(max(np.abs(d32 - d8).max(), np.abs(a32 - a8).max())),
        "auprc_fp32": round(average_precision(labels, j32), 5), "auprc_int8": round(average_precision(labels, j8), 5),
    }
    results["auprc_delta"] = round(results["auprc_int8"] - results["auprc_fp32"], 5)
    for t in (0.1, 0.5):
        results[f"calls_agree_at_{t}"] = round(float(((j32 < t) == (j8 < t)).mean()), 6)
    emit(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
