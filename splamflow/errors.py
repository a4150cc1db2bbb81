"""User-facing errors: one line, naming the file (and line) and what is wrong; exit code 2."""

from __future__ import annotations

import os


class UserError(Exception):
    """Bad input or arguments. The CLI prints the message on one line and exits with 2."""

    def __init__(self, message: str, path: str | os.PathLike | None = None, line: int | None = None):
        where = ""
        if path is not None:
            where = f"{os.fspath(path)}:{line}: " if line is not None else f"{os.fspath(path)}: "
        super().__init__(where + message)
