"""GPU throughput: junctions/s by precision, batch size and execution mode, end to end from a BED.

    .venv/bin/python bench/bench_gpu.py JUNCTIONS.bed --genome GENOME.fa [--model M] [--device cuda]
        [--batch-sizes 256,1024,4096] [--precisions fp32,bf16,fp16] [--modes eager,cudagraph,compile]
        [--limit 20000] [--reference-rows 512] [--json OUT.json]

Measures, in one run:
1. reader: the genome reader's own rate (windows fetched and encoded per second, the work the
   background thread of `score` does), which bounds any device;
2. model: the network on the BED's windows, one-hot encoding on the host and the pageable
   host-to-device copy included (so on a fast GPU this may measure the host, not the network), for
   every precision x batch size x mode: `eager` (`FusedSplam.sites` called directly; `score`'s fp32
   path runs a traced, frozen graph instead), `cudagraph` (one CUDA graph captured
   per batch shape and replayed) and `compile` (`torch.compile`, default mode);
3. end_to_end: `score_bed` itself (BED -> scores text) per precision at each batch size;
4. calls: each configuration's scores on the first --reference-rows junctions against fp32 on the
   CPU (the exact reference): share of agreeing calls at 0.1 and 0.5 and the largest difference.
With `--device cpu` it runs what the CPU can (fp32, bf16; eager, compile) and prints why the rest
is skipped, so the script can be checked without a GPU. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchlib import emit  # noqa: E402

from splamflow.io.genome import open_genome  # noqa: E402
from splamflow.score.predictor import Predictor  # noqa: E402
from splamflow.score.stream import _prepared, score_bed  # noqa: E402
from splamflow.weights import load_model  # noqa: E402
from splamflow.windows import one_hot  # noqa: E402

DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def skip(what: str, why: str) -> None:
    print(f"skipped {what}: {why}", file=sys.stderr)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def read_windows(bed: str, genome, genome_path: str, limit: int) -> tuple[np.ndarray, float]:
    """The BED's distinct scorable windows (at most `limit`) and the reader's rate in rows/s."""
    started, rows, codes = time.perf_counter(), 0, []
    for chunk in _prepared(bed, 1024, genome, genome_path):
        rows += len(chunk.rows)
        codes.append(chunk.unique_codes)
        if rows >= limit:
            break
    return np.concatenate(codes)[:limit], rows / (time.perf_counter() - started)


def runner(net, device: torch.device, dtype, mode: str, batch: int):
    """A function (N<=batch, 4, 800) float tensor on `device` -> (N, 3, 2) probabilities."""
    autocast = (lambda: torch.autocast(device.type, dtype=dtype, cache_enabled=False)) if dtype else \
        contextlib.nullcontext
    if mode == "eager":
        def run(x):
            with autocast():
                return net.sites(x)
        return run
    if mode == "compile":
        compiled = torch.compile(net.sites)

        def run(x):
            with autocast():
                return compiled(x)
        return run
    static = torch.zeros((batch, 4, 800), device=device)
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream), autocast():
        for _ in range(3):
            net.sites(static)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph), autocast():
        out = net.sites(static)

    def run(x):
        static[: len(x)].copy_(x)
        graph.replay()
        return out[: len(x)].clone()
    return run


def model_rate(fn, codes: np.ndarray, batch: int, device: torch.device) -> tuple[float, np.ndarray]:
    """Junctions/s over all `codes` (full batches, padded), after one warm-up batch; and the scores."""
    padded = np.concatenate([codes, np.repeat(codes[:1], -len(codes) % batch, axis=0)])
    with torch.inference_mode():
        fn(torch.from_numpy(one_hot(padded[:batch])).to(device))
        sync(device)
        started, outs = time.perf_counter(), []
        for i in range(0, len(padded), batch):
            outs.append(fn(torch.from_numpy(one_hot(padded[i : i + batch])).to(device, non_blocking=True)))
        sync(device)
        rate = len(padded) / (time.perf_counter() - started)
    probs = torch.cat(outs)[: len(codes)].float().cpu().numpy()
    return rate, np.stack([probs[:, 2, 0], probs[:, 1, 1]], axis=1)


def agreement(ref: np.ndarray, got: np.ndarray) -> dict:
    out = {"max_abs_diff": float(np.abs(ref - got).max())}
    for t in (0.1, 0.5):
        out[f"calls_agree_at_{t}"] = round(float(((ref < t).any(1) == (got < t).any(1)).mean()), 6)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("junctions")
    parser.add_argument("--genome", required=True)
    parser.add_argument("--model")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batch-sizes", default="256,1024,4096")
    parser.add_argument("--precisions", default="fp32,bf16,fp16")
    parser.add_argument("--modes", default="eager,cudagraph,compile")
    parser.add_argument("--limit", type=int, default=20_000, help="junctions read from the BED")
    parser.add_argument("--reference-rows", type=int, default=512, help="junctions checked against fp32 on CPU")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("no CUDA device: run with --device cpu to check the script", file=sys.stderr)
        return 2
    batches = [int(b) for b in args.batch_sizes.split(",")]
    net = load_model(args.model).net
    results: dict = {"device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
                     "torch": torch.__version__, "threads": torch.get_num_threads(), "model": {}, "end_to_end": {}}
    with open_genome(args.genome) as genome:
        codes, results["reader_junctions_per_s"] = read_windows(args.junctions, genome, args.genome, args.limit)
    results["junctions"] = len(codes)
    n_ref = min(args.reference_rows, len(codes))
    ref_fn = runner(Predictor(net, device="cpu").net, torch.device("cpu"), None, "eager", 64)
    _, reference = model_rate(ref_fn, codes[:n_ref], 64, torch.device("cpu"))
    for precision in args.precisions.split(","):
        if precision == "fp16" and device.type == "cpu":
            skip("fp16", "fp16 autocast is GPU-only in splamflow")
            continue
        fused = Predictor(net, device=args.device, precision=precision).net
        for mode in args.modes.split(","):
            if mode == "cudagraph" and device.type != "cuda":
                skip(f"{precision} cudagraph", "CUDA graphs need a CUDA device")
                continue
            for batch in batches:
                key = f"{precision}/{mode}/batch{batch}"
                fn = runner(fused, device, DTYPES[precision], mode, batch)
                rate, scores = model_rate(fn, codes, batch, device)
                results["model"][key] = {"junctions_per_s": round(rate, 1), **agreement(reference, scores[:n_ref])}
                print(key, results["model"][key], file=sys.stderr)
        for batch in batches:
            key = f"{precision}/batch{batch}"
            with open_genome(args.genome) as genome:
                started = time.perf_counter()
                stats = score_bed(args.junctions, genome, net, io.StringIO(), device=args.device,
                                  precision=precision, batch_size=batch)
            rows = stats["rows"]
            results["end_to_end"][key] = {"junctions_per_s": round(rows / (time.perf_counter() - started), 1),
                                          "rows": rows}
            print(key, results["end_to_end"][key], file=sys.stderr)
    emit(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
