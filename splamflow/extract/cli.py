"""Write the splice junctions of a BAM/CRAM, or the introns of a GTF/GFF3, as a junction BED.

Output columns: chrom, start, end, name, count, strand (intron coordinates 0-based half-open,
BED style). Rows are sorted by contig (header order for alignments, order of first appearance for
annotations), start, end, then strand (+, -, .); names JUNC00000001, JUNC00000002, ... are given
after sorting, so the same input always gives the same file.

From alignments (BAM, or CRAM with --reference), by default exactly as Splam 1.0.12 counts:
  * a junction is a CIGAR N operation (a deletion does not split an alignment);
  * count = number of mapped records spanning it, each weighted by its integer YC tag (default 1);
    no record is filtered by flag: secondary, supplementary and duplicate records all count, each
    mate once, with no 1/NH weighting (unmapped records never count);
  * strand from the XS tag, else minimap2's ts tag (flipped for reverse-strand reads), else '.'
    (with --genome, the default --infer-strand auto gives these the strand of their intron motif);
    the same intron may therefore appear on '+', '-' and '.' rows;
  * introns longer than 99,998 bases (Splam's --max-splice 100000 minus 2) are dropped.
Options beyond Splam: --strandness for stranded libraries without XS, --infer-strand/--genome,
--min-mapq, --exclude-flags, --min-anchor, --max-intron, --region, --threads, --extended.

From annotations (GTF with transcript_id/gene_id, GFF3 with Parent links; plain or gzipped):
one row per distinct (contig, intron, strand); column 5 is the number of transcripts that contain
the intron and column 7 their ids, sorted and comma-separated. --intron-counts also writes
transcript_id, gene_id and number of introns per transcript (a TSV with a header line).

Where splamflow deliberately differs from Splam 1.0.12:
  * rows are sorted and then named (Splam writes first-seen order, which changes with the input's
    record order and, for annotations, with Python's hash seed);
  * annotation introns have exact coordinates (Splam writes them one base too wide on each side,
    so its scores for annotation introns are read at the wrong positions);
  * --paired keeps proper pairs whose mates carry no NH tag (Splam 1.0.12's paired mode silently
    drops them); junction counts are the same with and without --paired, as in Splam;
  * a first line `#splamflow strand_source=... spliced_records=N unstranded_records=M` records how
    the junctions were stranded (score copies it, clean checks it); --infer-strand none without
    --strandness (Splam's format) omits it;
  * --genome (auto or motif) gives a strand to junctions of BAMs without XS tags (e.g. STAR run
    without --outSAMstrandField intronMotif), which Splam writes as '.' and its scorer then skips;
  * one output file (-o) instead of an output folder with junction.bed and temporary BAMs.

Examples:
  splam_score.py extract sample.bam -o junctions.bed --threads 2
  splam_score.py extract star.bam -o junctions.bed --genome genome.fa
  splam_score.py extract sample.cram --reference genome.fa -o junctions.bed --region chr1:1-5000000
  splam_score.py extract gencode.gtf.gz -o introns.bed --intron-counts transcript_introns.tsv
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from splamflow.argtypes import (
    add_infer_strand_arguments,
    check_infer_strand,
    non_negative_int,
    positive_int,
    positive_threads,
    strand_source,
)
from splamflow.errors import UserError, one_line
from splamflow.extract.options import SPLAM_MAX_INTRON, THREADS, UNSTRANDED_WARNING_FRACTION, ExtractOptions
from splamflow.io.alignments import FLAG_NAMES, STRANDNESS
from splamflow.io.files import require_file, with_indexes
from splamflow.io.sniff import ANNOTATION, input_kind

if TYPE_CHECKING:
    import pysam

    from splamflow.extract.alignments import Junctions

DEFAULTS = ExtractOptions()
WARNING = "warning: "  # summary items with this prefix are printed as lines of their own


def parse_flags(text: str) -> int:
    """samtools-style flags: a number (decimal, 0x hex, 0 octal) or comma-separated names."""
    text = text.strip()
    try:
        return int(text, 0)
    except ValueError:
        pass
    value = 0
    for name in text.split(","):
        key = name.strip().upper()
        if key not in FLAG_NAMES:
            raise argparse.ArgumentTypeError(
                f"unknown flag {name.strip()!r} (use a number or names from {','.join(FLAG_NAMES)})"
            )
        value |= FLAG_NAMES[key]
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `splam_score.py extract`."""
    parser.add_argument("inputs", metavar="INPUT", nargs="+",
                        help="BAM, CRAM, GTF or GFF3 (.gz accepted for GTF/GFF3); several BAM/CRAM files give "
                             "the union of their junctions (counts summed)")
    parser.add_argument("-o", "--output", required=True, metavar="JUNCTIONS.bed", help="output junction BED")
    alignments = parser.add_argument_group("alignment input (BAM/CRAM)")
    alignments.add_argument("--reference", metavar="REF.fa", help="FASTA the CRAM was compressed against")
    alignments.add_argument(
        "--paired", action="store_true",
        help="paired-end data (Splam -P): also report how many spliced mates lack an NH tag; they are "
        "counted (Splam 1.0.12 drops such pairs); counts are otherwise unchanged",
    )
    add_infer_strand_arguments(
        alignments,
        "strand of junctions of records without XS/ts (or --strandness): auto (default) = their intron "
        "motif when --genome is given (GT-AG, GC-AG, AT-AC -> '+', reverse complements -> '-', others "
        f"'.'), else '.' with a warning when more than {UNSTRANDED_WARNING_FRACTION * 100:.0f}%% of spliced records "
        "have no strand; motif = the same, --genome required; none = '.' (Splam 1.0.12; without --strandness, "
        "no header line)",
    )
    alignments.add_argument(
        "--strandness", choices=STRANDNESS, default=DEFAULTS.strandness,
        help="library strandness for records without XS/ts (Splam --fr/--rf): fr = read 1 on the "
        "transcript strand (fr-secondstrand), rf = read 1 opposite (dUTP, fr-firststrand); "
        f"single-end reads count as read 1 (default: {DEFAULTS.strandness})",
    )
    alignments.add_argument(
        "--min-mapq", type=non_negative_int, default=DEFAULTS.min_mapq, metavar="N",
        help=f"ignore records with mapping quality below N (default {DEFAULTS.min_mapq}: none ignored, as Splam)",
    )
    alignments.add_argument(
        "--exclude-flags", type=parse_flags, default=DEFAULTS.exclude_flags, metavar="FLAGS",
        help="ignore records with any of these SAM flags: a number or names such as "
        "SECONDARY,DUP,QCFAIL,SUPPLEMENTARY (default: none, as Splam)",
    )
    alignments.add_argument(
        "--min-anchor", type=non_negative_int, default=DEFAULTS.min_anchor, metavar="N",
        help="count an intron only when at least N read bases align (M/=/X) on each side of the gap "
        f"(default {DEFAULTS.min_anchor}, as Splam)",
    )
    alignments.add_argument(
        "--max-intron", type=positive_int, default=None, metavar="N",
        help=f"drop introns longer than N bases (default {SPLAM_MAX_INTRON}, Splam's limit)",
    )
    alignments.add_argument(
        "--region", metavar="R",
        help="only records overlapping R (contig or contig:start-end, 1-based); needs an index",
    )
    alignments.add_argument(
        "--threads", type=positive_threads, default=THREADS, metavar="N",
        help="worker processes, splitting the genome into chunks by the index (an unindexed BAM is read "
        "in one pass with N decompression threads instead; ignored for GTF/GFF3 input)",
    )
    alignments.add_argument(
        "--per-sample-counts", metavar="COUNTS.tsv",
        help="also write each input's count per junction: a TSV with a header line `name SAMPLE...` "
        "(samples named by their file names without .bam/.cram/.sam; names must differ)",
    )
    alignments.add_argument(
        "--extended", action="store_true",
        help="add columns 7-8: support from uniquely mapped (NH <= 1 or no NH) and multi-mapped "
        "(NH > 1) records",
    )
    annotations = parser.add_argument_group("annotation input (GTF/GFF3)")
    annotations.add_argument(
        "--features", metavar="TYPES",
        help="comma-separated transcript-level feature types to take (default: mRNA, transcript, ncRNA, "
        "lnc_RNA and the other transcript types of the Sequence Ontology)",
    )
    annotations.add_argument(
        "--intron-counts", metavar="TRANSCRIPT_INTRONS.tsv",
        help="also write transcript_id, gene_id, number of introns per transcript (for `clean` on GTF/GFF3)",
    )


