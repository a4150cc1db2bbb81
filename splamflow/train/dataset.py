"""Curated sets (`splamflow.io.curated`) as training batches: one-hot inputs and per-base targets."""

from __future__ import annotations

import numpy as np
import torch

from splamflow.io.curated import CuratedSet
from splamflow.windows import ACCEPTOR_INDEX, DONOR_INDEX, one_hot


def batch_tensors(data: CuratedSet, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (B, 4, 800) float32 and per-base targets (B, 800): 2 = donor, 1 = acceptor, 0 = neither."""
    x = torch.from_numpy(one_hot(data.codes[idx]))
    target = torch.zeros((len(idx), data.codes.shape[1]), dtype=torch.long)
    positive = torch.from_numpy(data.label[idx].astype(bool))
    target[positive, DONOR_INDEX] = 2
    target[positive, ACCEPTOR_INDEX] = 1
    return x, target
