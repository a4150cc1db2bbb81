"""`unite`: junction BEDs (samples, annotation introns) -> one deduplicated set in balanced chunks."""