def _inputs(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    """Files this run reads (with their indexes), which no output may overwrite."""
    found = [f for path in args.inputs for f in with_indexes("input", path, "alignments")]
    for flag in ("reference", "genome"):
        found += with_indexes(f"--{flag}", getattr(args, flag), "fasta")
    return found


def run(args: argparse.Namespace) -> int:
    """Entry point of `splam_score.py extract`."""
    from splamflow.outputs import OutputSet

    for path in args.inputs:
        require_file(path)
    args.input = args.inputs[0]
    # a file input_kind cannot place goes to htslib, whose error says what is wrong with it
    annotation = input_kind(args.input) == ANNOTATION
    _reject(args, annotation)
    outputs = OutputSet(_inputs(args))
    bed = outputs.add(args.output, "-o", ".bed")
    counts = outputs.add(args.intron_counts, "--intron-counts", ".tsv") if args.intron_counts else None
    per_sample = outputs.add(args.per_sample_counts, "--per-sample-counts", ".tsv") if args.per_sample_counts \
        else None
    with outputs:
        summary = _run_annotation(args, bed.tmp, counts.tmp if counts else None) if annotation else \
            _run_alignments(args, bed.tmp, per_sample.tmp if per_sample else None)
    for line in summary:
        if line.startswith(WARNING):
            print(f"splam_score.py extract: {one_line(line)}", file=sys.stderr)
    # one line, terminal or not
    print("extract: " + one_line("; ".join(s for s in summary if not s.startswith(WARNING))), file=sys.stderr)
    return 0


def _reject(args: argparse.Namespace, annotation: bool) -> None:
    """Options that do not apply to this kind of input are errors, not silently ignored."""
    if annotation:
        used = [
            name for name, on in (
                ("--reference", args.reference), ("--paired", args.paired),
                ("--infer-strand motif", args.infer_strand == "motif"), ("--genome", args.genome),
                ("--strandness", args.strandness != "none"), ("--min-mapq", args.min_mapq),
                ("--exclude-flags", args.exclude_flags), ("--min-anchor", args.min_anchor),
                ("--max-intron", args.max_intron is not None), ("--region", args.region),
                ("--extended", args.extended), ("--per-sample-counts", args.per_sample_counts),
            ) if on
        ]
        if used:
            raise UserError(f"{', '.join(used)}: only for BAM/CRAM input", args.input)
        if len(args.inputs) > 1:
            raise UserError("an annotation is extracted alone: give one GTF/GFF3 input", args.inputs[1])
    else:
        used = [n for n, on in (("--features", args.features), ("--intron-counts", args.intron_counts)) if on]
        if used:
            raise UserError(f"{', '.join(used)}: only for GTF/GFF3 input", args.input)
        check_infer_strand(args.infer_strand, args.genome)
        for path in args.inputs[1:]:
            if input_kind(path) == ANNOTATION:
                raise UserError("several inputs must all be BAM/CRAM", path)
        sample_names(args.inputs)


def _run_annotation(args: argparse.Namespace, bed: Path, intron_counts: Path | None) -> list[str]:
    """Write the introns (and per-transcript counts) to the temporary outputs; return the summary."""
    from splamflow.extract.introns import annotation_rows, write_intron_counts
    from splamflow.io.annotation import read_transcripts
    from splamflow.io.bed import id_list, junction_name, write_bed

    features = [f.strip() for f in args.features.split(",") if f.strip()] if args.features else None
    transcripts = read_transcripts(args.input, features)
    rows = annotation_rows(transcripts)
    write_bed(bed, ((contig, start, end, junction_name(i), len(ids), strand, id_list(ids))
                    for i, (contig, start, end, strand, ids) in enumerate(rows, 1)))
    if intron_counts:
        write_intron_counts(transcripts, intron_counts)
    n_introns = sum(len(t.introns) for t in transcripts)
    return [f"{len(transcripts):,} transcripts, {n_introns:,} introns, {len(rows):,} distinct "
            f"introns written to {args.output}"]


def sample_names(paths: list[str]) -> list[str]:
    """Each input's sample name: its file name without .bam/.cram/.sam; a name given twice is an error."""
    names: dict[str, str] = {}
    for path in paths:
        name = Path(path).name
        for suffix in (".bam", ".cram", ".sam"):
            name = name.removesuffix(suffix)
        if name in names:
            raise UserError(f"two inputs give the sample name {name!r} ({names[name]}, {path}): rename one", path)
        names[name] = path
    return list(names)


def _run_alignments(args: argparse.Namespace, bed: Path, per_sample: Path | None) -> list[str]:
    """Write the junctions to the temporary output; return the summary."""
    from splamflow.extract.alignments import union
    from splamflow.io.bed import junction_name, provenance_line, write_bed
    from splamflow.io.genome import open_genome

    if args.reference:
        open_genome(args.reference).close()  # a FASTA htslib would crash on is refused here
    # --genome (auto or motif) is checked before the alignments are read, opened once for every input
    with open_genome(args.genome) if args.genome else contextlib.nullcontext() as genome:
        parts, notes = [], []
        for path in args.inputs:
            part, part_notes = _count_junctions(args, genome, path)
            parts.append(part)
            notes += part_notes
    junctions, samples = union(parts) if len(parts) > 1 else (parts[0], None)
    stats = junctions.stats
    rows = junctions.rows()
    source = strand_source(args.infer_strand, args.genome, args.strandness)
    splam_format = args.infer_strand == "none" and args.strandness == "none"  # Splam 1.0.12's bytes
    header = "" if splam_format else provenance_line(
        {"strand_source": source, "spliced_records": stats.spliced, "unstranded_records": stats.unstranded})
    write_bed(bed, ((contig, start, end, junction_name(i), count, strand, *((unique, multi) if args.extended else ()))
                    for i, (contig, start, end, strand, (count, unique, multi)) in enumerate(rows, 1)), header)
    if per_sample:
        if samples is None:
            samples = [{(c, s, e, strand): v[0] for c, s, e, strand, v in rows}]
        write_bed(per_sample, ((junction_name(i), *(own.get((c, s, e, strand), 0) for own in samples))
                               for i, (c, s, e, strand, _) in enumerate(rows, 1)),
                  "\t".join(["name", *sample_names(args.inputs)]) + "\n")
    left_out = ""
    if args.min_mapq or args.exclude_flags:
        left_out = f" ({stats.filtered:,} spliced records left out by --min-mapq/--exclude-flags)"
    by_strand = {s: 0 for s in "+-."}
    for row in rows:
        by_strand[row[3]] += 1
    summary = [
        f"{stats.records:,} records, {stats.spliced:,} spliced records counted{left_out}; "
        f"{len(rows):,} junctions written to {args.output} "
        f"(+: {by_strand['+']:,}, -: {by_strand['-']:,}, .: {by_strand['.']:,})"
    ]
    if args.paired:
        summary.append(
            f"--paired: {stats.paired_spliced:,} spliced mate records counted, "
            f"{stats.paired_spliced_without_nh:,} of them without an NH tag (kept; Splam 1.0.12 drops them)"
        )
    if stats.bad_tag_values:
        summary.append(f"warning: {stats.bad_tag_values:,} YC/NH tags were not integers and were ignored")
    if by_strand["."] and args.infer_strand == "none":
        summary.append(
            f"note: {by_strand['.']:,} junctions have no strand ('.'; no XS/ts tag); "
            "Splam's scorer skips such rows; consider --infer-strand auto --genome GENOME.fa "
            "or --strandness"
        )
    if (args.infer_strand == "auto" and not args.genome
            and stats.unstranded > UNSTRANDED_WARNING_FRACTION * stats.spliced):
        summary.append(
            f"{WARNING}{stats.unstranded:,} of {stats.spliced:,} spliced records "
            f"({stats.unstranded / stats.spliced:.1%}) have no strand (no XS/ts tag, e.g. STAR without "
            "--outSAMstrandField intronMotif): their junctions are '.' and score skips them; give --genome "
            "GENOME.fa to strand them by their intron motif, or --strandness for a stranded library"
        )
    return summary + notes


def _count_junctions(
    args: argparse.Namespace, genome: pysam.FastaFile | None, path: str
) -> tuple[Junctions, list[str]]:
    """The junctions of the alignments, strands inferred from `genome` when given; notes for the summary."""
    from splamflow.extract.alignments import extract_junctions
    from splamflow.extract.introns import infer_motif_strands
    from splamflow.motifs import MotifStrands

    options = ExtractOptions(
        strandness=args.strandness,
        min_mapq=args.min_mapq,
        exclude_flags=args.exclude_flags,
        min_anchor=args.min_anchor,
        max_intron=args.max_intron if args.max_intron is not None else SPLAM_MAX_INTRON,
        paired=args.paired,
        multi_mapped=args.extended,
    )
    junctions = extract_junctions(path, args.reference, options, args.region, args.threads)
    notes = []
    if args.threads > 1 and not junctions.indexed:
        notes.append(
            f"note: {path} has no index, so it was read in one pass with "
            f"{args.threads} decompression threads instead of {args.threads} worker processes "
            "(`samtools index` it to parallelise)"
        )
    if genome is not None:
        unstranded, resolved = infer_motif_strands(junctions, MotifStrands(genome, args.genome))
        notes.append(
            f"--infer-strand {args.infer_strand} resolved {sum(resolved.values()):,} of {unstranded:,} "
            f"unstranded junctions (+: {resolved['+']:,}, -: {resolved['-']:,}); "
            f"{unstranded - sum(resolved.values()):,} stay '.'"
        )
    return junctions, notes
