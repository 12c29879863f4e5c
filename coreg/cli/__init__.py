"""The ``coreg`` command.

Each subcommand lives in its own module of this package exposing ``add_parser(subparsers)``
and ``run(args) -> int``; modules import their heavy dependencies inside ``run`` so that
``coreg --help`` stays instant. Errors derived from :class:`~coreg.errors.CoregError` print one
line on stderr and exit with code 2; nothing prints a traceback unless ``COREG_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from coreg import __version__

#: Subcommand name → module (in the order ``coreg --help`` lists them).
SUBCOMMANDS: dict[str, str] = {
    "home": "coreg.cli.home",
    "live": "coreg.cli.live",
    "breathe": "coreg.cli.breathe",
    "replay": "coreg.cli.replay",
    "stream": "coreg.cli.stream",
    "simulate": "coreg.cli.simulate",
    "import": "coreg.cli.importer",
    "analyze": "coreg.cli.analyze",
    "report": "coreg.cli.report",
    "export": "coreg.cli.export",
    "sessions": "coreg.cli.sessions",
    "study": "coreg.cli.study",
    "scan": "coreg.cli.scan",
    "install-desktop": "coreg.cli.desktop",
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"coreg: error: {message} (see '{self.prog} --help')\n")


def seconds_type(max_s: float, limit_text: str) -> Callable[[str], float]:
    """An argparse ``type=`` for a number of seconds in (0, ``max_s``].

    ``limit_text`` ends the one-line refusal, e.g. ``"120 seconds"``.
    """

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not 0 < value <= max_s:
            raise argparse.ArgumentTypeError(
                f"{text!r} must be more than 0 and at most {limit_text}")
        return value

    return parse


def positive_type(unit: str) -> Callable[[str], float]:
    """An argparse ``type=`` for a finite number > 0 of ``unit`` (e.g. ``"minutes"``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of {unit}") from None
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"{text!r} must be more than 0 {unit}")
        return value

    return parse


def non_negative_type(unit: str) -> Callable[[str], float]:
    """An argparse ``type=`` for a finite number ≥ 0 of ``unit``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of {unit}") from None
        if not (math.isfinite(value) and value >= 0):
            raise argparse.ArgumentTypeError(f"{text!r} must be 0 {unit} or more")
        return value

    return parse


def number_list_type(what: str) -> Callable[[str], list[float]]:
    """An argparse ``type=`` for comma-separated finite numbers (at least one)."""

    def parse(text: str) -> list[float]:
        values: list[float] = []
        for item in (x.strip() for x in text.split(",")):
            if not item:
                continue
            try:
                value = float(item)
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"{item!r} is not a number (give {what} separated by commas)") from None
            if not math.isfinite(value):
                raise argparse.ArgumentTypeError(f"{item!r} is not a finite number")
            values.append(value)
        if not values:
            raise argparse.ArgumentTypeError(f"needs at least one of {what}")
        return values

    return parse


def _add_verbose(parser: argparse.ArgumentParser, *, default: object) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", default=default,
                        help="log progress to stderr")


def size_type(text: str) -> tuple[int, int]:
    """An argparse ``type=`` for a window size ``WxH`` in pixels (each 320–7680)."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT (e.g. 1366x768)") from None
    if not (320 <= w <= 7680 and 320 <= h <= 7680):
        raise argparse.ArgumentTypeError(f"{text!r}: width and height must be 320–7680 pixels")
    return w, h


def add_size_option(p: argparse.ArgumentParser) -> None:
    """``--size WxH``: the window's size (with ``--screenshot``: the picture's size)."""
    p.add_argument("--size", type=size_type, metavar="WxH",
                   help="window size in pixels, e.g. 1366x768 (with --screenshot: any size "
                        "checked offscreen); default: fit the screen, then as last closed")


def build_parser() -> argparse.ArgumentParser:
    """Build the ``coreg`` parser with every available subcommand."""
    parser = _Parser(
        prog="coreg",
        description=(
            "HRV biofeedback and therapist–client physiological synchrony from Bluetooth LE "
            "chest straps. It informs; it does not diagnose."
        ),
    )
    parser.add_argument("--version", action="version", version=f"coreg {__version__}")
    _add_verbose(parser, default=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module_name in SUBCOMMANDS.values():
        importlib.import_module(module_name).add_parser(sub)
    for subparser in sub.choices.values():  # -v also after the subcommand
        # SUPPRESS: a subcommand without -v leaves the value given before it
        _add_verbose(subparser, default=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``coreg`` command; return its exit code."""
    from coreg.errors import CoregError

    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.command is None and "home" in SUBCOMMANDS:  # plain ``coreg``: the home window
        args = parser.parse_args([*argv, "home"])
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="coreg: %(message)s",
    )
    if args.command is None:  # pragma: no cover - only without the home command
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except CoregError as exc:
        if os.environ.get("COREG_DEBUG"):
            raise
        print(f"coreg {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"coreg {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        if os.environ.get("COREG_DEBUG"):
            raise
        print(f"coreg {args.command}: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
