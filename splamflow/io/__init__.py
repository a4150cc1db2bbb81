"""File formats: one module per kind of file, each the only place that reads or writes it.

`files` (input checks, plain/gzip text lines, sha256), `sniff` (what kind of file is this), `bed`
(junction and score BEDs), `annotation` (GTF/GFF3), `alignments` (BAM/CRAM/SAM records, CIGAR
introns, record strands), `genome` (indexed FASTA), `curated` (curated training sets). No torch and
no command-line code here: the subcommands and the package face build on these.
"""
