"""Work in progress: `extract` is not implemented yet."""

import argparse

from splamflow.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input")


def run(args: argparse.Namespace) -> int:
    raise UserError("not implemented yet")
