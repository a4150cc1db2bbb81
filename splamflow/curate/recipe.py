"""Curate a Splam training/test set (seed recipe: Positive-MANE, Positive-ALT, Negative-Random, Negative-1).

- Positive-MANE: introns of the primary annotation's transcripts (canonical/MANE-like).
- Positive-ALT: introns only in a second annotation (GTF/GFF3) or intron BED.
- Negative-Random: random GT-AG pairs on the opposite strand of protein-coding gene loci whose sites
  coincide with no annotated splice site; intron lengths follow the positives' length distribution.
- Negative-1: junctions supported by exactly one alignment, on the opposite strand of a gene (BAM only).
- Optional minimum read support for positives (the seed keeps > 100 alignments; BAM only).

Junctions are split by contig into train and test sets; a small random validation share of the
training contigs is kept for per-epoch metrics. Each set is stored as compact uint8 codes
(N, 800) with labels and categories in an .npz, plus a BED of the junctions and a manifest.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from splamflow.curate.options import CurateOptions
from splamflow.errors import UserError, first_names
from splamflow.io.annotation import read_transcripts
from splamflow.io.bed import JunctionKey, read_junctions, write_bed
from splamflow.io.curated import CuratedSet, save_set
from splamflow.io.files import given_name, sha256_file, with_indexes
from splamflow.io.genome import GenomeSet
from splamflow.io.sniff import input_kind, looks_like_bed
from splamflow.outputs import Output, OutputSet
from splamflow.progress import bar, counted
from splamflow.windows import N_CODE, SEQ_LEN, junction_input

CATEGORIES = ("positive_mane", "positive_alt", "negative_random", "negative_1")
POSITIVE = {"positive_mane", "positive_alt"}
SETS = ("train", "validation", "test")
_PIPED = ("annotation", "alt", "bam")  # options that may name a pipe (recorded by its name, not its spool)
Junction = JunctionKey


def read_intron_bed(path: str | os.PathLike) -> set[Junction]:
    """Stranded BED6 introns (0-based half-open) -> set of junctions; unstranded rows are ignored."""
    return {(r.contig, r.start, r.end, r.strand) for r in read_junctions(path) if r.strand in "+-"}


def annotation_introns(path: str | os.PathLike) -> set[Junction]:
    """All introns of a GTF/GFF3 (any transcript), or of an intron BED.

    A BED is a file that `input_kind` cannot place and whose name or first row says BED; any other file
    goes to the annotation reader (a GTF with a long comment header included), whose errors say what is wrong.
    """
    if input_kind(path) is None and looks_like_bed(path):
        return read_intron_bed(path)
    out: set[Junction] = set()
    for tx in read_transcripts(path):
        for start, end in tx.introns:
            out.add((tx.contig, start, end, tx.strand))
    return out


def gene_loci(path: str | os.PathLike) -> list[tuple[str, int, int, str]]:
    """Loci (contig, start, end, strand) of genes, as the span of each gene's transcripts."""
    spans: dict[tuple[str, str, str], list[int]] = {}
    for tx in read_transcripts(path):
        key = (tx.gene_id, tx.contig, tx.strand)
        s, e = tx.exons[0][0], tx.exons[-1][1]
        span = spans.setdefault(key, [s, e])
        span[0], span[1] = min(span[0], s), max(span[1], e)
    return sorted((c, s, e, strand) for (_, c, strand), (s, e) in spans.items())


def splice_sites(junctions: Iterable[Junction]) -> set[tuple[str, int]]:
    """Positions (contig, first intron base / first exon base after) of annotated sites, any strand."""
    sites: set[tuple[str, int]] = set()
    for contig, start, end, _ in junctions:
        sites.add((contig, start))
        sites.add((contig, end))
    return sites


