"""Shared by the benchmark scripts: print the results as JSON and optionally write them to a file."""

from __future__ import annotations

import json
from pathlib import Path


def emit(results: dict, path: str | None) -> None:
    """The results as indented JSON on stdout, and in `path` when given."""
    text = json.dumps(results, indent=2)
    print(text)
    if path:
        Path(path).write_text(text + "\n")
