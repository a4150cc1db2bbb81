"""Unite the junction BEDs of a cohort (and an annotation's introns) into one set to score once.

Each distinct junction, keyed as everywhere by (contig, start, end, strand), is written once, so
that `score` computes it once for the whole cohort; `project` then gives each sample its own
scores file from the scored union, byte for byte what `score` writes for that sample alone.

Output (-o, a folder): chunk_000000.bed, chunk_000001.bed, ... (junction BEDs, one scoring task
each): ceil(N / --chunk-size) chunks of sizes that differ by at most one, and one chunk (empty when
N is 0) when N <= --chunk-size. Rows are sorted by contig name, start, end, then strand (+, -), so
the same inputs in any order give the same chunks; names JUNC00000001, ... follow that order and
column 5 is the number of inputs that hold the junction. Rows without a strand ('.' or '?') are left
out: score skips them. chunk_*.bed files of an earlier run in the folder are replaced or removed.

Example:
  splam_score.py unite a.junctions.bed b.junctions.bed genes.introns.bed -o union --chunk-size 200000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from splamflow.argtypes import positive_int
from splamflow.errors import one_line
from splamflow.unite.options import CHUNK_GLOB, CHUNK_NAME, CHUNK_SIZE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `splam_score.py unite`."""
    parser.add_argument("inputs", metavar="JUNCTIONS.bed", nargs="+",
                        help="junction BEDs (`extract` outputs of samples and of an annotation)")
    parser.add_argument("-o", "--outdir", required=True, metavar="FOLDER",
                        help="output folder for chunk_000000.bed, ... (created when missing)")
    parser.add_argument("--chunk-size", type=positive_int, default=CHUNK_SIZE, metavar="N",
                        help=f"junctions per chunk at most; chunks are balanced (default: {CHUNK_SIZE:,})")


def run(args: argparse.Namespace) -> int:
    """Entry point of `splam_score.py unite`."""
    from splamflow.io.bed import write_bed
    from splamflow.io.files import require_file
    from splamflow.outputs import OutputSet
    from splamflow.unite.union import union_chunks, union_keys

    for path in args.inputs:
        require_file(path, "junction BED", allow_empty=True)
    union = union_keys(args.inputs)  # every row is checked before any output is created
    chunks = list(union_chunks(union, args.chunk_size))
    folder = Path(args.outdir)
    outputs = OutputSet([("junction BED", p) for p in args.inputs], folder=folder)
    written = [outputs.add(folder / CHUNK_NAME.format(k), f"chunk {k} of -o", ".bed") for k in range(len(chunks))]
    names = {out.final.name for out in written}
    if folder.is_dir():
        for stale in sorted(folder.glob(CHUNK_GLOB)):
            if stale.name not in names:
                outputs.add(stale, f"{stale.name} of an earlier run").remove_instead()
    with outputs:
        for out, rows in zip(written, chunks):
            write_bed(out.tmp, rows)
    sizes = sorted({len(rows) for rows in chunks})
    print(one_line(f"unite: {len(args.inputs)} BEDs, {len(union):,} distinct stranded junctions in "
                   f"{len(chunks)} chunks of {' or '.join(map(str, sizes))} in {args.outdir}"), file=sys.stderr)
    return 0
