"""Progress of long work, on stderr: bars and one-line messages, all silenced by ``neurofocus --quiet``."""

from __future__ import annotations

import sys

#: Set by ``neurofocus --quiet`` (or by a script): no bars, no progress messages. Notes and errors still print.
QUIET = False


class _NoBar:
    """A disabled bar without tqdm: its methods (``update``, ``set_postfix``, ``close`` ...) do nothing; a context
    manager like tqdm's."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def progress_bar(iterable=None, **kwargs):
    """A tqdm bar over ``iterable``, or of ``total`` steps (tqdm's keyword arguments); disabled when :data:`QUIET`.
    A disabled bar does not import tqdm (~30 ms): over an iterable it is the iterable itself, else a bar whose
    methods do nothing."""
    disabled = QUIET or kwargs.get("disable", False)
    if disabled:
        return _NoBar() if iterable is None else iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)


def say(message: str) -> None:
    """Print a progress message on stderr at once, unless :data:`QUIET`."""
    if not QUIET:
        print(message, file=sys.stderr, flush=True)
