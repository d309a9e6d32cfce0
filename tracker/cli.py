"""``python -m tracker``: one sub-command per module in :mod:`tracker.commands`.

Each command module exposes ``register(subparsers)``, which adds its parser and sets
``handler`` to a function taking the parsed arguments and returning the exit status.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

from tracker.commands import COMMAND_MODULES


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command or, when ``command`` names one, of that one only, so
    that only its module is imported."""
    parser = argparse.ArgumentParser(
        prog="python -m tracker",
        description="Measure scalp photos and track hair density over a mesotherapy course.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    names = [command] if command in COMMAND_MODULES else list(COMMAND_MODULES)
    for name in names:
        import_module(COMMAND_MODULES[name]).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # The top-level parser has no option but -h, so a command runs only when it is the
    # first argument; anything else (help, a mistake) gets the parser of every command.
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    return int(args.handler(args))
