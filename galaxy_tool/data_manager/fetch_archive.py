"""Copy a Splam model archive from a history dataset or a URL to a file, decompressing it when it is
gzip-compressed (Galaxy may keep a .gz upload as it is). Used by splamflow_model_fetcher.xml."""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sys
import urllib.request
import zlib

GZIP_MAGIC = b"\x1f\x8b"


def main() -> None:
    parser = argparse.ArgumentParser(prog="fetch_archive.py", description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("history", "url"))
    parser.add_argument("source", help="the dataset's path or the URL")
    parser.add_argument("output")
    args = parser.parse_args()
    try:
        fetch(args.kind, args.source, args.output)
    except (OSError, EOFError, zlib.error, ValueError) as error:  # URLError and gzip.BadGzipFile are OSErrors
        for path in (args.output, f"{args.output}.download"):
            if os.path.exists(path):
                os.remove(path)
        message = " ".join(str(error).split())  # one line, whatever the error text holds
        print(f"fetch_archive.py: error: {args.source}: {message}", file=sys.stderr)
        sys.exit(2)


def fetch(kind: str, source: str, output: str) -> None:
    """Copy the archive at `source` (a path, or a URL when `kind` is url) to `output`, gunzipped."""
    download = f"{output}.download"
    if kind == "url":
        with urllib.request.urlopen(source, timeout=300) as raw, open(download, "wb") as out:
            shutil.copyfileobj(raw, out)
    else:
        shutil.copyfile(source, download)
    with open(download, "rb") as head:
        compressed = head.read(2) == GZIP_MAGIC
    with (gzip.open if compressed else open)(download, "rb") as src, open(output, "wb") as out:
        shutil.copyfileobj(src, out)
    os.remove(download)


if __name__ == "__main__":
    main()
