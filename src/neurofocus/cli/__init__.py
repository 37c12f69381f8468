"""The ``neurofocus`` command.

Every sub-command reports bad input as one line, ``neurofocus: error: <file>: <problem>``, and exits with status 2;
recoverable oddities are printed as ``neurofocus: note: ...``. A reader that closes the pipe early
(``neurofocus formats | head -1``) ends the command quietly with status 141 (128 + SIGPIPE, what a shell reports for
a command killed by a closed pipe).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings

from .. import __version__, progress
from ..errors import NeurofocusError
from ..io import NeurofocusWarning
from . import aif, calibration, evfocus, files, simulation
from . import training

EXIT_BAD_INPUT = 2
EXIT_CLOSED_PIPE = 141


class _Parser(argparse.ArgumentParser):
    """Argument errors in the one-line format (argparse's own prints the usage first); sub-parsers inherit it."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"neurofocus: error: {' '.join(message.split())}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="neurofocus", description="Neuromorphic all-in-focus imaging toolkit.")
    parser.add_argument("--version", action="version", version=f"neurofocus {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bars or progress messages (notes and errors still print)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    files.register(sub)
    simulation.register(sub)
    aif.register(sub)
    calibration.register(sub)
    evfocus.register(sub)
    training.register(sub)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    if issubclass(category, NeurofocusWarning):
        print(f"neurofocus: note: {message}", file=sys.stderr)
    else:
        print(warnings.formatwarning(message, category, filename, lineno, line), file=sys.stderr, end="")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    progress.QUIET = args.quiet
    warnings.showwarning = _show_warning
    warnings.simplefilter("always", NeurofocusWarning)
    try:
        status = args.func(args)
        sys.stdout.flush()  # a closed pipe must fail here, inside the handler, not at interpreter exit
        return status
    except BrokenPipeError:
        # the reader has gone: send what is left to /dev/null so the exit-time flush cannot complain
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_CLOSED_PIPE
    except NeurofocusError as exc:
        print(f"neurofocus: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # unreadable input, unwritable output, full disk
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"neurofocus: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("neurofocus: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line; the traceback on request
        if os.environ.get("NEUROFOCUS_DEBUG"):
            traceback.print_exc()
        print(f"neurofocus: internal error: {type(exc).__name__}: {' '.join(str(exc).split())} "
              f"(set NEUROFOCUS_DEBUG=1 for the traceback, and please report it)", file=sys.stderr)
        return 1
