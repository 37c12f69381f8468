"""Helpers shared by the readers: vendor text headers, sensor-size fallback, time-order policy, progress bars."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from ..atomic import write_text_atomic
from ..errors import NeurofocusError
from ..types import Events

#: Sensors whose size a reader may assume when a file does not store one (name, width, height), smallest first.
KNOWN_SENSORS = (
    ("DAVIS240", 240, 180),
    ("DVXplorer Lite / DVS320", 320, 240),
    ("DAVIS346", 346, 260),
    ("Prophesee Gen3 / DVXplorer", 640, 480),
    ("Prophesee Gen4 / IMX636", 1280, 720),
)

#: Files larger than this show a progress bar while decoding (when stderr is a terminal).
PROGRESS_MIN_BYTES = 64 << 20


class NeurofocusWarning(UserWarning):
    """Something in an input file was unusual but could be handled (the message says how)."""


def note(message: str) -> None:
    """Warn the user about a recoverable oddity in the input."""
    warnings.warn(" ".join(message.split()), NeurofocusWarning, stacklevel=3)


def byte_progress(total: int, desc: str, enabled: bool | None):
    """A progress bar in bytes; ``enabled=None`` shows it only for big inputs on a terminal."""
    from ..progress import progress_bar

    if enabled is None:
        enabled = None if total >= PROGRESS_MIN_BYTES else False
    return progress_bar(total=total, desc=desc, unit="B", unit_scale=True,
                        disable=None if enabled is None else not enabled, leave=False)


def read_percent_header(path: str | os.PathLike, max_bytes: int = 1 << 20) -> tuple[dict[str, str], int]:
    """Parse a Prophesee-style header of ``% key value`` lines.

    The header ends at a ``% end`` line or at the first line that is not a printable ``%`` line.

    Returns
    -------
    header : dict
        Keys in lower case mapped to their value strings (later duplicates win).
    offset : int
        Byte offset of the binary data.
    """
    header: dict[str, str] = {}
    offset = 0
    with open(path, "rb") as f:
        while offset < max_bytes:
            line = f.readline()
            if not line.startswith(b"%") or not line.endswith(b"\n"):
                break
            try:
                text = line.decode("ascii").rstrip("\r\n")
            except UnicodeDecodeError:
                break
            if not text.isprintable():
                break
            offset += len(line)
            body = text[1:].strip()
            if body == "end":
                break
            key, _, value = body.partition(" ")
            if key:
                header[key.lower()] = value.strip()
    return header, offset


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``"640x480"`` (width x height, the one order of every size the project reads) into (width, height)."""
    try:
        w, h = (int(v) for v in text.lower().replace("*", "x").split("x"))
    except (ValueError, AttributeError):
        raise NeurofocusError(f"size {text!r} is not of the form WxH (e.g. 640x480)") from None
    if w <= 0 or h <= 0:
        raise NeurofocusError(f"size {text!r} must be positive")
    return w, h


def fallback_sensor_size(x: np.ndarray, y: np.ndarray, source: str) -> tuple[int, int]:
    """Sensor size for a file that does not store one: the smallest known sensor holding all events (if it is
    less than 10% larger than they need), else just large enough. Warns either way."""
    if len(x) == 0:
        raise NeurofocusError(f"{source} stores no sensor size and holds no events: give the sensor size")
    need_w, need_h = int(x.max()) + 1, int(y.max()) + 1
    for name, w, h in KNOWN_SENSORS:
        if need_w <= w <= 1.1 * need_w and need_h <= h <= 1.1 * need_h:
            note(f"{source} stores no sensor size; assuming {w}x{h} ({name}), the smallest common sensor that holds "
                 f"all events. Pass the sensor size (--sensor-size WxH) to override")
            return w, h
    note(f"{source} stores no sensor size; using {need_w}x{need_h}, just large enough for the events. Pass the sensor "
         f"size (--sensor-size WxH) to override")
    return need_w, need_h


def events_from_records(data: np.ndarray, backwards: int, sensor_size, source: str) -> Events:
    """Wrap decoded records (:data:`~neurofocus.types.EVENT_DTYPE`, (N,)) in :class:`Events` without copying them,
    sorting a few out-of-order events (with a note); ``backwards`` is how often time steps back from one record to
    the next.

    Sensors occasionally emit events slightly out of order; a stream that goes backwards often is taken as corrupt.
    """
    if backwards:
        if backwards > max(10, len(data) // 1000):
            raise NeurofocusError(f"time goes backwards {backwards} times in {len(data)} events: the file is "
                                  f"corrupt or not in the format it claims")
        note(f"{source}: {backwards} events were out of time order and have been sorted")
        data = data[np.argsort(data["t"], kind="stable")]
    if len(data) and data["t"][0] < 0:
        raise NeurofocusError("negative timestamps")
    return Events(data, sensor_size, validate=False)


def map_file(path: str | os.PathLike, offset: int, dtype) -> np.ndarray:
    """The file from byte ``offset`` to its end as a read-only array of ``dtype`` (shape (N,)), memory-mapped with
    its pages read in up front (one pass over the page cache, no copy); the size must be a multiple of the item."""
    import mmap

    dtype = np.dtype(dtype)
    size = os.path.getsize(path)
    if size <= offset:
        return np.empty(0, dtype)
    start = offset - offset % mmap.ALLOCATIONGRANULARITY
    with open(path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), size - start, flags=mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0),
                           prot=mmap.PROT_READ, offset=start)
    return np.frombuffer(mapped, dtype, offset=offset - start)


