"""The one exception type for bad input.

Every problem a user can cause (a corrupt file, a wrong size, unsorted timestamps, a NaN image) is raised as
:class:`NeurofocusError` with a one-line message that names the file or parameter and the problem. The CLI prints it as
``neurofocus: error: <message>`` and exits with status 2; library users can catch it like any ``ValueError``.
"""

from __future__ import annotations

import os


class NeurofocusError(ValueError):
    """Bad input, described in one line.

    Parameters
    ----------
    problem : str
        What is wrong, in words a user can act on.
    path : str or os.PathLike, optional
        The file the problem was found in; it prefixes the message as ``<path>: <problem>``.
    """

    def __init__(self, problem: str, path: str | os.PathLike | None = None):
        self.problem = " ".join(str(problem).split())  # always one line
        self.path = None if path is None else os.fspath(path)
        super().__init__(self.problem if self.path is None else f"{self.path}: {self.problem}")

    def with_path(self, path: str | os.PathLike) -> "NeurofocusError":
        """The same problem attributed to ``path`` (unchanged if it already names a file)."""
        return self if self.path is not None else NeurofocusError(self.problem, path)
