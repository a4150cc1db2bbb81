"""Convert a published Splam model into splamflow's format: OUT.safetensors + OUT.json metadata.

Reads the official TorchScript `splam.pt` (its tensors only: the archive's code is never compiled
or run) or a PyTorch state_dict of the published class (read with torch.load(weights_only=True)),
checks that every parameter name and shape is the published architecture's and that every weight
is finite, and writes the weights as safetensors with a JSON sidecar beside them (OUT with its
suffix replaced by .json). The sidecar records the architecture, `version` (--version, default:
the input's file name without .pt/.pth/.bin/.ckpt/.zip), `converted_from` (the input's format and
file name) and `source_sha256` (of the input file), and the sha256 of the weights written.

The converted file scores exactly as the original does (same parameters); it is the form that
Galaxy and any setting where no model file may run code accept. An input that already is
safetensors is refused: pass it to --model as it is. Both outputs are written together or not
at all.

Example:
  splam_score.py convert-model splam.pt -o splam.safetensors --version splam-1.0.12
  splam_score.py score junctions.bed --genome genome.fa --model splam.safetensors -o scores.bed
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from splamflow.convert_model.options import VERSION, default_version


def _version(text: str) -> str:
    if not VERSION.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r}: use 1-80 letters, digits and . _ + - (starting with a letter or digit)"
        )
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="IN", help="TorchScript archive (the official splam.pt) or state_dict")
    parser.add_argument("-o", "--output", metavar="OUT.safetensors", required=True,
                        help="converted weights; the metadata goes beside them as OUT.json")
    parser.add_argument("--version", dest="model_version", metavar="NAME", type=_version,
                        help="version recorded in the metadata (default: IN's file name without its suffix)")


def run(args: argparse.Namespace) -> int:
    from splamflow.errors import UserError, one_line
    from splamflow.io.files import require_file, sha256_file
    from splamflow.outputs import OutputSet
    from splamflow.weights import load_model, metadata_path, write_model

    source = require_file(args.model, "model")
    output = Path(args.output)
    outputs = OutputSet(inputs=[("input model", source)])
    weights = outputs.add(output, "-o", ".safetensors")
    sidecar = outputs.add(metadata_path(output), "metadata of -o", ".json")
    with outputs:
        loaded = load_model(source)
        if loaded.format == "splamflow safetensors":
            raise UserError("already a safetensors model: pass it to --model as it is", source)
        meta = write_model(loaded.net, weights.tmp, sidecar.tmp, {
            "version": args.model_version or default_version(source.name),
            "converted_from": {"format": loaded.format, "file": source.name},
            "source_sha256": sha256_file(source),
        })
    print(one_line(f"converted {source} ({loaded.format}) -> {output} + {sidecar.final.name} "
                   f"(version {meta['version']}, sha256 {meta['sha256'][:12]}...)"), file=sys.stderr)
    return 0
