"""curate draws Negative-Random for the positives it keeps: introns of an annotation that reaches past
a truncated contig's end (as GENCODE chrX does past the 70 Mb test FASTA) are dropped before the
negatives are counted, so the set stays one negative per positive."""

from __future__ import annotations

import numpy as np

from splamflow.cli import main
from splamflow.io.curated import load_set

CONTIG_LENGTH = 30_000


def _gene(gene: str, strand: str, exons: list[tuple[int, int]]) -> list[str]:
    """GTF exon lines (1-based, inclusive) of one single-transcript gene."""
    attrs = f'gene_id "{gene}"; transcript_id "{gene}.1";'
    return [f"X\ttest\texon\t{s + 1}\t{e}\t.\t{strand}\t.\t{attrs}" for s, e in exons]


def _exons(start: int, n_introns: int) -> list[tuple[int, int]]:
    """Exons of 150 bp separated by introns of 400-800 bp, from `start` (0-based)."""
    exons, pos = [], start
    for i in range(n_introns + 1):
        exons.append((pos, pos + 150))
        pos += 150 + 400 + 100 * (i % 5)
    return exons


def test_negatives_match_the_positives_kept_on_a_truncated_contig(tmp_path):
    rng = np.random.default_rng(1)
    genome = tmp_path / "x.fa"
    seq = "".join(rng.choice(list("ACGT"), CONTIG_LENGTH))
    genome.write_text(">X\n" + "\n".join(seq[i:i + 60] for i in range(0, CONTIG_LENGTH, 60)) + "\n")
    inside = _exons(1_000, 8)  # ends well before the contig's end
    beyond = _exons(CONTIG_LENGTH + 5_000, 8)  # annotated, but past the end of this (truncated) FASTA
    gtf = tmp_path / "genes.gtf"
    gtf.write_text("\n".join(_gene("g1", "+", inside) + _gene("g2", "-", _exons(12_000, 8))
                             + _gene("g3", "+", beyond)) + "\n")

    assert main(["curate", "--genome", str(genome), "--annotation", str(gtf), "--test-contigs", "X",
                 "--validation-fraction", "0", "--seed", "0", "-o", str(tmp_path / "curated")]) == 0
    test = load_set(tmp_path / "curated" / "test.npz")
    n_positive = int(test.label.sum())
    assert n_positive == 16  # g1's and g2's introns; g3's lie past the contig's end
    assert len(test) - n_positive == n_positive
