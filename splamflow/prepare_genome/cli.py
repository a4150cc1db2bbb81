"""Prepare a genome FASTA for extract, score and clean: an indexed plain or bgzip FASTA.

Ensembl and GENCODE ship their FASTAs compressed with plain gzip, which htslib cannot index. This
reads a FASTA in any of the three forms (plain, gzip, bgzip) and writes it as OUT: bgzip-compressed
when OUT ends in .gz, plain otherwise, with its index beside it (OUT.fai, and OUT.gzi for bgzip),
as `samtools faidx` writes them. The sequences are copied byte for byte; the three files are
written together or not at all.

Example:
  splam_score.py prepare-genome Homo_sapiens.GRCh38.dna.primary_assembly.fa.gz -o GRCh38.fa.gz
  splam_score.py score junctions.bed --genome GRCh38.fa.gz -o scores.bed
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from splamflow.prepare_genome.options import wants_bgzip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("fasta", metavar="FASTA", help="genome FASTA: plain, gzip or bgzip")
    parser.add_argument("-o", "--output", metavar="OUT", required=True,
                        help="the FASTA written: bgzip when OUT ends in .gz (plus OUT.fai and OUT.gzi), "
                             "plain otherwise (plus OUT.fai)")


def run(args: argparse.Namespace) -> int:
    from splamflow.errors import one_line
    from splamflow.io.files import require_file
    from splamflow.io.genome import write_indexed
    from splamflow.outputs import OutputSet

    source = require_file(args.fasta, "genome FASTA")
    output = Path(args.output)
    bgzip = wants_bgzip(args.output)
    outputs = OutputSet(inputs=[("genome FASTA", source)])
    fasta = outputs.add(output, "-o", ".gz" if bgzip else ".fa")
    fai = outputs.add(f"{output}.fai", "FASTA index", ".fai")
    gzi = outputs.add(f"{output}.gzi", "FASTA .gzi index", ".gzi") if bgzip else None
    with outputs:
        write_indexed(source, fasta.tmp, fai.tmp, gzi.tmp if gzi else None)
    indexes = " + ".join(f"{output.name}{suffix}" for suffix in ([".fai", ".gzi"] if bgzip else [".fai"]))
    print(one_line(f"prepared {source} -> {output} ({'bgzip' if bgzip else 'plain'}) + {indexes}"), file=sys.stderr)
    return 0
