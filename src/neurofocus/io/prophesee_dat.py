"""Prophesee DAT files (legacy ``.dat``): ``% key value`` header lines, then one byte event type (12 = CD) and one
byte event size (8), then little-endian records of u32 t (µs) and u32 packed x (bits 0..13), y (bits 14..27),
p (bit 28). The 32-bit time wraps after 71.6 minutes; wraps are unrolled.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import NeurofocusError
from ..types import Events
from .common import events_from_records, fallback_sensor_size, map_file, read_percent_header, relative_clock
from .records import BACKWARDS, MAX_X, MAX_Y, STATS_SIZE, new_records, new_stats

_CD_TYPE = 12
_RECORD = np.dtype([("t", "<u4"), ("data", "<u4")])
_MAX_SIDE = 1 << 14


def looks_like_dat(path: str | os.PathLike) -> bool:
    """True if the file has a ``%`` header followed by a CD event type/size pair."""
    header, offset = read_percent_header(path)
    if not header:
        return False
    with open(path, "rb") as f:
        f.seek(offset)
        pair = f.read(2)
    return len(pair) == 2 and pair[1] == 8


def read_dat(path: str | os.PathLike, *, sensor_size: tuple[int, int] | None = None) -> Events:
    """Read a Prophesee DAT file of CD events.

    Parameters
    ----------
    sensor_size : (int, int), optional
        (width, height) to use instead of the header's ``Width``/``Height``.
    """
    header, offset = read_percent_header(path)
    if not header:
        raise NeurofocusError("no DAT header ('% key value' lines): not a Prophesee DAT file")
    version = header.get("version", "2")
    if version.strip() not in ("2", "3"):
        raise NeurofocusError(f"DAT version {version} is not supported (only versions 2 and 3)")
    with open(path, "rb") as f:
        f.seek(offset)
        pair = f.read(2)
    if len(pair) < 2:
        raise NeurofocusError("truncated DAT file: the event type and size bytes are missing")
    ev_type, ev_size = pair
    if ev_size != 8:
        raise NeurofocusError(f"DAT event size is {ev_size} bytes, expected 8 (not a CD event file?)")
    if ev_type != _CD_TYPE:
        raise NeurofocusError(f"DAT event type {ev_type} is not CD events (12)")
    nbytes = os.path.getsize(path) - offset - 2
    if nbytes % 8:
        raise NeurofocusError(f"truncated DAT data: {nbytes % 8} stray byte(s) after the last whole 8-byte event")
    words = map_file(path, offset + 2, np.uint32)
    records, out = new_records(len(words) // 2)  # exactly one event per 8 bytes
    stats = new_stats()
    _decode(words, out, stats)
    size = sensor_size
    if size is None and "width" in header and "height" in header:
        try:
            size = (int(header["width"]), int(header["height"]))
        except ValueError:
            raise NeurofocusError(f"bad Width/Height in the DAT header ({header['width']!r}, "
                                  f"{header['height']!r})") from None
    if size is None:
        size = fallback_sensor_size(records["x"], records["y"], f"{Path(path).name} (DAT header without Width/Height)")
    max_x, max_y = int(stats[MAX_X]), int(stats[MAX_Y])
    if max_x >= size[0] or max_y >= size[1]:
        raise NeurofocusError(f"events lie outside the {size[0]}x{size[1]} sensor (max x {max_x}, max y {max_y}): "
                              f"corrupt file or wrong size")
    return events_from_records(records, int(stats[BACKWARDS]), size, Path(path).name)


def _decode(words: np.ndarray, out: np.ndarray, stats: np.ndarray) -> None:
    """Decode DAT records (``words``: uint32 pairs t, packed x/y/p) into the records ``out`` (int64 (N, 2) view, see
    :mod:`.records`), unrolling 32-bit time wraps (a fall by more than 2**31 µs); ``stats`` gets the time steps back
    and the largest x and y."""
    from .._kernels import address, lib

    if len(out) < len(words) // 2 or stats.shape != (STATS_SIZE,):
        raise ValueError("DAT decoding needs a record per 8 bytes and the statistics vector")
    lib.dat_decode(address(words, np.uint32), len(words) // 2, address(out, np.int64, writable=True),
                   address(stats, np.int64, writable=True))


def write_dat(path: str | os.PathLike, events: Events) -> None:
    """Write events as a Prophesee DAT (version 2) file, atomically. Times must be < 2**32 µs (an absolute clock is
    rebased to the first event, see :func:`~neurofocus.io.common.relative_clock`)."""
    w, h = events.sensor_size
    if w > _MAX_SIDE or h > _MAX_SIDE:
        raise NeurofocusError(f"a {w}x{h} sensor does not fit DAT's 14-bit addresses")
    events = relative_clock(events, "Prophesee DAT")
    if len(events) and events.t[-1] >= 1 << 32:
        raise NeurofocusError("DAT stores 32-bit times: events after 71.6 minutes cannot be written")
    rec = np.empty(len(events), _RECORD)
    rec["t"] = events.t
    rec["data"] = (events.x.astype(np.uint32) | (events.y.astype(np.uint32) << 14)
                   | ((events.p > 0).astype(np.uint32) << 28))
    header = f"% Data file containing CD events.\n% Version 2\n% Width {w}\n% Height {h}\n"
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(header.encode("ascii"))
        f.write(bytes([_CD_TYPE, 8]))
        f.write(rec.tobytes())
