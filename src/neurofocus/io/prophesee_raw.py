"""Prophesee RAW files (``.raw``): an ASCII ``% key value`` header, then EVT 2.0, EVT 2.1 or EVT 3.0 words.

The encoding comes from the header's ``format`` key (``EVT3;height=720;width=1280``,
``EVT21;...;endianness=legacy``) or the legacy ``evt`` key (``2.0``, ``2.1``, ``3.0``). The sensor size comes from
``format``, else ``geometry`` (``1280x720``), else the sensor named by ``plugin_name`` / ``sensor_generation``, else
the events themselves (with a warning).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import NeurofocusError
from ..types import Events
from . import evt2, evt3
from .common import (byte_progress, check_span, clock_shift, events_from_records, fallback_sensor_size, map_file,
                     note, read_percent_header)
from .records import BACKWARDS, new_records, new_stats

ENCODINGS = ("evt2", "evt21", "evt3")
_WORD_DTYPE = {"evt2": np.dtype("<u4"), "evt21": np.dtype("<u8"), "evt3": np.dtype("<u2")}
_LABEL = {"evt2": "EVT 2.0", "evt21": "EVT 2.1", "evt3": "EVT 3.0"}
_CHUNK_WORDS = 1 << 22
#: Largest time step between two TIME_HIGH words of the encoders (EVT 3.0: 1024 << 12 µs, EVT 2.x: 2**26 << 6 µs).
_TIME_STEP_US = {"evt3": 1 << 22, "evt2": 1 << 32, "evt21": 1 << 32}
_MAX_SIDE = 2048  # 11-bit addresses

#: Sensor sizes by the generation named in ``plugin_name`` / ``sensor_generation``.
_GENERATION_SIZES = {"gen3": (640, 480), "gen31": (640, 480), "gen4": (1280, 720), "gen41": (1280, 720),
                     "imx636": (1280, 720)}


def parse_encoding(header: dict[str, str]) -> tuple[str, bool, tuple[int, int] | None]:
    """(encoding, legacy EVT 2.1 layout, size from ``format`` if any) from a RAW header."""
    fmt = header.get("format", "")
    legacy = False
    size = None
    if fmt:
        parts = [s.strip() for s in fmt.split(";")]
        name = parts[0].upper().replace(".", "").replace("_", "")
        opts = dict(part.split("=", 1) for part in parts[1:] if "=" in part)
        encoding = {"EVT2": "evt2", "EVT20": "evt2", "EVT21": "evt21", "EVT3": "evt3", "EVT30": "evt3"}.get(name)
        if encoding is None:
            raise NeurofocusError(f"unsupported RAW encoding {parts[0]!r} (supported: EVT 2.0, EVT 2.1, EVT 3.0)")
        legacy = opts.get("endianness", "little").lower() == "legacy"
        if "width" in opts and "height" in opts:
            try:
                size = (int(opts["width"]), int(opts["height"]))
            except ValueError:
                raise NeurofocusError(f"bad size in the header's format line {fmt!r}") from None
        return encoding, legacy, size
    evt = header.get("evt", "")
    encoding = {"2.0": "evt2", "2": "evt2", "2.1": "evt21", "3.0": "evt3", "3": "evt3"}.get(evt)
    if encoding is None:
        if not header:
            raise NeurofocusError("no Prophesee RAW header ('% key value' lines): not a RAW file")
        raise NeurofocusError("the RAW header names no encoding (no 'format' or 'evt' line)" if not evt
                              else f"unsupported RAW encoding 'evt {evt}' (supported: 2.0, 2.1, 3.0)")
    return encoding, legacy, size


def header_sensor_size(header: dict[str, str], format_size) -> tuple[int, int] | None:
    """Sensor size stated by a RAW header, or None."""
    if format_size is not None:
        return format_size
    geometry = header.get("geometry")
    if geometry:
        m = re.fullmatch(r"\s*(\d+)\s*x\s*(\d+)\s*", geometry)
        if not m:
            raise NeurofocusError(f"bad geometry {geometry!r} in the RAW header")
        return int(m[1]), int(m[2])
    names = (header.get("sensor_generation", "") + " " + header.get("plugin_name", "")).lower()
    for gen, size in sorted(_GENERATION_SIZES.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"(^|[^a-z0-9]){gen}([^0-9]|$)", names.replace(".", "")):
            return size
    return None


def read_raw(path: str | os.PathLike, *, sensor_size: tuple[int, int] | None = None,
             progress: bool | None = None) -> Events:
    """Read a Prophesee RAW file.

    Parameters
    ----------
    path : path-like
        The ``.raw`` file.
    sensor_size : (int, int), optional
        (width, height) to use instead of the header's.
    progress : bool, optional
        Show a progress bar (default: for big files on a terminal).

    Returns
    -------
    Events
        CD events; trigger and other words are skipped. Events before the first time base and events outside the
        sensor are dropped, with a note saying how many (more than 1 % outside the sensor is an error).
    """
    header, offset = read_percent_header(path)
    encoding, legacy, format_size = parse_encoding(header)
    size = sensor_size or header_sensor_size(header, format_size)
    if size is not None and (size[0] > _MAX_SIDE or size[1] > _MAX_SIDE):
        raise NeurofocusError(f"sensor size {size[0]}x{size[1]} exceeds the 2048x2048 addressable by RAW formats")
    dtype = _WORD_DTYPE[encoding]
    nbytes = os.path.getsize(path) - offset
    if nbytes % dtype.itemsize:
        raise NeurofocusError(f"truncated {_LABEL[encoding]} data: {nbytes % dtype.itemsize} stray byte(s) after the "
                              f"last whole {8 * dtype.itemsize}-bit word")
    words = map_file(path, offset, dtype)
    width, height = size if size is not None else (_MAX_SIDE, _MAX_SIDE)
    stats = new_stats()
    if encoding == "evt3":
        state = evt3.new_state()
        capacity = evt3.max_events(words)
        decode = lambda w, out, n: evt3.decode(w, state, width, height, out, n, stats)  # noqa: E731
        slots = evt3.NO_TIME_SLOT, evt3.OUT_OF_RANGE_SLOT
    elif encoding == "evt2":
        state = evt2.new_state()
        capacity = len(words)  # at most one event per word
        decode = lambda w, out, n: evt2.decode_evt2(w, state, width, height, out, n, stats)  # noqa: E731
        slots = evt2.NO_TIME_SLOT, evt2.OUT_OF_RANGE_SLOT
    else:
        state = evt2.new_state()
        capacity = evt2.max_events_evt21(words, legacy)
        decode = lambda w, out, n: evt2.decode_evt21(w, legacy, state, width, height, out, n, stats)  # noqa: E731
        slots = evt2.NO_TIME_SLOT, evt2.OUT_OF_RANGE_SLOT

    records, out = new_records(capacity)
    n = 0
    with byte_progress(nbytes, f"decoding {Path(path).name}", progress) as bar:
        for start in range(0, len(words), _CHUNK_WORDS):
            chunk = words[start:start + _CHUNK_WORDS]
            n = decode(chunk, out, n)
            bar.update(chunk.nbytes)
    records = records[:n]
    no_time, out_of_range = (int(state[s]) for s in slots)
    if size is not None and out_of_range > max(16, (n + out_of_range) // 100):
        raise NeurofocusError(f"{out_of_range} of {n + out_of_range} {_LABEL[encoding]} events lie outside the "
                              f"{width}x{height} sensor: the file is corrupt or its geometry is wrong")
    if no_time and not n:
        raise NeurofocusError(f"no {_LABEL[encoding]} time base (TIME_HIGH word) found: corrupt or not a RAW file")
    if size is None:
        size = fallback_sensor_size(records["x"], records["y"], f"{Path(path).name} (RAW header without geometry)")
    events = events_from_records(records, int(stats[BACKWARDS]), size, Path(path).name)
    dropped = ([f"{out_of_range:,} outside the {width}x{height} sensor"] if out_of_range else []) + (
        [f"{no_time:,} before the first time base (TIME_HIGH word)"] if no_time else [])
    if dropped:
        note(f"{Path(path).name}: dropped {' and '.join(dropped)} of {n + out_of_range + no_time:,} "
             f"{_LABEL[encoding]} events")
    return events


def write_raw(path: str | os.PathLike, events: Events, *, encoding: str = "evt3", legacy: bool = False) -> None:
    """Write events as a Prophesee RAW file (atomically). RAW time counts from the start of the recording: events on
    an absolute clock are rebased to their first event, with a note (:func:`~neurofocus.io.common.relative_clock`).

    Parameters
    ----------
    encoding : {"evt3", "evt2", "evt21"}
        Word encoding.
    legacy : bool
        For EVT 2.1, the legacy layout (header half first).
    """
    with raw_writer(path, events.sensor_size, encoding=encoding, legacy=legacy) as raw:
        raw.write(events)


@contextlib.contextmanager
def raw_writer(path: str | os.PathLike, sensor_size: tuple[int, int], *, encoding: str = "evt3",
               legacy: bool = False) -> Iterator["RawStream"]:
    """A Prophesee RAW file written chunk by chunk (constant memory; atomically, when the block ends without error):
    yields a :class:`RawStream` to :meth:`~RawStream.write` time-sorted chunks of events to. The file is the one
    :func:`write_raw` makes of all the chunks' events."""
    if encoding not in ENCODINGS:
        raise NeurofocusError(f"unknown RAW encoding {encoding!r} (choose from {', '.join(ENCODINGS)})")
    w, h = sensor_size
    if w > _MAX_SIDE or h > _MAX_SIDE:
        raise NeurofocusError(f"a {w}x{h} sensor does not fit RAW formats (11-bit addresses, at most 2048x2048)")
    fmt, evt = {"evt3": ("EVT3", "3.0"), "evt2": ("EVT2", "2.0"), "evt21": ("EVT21", "2.1")}[encoding]
    options = f"{fmt};height={h};width={w}" + (";endianness=legacy" if encoding == "evt21" and legacy else "")
    header = (f"% evt {evt}\n% format {options}\n% geometry {w}x{h}\n% integrator_name neurofocus\n"
              f"% plugin_name neurofocus\n% end\n")
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(header.encode("ascii"))
        stream = RawStream(f, sensor_size, encoding, legacy)
        yield stream
        stream.finish()


