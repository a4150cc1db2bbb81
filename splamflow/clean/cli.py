"""Remove spurious spliced alignments from a BAM or CRAM, or transcripts with bad introns from a GTF/GFF3.

Alignments: a junction is spurious when its donor or acceptor score is below --threshold; a record is
removed when any of its introns (keyed by the record's strand: XS, minimap2 ts, or --strandness; for
records with none of these, --genome (--infer-strand auto or motif) keys each intron by its motif, as
extract does) is spurious. The scores must have been made with the same strand rule: when their
`#splamflow` header names another `strand_source` than --infer-strand, --genome and --strandness
give here, clean stops (exit 2) instead of silently keeping records it cannot match. Scores
without that header (Splam's own, `extract --infer-strand none` without --strandness, annotation
introns) are not checked. Junctions without a score never remove a record. Kept + discarded = input, record for
record; NH/HI of multi-mapped reads are updated; outputs are sorted and indexed when the input is.
A CRAM input is read with --reference and cleaned into BAM outputs.

Annotations: an intron is bad when both scores are below --threshold; a transcript is removed when
it has at least --min-introns introns and more than --min-bad-fraction of them are bad.

A scores file without rows (a sample with no scorable junction) is valid: every record is kept.
Every output (with the BAM indexes) is checked before the work and replaced together at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
from dataclasses import dataclass
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
from splamflow.clean.options import MIN_BAD_FRACTION, MIN_INTRONS, THRESHOLD, CleanOptions
from splamflow.errors import UserError
from splamflow.io.files import given_name, require_file, with_indexes
from splamflow.io.sniff import ALIGNMENTS, ANNOTATION, annotation_format, annotation_name_format, input_kind
from splamflow.outputs import Output, OutputSet, is_stream

if TYPE_CHECKING:
    import pysam


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "input",
        metavar="INPUT",
        help="alignments (BAM/SAM, or CRAM with --reference) or annotation (GTF/GFF3, may be gzipped)",
    )
    parser.add_argument(
        "--scores",
        required=True,
        metavar="SCORES.bed",
        help="junction scores written by `splam_score.py score`",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="CLEANED",
        help="cleaned BAM, or cleaned GTF/GFF3 (same format as the input; .gz to compress)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=THRESHOLD,
        help=f"score threshold t; a score below t is bad, a score equal to t is not (default {THRESHOLD:g})",
    )
    parser.add_argument("--stats", metavar="STATS.json", help="write counts as JSON")
    parser.add_argument(
        "--stats-tsv",
        metavar="STATS_mqc.tsv",
        help="write counts as a MultiQC custom-content table (name it *_mqc.tsv)",
    )
    parser.add_argument(
        "--sample",
        metavar="NAME",
        help="sample name in --stats-tsv and --score-histogram (default: the input file name without extension)",
    )
    parser.add_argument(
        "--score-histogram",
        metavar="SCORES_mqc.json",
        help="write the distribution of junction scores (the lower of donor and acceptor, bins of 0.05) as "
        "MultiQC custom content, a line graph named by --sample (name it *_mqc.json)",
    )
    parser.add_argument(
        "--plot",
        metavar="PLOT.png",
        help="PNG: donor vs acceptor scores with the threshold, and spurious junctions per "
        "record/transcript (needs matplotlib)",
    )
    bam = parser.add_argument_group("alignments (BAM/CRAM input; the outputs are BAM)")
    bam.add_argument("--reference", metavar="REF.fa", help="FASTA the CRAM input was compressed against")
    bam.add_argument(
        "--discarded",
        metavar="DISCARDED.bam",
        help="BAM receiving every removed record (default: none is written; the counts still say how many)",
    )
    bam.add_argument(
        "--paired",
        action="store_true",
        help="paired-end: survivors whose mate was removed are marked mate-unmapped",
    )
    bam.add_argument(
        "--drop-pairs",
        action="store_true",
        help="paired-end: remove both mates when one is removed (implies --paired)",
    )
    bam.add_argument(
        "--strandness",
        choices=("fr", "rf", "none"),
        default=CleanOptions.strandness,
        help="library strandness for records without XS/ts tags, as in `extract` (default none)",
    )
    add_infer_strand_arguments(
        bam,
        "records without XS/ts (and --strandness none): auto (default) keys each of their introns by "
        "the strand of its genomic dinucleotides when --genome is given, exactly as extract gave their "
        "junctions a strand (e.g. STAR BAMs without XS), else looks them up with strand '.'; motif: the "
        "same, --genome required; none: strand '.'. Must match what extract was given",
    )
    bam.add_argument(
        "--mark-unmapped",
        action="store_true",
        help="mark discarded records unmapped like Splam (default: keep them as they were)",
    )
    bam.add_argument(
        "--threads", type=positive_threads, default=CleanOptions.threads, metavar="N",
        help="worker processes, each cleaning chunks of a coordinate-sorted, indexed BAM (other inputs are "
        "read in one pass with N BGZF threads); the outputs' bytes do not depend on N "
        f"(default {CleanOptions.threads})",
    )
    bam.add_argument(
        "--chunk-records", type=positive_int, default=CleanOptions.chunk_records, metavar="N",
        help="records per chunk of a sorted, indexed BAM, from its index: the unit of parallel work; each "
        f"chunk starts a new BGZF block of the outputs (default {CleanOptions.chunk_records:,})",
    )
    gtf = parser.add_argument_group("annotations (GTF/GFF3 input)")
    gtf.add_argument(
        "--min-bad-fraction",
        type=float,
        default=None,
        help=f"remove a transcript when more than this fraction of its introns is bad (default {MIN_BAD_FRACTION:g})",
    )
    gtf.add_argument(
        "--min-introns",
        type=non_negative_int,
        default=None,
        help=f"only transcripts with at least this many introns can be removed (default {MIN_INTRONS})",
    )
    gtf.add_argument(
        "--report",
        metavar="TRANSCRIPTS.tsv",
        help="per-transcript TSV: introns, bad introns, fraction, kept/removed",
    )


def _check_args(args: argparse.Namespace, kind: str) -> None:
    if not 0.0 <= args.threshold <= 1.0:
        raise UserError(f"--threshold must be in [0, 1], got {args.threshold}")
    if kind == ALIGNMENTS:
        for flag, value in (
            ("--min-bad-fraction", args.min_bad_fraction),
            ("--min-introns", args.min_introns),
            ("--report", args.report),
        ):
            if value is not None:
                raise UserError(f"{flag} applies to GTF/GFF3 input only")
        check_infer_strand(args.infer_strand, args.genome)
    else:
        for flag, value in (
            ("--discarded", args.discarded),
            ("--reference", args.reference),
            ("--paired", args.paired),
            ("--drop-pairs", args.drop_pairs),
            ("--mark-unmapped", args.mark_unmapped),
            ("--strandness", args.strandness != "none"),
            ("--infer-strand motif", args.infer_strand == "motif"),
            ("--genome", args.genome),
        ):
            if value:
                raise UserError(f"{flag} applies to BAM input only")
        args.min_bad_fraction = MIN_BAD_FRACTION if args.min_bad_fraction is None else args.min_bad_fraction
        args.min_introns = MIN_INTRONS if args.min_introns is None else args.min_introns
        if not 0.0 <= args.min_bad_fraction <= 1.0:
            raise UserError(f"--min-bad-fraction must be in [0, 1], got {args.min_bad_fraction}")


def _command_line(args: argparse.Namespace) -> str:
    words = [
        "splam_score.py",
        "clean",
        given_name(args.input),
        "--scores",
        given_name(args.scores),
        "-o",
        args.output,
        *(["--discarded", args.discarded] if args.discarded else []),
        "--threshold",
        str(args.threshold),
    ]
    if args.reference:
        words += ["--reference", args.reference]
    words += [
        flag
        for flag, on in (
            ("--paired", args.paired),
            ("--drop-pairs", args.drop_pairs),
            ("--mark-unmapped", args.mark_unmapped),
        )
        if on
    ]
    if args.strandness != "none":
        words += ["--strandness", args.strandness]
    if args.infer_strand != "auto":
        words += ["--infer-strand", args.infer_strand]
    if args.genome:
        words += ["--genome", args.genome]
    if args.chunk_records != CleanOptions.chunk_records:  # it places the BGZF blocks; --threads changes nothing
        words += ["--chunk-records", str(args.chunk_records)]
    return shlex.join(words)


@dataclass
class _Files:
    """The outputs of one clean run (None: not asked for, or not for this kind of input)."""

    main: Output
    discarded: Output | None = None
    main_index: Output | None = None
    discarded_index: Output | None = None
    stats: Output | None = None
    stats_tsv: Output | None = None
    score_histogram: Output | None = None
    plot: Output | None = None
    report: Output | None = None


def _outputs(args: argparse.Namespace, kind: str) -> tuple[OutputSet, _Files]:
    """Every file this run writes, indexes included, and the inputs none of them may overwrite."""
    inputs = [*with_indexes("input", args.input, "alignments"), ("--scores", args.scores),
              *with_indexes("--genome", args.genome, "fasta"),
              *with_indexes("--reference", args.reference, "fasta")]
    outputs = OutputSet(inputs)
    if kind == ALIGNMENTS:
        # a stream (-, a FIFO, /dev/null) gets the BAM only: nothing is written beside a device
        files = _Files(main=outputs.add(args.output, "-o", ".bam"))
        if args.discarded:
            files.discarded = outputs.add(args.discarded, "--discarded", ".bam")
        if not is_stream(args.output):
            files.main_index = outputs.add(f"{args.output}.bai", "index of -o", ".bai")
        if args.discarded and not is_stream(args.discarded):
            files.discarded_index = outputs.add(f"{args.discarded}.bai", "index of --discarded", ".bai")
    else:
        files = _Files(main=outputs.add(args.output, "-o", ".gz" if args.output.endswith(".gz") else ""))
    for name, flag, suffix in (("stats", "--stats", ".json"), ("stats_tsv", "--stats-tsv", ".tsv"),
                               ("score_histogram", "--score-histogram", ".json"),
                               ("plot", "--plot", ".png"), ("report", "--report", ".tsv")):
        if getattr(args, name):
            setattr(files, name, outputs.add(getattr(args, name), flag, suffix))
    return outputs, files


def _clean_alignments(args: argparse.Namespace, scores, files: _Files, genome: pysam.FastaFile | None
                      ) -> tuple[dict, object]:
    from splamflow.clean import report
    from splamflow.clean.alignments import clean_alignments, reference_names
    from splamflow.clean.scores import SPURIOUS
    from splamflow.motifs import MotifStrands

    opts = CleanOptions(
        threshold=args.threshold,
        paired=args.paired or args.drop_pairs,
        drop_pairs=args.drop_pairs,
        strandness=args.strandness,
        mark_unmapped=args.mark_unmapped,
        threads=args.threads,
        chunk_records=args.chunk_records,
        command_line=_command_line(args),
        reference=args.reference,
    )
    missing = scores.missing_contigs(reference_names(args.input, opts))
    report.warn_unknown_contigs(missing, len(scores), "the BAM header")
    motifs = MotifStrands(genome, args.genome) if genome is not None else None
    def paths(bam: Output | None, index: Output | None) -> tuple[Path, Path | None] | None:
        return (bam.tmp, index.tmp if index else None) if bam else None

    stats = clean_alignments(args.input, scores, paths(files.main, files.main_index),
                             paths(files.discarded, files.discarded_index), opts, motifs)
    if not stats.sorted_output:  # an old index of these names would not match the new BAMs
        for index in (files.main_index, files.discarded_index):
            if index is not None:
                index.remove_instead()
    stats.score_junctions_on_unknown_contigs = sum(missing.values())
    options = {"paired": opts.paired, "drop_pairs": opts.drop_pairs, "strandness": opts.strandness,
               "infer_strand": args.infer_strand, "mark_unmapped": opts.mark_unmapped}
    payload = report.payload("alignments", _names(args), args.threshold, options, stats.as_dict())
    payload["strand_source"] = strand_source(args.infer_strand, args.genome, args.strandness)
    if files.stats_tsv:
        report.write_alignment_mqc(files.stats_tsv.tmp, report.sample_name(args.input, args.sample),
                                   args.threshold, stats)
    if files.score_histogram:
        report.write_score_histogram(files.score_histogram.tmp, report.sample_name(args.input, args.sample),
                                     args.threshold, scores)
    if files.plot:
        report.write_plot(files.plot.tmp, scores, args.threshold, SPURIOUS, dict(stats.spurious_per_record),
                          f"splamflow clean: {Path(args.input).name}")
    return payload, stats


def _clean_annotation(args: argparse.Namespace, scores, files: _Files) -> tuple[dict, object]:
    from splamflow.clean import report
    from splamflow.clean.annotation import clean_annotation
    from splamflow.clean.scores import BAD

    fmt = annotation_format(args.input)  # judged once: the warning, the reader and the rewrite use it
    named = annotation_name_format(args.output)
    # an output name that names no format (Galaxy's dataset_N.dat, out.txt) is never warned about
    if named and named != fmt:
        report.warn(f"the output keeps the input's format; {args.output} has another extension")
    stats, verdicts = clean_annotation(args.input, scores, files.main.tmp, args.threshold, args.min_bad_fraction,
                                       args.min_introns, gzip_output=args.output.endswith(".gz"), fmt=fmt)
    options = {"min_bad_fraction": args.min_bad_fraction, "min_introns": args.min_introns}
    payload = report.payload("annotation", _names(args), args.threshold, options, stats.as_dict())
    if files.report:
        with open(files.report.tmp, "w", newline="\n") as out:
            report.write_transcripts(verdicts, out)
    if files.stats_tsv:
        report.write_annotation_mqc(files.stats_tsv.tmp, report.sample_name(args.input, args.sample),
                                    args.threshold, args.min_bad_fraction, args.min_introns, stats)
    if files.score_histogram:
        report.write_score_histogram(files.score_histogram.tmp, report.sample_name(args.input, args.sample),
                                     args.threshold, scores)
    if files.plot:
        report.write_plot(files.plot.tmp, scores, args.threshold, BAD, stats.bad_per_transcript,
                          f"splamflow clean: {Path(args.input).name}")
    return payload, stats


def _check_strand_source(args: argparse.Namespace) -> None:
    """The scores' recorded strand rule (when they record one) is the one this run keys records by."""
    from splamflow.io.bed import read_provenance

    theirs = read_provenance(args.scores).get("strand_source")
    ours = strand_source(args.infer_strand, args.genome, args.strandness)
    if theirs and theirs != ours:
        raise UserError(
            f"the scores' junctions were stranded by {theirs} but this clean would key records by {ours}: "
            "give clean the --infer-strand, --genome and --strandness that extract was given",
            args.scores,
        )


