"""GPU throughput: junctions/s by precision, batch size and execution mode, end to end from a BED.

    .venv/bin/python bench/bench_gpu.py JUNCTIONS.bed --genome GENOME.fa [--model M] [--device cuda]
        [--batch-sizes 256,1024,4096] [--precisions fp32,bf16,fp16] [--modes eager,cudagraph,compile]
        [--limit 20000] [--reference-rows 512] [--threads 0] [--json OUT.json]

Measures, in one run:
1. reader: the genome reader's own rate (windows fetched and encoded per second, the work the
   background thread of `score` does), which bounds any device;
2. host: what `score` does on the host per batch before the model runs (one-hot encoding and a
   copy from pageable memory to the device), alone, per batch size;
3. model: the network alone on the BED's windows, for every batch size x precision x mode: the
   one-hot batches are staged on the device first (pinned host memory, non-blocking copies, outside
   the timing), so only the forward passes are timed. Modes: `eager` (`FusedSplam.sites` called
   directly; `score`'s fp32 path runs a traced, frozen graph instead), `cudagraph` (one CUDA graph
   captured per batch shape and replayed) and `compile` (`torch.compile`, default mode, with
   `torch._dynamo.reset()` before each configuration);
4. end_to_end: `score_bed` itself (BED -> scores text) on the first --limit rows of the BED, per
   precision at each batch size. It counts BED rows (repeats and unscorable rows included), while
   host and model count the distinct windows of those rows padded to full batches: the rates are
   of different row sets and cannot be compared directly;
5. calls: each configuration's scores on the first --reference-rows junctions against fp32 on the
   CPU (the exact reference): share of agreeing calls at 0.1 and 0.5 and the largest difference.
A configuration that fails (out of memory, a compile error) is recorded with its one-line error
and the others still run. With `--device cpu` it runs what the CPU can (fp32, bf16; eager,
compile) and prints why the rest is skipped, so the script can be checked without a GPU.
torch uses --threads CPU threads (0: `score`'s default, `splamflow.cpus.auto_threads`); the JSON
records them and the inter-op threads. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from itertools import islice
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchlib import emit  # noqa: E402

from splamflow.argtypes import non_negative_int  # noqa: E402
from splamflow.cpus import auto_threads  # noqa: E402
from splamflow.errors import UserError  # noqa: E402
from splamflow.io.bed import read_junctions, write_bed  # noqa: E402
from splamflow.io.files import require_file, text_lines  # noqa: E402
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


def failed(exc: Exception) -> str:
    """An exception as one line: its type and the first line of its message."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def release(device: torch.device) -> None:
    """Give freed device memory back (outside any `except` block, whose traceback holds tensors)."""
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def attempt(key: str, measure: Callable[[], dict], device: torch.device) -> dict:
    """`measure()`'s result, or {"error": one line} when it fails (the other configurations still run); printed."""
    try:
        result = measure()
    except Exception as exc:
        result = {"error": failed(exc)}
    release(device)
    print(key, result, file=sys.stderr)
    return result


def read_windows(bed: str, genome, genome_path: str, limit: int) -> tuple[np.ndarray, float]:
    """The BED's distinct scorable windows (at most `limit`) and the reader's rate in rows/s."""
    started, rows, codes = time.perf_counter(), 0, []
    for chunk in _prepared(bed, 1024, genome, genome_path):
        rows += len(chunk.rows)
        codes.append(chunk.unique_codes)
        if rows >= limit:
            break
    windows = np.concatenate(codes)[:limit] if codes else np.zeros((0, 800), np.uint8)
    if not len(windows):
        raise UserError("no scorable junction (empty, or none on a contig of the genome)", bed)
    return windows, rows / (time.perf_counter() - started)


def first_rows(bed: str, limit: int, folder: str) -> str:
    """A BED of the first `limit` junction rows of `bed`, every column kept (what the end-to-end step scores)."""
    wanted = {row.line for row in islice(read_junctions(bed), limit)}
    last = max(wanted, default=0)
    path = Path(folder) / "first_rows.bed"
    write_bed(path, (line.rstrip("\r\n").split("\t") for n, line in islice(text_lines(bed, "BED"), last)
                     if n in wanted))
    return str(path)


def pad(codes: np.ndarray, batch: int) -> np.ndarray:
    """`codes` with copies of its first row appended up to a whole number of batches."""
    return np.concatenate([codes, np.repeat(codes[:1], -len(codes) % batch, axis=0)])


def stage(codes: np.ndarray, batch: int, device: torch.device) -> list[torch.Tensor]:
    """`codes` padded to full batches, one-hot encoded and copied to `device` (from pinned memory on CUDA)."""
    padded = pad(codes, batch)
    staged = []
    for i in range(0, len(padded), batch):
        host = torch.from_numpy(one_hot(padded[i : i + batch]))
        if device.type == "cuda":
            host = host.pin_memory()
        staged.append(host.to(device, non_blocking=True))
    sync(device)
    return staged


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
        torch._dynamo.reset()  # each configuration compiles afresh, not within the last one's cache limits
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


def host_rate(codes: np.ndarray, batch: int, device: torch.device) -> float:
    """Junctions/s of `score`'s host work per batch: one-hot encoding and a copy from pageable memory
    to `device` (as `Predictor.predict` does), over `codes` padded to full batches."""
    padded = pad(codes, batch)
    started = time.perf_counter()
    for i in range(0, len(padded), batch):
        torch.from_numpy(one_hot(padded[i : i + batch])).to(device, non_blocking=True)
    sync(device)
    return len(padded) / (time.perf_counter() - started)


