"""Remove spurious spliced alignments from a BAM, or transcripts with bad introns from a GTF/GFF3.

Alignments: a junction is spurious when its donor or acceptor score is below --threshold; a record is
removed when any of its introns (keyed by the record's strand: XS, minimap2 ts, or --strandness; for
records with none of these, --infer-strand motif --genome keys each intron by its motif, as extract
does) is spurious. Junctions without a score never remove a record. Kept + discarded = input, record for
record; NH/HI of multi-mapped reads are updated; outputs are sorted and indexed when the input is.

Annotations: an intron is bad when both scores are below --threshold; a transcript is removed when
it has at least --min-introns introns and more than --min-bad-fraction of them are bad.

A scores file without rows (a sample with no scorable junction) is valid: every record is kept.
Every output (with the BAM indexes) is checked before the work and replaced together at the end.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from splamflow import __version__
from splamflow.argtypes import non_negative_int, positive_int
from splamflow.bed import field_text
from splamflow.errors import UserError
from splamflow.extract.cli import add_infer_strand_arguments
from splamflow.extract.strand import check_infer_strand
from splamflow.fileio import require_file
from splamflow.outputs import Output, OutputSet

PROG = "splam_score.py clean"
_ALIGNMENT_SUFFIXES = (".bam", ".sam")
_ANNOTATION_SUFFIXES = (".gtf", ".gff", ".gff3")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="INPUT", help="alignments (BAM/SAM) or annotation (GTF/GFF3, may be gzipped)")
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
    bam = parser.add_argument_group("alignments (BAM input)")
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
    add_infer_strand_arguments(
        bam,
        "none (default): records without XS/ts (and --strandness none) are looked up with strand '.'; "
        "motif: key each of their introns by the strand of its genomic dinucleotides, exactly as "
        "`extract --infer-strand motif` gave their junctions a strand (e.g. STAR BAMs without XS); "
        "needs --genome",
    )
    bam.add_argument(
        "--mark-unmapped",
        action="store_true",
        help="mark discarded records unmapped like Splam (default: keep them as they were)",
    )
    bam.add_argument("--threads", type=positive_int, default=1,
                     help="BGZF compression/decompression threads (default 1)")
    gtf = parser.add_argument_group("annotations (GTF/GFF3 input)")
    gtf.add_argument(
        "--min-bad-fraction",
        type=float,
        default=None,
        help="remove a transcript when more than this fraction of its introns is bad (default 0.6)",
    )
    gtf.add_argument(
        "--min-introns",
        type=non_negative_int,
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
    if name.endswith(".cram"):
        raise UserError("CRAM input is not supported by clean; convert it with `samtools view -b`", path)
    with open(path, "rb") as raw:
        head = raw.read(2)
    if head == b"\x1f\x8b":
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
    for suffix in (".gz", ".bam", ".sam", ".gtf", ".gff3", ".gff"):
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
        check_infer_strand(args.infer_strand, args.genome)
    else:
        for flag, value in (
            ("--discarded", args.discarded),
            ("--paired", args.paired),
            ("--drop-pairs", args.drop_pairs),
            ("--mark-unmapped", args.mark_unmapped),
            ("--strandness", args.strandness != "none"),
            ("--infer-strand motif", args.infer_strand != "none"),
            ("--genome", args.genome),
        ):
            if value:
                raise UserError(f"{flag} applies to BAM input only")
        args.min_bad_fraction = 0.6 if args.min_bad_fraction is None else args.min_bad_fraction
        args.min_introns = 3 if args.min_introns is None else args.min_introns
        if not 0.0 <= args.min_bad_fraction <= 1.0:
            raise UserError(f"--min-bad-fraction must be in [0, 1], got {args.min_bad_fraction}")


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
    if args.infer_strand != "none":
        words += ["--infer-strand", args.infer_strand, "--genome", args.genome]
    return shlex.join(words)


def _write_mqc(tmp: Path, section: str, sample: str, description: str, counts: dict) -> None:
    """A MultiQC custom-content table: YAML header in `#` comments, then one row per sample."""
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
        field_text(sample) + "\t" + "\t".join(str(v) for v in counts.values()),
    ]
    tmp.write_text("\n".join(lines) + "\n")


def _plot(tmp: Path, scores, threshold: float, per_item: dict, item: str, rule: str, title: str) -> None:
    from splamflow.clean.plot import write_plot

    values = np.array(list(scores.table.values()), dtype=np.float64).reshape(-1, 2)
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


@dataclass
class _Files:
    """The outputs of one clean run (None: not asked for, or not for this kind of input)."""

    main: Output
    discarded: Output | None = None
    main_index: Output | None = None
    discarded_index: Output | None = None
    stats: Output | None = None
    stats_tsv: Output | None = None
    plot: Output | None = None
    report: Output | None = None


def _outputs(args: argparse.Namespace, kind: str) -> tuple[OutputSet, _Files]:
    """Every file this run writes, indexes included, and the inputs none of them may overwrite."""
    inputs = [("input", args.input), ("input index", f"{args.input}.bai"), ("input index", f"{args.input}.csi"),
              ("--scores", args.scores)]
    if args.genome:
        inputs += [("--genome", args.genome), ("--genome index", f"{args.genome}.fai"),
                   ("--genome index", f"{args.genome}.gzi")]
    outputs = OutputSet(inputs)
    if kind == "alignments":
        files = _Files(
            main=outputs.add(args.output, "-o", ".bam"),
            discarded=outputs.add(args.discarded, "--discarded", ".bam"),
            main_index=outputs.add(f"{args.output}.bai", "index of -o", ".bai"),
            discarded_index=outputs.add(f"{args.discarded}.bai", "index of --discarded", ".bai"),
        )
    else:
        files = _Files(main=outputs.add(args.output, "-o", ".gz" if args.output.endswith(".gz") else ""))
    for name, flag, suffix in (("stats", "--stats", ".json"), ("stats_tsv", "--stats-tsv", ".tsv"),
                               ("plot", "--plot", ".png"), ("report", "--report", ".tsv")):
        if getattr(args, name):
            setattr(files, name, outputs.add(getattr(args, name), flag, suffix))
    return outputs, files


def _run_alignments(args: argparse.Namespace, scores, files: _Files) -> tuple[dict, object]:
    from splamflow.clean.alignments import CleanOptions, clean_alignments, open_alignments
    from splamflow.extract.strand import MotifStrands

    opts = CleanOptions(
        threshold=args.threshold,
        paired=args.paired or args.drop_pairs,
        drop_pairs=args.drop_pairs,
        strandness=args.strandness,
        mark_unmapped=args.mark_unmapped,
        threads=args.threads,
        command_line=_command_line(args),
    )
    with open_alignments(args.input) as bam:
        references = set(bam.references)
    missing = scores.missing_contigs(references)
    _warn_contigs(missing, len(scores), "the BAM header")
    motifs = MotifStrands(args.genome) if args.infer_strand == "motif" else None
    try:
        stats = clean_alignments(
            args.input, scores, (files.main.tmp, files.discarded.tmp),
            (files.main_index.tmp, files.discarded_index.tmp), opts, motifs,
        )
    finally:
        if motifs is not None:
            motifs.close()
    if not stats.sorted_output:  # an old index of these names would not match the new BAMs
        files.main_index.remove_instead()
        files.discarded_index.remove_instead()
    stats.score_junctions_on_unknown_contigs = sum(missing.values())
    payload = _payload(
        args,
        "alignments",
        stats.as_dict(),
        {
            "paired": opts.paired,
            "drop_pairs": opts.drop_pairs,
            "strandness": opts.strandness,
            "infer_strand": args.infer_strand,
            "mark_unmapped": opts.mark_unmapped,
        },
    )
    if files.stats_tsv:
        spliced = stats.spliced_records
        _write_mqc(
            files.stats_tsv.tmp,
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
    if files.plot:
        _plot(
            files.plot.tmp,
            scores,
            args.threshold,
            dict(stats.spurious_per_record),
            "spliced record",
            "either",
            f"splamflow clean: {Path(args.input).name}",
        )
    return payload, stats


def _report_alignments(args: argparse.Namespace, stats, n_scores: int) -> None:
    if stats.records_unkeyed_strand:
        _warn(
            f"{stats.records_unkeyed_strand:,} of {stats.spliced_records:,} spliced records could not be "
            f"keyed by strand (no XS or ts tag and --strandness none); their junctions were looked up "
            f"with strand '.' and kept unless such a junction was scored"
        )
    if stats.spliced_records and not stats.junctions_scored_seen and n_scores:
        _warn("no junction of any spliced record is in the scores file: nothing could be removed")
    if stats.records_motif_strand:
        _info(
            f"--infer-strand motif: {stats.records_motif_strand:,} spliced records without XS/ts were "
            f"keyed by their introns' motifs"
        )
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


def _run_annotation(args: argparse.Namespace, scores, files: _Files) -> tuple[dict, object]:
    from splamflow.clean.annotation import clean_annotation, write_report

    if _strip_gz(args.input.lower()).endswith((".gff", ".gff3")) != _strip_gz(args.output.lower()).endswith(
        (".gff", ".gff3")
    ):
        _warn(f"the output keeps the input's format; {args.output} has another extension")
    stats, verdicts = clean_annotation(
        args.input,
        scores,
        files.main.tmp,
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
    if files.report:
        with open(files.report.tmp, "w", newline="\n") as out:
            write_report(verdicts, out)
    if files.stats_tsv:
        _write_mqc(
            files.stats_tsv.tmp,
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
    if files.plot:
        _plot(
            files.plot.tmp,
            scores,
            args.threshold,
            stats.bad_per_transcript,
            "transcript",
            "both",
            f"splamflow clean: {Path(args.input).name}",
        )
    return payload, stats


def _report_annotation(args: argparse.Namespace, scores, stats) -> None:
    if stats.score_junctions_on_unknown_contigs:
        _warn(
            f"{stats.score_junctions_on_unknown_contigs:,} of {len(scores):,} scored junctions are on "
            f"contigs with no transcript in {args.input}: were the scores made from another annotation?"
        )
    if stats.introns_unique and not stats.introns_scored and len(scores):
        _warn("no intron of any transcript is in the scores file: nothing could be removed")
    _info(
        f"{stats.transcripts_in:,} transcripts: {stats.transcripts_kept:,} kept, "
        f"{stats.transcripts_removed:,} removed ({stats.genes_removed:,} genes with no transcript left); "
        f"{stats.introns_bad:,} of {stats.introns_scored:,} scored introns bad"
    )


def run(args: argparse.Namespace) -> int:
    from splamflow.clean.scores import read_scores

    source = require_file(args.input, "input")
    require_file(args.scores, "scores", allow_empty=True)
    kind = input_kind(source)
    _check_args(args, kind)
    if args.genome:
        from splamflow.genome import open_genome

        open_genome(args.genome).close()
    outputs, files = _outputs(args, kind)
    with outputs:
        scores = read_scores(args.scores)
        if not len(scores):
            _info(f"{args.scores} holds no scored junction: every record is kept")
        if scores.conflicting_duplicates:
            _warn(
                f"{scores.conflicting_duplicates:,} lines repeat a junction with other scores; the first "
                f"line of each junction was used"
            )
        run_kind = _run_alignments if kind == "alignments" else _run_annotation
        payload, stats = run_kind(args, scores, files)
        if files.stats:
            files.stats.tmp.write_text(json.dumps(payload, indent=2) + "\n")
    if kind == "alignments":
        _report_alignments(args, stats, len(scores))
    else:
        _report_annotation(args, scores, stats)
    return 0