#: Largest ratio of declared to stored bytes a reader accepts for compressed data (deflate peaks near 1032:1; no codec
#: used for event or spike files does better).
MAX_COMPRESSION = 1100


def check_declared_size(declared: int, stored: int, what: str, ratio: int = 1, slack: int = 0) -> None:
    """Reject data that declares more bytes than ``ratio`` times its ``stored`` bytes (plus ``slack``) can hold, before
    anything is allocated: only corrupt or truncated files do that."""
    if declared > ratio * stored + slack:
        raise NeurofocusError(f"{what} declares {declared:,} bytes but the file stores only {stored:,} bytes for it: "
                              f"corrupt or truncated file")


#: A first event time from here on marks an absolute clock (AEDAT 4 files count Unix-epoch µs), not time since the
#: start of the recording: 2**32 µs, 71.6 minutes.
ABSOLUTE_CLOCK_US = 1 << 32


def relative_clock(events: Events, what: str) -> Events:
    """``events`` for a format whose clock counts from the start of the recording (``what``, e.g. "Prophesee RAW").

    Events on an absolute clock (first event at or after :data:`ABSOLUTE_CLOCK_US`) are rebased to their first event,
    with a note; others are returned unchanged.
    """
    if not len(events):
        return events
    shift = clock_shift(int(events.t[0]), what)
    return events.shift_time(shift) if shift else events


def clock_shift(first_us: int, what: str) -> int:
    """The shift (µs) :func:`relative_clock` gives a stream whose first event is at ``first_us``: ``-first_us`` (with
    its note) on an absolute clock, else 0."""
    if first_us < ABSOLUTE_CLOCK_US:
        return 0
    note(f"the events' clock is absolute (first event at {first_us:,} µs) but {what} counts time from the start of "
         f"the recording: writing times relative to the first event (t - {first_us:,} µs)")
    return -first_us


#: Filler records a writer adds to any stream (4 Mi: 64 MiB of Prophesee HDF5 index, 8 MiB of EVT 3.0 words).
MAX_FILLER_RECORDS = 1 << 22


def check_time_span(events: Events, step_us: int, what: str) -> None:
    """Refuse a stream that spans more than :data:`ABSOLUTE_CLOCK_US` (71.6 minutes) and needs more than
    :data:`MAX_FILLER_RECORDS` filler records (one per ``step_us`` µs: RAW time words, Prophesee HDF5 index rows), and
    more than 16 per event: its output would be out of all proportion to the data. Shorter spans are always written."""
    if len(events):
        check_span(len(events), int(events.t[0]), int(events.t[-1]), step_us, what)


def check_span(count: int, first_us: int, last_us: int, step_us: int, what: str) -> None:
    """:func:`check_time_span` of ``count`` events from ``first_us`` to ``last_us``."""
    span = last_us - first_us
    steps = span // step_us
    if span >= ABSOLUTE_CLOCK_US and steps > max(MAX_FILLER_RECORDS, 16 * count):
        raise NeurofocusError(f"{count:,} events spanning {span / 3.6e9:,.1f} hours would need {steps:,} filler "
                              f"records in {what}: write a shorter window (--t-start-us, --t-end-us) or another "
                              f"format")


def sidecar_path(path: str | os.PathLike) -> Path:
    """The sidecar JSON a writer puts beside ``path``: ``<path>.json``."""
    return Path(f"{os.fspath(path)}.json")


def read_sidecar(path: str | os.PathLike) -> dict:
    """Metadata from the sidecar JSON of ``path`` (``<path>.json``, else ``<stem>.json``); {} if there is none."""
    path = Path(path)
    for candidate in (sidecar_path(path), path.with_suffix(".json")):
        if candidate.is_file() and candidate != path:
            import json  # on use: most files have no sidecar, and info's start-up counts

            try:
                meta = json.loads(candidate.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise NeurofocusError(f"sidecar {candidate.name} is not valid JSON ({exc})") from None
            if not isinstance(meta, dict):
                raise NeurofocusError(f"sidecar {candidate.name} must hold a JSON object")
            return meta
    return {}


def write_sidecar(path: str | os.PathLike, meta: dict) -> None:
    """Write ``meta`` as the sidecar JSON of ``path``, atomically."""
    import json

    write_text_atomic(sidecar_path(path), json.dumps(meta, indent=2, sort_keys=True) + "\n")


def sidecar_sensor_size(path: str | os.PathLike) -> tuple[int, int] | None:
    """``sensor_size`` [width, height] from the sidecar JSON, if given."""
    size = read_sidecar(path).get("sensor_size")
    if size is None:
        return None
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size)):
        raise NeurofocusError(f"sidecar sensor_size must be [width, height], got {size!r}")
    return size[0], size[1]
