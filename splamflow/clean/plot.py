"""The picture a user looks at to choose a threshold (`clean --plot`).

Left: donor vs acceptor score of every scored junction (scatter, or log-density when there are
many), with the threshold drawn on both axes. Right: how many records (alignments) or transcripts
(annotations) carry 0, 1, 2, ... spurious junctions. matplotlib is imported here only, lazily, with
the non-interactive Agg backend.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from splamflow.clean.scores import Rule
from splamflow.errors import UserError
from splamflow.plotlib import INSTALL_HINT, pyplot

_DENSITY_ABOVE = 5000


def write_plot(
    path: str | os.PathLike,
    donor: np.ndarray,
    acceptor: np.ndarray,
    threshold: float,
    per_item: Mapping[int, int],
    item_label: str,
    rule: Rule,
    title: str,
) -> None:
    """Write a two-panel PNG to `path`.

    `per_item` maps a number of spurious/bad junctions to how many records/transcripts have it;
    `rule` is the one the clean-up applied (`scores.SPURIOUS` or `scores.BAD`).
    """
    plt = pyplot()
    if plt is None:
        raise UserError(f"--plot needs matplotlib: {INSTALL_HINT}")

    fig, (ax_scores, ax_items) = plt.subplots(1, 2, figsize=(12, 5.2), constrained_layout=True)
    n = len(donor)
    flagged = int(np.count_nonzero(rule.test(donor, acceptor, threshold)))
    if n > _DENSITY_ABOVE:
        hb = ax_scores.hexbin(
            donor, acceptor, gridsize=60, extent=(0, 1, 0, 1), bins="log", cmap="viridis", mincnt=1
        )
        fig.colorbar(hb, ax=ax_scores, label="junctions (log scale)")
    elif n:
        ax_scores.scatter(donor, acceptor, s=6, alpha=0.5, linewidths=0)
    for line in (ax_scores.axvline, ax_scores.axhline):
        line(threshold, color="crimson", linestyle="--", linewidth=1)
    ax_scores.set_xlim(-0.02, 1.02)
    ax_scores.set_ylim(-0.02, 1.02)
    ax_scores.set_xlabel("donor score")
    ax_scores.set_ylabel("acceptor score")
    share = f"{100 * flagged / n:.1f}%" if n else "0%"
    ax_scores.set_title(
        f"{n:,} scored junctions; {flagged:,} ({share}) with\n{rule.text} (t = {threshold:g})", fontsize=10
    )

    counts = sorted(per_item.items())
    labels = [str(k) for k, _ in counts]
    values = [v for _, v in counts]
    bars = ax_items.bar(labels, values, color=["grey" if k == 0 else "crimson" for k, _ in counts])
    ax_items.bar_label(bars, labels=[f"{v:,}" for v in values], fontsize=8)
    if values and max(values) > 0:
        ax_items.set_yscale("log")
        ax_items.set_ylim(bottom=0.8, top=max(values) * 2)
    ax_items.set_xlabel(f"spurious junctions per {item_label}")
    ax_items.set_ylabel(f"{item_label}s")
    ax_items.set_title(f"{sum(values):,} {item_label}s")
    fig.suptitle(title)
    fig.savefig(os.fspath(path), format="png", dpi=110)
    plt.close(fig)
