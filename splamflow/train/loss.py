"""Focal loss over Splam's per-base 3-class output (seed Eq. 2, gamma = 2).

loss = -mean over (sample, position) of sum_c w_c * y_c * (1 - p_c)^gamma * log p_c,
with class order [neither, acceptor, donor]. The published training code weights the acceptor
and donor terms x5 (`site_weight`); 1.0 gives the plain focal loss of the seed text.
"""

from __future__ import annotations

import torch


def loss_name(gamma: float) -> str:
    """The loss as the model's metadata and the training plot name it."""
    return "cross-entropy" if gamma == 0 else f"focal (gamma {gamma:g})"


def focal_loss(
    logits: torch.Tensor, target: torch.Tensor, gamma: float = 2.0, site_weight: float = 5.0
) -> torch.Tensor:
    """logits (N, 3, L) before softmax; target (N, L) class indices. Returns a scalar."""
    log_p = torch.log_softmax(logits.float(), dim=1)
    log_pt = log_p.gather(1, target.unsqueeze(1)).squeeze(1)
    pt = log_pt.exp()
    weight = torch.where(target == 0, 1.0, site_weight)
    return -(weight * (1.0 - pt).pow(gamma) * log_pt).mean()