class RawStream:
    """The words of a RAW file's events, encoded chunk by chunk into ``file`` (see :func:`raw_writer`).

    Each chunk's events of its last µs are held back until a later chunk (or :meth:`finish`) passes that µs, so that
    the encoders' runs of equal times never straddle two calls: the words are those of all the events at once.
    """

    def __init__(self, file, sensor_size: tuple[int, int], encoding: str, legacy: bool):
        self._file, self._sensor_size, self._encoding, self._legacy = file, tuple(sensor_size), encoding, legacy
        self._state = evt3.new_encoder_state() if encoding == "evt3" else evt2.new_encoder_state()
        self._held = Events.empty(sensor_size)
        self._shift = None  # µs added to every time (relative_clock), set by the first event
        self._count, self._first_us, self._last_us = 0, 0, 0

    def write(self, events: Events) -> None:
        """Append ``events`` (time-sorted, after those written before). Refuses, as ``check_time_span``, a stream whose
        span so far needs time words out of all proportion to its events so far."""
        if tuple(events.sensor_size) != self._sensor_size:
            raise NeurofocusError(f"events of a {events.sensor_size} sensor in a RAW stream of {self._sensor_size}")
        if not len(events):
            return
        if self._shift is None:
            self._shift = clock_shift(int(events.t[0]), "Prophesee RAW")
            self._first_us = int(events.t[0]) + self._shift
        events = events.shift_time(self._shift) if self._shift else events
        self._count += len(events)
        self._last_us = int(events.t[-1])
        check_span(self._count, self._first_us, self._last_us, _TIME_STEP_US[self._encoding],
                   f"{_LABEL[self._encoding]} RAW")  # the stream so far, before its time words are written
        t = events.t
        if len(self._held) and t[0] == self._held.t[0]:  # more of the held µs
            same = int(np.searchsorted(t, t[0], side="right"))
            self._held = Events.concatenate([self._held, events[:same]])
            events, t = events[same:], t[same:]
            if not len(events):
                return
        self._encode(self._held)
        last = int(np.searchsorted(t, t[-1], side="left"))
        self._encode(events[:last])
        self._held = Events(events.data[last:].copy(), self._sensor_size, validate=False)

    def finish(self) -> None:
        """Encode the held events."""
        self._encode(self._held)
        self._held = Events.empty(self._sensor_size)

    def _encode(self, events: Events) -> None:
        if not len(events):
            return
        if self._encoding == "evt3":
            words = evt3.encode(events, self._state)
        elif self._encoding == "evt2":
            words = evt2.encode_evt2(events, self._state)
        else:
            words = evt2.encode_evt21(events, legacy=self._legacy, state=self._state)
        self._file.write(words.astype(words.dtype.newbyteorder("<"), copy=False).data)
