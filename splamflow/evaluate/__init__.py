"""`evaluate`: held-out metrics, plots and reports for a model on a curated set."""
