"""Progress bars for long work: a tqdm bar with rate and ETA on a terminal, nothing otherwise.

Off a terminal (logs, pipelines) and with --quiet the bar is disabled, so a subcommand's stderr
holds at most its own one-line summary; the bar never touches the output files.
"""

from __future__ import annotations

import sys

from tqdm import tqdm


def bar(total: int | None, desc: str, unit: str, quiet: bool = False, unit_scale: bool = False) -> tqdm:
    """A progress bar on stderr, shown only when stderr is a terminal and `quiet` is off."""
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=unit_scale, file=sys.stderr,
                disable=quiet or not sys.stderr.isatty(), dynamic_ncols=True, leave=False)
