"""Reference genome access (pysam.FastaFile over plain or bgzip FASTA with a .fai index)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pysam

from splamflow.errors import UserError
from splamflow.fileio import require_file


def open_genome(path: str | os.PathLike) -> pysam.FastaFile:
    """Open an indexed FASTA; one-line errors for a missing index, duplicate names, or bad files."""
    p = require_file(path, "genome FASTA")
    fai = Path(f"{p}.fai")
    if not fai.exists():
        hint = f"samtools faidx {p}"
        raise UserError(f"FASTA has no .fai index (create it with `{hint}`)", p)
    names = [line.split("\t", 1)[0] for line in fai.read_text().splitlines() if line]
    dups = [name for name, n in Counter(names).items() if n > 1]
    if dups:
        raise UserError(f"FASTA index lists duplicate sequence names: {', '.join(dups[:5])}", fai)
    try:
        return pysam.FastaFile(str(p))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read FASTA: {exc}", p) from None


class GenomeSet:
    """Several indexed FASTA files read as one genome (e.g. one file per chromosome)."""

    def __init__(self, paths: list[str | os.PathLike]):
        self._files = [open_genome(p) for p in paths]
        self._owner: dict[str, pysam.FastaFile] = {}
        for path, fasta in zip(paths, self._files):
            for name in fasta.references:
                if name in self._owner:
                    raise UserError(f"sequence {name!r} appears in more than one FASTA", path)
                self._owner[name] = fasta
        self.references = tuple(self._owner)
        self.lengths = tuple(self._owner[n].get_reference_length(n) for n in self.references)

    def fetch(self, contig: str, start: int, end: int) -> str:
        return self._owner[contig].fetch(contig, start, end)

    def __contains__(self, contig: str) -> bool:
        return contig in self._owner
