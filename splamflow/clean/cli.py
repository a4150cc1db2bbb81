"""Remove spurious spliced alignments from a BAM or CRAM, or transcripts with bad introns from a GTF/GFF3.

Alignments: a junction is spurious when its donor or acceptor score is below --threshold; a record is
removed when any of its introns (keyed by the record's strand: XS, minimap2 ts, or --strandness) is
spurious. Junctions without a score never remove a record. Kept + discarded = input, record for
record; NH/HI of multi-mapped reads are updated; outputs are sorted and indexed when the input is.
A CRAM input is read with --reference and cleaned into BAM outputs.

Annotations: an intron is bad when both scores are below --threshold; a transcript is removed when
it has at least --min-introns introns and more than --min-bad-fraction of them are bad.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shlex
import sys
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from splamflow import __version__
from splamflow.errors import UserError
from splamflow.fileio import atomic_path, require_file, same_file

PROG = "splam_score.py clean"
_ALIGNMENT_SUFFIXES = (".bam", ".sam", ".cram")
_ANNOTATION_SUFFIXES = (".gtf", ".gff", ".gff3")


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
        default=0.1,
        help="score threshold t; a score below t is bad, a score equal to t is not (default 0.1)",
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
        help="sample name in --stats-tsv (default: the input file name without extension)",
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
        help="BAM receiving every removed record (required for BAM input)",
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
        default="none",
        help="library strandness for records without XS/ts tags, as in `extract` (default none)",
    )
    bam.add_argument(
        "--mark-unmapped",
        action="store_true",
        help="mark discarded records unmapped like Splam (default: keep them as they were)",
    )
    bam.add_argument("--threads", type=int, default=1, help="BGZF compression/decompression threads (default 1)")
    gtf = parser.add_argument_group("annotations (GTF/GFF3 input)")
    gtf.add_argument(
        "--min-bad-fraction",
        type=float,
        default=None,
        help="remove a transcript when more than this fraction of its introns is bad (default 0.6)",
    )
    gtf.add_argument(
        "--min-introns",
        type=int,
        default=None,
        help="only transcripts with at least this many introns can be removed (default 3)",
    )
    gtf.add_argument(
        "--report",
        metavar="TRANSCRIPTS.tsv",
        help="per-transcript TSV: introns, bad introns, fraction, kept/removed",
    )


def _warn(message: str) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def _info(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def _strip_gz(name: str) -> str:
    return name[:-3] if name.endswith(".gz") else name


def input_kind(path: Path) -> str:
    """'alignments' or 'annotation', from the extension, else from the content."""
    name = _strip_gz(path.name.lower())
    if name.endswith(_ALIGNMENT_SUFFIXES):
        return "alignments"
    if name.endswith(_ANNOTATION_SUFFIXES):
        return "annotation"
    with open(path, "rb") as raw:
        head = raw.read(4)
    if head == b"CRAM":
        return "alignments"
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as unz:
                if unz.read(4) == b"BAM\x01":
                    return "alignments"
        except (OSError, EOFError):
            pass
    elif head[:1] == b"@":
        return "alignments"  # a SAM header line
    return "annotation"


def _sample_name(args: argparse.Namespace) -> str:
    if args.sample:
        return args.sample
    name = Path(args.input).name
    for suffix in (".gz", ".bam", ".sam", ".cram", ".gtf", ".gff3", ".gff"):
        name = name.removesuffix(suffix)
    return name


def _check_args(args: argparse.Namespace, kind: str) -> None:
    if not 0.0 <= args.threshold <= 1.0:
        raise UserError(f"--threshold must be in [0, 1], got {args.threshold}")
    if kind == "alignments":
        if not args.discarded:
            raise UserError("BAM input needs --discarded DISCARDED.bam (removed records go there)")
        for flag, value in (
            ("--min-bad-fraction", args.min_bad_fraction),
            ("--min-introns", args.min_introns),
            ("--report", args.report),
        ):
            if value is not None:
                raise UserError(f"{flag} applies to GTF/GFF3 input only")
        if args.threads < 1:
            raise UserError(f"--threads must be at least 1, got {args.threads}")
    else:
        for flag, value in (
            ("--discarded", args.discarded),
            ("--reference", args.reference),
            ("--paired", args.paired),
            ("--drop-pairs", args.drop_pairs),
            ("--mark-unmapped", args.mark_unmapped),
            ("--strandness", args.strandness != "none"),
        ):
            if value:
                raise UserError(f"{flag} applies to BAM input only")
        args.min_bad_fraction = 0.6 if args.min_bad_fraction is None else args.min_bad_fraction
        args.min_introns = 3 if args.min_introns is None else args.min_introns
        if not 0.0 <= args.min_bad_fraction <= 1.0:
            raise UserError(f"--min-bad-fraction must be in [0, 1], got {args.min_bad_fraction}")
        if args.min_introns < 0:
            raise UserError(f"--min-introns must be 0 or more, got {args.min_introns}")
    for value in (args.output, args.discarded, args.stats, args.stats_tsv, args.plot, args.report):
        if value and not Path(value).resolve().parent.is_dir():
            raise UserError("output folder does not exist", Path(value).parent)
    outputs = [
        (flag, value)
        for flag, value in (
            ("-o", args.output),
            ("--discarded", args.discarded),
            ("--stats", args.stats),
            ("--stats-tsv", args.stats_tsv),
            ("--plot", args.plot),
            ("--report", args.report),
        )
        if value
    ]
    for flag, value in outputs:
        for what, source in (("input", args.input), ("--scores", args.scores)):
            if same_file(value, source):
                raise UserError(f"{flag} is the same file as the {what}; choose another output name", value)
    for i, (flag, value) in enumerate(outputs):
        for other_flag, other in outputs[i + 1 :]:
            if same_file(value, other):
                raise UserError(f"{flag} and {other_flag} name the same file", value)


def _command_line(args: argparse.Namespace) -> str:
    words = [
        "splam_score.py",
        "clean",
        args.input,
        "--scores",
        args.scores,
        "-o",
        args.output,
        "--discarded",
        args.discarded,
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
    return shlex.join(words)


def _write_json(stack: ExitStack, path: str, payload: dict) -> None:
    tmp = stack.enter_context(atomic_path(path, ".json"))
    tmp.write_text(json.dumps(payload, indent=2) + "\n")


def _write_mqc(stack: ExitStack, path: str, section: str, sample: str, description: str, counts: dict) -> None:
    """A MultiQC custom-content table: YAML header in `#` comments, then one row per sample."""
    tmp = stack.enter_context(atomic_path(path, ".tsv"))
    title = "alignments" if section == "splamflow_clean" else "annotation"
    lines = [
        f"# id: '{section}'",
        f"# section_name: 'Splam clean-up ({title})'",
        f"# description: '{description}'",
        "# plot_type: 'table'",
        "# pconfig:",
        f"#     id: '{section}_table'",
        "#     namespace: 'splamflow'",
        "Sample\t" + "\t".join(counts),
        sample + "\t" + "\t".join(str(v) for v in counts.values()),
    ]
    tmp.write_text("\n".join(lines) + "\n")


def _plot(
    stack: ExitStack, path: str, scores, threshold: float, per_item: dict, item: str, rule: str, title: str
) -> None:
    from splamflow.clean.plot import write_plot

    values = np.array(list(scores.table.values()), dtype=np.float64).reshape(-1, 2)
    tmp = stack.enter_context(atomic_path(path, ".png"))
    write_plot(tmp, values[:, 0], values[:, 1], threshold, per_item, item, rule, title)


def _warn_contigs(missing: dict[str, int], total: int, where: str) -> None:
    if not missing:
        return
    n = sum(missing.values())
    names = ", ".join(sorted(missing, key=missing.get, reverse=True)[:5])
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    _warn(
        f"{n:,} of {total:,} scored junctions are on {len(missing)} contig(s) absent from {where} "
        f"({names}{more}): were the scores made on another genome or contig naming (chr1 vs 1)?"
    )


def _run_alignments(args: argparse.Namespace, scores) -> dict:
    from splamflow.clean.alignments import CleanOptions, clean_alignments, open_alignments, remove_stale_indexes

    opts = CleanOptions(
        threshold=args.threshold,
        paired=args.paired or args.drop_pairs,
        drop_pairs=args.drop_pairs,
        strandness=args.strandness,
        mark_unmapped=args.mark_unmapped,
        threads=args.threads,
        command_line=_command_line(args),
        reference=args.reference,
    )
    with open_alignments(args.input, reference=args.reference) as bam:
        references = set(bam.references)
    missing = scores.missing_contigs(references)
    _warn_contigs(missing, len(scores), "the BAM header")
    with ExitStack() as stack:
        stats = clean_alignments(args.input, scores, args.output, args.discarded, opts, stack)
        stats.score_junctions_on_unknown_contigs = sum(missing.values())
        counts = stats.as_dict()
        payload = _payload(
            args,
            "alignments",
            counts,
            {
                "paired": opts.paired,
                "drop_pairs": opts.drop_pairs,
                "strandness": opts.strandness,
                "mark_unmapped": opts.mark_unmapped,
            },
        )
        if args.stats:
            _write_json(stack, args.stats, payload)
        if args.stats_tsv:
            spliced = stats.spliced_records
            _write_mqc(
                stack,
                args.stats_tsv,
                "splamflow_clean",
                _sample_name(args),
                f"Spliced alignments removed by splamflow clean (donor or acceptor score < {args.threshold:g})",
                {
                    "records_in": stats.records_in,
                    "records_kept": stats.records_kept,
                    "records_discarded": stats.records_discarded,
                    "percent_discarded": round(100 * stats.records_discarded / max(stats.records_in, 1), 4),
                    "spliced_records": spliced,
                    "percent_spliced_discarded": round(100 * stats.spliced_records_discarded / max(spliced, 1), 4),
                    "junctions_scored": stats.junctions_scored,
                    "junctions_spurious": stats.junctions_spurious,
                    "multimapped_reads_nh_changed": stats.multimapped_reads_nh_changed,
                    "records_unkeyed_strand": stats.records_unkeyed_strand,
                },
            )
        if args.plot:
            _plot(
                stack,
                args.plot,
                scores,
                args.threshold,
                dict(stats.spurious_per_record),
                "spliced record",
                "either",
                f"splamflow clean: {Path(args.input).name}",
            )
    if not stats.sorted_output:
        remove_stale_indexes([args.output, args.discarded])
    _report_alignments(args, stats)
    return payload


def _report_alignments(args: argparse.Namespace, stats) -> None:
    if stats.records_unkeyed_strand:
        _warn(
            f"{stats.records_unkeyed_strand:,} of {stats.spliced_records:,} spliced records could not be "
            f"keyed by strand (no XS or ts tag and --strandness none); their junctions were looked up "
            f"with strand '.' and kept unless such a junction was scored"
        )
    if stats.spliced_records and not stats.junctions_scored_seen:
        _warn("no junction of any spliced record is in the scores file: nothing could be removed")
    if stats.paired_records and not (args.paired or args.drop_pairs):
        _warn(
            f"the input has {stats.paired_records:,} paired records; without --paired the mates of "
            f"removed records still point to them (use --paired or --drop-pairs)"
        )
    sorted_note = "sorted and indexed" if stats.sorted_output else "in input order (input not coordinate-sorted)"
    _info(
        f"{stats.records_in:,} records in: {stats.records_kept:,} kept, "
        f"{stats.records_discarded:,} discarded ({stats.records_discarded_by_rule:,} with a spurious "
        f"junction, {stats.records_discarded_with_mate:,} with their mate); "
        f"{stats.mates_fixed:,} mates fixed; NH updated for "
        f"{stats.multimapped_reads_nh_changed:,} multi-mapped reads; outputs {sorted_note}"
    )


def _payload(args: argparse.Namespace, mode: str, counts: dict, options: dict) -> dict:
    return {
        "program": "splam_score.py clean",
        "version": __version__,
        "mode": mode,
        "input": args.input,
        "scores": args.scores,
        "output": args.output,
        "threshold": args.threshold,
        "options": options,
        "counts": counts,
    }


def _run_annotation(args: argparse.Namespace, scores) -> dict:
    from splamflow.clean.annotation import clean_annotation, write_report

    if _strip_gz(args.input.lower()).endswith((".gff", ".gff3")) != _strip_gz(args.output.lower()).endswith(
        (".gff", ".gff3")
    ):
        _warn(f"the output keeps the input's format; {args.output} has another extension")
    with ExitStack() as stack:
        tmp = stack.enter_context(atomic_path(args.output, ".gz" if args.output.endswith(".gz") else ".tmp"))
        stats, verdicts = clean_annotation(
            args.input,
            scores,
            tmp,
            args.threshold,
            args.min_bad_fraction,
            args.min_introns,
            gzip_output=args.output.endswith(".gz"),
        )
        payload = _payload(
            args,
            "annotation",
            stats.as_dict(),
            {"min_bad_fraction": args.min_bad_fraction, "min_introns": args.min_introns},
        )
        if args.report:
            report_tmp = stack.enter_context(atomic_path(args.report, ".tsv"))
            with open(report_tmp, "w", newline="\n") as out:
                write_report(verdicts, out)
        if args.stats:
            _write_json(stack, args.stats, payload)
        if args.stats_tsv:
            _write_mqc(
                stack,
                args.stats_tsv,
                "splamflow_clean_annotation",
                _sample_name(args),
                f"Transcripts removed by splamflow clean (more than {args.min_bad_fraction:g} of at "
                f"least {args.min_introns} introns with both scores < {args.threshold:g})",
                {
                    k: getattr(stats, k)
                    for k in (
                        "transcripts_in",
                        "transcripts_kept",
                        "transcripts_removed",
                        "genes_removed",
                        "introns_unique",
                        "introns_scored",
                        "introns_bad",
                        "introns_unscored",
                    )
                },
            )
        if args.plot:
            _plot(
                stack,
                args.plot,
                scores,
                args.threshold,
                stats.bad_per_transcript,
                "transcript",
                "both",
                f"splamflow clean: {Path(args.input).name}",
            )
    if stats.score_junctions_on_unknown_contigs:
        _warn(
            f"{stats.score_junctions_on_unknown_contigs:,} of {len(scores):,} scored junctions are on "
            f"contigs with no transcript in {args.input}: were the scores made from another annotation?"
        )
    if stats.introns_unique and not stats.introns_scored:
        _warn("no intron of any transcript is in the scores file: nothing could be removed")
    _info(
        f"{stats.transcripts_in:,} transcripts: {stats.transcripts_kept:,} kept, "
        f"{stats.transcripts_removed:,} removed ({stats.genes_removed:,} genes with no transcript left); "
        f"{stats.introns_bad:,} of {stats.introns_scored:,} scored introns bad"
    )
    return payload


def run(args: argparse.Namespace) -> int:
    from splamflow.clean.scores import read_scores

    source = require_file(args.input, "input")
    require_file(args.scores, "scores")
    if args.reference:
        require_file(args.reference, "--reference")
    kind = input_kind(source)
    _check_args(args, kind)
    scores = read_scores(args.scores)
    if scores.conflicting_duplicates:
        _warn(
            f"{scores.conflicting_duplicates:,} lines repeat a junction with other scores; the first "
            f"line of each junction was used"
        )
    if kind == "alignments":
        _run_alignments(args, scores)
    else:
        _run_annotation(args, scores)
    return 0
