"""Training: curate a data set, train a model, evaluate it."""
