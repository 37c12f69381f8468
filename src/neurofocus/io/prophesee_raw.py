"""Prophesee RAW files (``.raw``): an ASCII ``% key value`` header, then EVT 2.0, EVT 2.1 or EVT 3.0 words.

The encoding comes from the header's ``format`` key (``EVT3;height=720;width=1280``,
``EVT21;...;endianness=legacy``) or the legacy ``evt`` key (``2.0``, ``2.1``, ``3.0``). The sensor size comes from
``format``, else ``geometry`` (``1280x720``), else the sensor named by ``plugin_name`` / ``sensor_generation``, else
the events themselves (with a warning).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import NeurofocusError
from ..types import Events
from . import evt2, evt3
from .common import (byte_progress, check_time_span, events_from_records, fallback_sensor_size, map_file, note,
                     read_percent_header, relative_clock)
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
    if encoding not in ENCODINGS:
        raise NeurofocusError(f"unknown RAW encoding {encoding!r} (choose from {', '.join(ENCODINGS)})")
    w, h = events.sensor_size
    if w > _MAX_SIDE or h > _MAX_SIDE:
        raise NeurofocusError(f"a {w}x{h} sensor does not fit RAW formats (11-bit addresses, at most 2048x2048)")
    events = relative_clock(events, "Prophesee RAW")
    check_time_span(events, _TIME_STEP_US[encoding], f"{_LABEL[encoding]} RAW")
    if encoding == "evt3":
        words = evt3.encode(events)
        fmt, evt = "EVT3", "3.0"
    elif encoding == "evt2":
        words = evt2.encode_evt2(events)
        fmt, evt = "EVT2", "2.0"
    else:
        words = evt2.encode_evt21(events, legacy=legacy)
        fmt, evt = "EVT21", "2.1"
    options = f"{fmt};height={h};width={w}" + (";endianness=legacy" if encoding == "evt21" and legacy else "")
    header = (f"% evt {evt}\n% format {options}\n% geometry {w}x{h}\n% integrator_name neurofocus\n"
              f"% plugin_name neurofocus\n% end\n")
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(header.encode("ascii"))
        f.write(words.astype(words.dtype.newbyteorder("<"), copy=False).data)
