"""Give each sample its own scores file from the scores of a union (`unite`, then `score` per chunk).

For each JUNCTIONS.bed (a sample's `extract` output, or an annotation's) the matching -o file gets
exactly the bytes `splam_score.py score JUNCTIONS.bed` writes: its `#splamflow` line, then each of
its rows that score could score, in input order, with its own columns (name, count, 7th column) and
the union's donor and acceptor scores. Rows without a strand, and rows score skipped (contig not
in the genome, window out of bounds, N at a splice site), are left out as score leaves them out.
A stranded row whose junction is not in the union is an error: the sample was not united with
the others. Scores must come from the same --batch-size and --precision a sample alone would use.

Example:
  splam_score.py unite a.bed b.bed -o union
  splam_score.py score union/chunk_000000.bed --genome genome.fa -o union/scores_000000.bed
  splam_score.py project a.bed b.bed --union union/chunk_*.bed --scores union/scores_*.bed \\
      -o a.scores.bed b.scores.bed
"""

from __future__ import annotations

import argparse
import sys

from splamflow.errors import UserError, one_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `splam_score.py project`."""
    parser.add_argument("junctions", metavar="JUNCTIONS.bed", nargs="+", help="the samples' junction BEDs")
    parser.add_argument("--union", required=True, nargs="+", metavar="UNION.bed",
                        help="the union's junction BEDs (`unite` chunks)")
    parser.add_argument("--scores", required=True, nargs="+", metavar="SCORES.bed",
                        help="the union's scores (`score` of each chunk)")
    parser.add_argument("-o", "--output", required=True, nargs="+", metavar="SCORES.bed",
                        help="one scores BED per JUNCTIONS.bed, in the same order")


def run(args: argparse.Namespace) -> int:
    """Entry point of `splam_score.py project`."""
    from splamflow.io.files import require_file
    from splamflow.outputs import OutputSet
    from splamflow.project.scores import project, scored_union

    if len(args.output) != len(args.junctions):
        raise UserError(f"-o names {len(args.output)} files for {len(args.junctions)} junction BEDs: "
                        "give one output per input")
    inputs = [("junction BED", p) for p in args.junctions] + [("union BED", p) for p in args.union] + \
        [("scores BED", p) for p in args.scores]
    for what, path in inputs:
        require_file(path, what, allow_empty=True)
    outputs = OutputSet(inputs)
    written = [outputs.add(path, "-o", ".bed") for path in args.output]
    with outputs:
        union = scored_union(args.union, args.scores)
        counts = []
        for sample, out, name in zip(args.junctions, written, args.output):
            with open(out.tmp, "w", newline="\n") as handle:
                try:
                    counts.append(project(sample, union, handle))
                except UserError as exc:  # the pipeline stages inputs by position: name the output too
                    raise UserError(f"{exc} (output {name})") from None
    total = len(union.unscored) + len(union.scores)
    print(one_line(f"project: {len(args.junctions)} samples, {total:,} union junctions "
                   f"({len(union.scores):,} scored); {sum(c.written for c in counts):,} rows written, skipped: "
                   f"no strand {sum(c.unstranded for c in counts):,}, "
                   f"not scorable {sum(c.unscorable for c in counts):,}"), file=sys.stderr)
    return 0
