"""`curate`: a training/test set from a genome and annotations (the seed's recipe)."""
