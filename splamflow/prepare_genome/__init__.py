"""`prepare-genome`: a FASTA (plain, gzip or bgzip) written as an indexed plain or bgzip FASTA."""
