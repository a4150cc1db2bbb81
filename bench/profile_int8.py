"""Why int8 is not faster and why its calls disagree: a torch.profiler breakdown of the CLI's fp32 path
against the FX int8 stack of `bench_int8.py`, the int8 error per residual group, and two variants.

    .venv/bin/python bench/profile_int8.py [--heldout 100] [--calibration 128] [--batch-size 16]
        [--profile-batches 2] [--json OUT.json]

1. Profile: the same `--profile-batches` batches of held-out chrX windows through fp32
   (`Predictor.predict_padded`, frozen graph) and int8 (`Int8Sites.predict`), per-op self CPU time,
   grouped (convolution, quantize, dequantize, add, LeakyReLU, reorder/copy, other) with the top ops.
2. Error per group: the int8 stack's skip activations (one tap per group of four units, the inputs of
   the 64->3 site heads) against fp32's, as relative RMS error, and the logit error each tap feeds.
3. Variants, each calibrated on the same chr20 windows and scored on the same held-out windows:
   default (per-channel int8 weights, per-tensor activations), adds in fp32 (residual adds
   dequantized), and the input convolution with the first and last units left in fp32.
A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import operator
import sys
import time
import warnings
from collections import defaultdict

import numpy as np
import torch
from bench_int8 import SHARED, Int8Sites, _Stack, sample
from benchlib import emit
from torch.profiler import ProfilerActivity, profile

from splamflow.score.predictor import Predictor
from splamflow.weights import load_model

GROUPS = (("quantize", ("quantize_per",)), ("dequantize", ("dequantize",)),
          ("convolution", ("conv",)), ("add", ("add",)), ("leaky_relu", ("leaky_relu",)),
          ("reorder/copy", ("copy", "contiguous", "reorder", "to_dense", "to_mkldnn", "clone", "cat")))


def group_of(name: str) -> str:
    low = name.lower()
    return next((group for group, keys in GROUPS if any(k in low for k in keys)), "other")


def breakdown(fn) -> dict:
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        started = time.perf_counter()
        fn()
        wall = time.perf_counter() - started
    events = [e for e in prof.key_averages() if e.self_cpu_time_total > 0]
    total = sum(e.self_cpu_time_total for e in events)
    groups: dict[str, float] = defaultdict(float)
    for e in events:
        groups[group_of(e.key)] += e.self_cpu_time_total
    top = sorted(events, key=lambda e: -e.self_cpu_time_total)[:8]
    return {"wall_s": round(wall, 3), "self_cpu_s": round(total / 1e6, 3),
            "share": {g: round(t / total, 3) for g, t in sorted(groups.items(), key=lambda kv: -kv[1])},
            "top": [{"op": e.key, "calls": e.count, "self_s": round(e.self_cpu_time_total / 1e6, 3),
                     "share": round(e.self_cpu_time_total / total, 3)} for e in top]}


def tap_errors(fused, int8: Int8Sites, codes: np.ndarray) -> list[dict]:
    x = Int8Sites._input(codes)
    with torch.inference_mode():
        ref = _Stack(fused).eval()(x).reshape(len(codes), -1, 64, 2)
        got = int8.stack(x).reshape(len(codes), -1, 64, 2)
        err = got - ref
        logit_err = torch.einsum("sck,nskp->nscp", fused.site_heads, err).abs()
    rows = []
    for s in range(ref.shape[1]):
        rel = float(err[:, s].norm() / ref[:, s].norm())
        rows.append({"tap": s, "rel_rms_err": round(rel, 4), "max_abs_act": round(float(ref[:, s].abs().max()), 2),
                     "mean_abs_logit_err": round(float(logit_err[:, s].mean()), 4)})
    return rows


def variant_mapping(fused, variant: str):
    from torch.ao.quantization import get_default_qconfig_mapping

    mapping = get_default_qconfig_mapping("x86")
    if variant == "fp32_adds":
        mapping.set_object_type(operator.add, None)
    elif variant == "fp32_ends":
        units = [i for kind, i, _ in fused.plan if kind == "unit"]
        for i in (fused.input_conv, units[0], units[0] + 1, units[-1], units[-1] + 1):
            mapping.set_module_name(f"convs.{i}", None)
    return mapping


def agreement(d32, a32, d8, a8) -> dict:
    j32, j8 = np.minimum(d32, a32), np.minimum(d8, a8)
    out = {f"calls_agree_at_{t}": round(float(((j32 < t) == (j8 < t)).mean()), 4) for t in (0.1, 0.5)}
    out["max_abs_diff"] = round(float(max(np.abs(d32 - d8).max(), np.abs(a32 - a8).max())), 4)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--heldout", type=int, default=100)
    parser.add_argument("--calibration", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--profile-batches", type=int, default=2)
    parser.add_argument("--variants", default="default,fp32_adds,fp32_ends")
    parser.add_argument("--json")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    b = args.batch_size
    fp32 = Predictor(load_model(None).net, device="cpu")
    fused = fp32.net
    calibration, _ = sample(SHARED / "chr20.fa.gz", "20", args.calibration // 2, seed=0)
    codes, _ = sample(SHARED / "chrX_0-70Mb.fa.gz", "X", args.heldout, seed=1)
    prof = codes[: b * args.profile_batches]
    results: dict = {"threads": torch.get_num_threads(), "batch_size": b, "profiled_windows": len(prof),
                     "heldout_windows": len(codes)}
    fp32.predict_padded(prof[:b], b)
    t0 = time.perf_counter()
    d32, a32 = fp32.predict_padded(codes, b)
    results["fp32_junctions_per_s"] = round(len(codes) / (time.perf_counter() - t0), 2)
    results["profile_fp32"] = breakdown(lambda: fp32.predict_padded(prof, b))
    results["variants"] = {}
    for variant in args.variants.split(","):
        int8 = Int8Sites(fused, calibration, b, variant_mapping(fused, variant))
        int8.predict(prof[:b], b)
        t0 = time.perf_counter()
        d8, a8 = int8.predict(codes, b)
        row = {"junctions_per_s": round(len(codes) / (time.perf_counter() - t0), 2), **agreement(d32, a32, d8, a8)}
        results["variants"][variant] = row
        if variant == "default":
            results["profile_int8"] = breakdown(lambda q=int8: q.predict(prof, b))
            results["tap_errors"] = tap_errors(fused, int8, codes[:64])
        print(variant, row, file=sys.stderr, flush=True)
    emit(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
