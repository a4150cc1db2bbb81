"""Curated junction sets (`curate` writes them, `train` and `evaluate` read them): one .npz each.

Arrays: codes (N, 800) uint8 model-input codes (see `windows`), label (1 = real junction), category,
contig, start, end (intron, 0-based half-open) and strand.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from splamflow.errors import UserError

FIELDS = ("codes", "label", "category", "contig", "start", "end", "strand")


@dataclass
class CuratedSet:
    """One curated set, array by array."""

    codes: np.ndarray  # (N, 800) uint8
    label: np.ndarray  # (N,) 1 = real junction
    category: np.ndarray
    contig: np.ndarray
    start: np.ndarray
    end: np.ndarray
    strand: np.ndarray

    def __len__(self) -> int:
        return len(self.label)

    def subset(self, idx: np.ndarray) -> CuratedSet:
        return CuratedSet(**{f: getattr(self, f)[idx] for f in FIELDS})


def load_set(path: str | os.PathLike) -> CuratedSet:
    """Read a curated .npz; a file that is not one is a UserError."""
    try:
        with np.load(path) as data:
            missing = [f for f in FIELDS if f not in data]
            if missing:
                raise UserError(f"not a curated set (missing {', '.join(missing)})", path)
            return CuratedSet(**{f: data[f] for f in FIELDS})
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read curated set: {exc}", path) from None


def save_set(path: str | os.PathLike, data: CuratedSet) -> None:
    """Write a curated set as a compressed .npz (arrays in FIELDS order)."""
    np.savez_compressed(path, **{f: getattr(data, f) for f in FIELDS})
