"""Progress bars for long work: a tqdm bar with rate and ETA on a terminal, nothing otherwise.

Off a terminal (logs, pipelines) and with --quiet (`QUIET`, set by the CLI for every subcommand)
the bar is disabled, so a subcommand prints at most its one summary line (and warnings); lines
about each stage or step come only on a terminal or with `train --verbose` (`VERBOSE`). Bars never
touch outputs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

from tqdm import tqdm

QUIET = False  # --quiet: no bars at all
VERBOSE = False  # --verbose: per-step lines, off a terminal too
T = TypeVar("T")


def bar(total: int | None, desc: str, unit: str, quiet: bool = False, initial: int = 0) -> tqdm:
    """A progress bar on stderr, shown only when stderr is a terminal and neither `quiet` nor QUIET is set."""
    return tqdm(total=total, initial=initial, desc=desc, unit=unit, unit_scale=True, file=sys.stderr,
                disable=quiet or QUIET or not sys.stderr.isatty(), dynamic_ncols=True, leave=False)


def note(text: str, file: TextIO | None = None) -> None:
    """Print a line (to stderr unless `file` is given) without tearing a bar that is being drawn:
    tqdm clears the bars, writes the line and redraws them."""
    out = file or sys.stderr
    tqdm.write(text, file=out)
    out.flush()


def detailed() -> bool:
    """Whether lines beyond the one summary are wanted: asked for, or on a terminal without --quiet."""
    return VERBOSE or (not QUIET and sys.stderr.isatty())


def counted(items: Iterable[T], shown: tqdm, every: int = 10_000) -> Iterator[T]:
    """`items` unchanged, advancing `shown` every `every` items (per-item updates would cost more
    than the work on fast loops); `items` itself when the bar is disabled."""
    if shown.disable:
        yield from items
        return
    n = 0
    for n, item in enumerate(items, 1):
        if n % every == 0:
            shown.update(every)
        yield item
    shown.update(n % every)


def index_total(bam) -> int | None:
    """Records in an indexed BAM/CRAM by its index (mapped + unmapped per contig + unplaced); None without one."""
    try:
        if not bam.has_index():
            return None
        return sum(s.total for s in bam.get_index_statistics()) + bam.nocoordinate
    except (ValueError, AttributeError, OSError):
        return None
