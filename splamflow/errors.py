"""User-facing errors: one line, naming the file (and line) and what is wrong; exit code 2."""

from __future__ import annotations

import os
import re

# Control characters (a newline in a file name or in a model's metadata) would forge extra lines.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: str) -> str:
    """`text` with control characters written as escapes (\\n, \\t, \\x1b), so it prints as one line."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def first_names(names: list[str], n: int) -> str:
    """The first `n` of `names`, comma-separated, with ", ..." when there are more."""
    return ", ".join(names[:n]) + (", ..." if len(names) > n else "")


class UserError(Exception):
    """Bad input or arguments. The CLI prints the message on one line and exits with 2."""

    def __init__(self, message: str, path: str | os.PathLike | None = None, line: int | None = None):
        where = ""
        if path is not None:
            where = f"{os.fspath(path)}:{line}: " if line is not None else f"{os.fspath(path)}: "
        super().__init__(one_line(where + message))
