"""convert-model settings: what a model version may look like and how one is derived (no torch here)."""

from __future__ import annotations

import re

#: a version is a short label safe in file names, Galaxy data tables and JSON
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,79}")
#: suffixes dropped from the input's name when it gives the version (splam.pt -> splam)
MODEL_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".zip")
FALLBACK_VERSION = "converted"


def default_version(file_name: str) -> str:
    """The version a converted model gets from its input's file name, e.g. "splam.pt" -> "splam"."""
    stem = file_name
    for suffix in MODEL_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    label = re.sub(r"[^A-Za-z0-9._+-]+", "_", stem).lstrip("._+-")[:80]
    return label or FALLBACK_VERSION
