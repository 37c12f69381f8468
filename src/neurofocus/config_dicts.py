"""Strict settings from JSON objects: the one home of the unknown-key check and of the positive-number checks.

Every config that is read from a file (dataset settings, scene descriptions, model options, training configs) rejects
keys it does not know, and every setting that must be positive says so naming the setting, in one line
(:class:`~neurofocus.errors.NeurofocusError`, with the file when one is given).

Examples
--------
>>> import dataclasses
>>> @dataclasses.dataclass(frozen=True)
... class Lens:
...     focal_length_mm: float = 50.0
>>> from_dict(Lens, {"focal_length_mm": 35.0}, "unknown lens settings {unknown}")
Lens(focal_length_mm=35.0)
>>> from_dict(Lens, {"focal_lenght_mm": 35.0}, "unknown lens settings {unknown}")
Traceback (most recent call last):
...
neurofocus.errors.NeurofocusError: unknown lens settings ['focal_lenght_mm']
>>> check_positive(0.0, "f_number")
Traceback (most recent call last):
...
neurofocus.errors.NeurofocusError: f_number must be positive, got 0.0
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
from collections.abc import Iterable, Mapping

from .errors import NeurofocusError


def check_keys(data: Mapping, known: Iterable[str], message: str, source: str | os.PathLike | None = None) -> None:
    """Raise :class:`NeurofocusError` when ``data`` has a key outside ``known``.

    ``message`` is formatted with ``unknown`` (the sorted list of unknown keys), ``first`` (the first of them, quoted)
    and ``known`` (the known keys, comma-separated, in the order given); ``source`` is the file the data came from.
    """
    known = list(known)
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise NeurofocusError(message.format(unknown=unknown, first=repr(unknown[0]), known=", ".join(known)), source)


def from_dict(cls, data, message: str, *, source: str | os.PathLike | None = None, ignore: Iterable[str] = (),
              sort_known: bool = False, what: str = "settings"):
    """``cls(**data)`` for a dataclass ``cls``, after :func:`check_keys` against its fields (``message`` as there).

    Keys in ``ignore`` are dropped first (e.g. a ``kind`` tag); ``sort_known`` lists the known keys sorted in the
    message rather than in field order. Data that is not a JSON object is refused ("``what`` must be a JSON object");
    a :class:`NeurofocusError` from the constructor is attributed to ``source``.
    """
    if not isinstance(data, Mapping):
        raise NeurofocusError(f"{what} must be a JSON object", source)
    ignore = set(ignore)
    data = {k: v for k, v in data.items() if k not in ignore}
    known = [f.name for f in dataclasses.fields(cls)]
    check_keys(data, sorted(known) if sort_known else known, message, source)
    try:
        return cls(**data)
    except NeurofocusError as exc:
        raise (exc.with_path(source) if source is not None else exc) from None


def omitting(data: Mapping, unset: Mapping) -> dict:
    """``data`` without the keys whose value is ``unset[key]``: settings added after files were written, left at the
    value they had before they existed, so that those files still equal a rerun's (and still load strictly)."""
    return {k: v for k, v in data.items() if not (k in unset and v == unset[k])}


def asdict_omitting(config, unset: Mapping) -> dict:
    """``dataclasses.asdict(config)`` :func:`omitting` the settings at their ``unset`` values."""
    return omitting(dataclasses.asdict(config), unset)


def check_positive(value, name: str) -> None:
    """Raise ``"<name> must be positive, got <value>"`` unless ``value`` is a finite number above 0."""
    try:
        ok = math.isfinite(value) and value > 0
    except TypeError:
        ok = False
    if not ok:
        raise NeurofocusError(f"{name} must be positive, got {value}")


def positive_int(value, name: str, *, integral: bool = False) -> int:
    """``value`` as an int, which must equal it and be at least 1 (``"<name> must be a positive integer"``);
    ``integral`` also refuses non-integer types (``2.0``)."""
    try:
        out = int(value)
    except (TypeError, ValueError, OverflowError):
        raise NeurofocusError(f"{name} must be a positive integer, got {value!r}") from None
    if isinstance(value, bool) or out != value or out < 1 or (integral and not isinstance(value, numbers.Integral)):
        raise NeurofocusError(f"{name} must be a positive integer, got {value!r}")
    return out


def positive_float(value, name: str) -> float:
    """``value`` as a finite float above 0 (``"<name> must be a positive number"``)."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise NeurofocusError(f"{name} must be a positive number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(out) or out <= 0:
        raise NeurofocusError(f"{name} must be a positive number, got {value!r}")
    return out
