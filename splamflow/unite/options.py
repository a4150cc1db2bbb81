"""unite settings and their defaults (no torch here, so `--help` stays light)."""

from __future__ import annotations

CHUNK_SIZE = 500_000  # junctions per chunk at most: one scoring task each (the pipeline's --score_chunk_size)
CHUNK_NAME = "chunk_{:06d}.bed"  # chunk k (0-based) in the output folder
CHUNK_GLOB = "chunk_*.bed"
