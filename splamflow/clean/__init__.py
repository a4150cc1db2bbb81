"""Clean-up of alignments and annotations by junction scores."""
