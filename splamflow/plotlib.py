"""matplotlib, an optional extra (`pip install 'splamflow[plots]'`), imported only when a plot is drawn."""

from __future__ import annotations

import sys
from types import ModuleType

INSTALL_HINT = "pip install 'splamflow[plots]' (or matplotlib)"


def pyplot() -> ModuleType | None:
    """`matplotlib.pyplot` with the non-interactive Agg backend, or None when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt


def skip_note(prog: str, what: str) -> None:
    """Say on stderr that an optional plot was not drawn because matplotlib is missing."""
    print(f"{prog}: note: matplotlib is not installed, so {what} was not drawn ({INSTALL_HINT})", file=sys.stderr)
