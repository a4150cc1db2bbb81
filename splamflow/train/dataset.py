"""Curated data sets (.npz from `curate`) as model inputs and per-base targets."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from splamflow.errors import UserError
from splamflow.windows import ACCEPTOR_INDEX, DONOR_INDEX, one_hot

FIELDS = ("codes", "label", "category", "contig", "start", "end", "strand")


@dataclass
class CuratedSet:
    codes: np.ndarray  # (N, 800) uint8
    label: np.ndarray  # (N,) 1 = real junction
    category: np.ndarray
    contig: np.ndarray
    start: np.ndarray
    end: np.ndarray
    strand: np.ndarray

    def __len__(self) -> int:
        return len(self.label)


def load_set(path: str | os.PathLike) -> CuratedSet:
    try:
        with np.load(path) as data:
            missing = [f for f in FIELDS if f not in data]
            if missing:
                raise UserError(f"not a curated set (missing {', '.join(missing)})", path)
            return CuratedSet(**{f: data[f] for f in FIELDS})
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read curated set: {exc}", path) from None


def batch_tensors(data: CuratedSet, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (B, 4, 800) float32 and per-base targets (B, 800): 2 = donor, 1 = acceptor, 0 = neither."""
    x = torch.from_numpy(one_hot(data.codes[idx]))
    target = torch.zeros((len(idx), data.codes.shape[1]), dtype=torch.long)
    positive = torch.from_numpy(data.label[idx].astype(bool))
    target[positive, DONOR_INDEX] = 2
    target[positive, ACCEPTOR_INDEX] = 1
    return x, target