def random_negatives(
    genome,
    loci: list[tuple[str, int, int, str]],
    n_wanted: dict[str, int],
    lengths: np.ndarray,
    forbidden: set[tuple[str, int]],
    rng: np.random.Generator,
) -> list[Junction]:
    """Random GT-AG pairs on the strand opposite each gene locus (Negative-Random)."""
    out: list[Junction] = []
    seen: set[Junction] = set()
    for contig, want in n_wanted.items():
        contig_loci = [locus for locus in loci if locus[0] == contig and locus[2] - locus[1] > 500]
        if contig not in genome:
            continue
        if not contig_loci or want <= 0:
            continue
        sizes = np.array([e - s for _, s, e, _ in contig_loci], dtype=float)
        attempts = 0
        found = 0
        while found < want and attempts < want * 50:
            attempts += 1
            _, gs, ge, gstrand = contig_loci[rng.choice(len(contig_loci), p=sizes / sizes.sum())]
            length = int(lengths[rng.integers(len(lengths))])
            if length >= ge - gs:
                continue
            start = int(rng.integers(gs, ge - length))
            seq = genome.fetch(contig, start, min(ge, start + length + 2000)).upper()
            strand = "-" if gstrand == "+" else "+"
            donor, acceptor = ("GT", "AG") if strand == "+" else ("CT", "AC")
            # + strand intron: GT at [start, start+2), AG ending at end; - strand: CT..AC on the forward strand
            first = seq[:2]
            if first != donor:
                k = seq.find(donor, 0, 200)
                if k < 0:
                    continue
                start += k
                seq = seq[k:]
            k = seq.find(acceptor, max(length - 2, 60))
            if k < 0:
                continue
            end = start + k + 2
            if end > ge:
                continue
            junction = (contig, start, end, strand)
            if (contig, start) in forbidden or (contig, end) in forbidden or junction in seen:
                continue
            seen.add(junction)
            out.append(junction)
            found += 1
    return out


def one_read_negatives(
    counts: dict[Junction, float], loci: list[tuple[str, int, int, str]], forbidden: set[tuple[str, int]]
) -> list[Junction]:
    """Junctions with exactly one supporting alignment on the strand opposite a gene (Negative-1)."""
    by_contig: dict[str, list[tuple[int, int, str]]] = {}
    for contig, s, e, strand in loci:
        by_contig.setdefault(contig, []).append((s, e, strand))
    out = []
    for junction, count in counts.items():
        contig, start, end, strand = junction
        if count != 1 or strand not in "+-":
            continue
        if (contig, start) in forbidden or (contig, end) in forbidden:
            continue
        if any(s <= start and end <= e and gstrand != strand for s, e, gstrand in by_contig.get(contig, ())):
            out.append(junction)
    return sorted(out)


def encode_junctions(genome, junctions: list[Junction]) -> tuple[np.ndarray, np.ndarray]:
    """Junctions -> (codes (N, 800) uint8, kept mask); drops what the scorer would skip."""
    lengths = dict(zip(genome.references, genome.lengths))
    codes = np.full((len(junctions), SEQ_LEN), N_CODE, dtype=np.uint8)
    keep = np.zeros(len(junctions), dtype=bool)
    with bar(len(junctions), "curate: windows", "junction") as shown:
        for i, (contig, start, end, strand) in enumerate(counted(junctions, shown, every=1_000)):
            if contig not in lengths:
                continue
            row, _ = junction_input(genome, contig, start, end, strand, lengths[contig])
            if row is not None:
                codes[i] = row
                keep[i] = True
    return codes, keep


def curate(opts: CurateOptions, outdir: str | os.PathLike) -> dict:
    """Build the data set under `outdir`; returns the manifest. Outputs are checked first, written together."""
    out = Path(outdir)
    inputs = [x for g in opts.genome for x in with_indexes("--genome", g, "fasta")]
    inputs += [("--annotation", opts.annotation), ("--alt", opts.alt), *with_indexes("--bam", opts.bam, "alignments")]
    outputs = OutputSet(inputs, folder=out)
    names = [f"{part}.{ext}" for part in SETS for ext in ("npz", "bed")] + ["manifest.json"]
    files = {name: outputs.add(out / name, name, Path(name).suffix) for name in names}
    with outputs:
        return _curate(opts, files)


def _positives(opts: CurateOptions) -> tuple[set[Junction], set[Junction], set[tuple[str, int]]]:
    """Positive-MANE and Positive-ALT introns within --max-intron, and the annotated splice sites
    (of every annotated intron) that no negative may touch."""
    mane = {j for j in annotation_introns(opts.annotation) if j[2] - j[1] <= opts.max_intron}
    alt_all = annotation_introns(opts.alt) if opts.alt else set()
    alt = {j for j in alt_all - mane if j[2] - j[1] <= opts.max_intron}
    return mane, alt, splice_sites(mane | alt_all)


