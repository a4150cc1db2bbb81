"""Build a Splam training/test set from a genome and annotations (the seed's curation recipe).

Categories: Positive-MANE (introns of the primary annotation's transcripts), Positive-ALT (introns
only in --alt), Negative-Random (random GT-AG pairs on the strand opposite protein-coding gene loci,
touching no annotated splice site) and, with --bam, Negative-1 (junctions with exactly one supporting
alignment on the strand opposite a gene). Contigs named in --test-contigs form the test set; a random
--validation-fraction of the rest is kept apart for per-epoch metrics.

Writes OUTDIR/{train,validation,test}.npz (uint8 sequences, labels, categories, coordinates),
OUTDIR/{train,validation,test}.bed and OUTDIR/manifest.json.

Example (the shipped model's data):
  splam_score.py curate --genome ../shared/data/grch37/chr20.fa.gz \\
      --genome ../shared/data/grch37/chrX_0-70Mb.fa.gz --test-contigs X \\
      --annotation ../shared/data/grch37/gencode_v24lift37_canonical.gtf.gz \\
      --alt ../shared/data/grch37/refseq_hg19_merged_exon_gaps.introns.bed.gz -o runs/curated
"""

from __future__ import annotations

import argparse
import sys

from splamflow.argtypes import positive_int, seed
from splamflow.curate.options import CurateOptions
from splamflow.errors import UserError, one_line

DEFAULTS = CurateOptions  # its class attributes are the defaults, stated once


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--genome", required=True, action="append",
                        help="indexed FASTA (plain or bgzip); repeat for genomes split over several files")
    parser.add_argument("--annotation", required=True,
                        help="GTF/GFF3 of canonical (MANE-like) transcripts: Positive-MANE and gene loci")
    parser.add_argument("--alt", help="second annotation (GTF/GFF3) or intron BED6: Positive-ALT")
    parser.add_argument("--bam", help="alignments for read support (--min-support) and Negative-1")
    parser.add_argument("--min-support", type=float, default=DEFAULTS.min_support,
                        help="keep positives with more than this many alignments (seed: 100; needs --bam)")
    parser.add_argument("--negatives-per-positive", type=float, default=DEFAULTS.negatives_per_positive,
                        help="negatives (Negative-1 first, then Negative-Random) per positive, per contig")
    parser.add_argument("--test-contigs", default=",".join(DEFAULTS.test_contigs),
                        help="comma-separated held-out contigs for the test set (e.g. X)")
    parser.add_argument("--validation-fraction", type=float, default=DEFAULTS.validation_fraction,
                        help="share of training-contig junctions kept for per-epoch validation")
    parser.add_argument("--max-intron", type=positive_int, default=DEFAULTS.max_intron, help="longest intron kept")
    parser.add_argument("--seed", type=seed, default=DEFAULTS.seed,
                        help="random seed (Negative-Random, validation split)")
    parser.add_argument("-o", "--outdir", required=True, help="output folder")


def run(args: argparse.Namespace) -> int:
    from splamflow.curate.recipe import curate
    from splamflow.io.files import require_file

    if not 0 <= args.validation_fraction < 1:
        raise UserError("--validation-fraction must be in [0, 1)")
    # checked before any sniffing (a pipe was already spooled to a file by the CLI)
    require_file(args.annotation, "--annotation")
    if args.alt:
        require_file(args.alt, "--alt")
    opts = CurateOptions(
        genome=tuple(args.genome),
        annotation=args.annotation,
        alt=args.alt,
        bam=args.bam,
        min_support=args.min_support,
        negatives_per_positive=args.negatives_per_positive,
        test_contigs=tuple(c for c in args.test_contigs.split(",") if c),
        validation_fraction=args.validation_fraction,
        seed=args.seed,
        max_intron=args.max_intron,
    )
    manifest = curate(opts, args.outdir)
    sets = "; ".join(f"{name} {s['n']:,} (" + ", ".join(f"{c} {k:,}" for c, k in s["categories"].items()) + ")"
                     for name, s in manifest["sets"].items())
    print(one_line(f"curate: {sets}; written to {args.outdir} (details in its manifest.json)"), file=sys.stderr)
    return 0