def _names(args: argparse.Namespace) -> dict[str, str]:
    return {"input": given_name(args.input), "scores": given_name(args.scores), "output": args.output}


def run(args: argparse.Namespace) -> int:
    from splamflow.clean import report
    from splamflow.clean.scores import read_scores
    from splamflow.io.genome import open_genome

    source = require_file(args.input, "input")
    require_file(args.scores, "scores", allow_empty=True)
    if args.reference:
        require_file(args.reference, "--reference")
    # a file input_kind cannot place goes to the GTF reader, whose error says what is wrong with it
    kind = input_kind(source) or ANNOTATION
    _check_args(args, kind)
    if kind == ALIGNMENTS:
        _check_strand_source(args)
    # --genome (BAM input, intron motifs) is checked before any output is made, opened once
    with contextlib.ExitStack() as stack:
        genome = stack.enter_context(open_genome(args.genome)) if args.genome else None
        outputs, files = _outputs(args, kind)
        with outputs:
            scores = read_scores(args.scores)
            if not len(scores):
                report.info(f"{args.scores} holds no scored junction: every record is kept")
            if scores.conflicting_duplicates:
                report.warn(f"{scores.conflicting_duplicates:,} lines repeat a junction with other scores; the "
                            f"first line of each junction was used")
            if kind == ALIGNMENTS:
                payload, stats = _clean_alignments(args, scores, files, genome)
            else:
                payload, stats = _clean_annotation(args, scores, files)
            if files.stats:
                report.write_json(files.stats.tmp, payload)
    if kind == ALIGNMENTS:
        report.summarise_alignments(stats, len(scores), args.paired or args.drop_pairs)
    else:
        report.summarise_annotation(stats, len(scores), args.input)
    return 0
