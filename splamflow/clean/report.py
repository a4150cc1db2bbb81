"""What `clean` reports: the stats JSON, the MultiQC table and score histogram, the plot's data, the
per-transcript TSV and the summary on stderr. The clean-ups count; this module only words and writes the counts."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TextIO

import numpy as np

from splamflow import __version__
from splamflow.clean.scores import SPURIOUS, Rule, Scores
from splamflow.errors import one_line
from splamflow.io.bed import field_text

PROG = "splam_score.py clean"
# Stripped from the input's name, each once, in this order (.gz first: s1.gtf.gz -> s1); the unit test
# test_sample_name_strips_the_format_suffixes checks that these are io.sniff's format suffixes.
_SUFFIXES = (".gz", ".bam", ".sam", ".cram", ".gtf", ".gff3", ".gff")

# MultiQC columns (after Sample) of the annotation table, from AnnotationStats.
# Bins of width 0.05 over [0, 1] in the MultiQC score histogram.
HISTOGRAM_BINS = 20

_ANNOTATION_COLUMNS = ("transcripts_in", "transcripts_kept", "transcripts_removed", "genes_removed",
                       "introns_unique", "introns_scored", "introns_bad", "introns_unscored")


def warn(message: str) -> None:
    print(f"{PROG}: warning: {one_line(message)}", file=sys.stderr)


def info(message: str) -> None:
    print(f"{PROG}: {one_line(message)}", file=sys.stderr)


def sample_name(input_path: str, sample: str | None) -> str:
    """`sample`, else the input's file name without its extensions."""
    if sample:
        return sample
    name = Path(input_path).name
    for suffix in _SUFFIXES:
        name = name.removesuffix(suffix)
    return name


def payload(mode: str, files: Mapping[str, str], threshold: float, options: dict, counts: dict) -> dict:
    """The --stats JSON: program, version, mode, the input/scores/output names, settings and counts."""
    return {"program": PROG, "version": __version__, "mode": mode, **files, "threshold": threshold,
            "options": options, "counts": counts}


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


def write_mqc(path: Path, section: str, sample: str, description: str, counts: Mapping[str, object]) -> None:
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
    path.write_text("\n".join(lines) + "\n")


def write_alignment_mqc(path: Path, sample: str, threshold: float, stats) -> None:
    """The MultiQC table of an alignment clean-up (`AlignmentStats`)."""
    spliced = stats.spliced_records
    counts = {
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
    }
    write_mqc(path, "splamflow_clean", sample,
              f"Spliced alignments removed by splamflow clean (donor or acceptor score < {threshold:g})", counts)


def write_annotation_mqc(path: Path, sample: str, threshold: float, min_bad_fraction: float, min_introns: int,
                         stats) -> None:
    """The MultiQC table of an annotation clean-up (`AnnotationStats`)."""
    write_mqc(path, "splamflow_clean_annotation", sample,
              f"Transcripts removed by splamflow clean (more than {min_bad_fraction:g} of at least {min_introns} "
              f"introns with both scores < {threshold:g})",
              {k: getattr(stats, k) for k in _ANNOTATION_COLUMNS})


def score_histogram(scores: Scores) -> dict[str, float]:
    """Percent of the scored junctions per bin of their lower score (min of donor and acceptor), keyed by
    the bin's centre as text ('0.025' ... '0.975'); every bin is present, 0 when empty."""
    values = np.array(list(scores.table.values()), dtype=np.float64).reshape(-1, 2).min(axis=1)
    counts, edges = np.histogram(values, bins=HISTOGRAM_BINS, range=(0.0, 1.0))
    percent = 100 * counts / max(len(values), 1)
    return {f"{(lo + hi) / 2:.3f}": round(float(p), 4) for lo, hi, p in zip(edges[:-1], edges[1:], percent)}


def write_score_histogram(path: Path, sample: str, threshold: float, scores: Scores) -> None:
    """The --score-histogram file: `score_histogram` as MultiQC custom content (JSON, a line graph);
    MultiQC draws one line per sample from every file with this id."""
    content = {
        "id": "splamflow_score_histogram",
        "section_name": "Splam junction scores",
        "description": f"Distribution of the lower of the donor and acceptor scores of each scored junction "
                       f"(percent of the sample's scored junctions per bin of 0.05); below {threshold:g} a "
                       f"junction is spurious.",
        "plot_type": "linegraph",
        "pconfig": {"id": "splamflow_score_histogram_plot", "title": "splamflow: junction scores",
                    "xlab": "lower of donor and acceptor score", "ylab": "% of scored junctions",
                    "xmin": 0, "xmax": 1, "ymin": 0},
        "data": {sample: score_histogram(scores)},
    }
    write_json(path, content)


