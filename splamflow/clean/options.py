"""Clean-up settings and their defaults (Splam 1.0.12's), shared by the CLI and the clean-ups."""

from __future__ import annotations

from dataclasses import dataclass

THRESHOLD = 0.1  # a score below it is bad; a score equal to it is not
MIN_BAD_FRACTION = 0.6  # annotations: a transcript goes when more than this share of its introns is bad
MIN_INTRONS = 3  # annotations: ... and it has at least this many introns
#: alignments: records per chunk of a sorted, indexed BAM (the unit of parallel work; --chunk-records)
CHUNK_RECORDS = 1_000_000


@dataclass
class CleanOptions:
    """Settings of one alignment clean-up run."""

    threshold: float = THRESHOLD
    paired: bool = False
    drop_pairs: bool = False
    strandness: str = "none"
    mark_unmapped: bool = False
    threads: int = 1
    chunk_records: int = CHUNK_RECORDS
    command_line: str = ""
    #: FASTA a CRAM input was compressed against (None for BAM/SAM)
    reference: str | None = None
