"""splamflow: a fast, faithful implementation of the Splam splice-junction scorer.

The public API, for use from Python::

    from splamflow import load_model, score_bed, extract_junctions

    junctions = extract_junctions("sample.bam")          # BAM/CRAM -> junction counts
    model = load_model()                                 # the shipped model (or any supported file)
    with open("scores.bed", "w") as out:
        stats = score_bed("junctions.bed", "genome.fa", model.net, out)

Names are imported on first use, so `import splamflow` loads neither torch nor pysam.
"""

from __future__ import annotations

from importlib import import_module

__version__ = "0.1.0"

#: public name -> the module that owns it
_HOMES = {
    "SplamNet": "splamflow.model",
    "FusedSplam": "splamflow.model",
    "LoadedModel": "splamflow.weights",
    "load_model": "splamflow.weights",
    "save_model": "splamflow.weights",
    "Predictor": "splamflow.score.predictor",
    "score_bed": "splamflow.score.stream",
    "ExtractOptions": "splamflow.extract.options",
    "Junctions": "splamflow.extract.alignments",
    "extract_junctions": "splamflow.extract.alignments",
    "junction_counts": "splamflow.extract.alignments",
    "open_genome": "splamflow.io.genome",
    "GenomeSet": "splamflow.io.genome",
    "junction_windows": "splamflow.windows",
    "UserError": "splamflow.errors",
}

__all__ = ["__version__", *_HOMES]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'splamflow' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
