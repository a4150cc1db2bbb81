"""The one command-line entrypoint: `splam_score.py` / `splam-score` and its subcommands.

Each subcommand lives with the code it drives and contributes two functions:
`add_arguments(parser)` and `run(args) -> int`. This module assembles them into one argparse tree,
turns user errors into a one-line message with exit code 2, turns SIGTERM/SIGHUP/SIGINT into a
clean interruption (exit 128 + signal number, temporary files removed), and keeps heavy imports
(torch, pysam) out of `--help`.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from collections.abc import Iterator, Sequence

from splamflow import __version__, progress, signals, versions
from splamflow.errors import UserError, one_line
from splamflow.io.files import spooled_inputs

PROG = "splam_score.py"

# name -> one-line summary; subcommand NAME lives in the package splamflow/NAME/ (a-b: splamflow/a_b/),
# its CLI in NAME/cli.py
SUBCOMMANDS: dict[str, str] = {
    "extract": "junctions from BAM/CRAM, or introns from GTF/GFF3, as BED",
    "score": "score junctions (BED) with the Splam model",
    "unite": "unite the junction BEDs of a cohort into one deduplicated set, in balanced chunks",
    "project": "each sample's own scores file from the scores of a union",
    "clean": "remove spurious spliced alignments (BAM) or transcripts (GTF/GFF3)",
    "curate": "build a training/test set from a genome and annotations",
    "train": "train a Splam model on a curated set",
    "evaluate": "evaluate a model on held-out curated junctions",
    "convert-model": "convert the published splam.pt (or a state_dict) to safetensors + JSON metadata",
    "prepare-genome": "write a genome FASTA (plain, gzip or bgzip) as an indexed plain or bgzip FASTA",
}

# Inputs (argparse names) that may be pipes: copied to a temporary file first (io.files.spooled_inputs).
PIPED_INPUTS = ("input", "inputs", "junctions", "scores", "union", "annotation", "alt", "bam")


def _version_text() -> str:
    return f"{PROG} {__version__} (splamflow {__version__}; default model {versions.default_model_version()})"


class _VersionAction(argparse.Action):
    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        if option_string == "--list-models":
            print(versions.model_listing(), end="")
        elif option_string == "--tool-versions":
            try:
                print(versions.tool_versions(), end="")
            except UserError as exc:
                parser.exit(2, f"{PROG}: error: {exc}\n")
        else:
            print(_version_text())
        parser.exit()


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line (exit 2), like every other user error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {one_line(message)}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=(
            "splamflow: score splice junctions with the Splam deep residual CNN "
            "(Chao et al., Genome Biology 2024, doi:10.1186/s13059-024-03379-4) and remove "
            "spurious spliced alignments. Workflow: extract -> score -> clean."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_VersionAction, help="print package and model versions and exit")
    parser.add_argument(
        "--tool-versions",
        action=_VersionAction,
        help="print 'tool=version' lines for splamflow, torch and the CUDA torch was built for, and exit",
    )
    parser.add_argument(
        "--list-models",
        action=_VersionAction,
        help="print the shipped models, one 'name<TAB>version<TAB>file' line each, and exit "
        "(`--model NAME` selects one)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, summary in SUBCOMMANDS.items():
        module = importlib.import_module(f"splamflow.{name.replace('-', '_')}.cli")
        p = sub.add_parser(
            name,
            help=summary,
            description=(module.__doc__ or summary).strip(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(p)
        if not any("--quiet" in action.option_strings for action in p._actions):
            p.add_argument("--quiet", action="store_true", help="no progress bar on a terminal")
        p.set_defaults(_run=module.run)
    return parser


@contextlib.contextmanager
def _htslib_quiet() -> Iterator[None]:
    """htslib's own messages off: every failure it reports reaches the user as our one-line error."""
    import pysam

    verbosity = pysam.set_verbosity(0)
    try:
        yield
    finally:
        pysam.set_verbosity(verbosity)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    progress.QUIET = bool(getattr(args, "quiet", False))
    progress.VERBOSE = bool(getattr(args, "verbose", False))
    try:
        with signals.interruptible(), _htslib_quiet(), spooled_inputs(args, PIPED_INPUTS):
            return int(args._run(args) or 0)
    except UserError as exc:
        print(f"{PROG} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except signals.Interrupted as exc:
        print(f"{PROG} {args.command}: interrupted by {exc}", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except OSError as exc:  # the system refused a read or write that no check could foresee
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"{PROG} {args.command}: error: {one_line(f'{exc.strerror or exc}{where}')}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
