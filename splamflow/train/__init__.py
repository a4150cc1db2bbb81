"""`train`: the training loop (seeded, checkpointed, resumable), its loss, schedule and batches."""