def model_rate(fn, staged: list[torch.Tensor], rows: int, device: torch.device) -> tuple[float, np.ndarray]:
    """Junctions/s of the forward passes over the staged batches, after one warm-up batch; and the
    scores of the first `rows` (the rest is padding)."""
    with torch.inference_mode():
        fn(staged[0])
        sync(device)
        started, outs = time.perf_counter(), []
        for x in staged:
            outs.append(fn(x))
        sync(device)
        rate = sum(len(x) for x in staged) / (time.perf_counter() - started)
    probs = torch.cat(outs)[:rows].float().cpu().numpy()
    return rate, np.stack([probs[:, 2, 0], probs[:, 1, 1]], axis=1)


def agreement(ref: np.ndarray, got: np.ndarray) -> dict:
    out = {"max_abs_diff": float(np.abs(ref - got).max())}
    for t in (0.1, 0.5):
        out[f"calls_agree_at_{t}"] = round(float(((ref < t).any(1) == (got < t).any(1)).mean()), 6)
    return out


def host_section(codes: np.ndarray, args: argparse.Namespace, device: torch.device) -> dict:
    """Junctions/s of the host work before the model (`host_rate`), per batch size."""
    return {f"batch{batch}": attempt(f"host/batch{batch}", lambda batch=batch: {
        "junctions_per_s": round(host_rate(codes, batch, device), 1)}, device) for batch in args.batches}


def measure_model(net, staged: list[torch.Tensor], rows: int, reference: np.ndarray, precision: str, mode: str,
                  batch: int, args: argparse.Namespace, device: torch.device) -> dict:
    """One model configuration: its junctions/s over `staged` and its calls against `reference`."""
    fused = Predictor(net, device=args.device, precision=precision).net
    fn = runner(fused, device, DTYPES[precision], mode, batch)
    rate, scores = model_rate(fn, staged, rows, device)
    return {"junctions_per_s": round(rate, 1), **agreement(reference, scores[: len(reference)])}


def model_section(net, codes: np.ndarray, reference: np.ndarray, args: argparse.Namespace,
                  device: torch.device) -> dict:
    """Junctions/s and calls of the network alone, per batch size x precision x mode."""
    results: dict = {}
    for batch in args.batches:
        staged = stage(codes, batch, device)
        for precision in args.precisions.split(","):
            if precision == "fp16" and device.type == "cpu":
                skip(f"fp16 batch{batch}", "fp16 autocast is GPU-only in splamflow")
                continue
            for mode in args.modes.split(","):
                key = f"{precision}/{mode}/batch{batch}"
                if mode == "cudagraph" and device.type != "cuda":
                    skip(key, "CUDA graphs need a CUDA device")
                    continue
                measure = partial(measure_model, net, staged, len(codes), reference, precision, mode, batch, args,
                                  device)
                results[key] = attempt(key, measure, device)
                del measure
        del staged  # the only reference left: one batch size's staged data on the device at a time
        release(device)
    return results


def end_to_end_section(net, bed: str, args: argparse.Namespace, device: torch.device) -> dict:
    """`score_bed` junctions/s per precision and batch size on `bed` (the first --limit rows)."""
    results: dict = {}
    for precision in args.precisions.split(","):
        for batch in args.batches:
            key = f"{precision}/batch{batch}"
            if precision == "fp16" and device.type == "cpu":
                skip(key, "fp16 autocast is GPU-only in splamflow")
                continue

            def measure(precision=precision, batch=batch) -> dict:
                with open_genome(args.genome) as genome:
                    started = time.perf_counter()
                    stats = score_bed(bed, genome, net, io.StringIO(), device=args.device,
                                      precision=precision, batch_size=batch)
                rows = stats["rows"]
                return {"junctions_per_s": round(rows / (time.perf_counter() - started), 1), "rows": rows}

            results[key] = attempt(key, measure, device)
    return results


def run(args: argparse.Namespace) -> int:
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("no CUDA device: run with --device cpu to check the script", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads or auto_threads())
    require_file(args.junctions, "junction BED")
    with open_genome(args.genome) as genome:
        codes, reader_rate = read_windows(args.junctions, genome, args.genome, args.limit)
    net = load_model(args.model).net
    results: dict = {"device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
                     "torch": torch.__version__, "threads": torch.get_num_threads(),
                     "interop_threads": torch.get_num_interop_threads(),
                     "reader_junctions_per_s": reader_rate, "junctions": len(codes), "limit": args.limit}
    n_ref = min(args.reference_rows, len(codes))
    cpu = torch.device("cpu")
    _, reference = model_rate(runner(Predictor(net, device="cpu").net, cpu, None, "eager", 64),
                              stage(codes[:n_ref], 64, cpu), n_ref, cpu)
    results["host"] = host_section(codes, args, device)
    results["model"] = model_section(net, codes, reference, args, device)
    with tempfile.TemporaryDirectory(prefix="bench-gpu-") as folder:
        results["end_to_end"] = end_to_end_section(net, first_rows(args.junctions, args.limit, folder), args, device)
    emit(results, args.json)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("junctions")
    parser.add_argument("--genome", required=True)
    parser.add_argument("--model")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batch-sizes", default="256,1024,4096")
    parser.add_argument("--precisions", default="fp32,bf16,fp16")
    parser.add_argument("--modes", default="eager,cudagraph,compile")
    parser.add_argument("--limit", type=int, default=20_000, help="junctions read from the BED (every step)")
    parser.add_argument("--reference-rows", type=int, default=512, help="junctions checked against fp32 on CPU")
    parser.add_argument("--threads", type=non_negative_int, default=0,
                        help="torch CPU threads (0 = score's default: the CPUs this process may use)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    args.batches = [int(b) for b in args.batch_sizes.split(",")]
    try:
        return run(args)
    except UserError as exc:
        print(f"bench_gpu.py: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
