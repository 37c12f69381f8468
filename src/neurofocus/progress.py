"""Progress of long work, on stderr: bars and one-line messages, all silenced by ``neurofocus --quiet``."""

from __future__ import annotations

import sys

#: Set by ``neurofocus --quiet`` (or by a script): no bars, no progress messages. Notes and errors still print.
QUIET = False


def progress_bar(iterable=None, **kwargs):
    """A tqdm bar over ``iterable`` (tqdm's keyword arguments); disabled when :data:`QUIET`."""
    if QUIET:  # tqdm.auto looks for a notebook (importing asyncio): not worth it for a bar that never shows
        from tqdm import tqdm
    else:
        from tqdm.auto import tqdm
    kwargs["disable"] = True if QUIET else kwargs.get("disable", False)
    return tqdm(iterable, **kwargs)


def say(message: str) -> None:
    """Print a progress message on stderr at once, unless :data:`QUIET`."""
    if not QUIET:
        print(message, file=sys.stderr, flush=True)
