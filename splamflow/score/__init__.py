"""`score`: junction BED -> donor and acceptor scores (options, predictor, streaming scorer, CLI)."""
