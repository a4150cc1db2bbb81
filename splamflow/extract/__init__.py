"""Junction extraction from alignments (BAM/CRAM) and annotations (GTF/GFF3)."""
