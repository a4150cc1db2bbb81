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


def _check(arrays: dict[str, np.ndarray], path: str | os.PathLike) -> None:
    """Shapes, dtypes and values as `curate` writes them; else a one-line UserError naming the array."""
    def bad(name: str, what: str) -> UserError:
        return UserError(f"not a curated set: {name} {what}", path)

    codes = arrays["codes"]
    if codes.ndim != 2 or codes.shape[1] != 800 or codes.dtype.kind not in "iu":
        raise bad("codes", f"must be integers of shape (N, 800), not {codes.dtype} {codes.shape}")
    if codes.size and (codes.min() < 0 or codes.max() > 5):
        raise bad("codes", "must hold the codes 0-5")
    for name in FIELDS[1:]:
        if arrays[name].shape != (len(codes),):
            raise bad(name, f"must have one value per row of codes ({len(codes)}), not shape {arrays[name].shape}")
    label = arrays["label"]
    if label.dtype.kind not in "biu" or not np.isin(label, (0, 1)).all():
        raise bad("label", "must be 0 or 1")
    for name in ("start", "end"):
        if arrays[name].dtype.kind not in "iu":
            raise bad(name, "must be integers")
    for name in ("category", "contig", "strand"):
        if arrays[name].dtype.kind not in "US":
            raise bad(name, "must be text")


def load_set(path: str | os.PathLike) -> CuratedSet:
    """Read a curated .npz; a file that is not one (or holds arrays curate never writes) is a UserError."""
    try:
        with np.load(path) as data:
            missing = [f for f in FIELDS if f not in data]
            if missing:
                raise UserError(f"not a curated set (missing {', '.join(missing)})", path)
            arrays = {f: data[f] for f in FIELDS}
    except UserError:
        raise
    except Exception as exc:  # numpy and zipfile raise many types for damaged archives
        raise UserError(f"cannot read curated set: {str(exc) or type(exc).__name__}", path) from None
    _check(arrays, path)
    return CuratedSet(**arrays)


def save_set(path: str | os.PathLike, data: CuratedSet) -> None:
    """Write a curated set as a compressed .npz (arrays in FIELDS order)."""
    np.savez_compressed(path, **{f: getattr(data, f) for f in FIELDS})
