"""Classification metrics for junction scores (numpy only): AUPRC, AUROC, threshold counts."""

from __future__ import annotations

import numpy as np


def precision_recall_curve(label: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and thresholds at each distinct score, from the highest score down."""
    order = np.argsort(-score, kind="mergesort")
    s, y = score[order], label[order].astype(np.int64)
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tp = np.cumsum(y)[last]
    fp = (last + 1) - tp
    precision = tp / (tp + fp)
    recall = tp / max(1, y.sum())
    return precision, recall, s[last]


def average_precision(label: np.ndarray, score: np.ndarray) -> float:
    """Area under the precision-recall curve as average precision (step-wise, like scikit-learn)."""
    if label.sum() == 0:
        return float("nan")
    precision, recall, _ = precision_recall_curve(label, score)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_auc(label: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties)."""
    y = label.astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score), dtype=np.float64)
    sorted_scores = score[order]
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def at_threshold(label: np.ndarray, score: np.ndarray, threshold: float) -> dict[str, float]:
    """Precision, recall, accuracy and F1 when score >= threshold calls a junction real."""
    y = label.astype(bool)
    called = score >= threshold
    tp = int((called & y).sum())
    fp = int((called & ~y).sum())
    fn = int((~called & y).sum())
    tn = int((~called & ~y).sum())
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    return {
        "threshold": threshold,
        "precision": precision,
        "recall": recall,
        "accuracy": (tp + tn) / len(y) if len(y) else float("nan"),
        "f1": f1,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }


def summarize(label: np.ndarray, donor: np.ndarray, acceptor: np.ndarray, thresholds=(0.1, 0.5)) -> dict:
    """Donor, acceptor and junction (= min of the two) metrics."""
    junction = np.minimum(donor, acceptor)
    out: dict = {"n": int(len(label)), "n_positive": int(label.sum())}
    for name, score in (("donor", donor), ("acceptor", acceptor), ("junction", junction)):
        out[name] = {
            "auprc": average_precision(label, score),
            "auroc": roc_auc(label, score),
            "at": {str(t): at_threshold(label, score, t) for t in thresholds},
        }
    return out


#: thresholds of the "what a threshold removes" table of `evaluate`
REMOVAL_THRESHOLDS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)


def removal_table(label: np.ndarray, score: np.ndarray, thresholds=REMOVAL_THRESHOLDS) -> list[dict]:
    """For each threshold, the share of real junctions (annotated introns) and of negatives whose
    score falls below it: what filtering at that threshold would cost and what it would remove."""
    y = label.astype(bool)
    rows = []
    for t in thresholds:
        below = score < t
        rows.append({
            "threshold": t,
            "positives_removed": float(below[y].mean()) if y.any() else float("nan"),
            "negatives_removed": float(below[~y].mean()) if (~y).any() else float("nan"),
        })
    return rows
