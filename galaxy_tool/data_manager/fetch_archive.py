"""Copy a Splam model archive from a history dataset or a URL to a file, decompressing it when it is
gzip-compressed (Galaxy may keep a .gz upload as it is). Used by splamflow_model_fetcher.xml."""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import urllib.request

GZIP_MAGIC = b"\x1f\x8b"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("history", "url"))
    parser.add_argument("source", help="the dataset's path or the URL")
    parser.add_argument("output")
    args = parser.parse_args()
    download = f"{args.output}.download"
    if args.kind == "url":
        with urllib.request.urlopen(args.source, timeout=300) as raw, open(download, "wb") as out:
            shutil.copyfileobj(raw, out)
    else:
        shutil.copyfile(args.source, download)
    with open(download, "rb") as head:
        compressed = head.read(2) == GZIP_MAGIC
    with (gzip.open if compressed else open)(download, "rb") as src, open(args.output, "wb") as out:
        shutil.copyfileobj(src, out)
    os.remove(download)


if __name__ == "__main__":
    main()
