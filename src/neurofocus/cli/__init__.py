"""The ``neurofocus`` command.

Every sub-command reports bad input as one line, ``neurofocus: error: <file>: <problem>``, and exits with status 2;
recoverable oddities are printed as ``neurofocus: note: ...`` when the command ends (and dropped when it fails, so
that a failure is always the one error line). A reader that closes the pipe early (``neurofocus formats | head -1``)
ends the command quietly with status 141 (128 + SIGPIPE, what a shell reports for a command killed by a closed
pipe). SIGTERM, like Ctrl-C (SIGINT), unwinds the command, so that no temporary file is left behind, and ends it
with status 128 + the signal's number (143; 130 for Ctrl-C).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import os
import signal
import sys
import warnings

from .. import __version__, progress
from ..errors import NeurofocusError

#: The module (in this package) that registers each sub-command, in the order ``neurofocus --help`` lists them; a
#: command imports only its own module (tests check this table against the modules).
COMMAND_MODULES = {"files": ("info", "convert", "show", "formats"),
                   "simulation": ("simulate", "simulate-events", "simulate-spikes", "synth"),
                   "aif": ("aif", "eval", "bench", "demo"), "calibration": ("calibrate",), "evfocus": ("evfocus",),
                   "training": ("train",)}

EXIT_BAD_INPUT = 2
EXIT_CLOSED_PIPE = 141


class _Parser(argparse.ArgumentParser):
    """Argument errors in the one-line format (argparse's own prints the usage first); sub-parsers inherit it."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"neurofocus: error: {' '.join(message.split())}\n")


class _Ignored:
    """Stands in for the parser of a command that is not run: every call on it is ignored."""

    def __getattr__(self, name):
        return self._ignore

    def _ignore(self, *args, **kwargs):
        return self


class _OnlyCommand:
    """The sub-parser collection seen by the ``register`` functions when only ``command``'s parser is wanted: the
    others' ``add_parser`` calls (and every call on what they return) are ignored. Building all 16 parsers (some 250
    arguments) takes longer than a small command's own work."""

    def __init__(self, sub, command: str):
        self.sub, self.command = sub, command

    def add_parser(self, name, **kwargs):
        return self.sub.add_parser(name, **kwargs) if name == self.command else _Ignored()


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command-line parser: every sub-command, or (``command``) only that one, when it exists (see
    :data:`COMMAND_MODULES`)."""
    parser = _Parser(prog="neurofocus", description="Neuromorphic all-in-focus imaging toolkit.")
    parser.add_argument("--version", action="version", version=f"neurofocus {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bars or progress messages (notes and errors still print)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    owner = next((module for module, commands in COMMAND_MODULES.items() if command in commands), None)
    if owner is None:  # every command (--help, or a typo: the full parser lists the commands)
        for module in COMMAND_MODULES:
            importlib.import_module(f".{module}", __name__).register(sub)
    else:
        importlib.import_module(f".{owner}", __name__).register(_OnlyCommand(sub, command))
    return parser


def _command(argv: list[str]) -> str | None:
    """The sub-command ``argv`` names: its first word that is not an option (the top-level options take no value)."""
    return next((word for word in argv if not word.startswith("-")), None)


class Terminated(BaseException):
    """Raised by the SIGTERM handler: unwinds the command like Ctrl-C (temporary files are removed on the way)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _terminate(signum, frame):
    raise Terminated(signum)


@contextlib.contextmanager
def _notes() -> list[str]:
    """Collect the notes (:class:`NeurofocusWarning`) of a command; other warnings print as usual."""
    from ..io import NeurofocusWarning

    notes: list[str] = []

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, NeurofocusWarning):
            notes.append(f"neurofocus: note: {message}")
        else:
            print(warnings.formatwarning(message, category, filename, lineno, line), file=sys.stderr, end="")

    with warnings.catch_warnings():
        warnings.showwarning = show
        warnings.simplefilter("always", NeurofocusWarning)
        yield notes


@contextlib.contextmanager
def _sigterm_unwinds():
    """SIGTERM raises :class:`Terminated` while the command runs (in the main thread only)."""
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread, where no handler can be set
        previous = None
    try:
        yield
    finally:
        if previous is not None:  # (None too when the previous handler was not set from Python: nothing to restore)
            signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    """Run the command line (``argv``, by default the process's own); returns the exit status.

    Run as the program (no ``argv``), it runs numpy's BLAS (OpenBLAS) on one thread unless ``OPENBLAS_NUM_THREADS``
    says otherwise, but for ``train``: loading numpy then starts no thread per core (~0.09 s on a busy two-core
    machine) for the commands' small matrix products, which run alike on one. And it freezes the garbage collector's
    objects when the command is done (:func:`gc.freeze`): the process ends with them, and the collection at
    interpreter exit no longer visits them all (some 15 ms with numpy alone, more with numba or scipy loaded). Called
    with an ``argv`` list, from Python, it leaves both as they are.
    """
    as_program = argv is None
    argv = sys.argv[1:] if argv is None else argv
    command = _command(argv)
    if as_program and command != "train":
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads, with the command's module
    args = build_parser(command).parse_args(argv)
    progress.QUIET = args.quiet
    with _sigterm_unwinds(), _notes() as notes:
        status = _run(args)
        if status == 0 and notes:
            print("\n".join(notes), file=sys.stderr)
    if as_program:
        gc.freeze()
    return status


def _run(args) -> int:
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
        return 128 + signal.SIGINT
    except Terminated as exc:
        print("neurofocus: terminated", file=sys.stderr)
        return 128 + exc.signum
    except Exception as exc:  # a bug: say so in one line; the traceback on request
        if os.environ.get("NEUROFOCUS_DEBUG"):
            import traceback

            traceback.print_exc()
        print(f"neurofocus: internal error: {type(exc).__name__}: {' '.join(str(exc).split())} "
              f"(set NEUROFOCUS_DEBUG=1 for the traceback, and please report it)", file=sys.stderr)
        return 1
