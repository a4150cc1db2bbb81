"""`project`: the scores of a union -> each sample's own scores file, as `score` writes it alone."""
