"""Metrics, the learning-rate schedule and the focal loss against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import torch

from splamflow.evaluate.metrics import at_threshold, average_precision, removal_table, roc_auc
from splamflow.train.loss import focal_loss, loss_name
from splamflow.train.schedule import learning_rate


def test_average_precision_and_auroc_by_hand():
    y = np.array([1, 0, 1, 0])
    s = np.array([0.9, 0.8, 0.7, 0.1])
    # ranks: P(0.9) -> p=1 r=.5; N; P(0.7) -> p=2/3 r=1  => AP = .5*1 + .5*(2/3)
    assert math.isclose(average_precision(y, s), 0.5 + 1 / 3)
    # pairs (pos > neg): (0.9>0.8, 0.9>0.1, 0.7>0.1) = 3 of 4
    assert math.isclose(roc_auc(y, s), 0.75)
    assert math.isclose(roc_auc(np.array([1, 0]), np.array([0.5, 0.5])), 0.5)


def test_threshold_counts_use_greater_or_equal():
    m = at_threshold(np.array([1, 1, 0, 0]), np.array([0.5, 0.4, 0.5, 0.1]), 0.5)
    assert (m["tp"], m["fn"], m["fp"], m["tn"]) == (1, 1, 1, 1)
    assert m["accuracy"] == 0.5


def test_schedule_warms_up_linearly_then_decays_to_zero():
    total, peak, warm = 100, 0.03, 10
    lrs = [learning_rate(s, total, peak, warm) for s in range(total)]
    assert math.isclose(lrs[0], 0.003) and math.isclose(lrs[9], 0.03)
    assert math.isclose(lrs[10], 0.03)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    assert learning_rate(total, total, peak, warm) == 0.0
    assert math.isclose(learning_rate(55, total, peak, warm), 0.015)  # half-way through the cosine


def test_focal_loss_matches_formula():
    logits = torch.tensor([[[2.0, 0.0], [0.0, 1.0], [-1.0, 0.5]]])  # (1, 3 classes, 2 positions)
    target = torch.tensor([[0, 2]])
    p = torch.softmax(logits, dim=1)
    p0, p2 = p[0, 0, 0], p[0, 2, 1]
    expected = -((1 - p0) ** 2 * torch.log(p0) + 5 * (1 - p2) ** 2 * torch.log(p2)) / 2
    assert torch.isclose(focal_loss(logits, target), expected)
    plain = -((1 - p0) ** 2 * torch.log(p0) + (1 - p2) ** 2 * torch.log(p2)) / 2
    assert torch.isclose(focal_loss(logits, target, site_weight=1.0), plain)
    # gamma = 0 is cross entropy
    ce = torch.nn.functional.cross_entropy(logits, target)
    assert torch.isclose(focal_loss(logits, target, gamma=0.0, site_weight=1.0), ce)
    assert (loss_name(0.0), loss_name(2.0), loss_name(0.5)) == ("cross-entropy", "focal (gamma 2)", "focal (gamma 0.5)")


def test_removal_table_counts_scores_below_each_threshold():
    label = np.array([1, 1, 1, 1, 0, 0])
    score = np.array([0.05, 0.4, 0.6, 0.95, 0.02, 0.3])
    rows = {r["threshold"]: r for r in removal_table(label, score, thresholds=(0.1, 0.5))}
    assert rows[0.1]["positives_removed"] == 0.25 and rows[0.1]["negatives_removed"] == 0.5
    assert rows[0.5]["positives_removed"] == 0.5 and rows[0.5]["negatives_removed"] == 1.0