def write_plot(path: Path, scores: Scores, threshold: float, rule: Rule, per_item: Mapping[int, int],
               title: str) -> None:
    """The --plot PNG: every scored junction, and how many records (SPURIOUS) or transcripts (BAD)
    carry 0, 1, 2, ... junctions the rule flags."""
    from splamflow.clean.plot import write_plot as draw

    values = np.array(list(scores.table.values()), dtype=np.float64).reshape(-1, 2)
    item = "spliced record" if rule is SPURIOUS else "transcript"
    draw(path, values[:, 0], values[:, 1], threshold, per_item, item, rule, title)


def write_transcripts(verdicts: Iterable, out: TextIO) -> None:
    """The --report TSV: one line per transcript (`TranscriptVerdict`); ids made safe with `field_text`."""
    out.write("transcript_id\tgene_id\tcontig\tstrand\tintrons\tscored_introns\tbad_introns\tbad_fraction\tstatus\n")
    for v in verdicts:
        t = v.transcript
        out.write(
            f"{field_text(t.id)}\t{field_text(t.gene_id)}\t{t.contig}\t{t.strand}\t{v.introns}\t{v.scored}\t{v.bad}\t"
            f"{v.fraction:.4f}\t{'removed' if v.removed else 'kept'}\n"
        )


def warn_unknown_contigs(missing: Mapping[str, int], total: int, where: str) -> None:
    """Scored junctions on contigs the input does not have: a sign of another genome or naming."""
    if not missing:
        return
    n = sum(missing.values())
    names = ", ".join(sorted(missing, key=missing.get, reverse=True)[:5])
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    warn(
        f"{n:,} of {total:,} scored junctions are on {len(missing)} contig(s) absent from {where} "
        f"({names}{more}): were the scores made on another genome or contig naming (chr1 vs 1)?"
    )


def summarise_alignments(stats, n_scores: int, paired_mode: bool) -> None:
    """Warnings and the one-line summary of an alignment clean-up, on stderr."""
    if stats.records_unkeyed_strand:
        warn(
            f"{stats.records_unkeyed_strand:,} of {stats.spliced_records:,} spliced records could not be "
            f"keyed by strand (no XS or ts tag and --strandness none); their junctions were looked up "
            f"with strand '.' and kept unless such a junction was scored"
        )
    if stats.spliced_records and not stats.junctions_scored_seen and n_scores:
        warn("no junction of any spliced record is in the scores file: nothing could be removed")
    motif = ""
    if stats.records_motif_strand:
        motif = (f"; intron motifs (--genome): {stats.records_motif_strand:,} spliced records without XS/ts were "
                 f"keyed by their introns' motifs")
    if stats.paired_records and not paired_mode:
        warn(
            f"the input has {stats.paired_records:,} paired records; without --paired the mates of "
            f"removed records still point to them (use --paired or --drop-pairs)"
        )
    sorted_note = "sorted and indexed" if stats.sorted_output else "in input order (input not coordinate-sorted)"
    info(
        f"{stats.records_in:,} records in: {stats.records_kept:,} kept, "
        f"{stats.records_discarded:,} discarded ({stats.records_discarded_by_rule:,} with a spurious "
        f"junction, {stats.records_discarded_with_mate:,} with their mate); "
        f"{stats.mates_fixed:,} mates fixed; NH updated for "
        f"{stats.multimapped_reads_nh_changed:,} multi-mapped reads; outputs {sorted_note}{motif}"
    )


def summarise_annotation(stats, n_scores: int, input_path: str | os.PathLike) -> None:
    """Warnings and the one-line summary of an annotation clean-up, on stderr."""
    if stats.score_junctions_on_unknown_contigs:
        warn(
            f"{stats.score_junctions_on_unknown_contigs:,} of {n_scores:,} scored junctions are on "
            f"contigs with no transcript in {input_path}: were the scores made from another annotation?"
        )
    if stats.introns_unique and not stats.introns_scored and n_scores:
        warn("no intron of any transcript is in the scores file: nothing could be removed")
    info(
        f"{stats.transcripts_in:,} transcripts: {stats.transcripts_kept:,} kept, "
        f"{stats.transcripts_removed:,} removed ({stats.genes_removed:,} genes with no transcript left); "
        f"{stats.introns_bad:,} of {stats.introns_scored:,} scored introns bad"
    )
