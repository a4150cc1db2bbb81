"""Evaluation settings and their defaults, shared by the CLI and `evaluate` (no torch here)."""

from __future__ import annotations

BATCH_SIZE = 32  # junctions per forward pass
