"""matplotlib, a dependency of splamflow imported only when a plot is drawn (so commands that draw
nothing start without it)."""

from __future__ import annotations

import sys
from types import ModuleType

from splamflow.errors import UserError

INSTALL_HINT = "splamflow depends on it; this environment lacks it: pip install matplotlib"


def pyplot() -> ModuleType | None:
    """`matplotlib.pyplot` with the non-interactive Agg backend, or None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        return None
    except OSError as exc:
        # matplotlib needs a writable cache folder (MPLCONFIGDIR, else a temporary one): absent in
        # a read-only container without a writable /tmp (docker run --read-only)
        raise UserError(
            f"matplotlib cannot start ({exc}): set MPLCONFIGDIR to a writable folder "
            "(in a container run with --read-only, mount one: --tmpfs /tmp)"
        ) from None
    return plt


def skip_note(prog: str, what: str) -> None:
    """Say on stderr that an optional plot was not drawn because matplotlib is missing."""
    print(f"{prog}: note: matplotlib is not installed, so {what} was not drawn ({INSTALL_HINT})", file=sys.stderr)
