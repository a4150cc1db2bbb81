"""Real Nextflow runs of the pipeline and of its modules installed with nf-core tools."""
