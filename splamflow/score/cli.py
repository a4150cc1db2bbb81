"""Score splice junctions with the Splam model.

Input: BED6 junctions (optional 7th column: comma-separated transcript ids), intron coordinates
0-based half-open (start = first intron base, end = last intron base + 1), and a genome FASTA
(plain or bgzip; its .fai is made beside it when missing; contig names must match exactly). A BED
without rows gives empty outputs (a sample with no junctions).

For each junction the model reads 800 bp: 200 bp of exon + up to 200 bp of intron around the
donor, and the same around the acceptor (reverse-complemented on the - strand). The donor score is
the donor probability at the first intron base, the acceptor score the acceptor probability at the
first exon base after the intron; both are in [0, 1] and identical to Splam 1.0.12's for the same
model.

Output (-o): `chrom start end name score strand donor_score acceptor_score` (+ the 7th input column
when present), one row per scored junction, in input order; deterministic bytes. The input's
`#splamflow` header line (how extract stranded the junctions: `strand_source`, with the counts of
spliced and unstranded records) is copied to the top of the output and into --stats, so that
`clean` can check it uses the same strand rule.

Rows that cannot be scored are left out and counted by reason (stderr summary and --stats JSON):
  strand   strand is '.' or '?' (run `extract --genome GENOME.fa` to strand them by intron motif)
  contig   contig not in the FASTA
  bounds   a window reaches before position 0 or past the contig end
  site_n   an N at the intron's first two or last two bases (other IUPAC letters are scored, as in Splam)
Splam 1.0.12 drops these silently, and also drops windows ending exactly at the contig end and
rows whose windows repeat another row's; splamflow scores both.

Speed: BatchNorm is folded into the convolutions, which run as channels-last Conv2d in a frozen
graph (oneDNN fuses each convolution with its activation and residual add); the genome is read in
a background thread while the model runs. --precision bf16/fp16 uses autocast (fp16 on GPU
only); scores then differ slightly from fp32 -- see the README for the measured agreement.
--model omitted uses the shipped default model (`human`); --model NAME picks a shipped model by
name (`splam_score.py --list-models` lists them); also accepted: a splamflow .safetensors file, a TorchScript archive
such as the published splam.pt, or a PyTorch state_dict of the published class.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from splamflow.argtypes import batch_size, positive_int, threads
from splamflow.errors import UserError, one_line
from splamflow.progress import detailed
from splamflow.score.options import (
    BATCH_SIZE,
    CHUNK_SIZE,
    CPU_BATCH_SIZE,
    DEVICE,
    DEVICES,
    GPU_BATCH_SIZE,
    PRECISION,
    PRECISIONS,
    THREADS,
)
from splamflow.versions import shipped_models


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("junctions", metavar="JUNCTIONS.bed", help="junction BED (BED6, optional 7th column)")
    parser.add_argument("--genome", required=True, metavar="GENOME.fa",
                        help="FASTA, plain or bgzip (indexed beside it when it has no .fai)")
    parser.add_argument("--model", metavar="MODEL",
                        help=f"shipped model name ({', '.join(shipped_models())}) or model file: .safetensors "
                             "(+ .json), TorchScript archive or state_dict (default: the shipped default model)")
    parser.add_argument("-o", "--output", required=True, metavar="SCORES.bed", help="output BED of scores")
    parser.add_argument("--batch-size", type=batch_size, default=BATCH_SIZE,
                        help=f"junctions per forward pass (default: {CPU_BATCH_SIZE} on CPU, {GPU_BATCH_SIZE} on GPU)")
    parser.add_argument("--device", choices=DEVICES, default=DEVICE,
                        help=f"auto picks cuda, then mps, then cpu (default: {DEVICE})")
    parser.add_argument("--precision", choices=PRECISIONS, default=PRECISION,
                        help=f"{PRECISION} (default, exact), or autocast bf16/fp16 for speed")
    parser.add_argument("--stats", metavar="STATS.json", help="write counts (scored, skipped by reason) as JSON")
    parser.add_argument("--threads", type=threads, default=THREADS,
                        help="torch CPU threads (0 = the CPUs this process may use: its affinity mask and cgroup "
                             "CPU quota, rounded down; OMP_NUM_THREADS, when set, lowers it)")
    parser.add_argument("--chunk-size", type=positive_int, default=CHUNK_SIZE,
                        help="junctions read and scored per chunk; memory is bounded by this (plus under "
                             "100 MB remembered for repeats), not by input size")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary on stderr")


def _count(provenance: dict[str, str], key: str) -> int | None:
    value = provenance.get(key, "")
    return int(value) if value.isdigit() else None


def run(args: argparse.Namespace) -> int:
    from splamflow.io.bed import provenance_line, read_junctions, read_provenance
    from splamflow.io.files import given_name, require_file, with_indexes
    from splamflow.io.genome import open_genome
    from splamflow.outputs import OutputSet

    require_file(args.junctions, "junction BED", allow_empty=True)
    # content, index and names checked before anything else (and torch); the one open genome is scored from
    with open_genome(args.genome) as genome:
        import torch

        from splamflow.cpus import auto_threads
        from splamflow.score.predictor import check_device
        from splamflow.score.stream import score_bed
        from splamflow.versions import resolve_model
        from splamflow.weights import load_model, metadata_path

        check_device(args.device, args.precision)

        inputs = [("junction BED", args.junctions), *with_indexes("genome FASTA", args.genome, "fasta")]
        model = resolve_model(args.model) if args.model else None
        if model:
            inputs += [("model", model), ("model metadata", metadata_path(model))]
        outputs = OutputSet(inputs)
        scores_out = outputs.add(args.output, "-o", ".bed")
        stats_out = outputs.add(args.stats, "--stats", ".json") if args.stats else None
        with outputs:
            rows = sum(1 for _ in read_junctions(args.junctions))  # every row is checked before the model loads
            provenance = read_provenance(args.junctions)
            torch.set_num_threads(args.threads or auto_threads())
            loaded = load_model(model)
            if not args.quiet:
                if detailed():  # off a terminal the summary line names the model
                    print(one_line(f"model: {loaded.describe()}"), file=sys.stderr)
                if not rows:
                    print(one_line(f"no junctions in {given_name(args.junctions)}: the outputs are empty"),
                          file=sys.stderr)
            started = time.perf_counter()
            with open(scores_out.tmp, "w", newline="\n") as handle:
                if provenance:
                    handle.write(provenance_line(provenance))
                stats = score_bed(args.junctions, genome, loaded.net, handle, device=args.device,
                                  precision=args.precision, batch_size=args.batch_size, chunk_size=args.chunk_size,
                                  progress=not args.quiet, total=rows)
            if stats["rows"] and stats["skipped"]["contig"] == stats["rows"]:
                raise UserError(
                    f"none of the {stats['rows']} junctions is on a contig of {args.genome} "
                    "(contig names must match exactly: '20' and 'chr20' differ)",
                    args.junctions,
                )
            seconds = time.perf_counter() - started
            stats.update(model=str(loaded.path), model_format=loaded.format,
                         model_version=loaded.metadata.get("version"), seconds=round(seconds, 3),
                         strand_source=provenance.get("strand_source"),
                         spliced_records=_count(provenance, "spliced_records"),
                         unstranded_records=_count(provenance, "unstranded_records"))
            if stats_out:
                stats_out.tmp.write_text(json.dumps(stats, indent=2) + "\n")
    if not args.quiet:
        skipped = ", ".join(f"{k} {v}" for k, v in stats["skipped"].items())
        print(one_line(
            f"scored {stats['scored']} of {stats['rows']} junctions in {seconds:.1f} s "
            f"on {stats['device']} ({stats['precision']}) with model {loaded.describe()}; skipped: {skipped}"),
            file=sys.stderr,
        )
    return 0
