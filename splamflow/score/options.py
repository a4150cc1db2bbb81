"""Scoring settings and their defaults, shared by the CLI, the scorer and `evaluate` (no torch here,
so `--help` stays light)."""

from __future__ import annotations

DEVICES = ("auto", "cpu", "cuda", "mps")  # auto: cuda, then mps, then cpu
DEVICE = "auto"
PRECISIONS = ("fp32", "bf16", "fp16")  # fp32 is exact; bf16/fp16 run under autocast (fp16 on GPU only)
PRECISION = "fp32"
CHUNK_SIZE = 1024  # junctions read and scored per chunk: the memory bound
CPU_BATCH_SIZE = 16  # junctions per forward pass on CPU (the frozen graph's shape)
GPU_BATCH_SIZE = 1024
BATCH_SIZE = 0  # --batch-size: 0 picks the device's default (`batch_size_for`)
PREDICT_BATCH_SIZE = 32  # rows per forward pass of `Predictor.predict_all` when the caller names none
THREADS = 0  # --threads: torch CPU threads; 0 = the CPUs this process may use


def batch_size_for(device_type: str, requested: int = BATCH_SIZE) -> int:
    """`requested`, or when 0 the default for the device type ('cpu', 'cuda', 'mps')."""
    return requested or (CPU_BATCH_SIZE if device_type == "cpu" else GPU_BATCH_SIZE)