def _labelled(opts: CurateOptions, genome: GenomeSet, rng: np.random.Generator
              ) -> tuple[list[tuple[Junction, str]], np.ndarray]:
    """Every junction of the recipe with its category, and their codes: positives, then Negative-1,
    then Negative-Random (as many per contig as the positives kept there, times
    --negatives-per-positive, less the Negative-1). Junctions the scorer would skip (windows past a
    contig end, N at a site) are dropped before the negatives are counted, so an annotation reaching
    beyond a truncated contig does not leave its set with extra negatives."""
    mane, alt, forbidden = _positives(opts)
    loci = gene_loci(opts.annotation)
    counts: dict[Junction, float] = {}
    if opts.bam:
        from splamflow.extract.alignments import junction_counts

        counts = junction_counts(opts.bam, reference=opts.genome[0])
    if opts.min_support > 0:
        if not opts.bam:
            raise UserError("--min-support needs --bam (read support comes from alignments)")
        mane = {j for j in mane if counts.get(j, 0) > opts.min_support}
        alt = {j for j in alt if counts.get(j, 0) > opts.min_support}
    lengths = np.array([e - s for _, s, e, _ in sorted(mane | alt)], dtype=np.int64)
    if len(lengths) == 0:
        raise UserError("no positive introns found in the annotation", opts.annotation)
    labelled = [(j, "positive_mane") for j in sorted(mane)] + [(j, "positive_alt") for j in sorted(alt)]
    labelled += [(j, "negative_1") for j in (one_read_negatives(counts, loci, forbidden) if counts else [])]
    labelled, codes = _encoded(genome, labelled)
    positives_per_contig = Counter(contig for (contig, *_), cat in labelled if cat in POSITIVE)
    n1_per_contig = Counter(contig for (contig, *_), cat in labelled if cat == "negative_1")
    want = {
        c: max(0, round(n * opts.negatives_per_positive) - n1_per_contig.get(c, 0))
        for c, n in positives_per_contig.items()
    }
    negatives, negative_codes = _encoded(
        genome, [(j, "negative_random") for j in random_negatives(genome, loci, want, lengths, forbidden, rng)])
    return labelled + negatives, np.concatenate([codes, negative_codes])


def _encoded(genome: GenomeSet, labelled: list[tuple[Junction, str]]
             ) -> tuple[list[tuple[Junction, str]], np.ndarray]:
    """The junctions the scorer can window, with their codes."""
    codes, keep = encode_junctions(genome, [j for j, _ in labelled])
    return [lab for lab, k in zip(labelled, keep) if k], codes[keep]


def _manifest(opts: CurateOptions) -> dict:
    return {
        "format": "splamflow-curated-v1",
        "options": {k: (list(v) if isinstance(v, tuple) else given_name(v) if k in _PIPED and v else v)
                    for k, v in vars(opts).items()},
        "inputs": {
            k: {"path": os.path.basename(v), "sha256": sha256_file(v)}
            for k, v in [*((f"genome{i + 1}", g) for i, g in enumerate(opts.genome)),
                         ("annotation", opts.annotation), ("alt", opts.alt), ("bam", opts.bam)]
            if v
        },
        "sets": {},
    }


def _write_set(labelled: list[tuple[Junction, str]], codes: np.ndarray, idx: np.ndarray,
               npz: Output, bed: Output) -> dict:
    """One set's .npz and .bed; returns its manifest entry."""
    cats = np.array([labelled[i][1] for i in idx])
    junctions = [labelled[i][0] for i in idx]
    save_set(npz.tmp, CuratedSet(
        codes=codes[idx],
        label=np.isin(cats, list(POSITIVE)).astype(np.uint8),
        category=cats,
        contig=np.array([j[0] for j in junctions]),
        start=np.array([j[1] for j in junctions], dtype=np.int64),
        end=np.array([j[2] for j in junctions], dtype=np.int64),
        strand=np.array([j[3] for j in junctions]),
    ))
    write_bed(bed.tmp, ((contig, s, e, cat, int(cat in POSITIVE), strand)
                        for (contig, s, e, strand), cat in zip(junctions, cats)))
    return {
        "n": int(len(idx)),
        "contigs": sorted({j[0] for j in junctions}),
        "categories": {c: int((cats == c).sum()) for c in CATEGORIES if (cats == c).any()},
    }


def _curate(opts: CurateOptions, files: dict[str, Output]) -> dict:
    rng = np.random.default_rng(opts.seed)
    genome = GenomeSet(list(opts.genome))
    unknown = [c for c in opts.test_contigs if c not in genome]
    if unknown:
        raise UserError(f"--test-contigs names {', '.join(unknown[:3])}, which the genome does not have "
                        f"(it has {first_names(list(genome.references), 3)})")
    labelled, codes = _labelled(opts, genome, rng)

    split = np.array(["test" if j[0] in opts.test_contigs else "train" for j, _ in labelled], dtype="U10")
    val = (split == "train") & (rng.random(len(split)) < opts.validation_fraction)
    split[val] = "validation"

    manifest = _manifest(opts)
    for name in SETS:
        idx = np.flatnonzero(split == name)
        if len(idx) == 0:  # an old file of this name would describe another curation
            files[f"{name}.npz"].remove_instead()
            files[f"{name}.bed"].remove_instead()
            continue
        manifest["sets"][name] = _write_set(labelled, codes, idx, files[f"{name}.npz"], files[f"{name}.bed"])
    files["manifest.json"].tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
