"""Core data containers: :class:`Events`, :class:`Spikes`, :class:`FocalSweep`.

Conventions (pinned by tests, relied on everywhere):

* Events are a structured array with fields ``t`` (int64, µs), ``x``, ``y`` (uint16, pixels from the top-left
  corner) and ``p`` (int8, +1 when the pixel got brighter, -1 when it got darker), sorted by ``t``, plus the sensor
  size ``(width, height)``.
* Spikes are binary frames (T, H, W) read out synchronously every ``tick_us`` µs from ``start_us``; they are held
  bit-packed along the width axis (1/8 of the memory).
* Images are float32 RGB in [0, 1], sRGB-encoded, shape (H, W, 3).

The containers are immutable: their arrays are read-only views, and every operation returns a new object.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .errors import NeurofocusError

#: The canonical event record: 16 bytes, naturally aligned (time first, as in most vendor layouts).
EVENT_DTYPE = np.dtype(
    {"names": ["t", "x", "y", "p"], "formats": ["<i8", "<u2", "<u2", "i1"], "offsets": [0, 8, 10, 12],
     "itemsize": 16}
)

#: Largest coordinate a uint16 field can hold, plus one.
MAX_SENSOR_SIDE = 1 << 16


def check_size(width, height, what: str = "sensor size") -> tuple[int, int]:
    try:
        w, h = int(width), int(height)
    except (TypeError, ValueError):
        raise NeurofocusError(f"{what} must be two integers (width, height), got {width!r}x{height!r}") from None
    if not (0 < w <= MAX_SENSOR_SIDE and 0 < h <= MAX_SENSOR_SIDE):
        raise NeurofocusError(f"{what} {w}x{h} is out of range (1..{MAX_SENSOR_SIDE} per side)")
    return w, h


def concatenate_records(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Concatenate :data:`EVENT_DTYPE` arrays keeping the padded 16-byte layout (``np.concatenate`` would pack it),
    copied as raw 16-byte items (a field-by-field copy is ten times slower)."""
    raw = np.dtype((np.void, EVENT_DTYPE.itemsize))
    parts = [np.ascontiguousarray(a, EVENT_DTYPE).view(raw) for a in parts]
    return np.concatenate(parts).view(EVENT_DTYPE) if parts else np.empty(0, EVENT_DTYPE)


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


def polarity_to_signed(p: np.ndarray, what: str = "polarity") -> np.ndarray:
    """Convert a polarity array in any common encoding to int8 ±1.

    Parameters
    ----------
    p : ndarray
        bool (True = ON), {0, 1} (1 = ON) or {-1, +1} values, any integer or float dtype.
    what : str
        Name used in the error message.

    Returns
    -------
    ndarray of int8
        +1 where the pixel got brighter, -1 where it got darker.

    Raises
    ------
    NeurofocusError
        If the values mix encodings (both 0 and -1 present) or hold anything else.
    """
    p = np.asarray(p)
    if p.dtype == np.bool_:
        return np.where(p, np.int8(1), np.int8(-1))
    if p.size == 0:
        return np.zeros(0, np.int8)
    lo, hi = p.min(), p.max()
    if np.issubdtype(p.dtype, np.floating) and not np.all(np.isfinite([lo, hi])):
        raise NeurofocusError(f"{what} contains NaN or infinite values")
    if lo >= 0 and hi <= 1:
        if np.issubdtype(p.dtype, np.floating) and not np.all((p == 0) | (p == 1)):
            raise NeurofocusError(f"{what} must be 0/1 or -1/+1, found fractional values")
        return np.where(p > 0, np.int8(1), np.int8(-1))
    if lo >= -1 and hi <= 1:
        if np.any(p == 0):
            raise NeurofocusError(f"{what} mixes encodings: it holds -1, 0 and +1 (expected 0/1 or -1/+1)")
        if np.issubdtype(p.dtype, np.floating) and not np.all((p == -1) | (p == 1)):
            raise NeurofocusError(f"{what} must be 0/1 or -1/+1, found fractional values")
        return np.where(p > 0, np.int8(1), np.int8(-1))
    raise NeurofocusError(f"{what} must be 0/1, -1/+1 or boolean, found values in [{lo}, {hi}]")


class PolarityStats(NamedTuple):
    """Counts of ON (+1) and OFF (-1) events."""

    num_on: int
    num_off: int

    @property
    def on_fraction(self) -> float:
        """Share of ON events in [0, 1]; NaN for an empty stream."""
        total = self.num_on + self.num_off
        return self.num_on / total if total else float("nan")


class Events:
    """Time-sorted events of one sensor.

    Parameters
    ----------
    data : ndarray of :data:`EVENT_DTYPE`, shape (N,)
        The events; not copied (the container keeps a read-only view).
    sensor_size : (int, int)
        Sensor (width, height) in pixels.
    validate : bool
        Check order, polarity and coordinates (O(N)); skip only for data produced by this package.

    Examples
    --------
    >>> ev = Events.from_arrays(t=[0, 5, 9], x=[1, 2, 3], y=[0, 0, 1], p=[1, 0, 1], sensor_size=(4, 2))
    >>> len(ev), ev.p.tolist(), ev.polarity_stats().num_on
    (3, [1, -1, 1], 2)
    """

    __slots__ = ("_data", "_sensor_size")

    def __init__(self, data: np.ndarray, sensor_size: tuple[int, int], *, validate: bool = True):
        if not isinstance(data, np.ndarray) or data.dtype != EVENT_DTYPE or data.ndim != 1:
            raise NeurofocusError("events must be a 1-D array of neurofocus.types.EVENT_DTYPE")
        self._sensor_size = check_size(*sensor_size)
        self._data = _read_only(data)
        if validate:
            self._validate()

    def _validate(self) -> None:
        if len(self._data) == 0:
            return
        t = self._data["t"]
        if t[0] < 0:
            raise NeurofocusError(f"negative timestamp {int(t[0])} µs (times must be >= 0)")
        if np.any(t[1:] < t[:-1]):
            i = int(np.argmax(t[1:] < t[:-1]))
            raise NeurofocusError(f"timestamps are not sorted: event {i + 1} at {int(t[i + 1])} µs comes after "
                                  f"{int(t[i])} µs")
        p = self._data["p"]
        if np.any((p != 1) & (p != -1)):
            raise NeurofocusError("polarity must be +1 or -1")
        w, h = self._sensor_size
        if int(self._data["x"].max()) >= w or int(self._data["y"].max()) >= h:
            raise NeurofocusError(
                f"coordinates outside the {w}x{h} sensor (max x {int(self._data['x'].max())}, "
                f"max y {int(self._data['y'].max())})")

    # construction ------------------------------------------------------------------------------------------------
    @classmethod
    def from_arrays(cls, t, x, y, p, sensor_size: tuple[int, int]) -> "Events":
        """Build events from separate arrays.

        Parameters
        ----------
        t : array_like of int
            Timestamps in µs, non-decreasing, >= 0.
        x, y : array_like of int
            Pixel coordinates, ``0 <= x < width``, ``0 <= y < height``.
        p : array_like
            Polarity as bool, {0, 1} or {-1, +1}; converted by :func:`polarity_to_signed`.
        sensor_size : (int, int)
            Sensor (width, height).
        """
        t, x, y = (np.asarray(a) for a in (t, x, y))
        n = len(t)
        if not (len(x) == len(y) == len(np.asarray(p)) == n):
            raise NeurofocusError(f"event arrays have different lengths ({n}, {len(x)}, {len(y)}, {len(p)})")
        for name, a in (("t", t), ("x", x), ("y", y)):
            if n and np.issubdtype(a.dtype, np.floating):
                if not np.all(np.isfinite(a)):
                    raise NeurofocusError(f"{name} contains NaN or infinite values")
                if not np.all(a == np.round(a)):
                    raise NeurofocusError(f"{name} must hold integers (t in µs), found fractional values")
                if np.abs(a).max() >= 2.0**63:
                    raise NeurofocusError(f"{name} holds values beyond the 64-bit range ({np.abs(a).max():.3g})")
            elif n and not np.issubdtype(a.dtype, np.integer):
                raise NeurofocusError(f"{name} must be numeric, got dtype {a.dtype}")
        if n and (x.min() < 0 or y.min() < 0):
            raise NeurofocusError("negative pixel coordinates")
        w, h = check_size(*sensor_size)
        if n and (x.max() >= w or y.max() >= h):
            raise NeurofocusError(
                f"coordinates outside the {w}x{h} sensor (max x {int(x.max())}, max y {int(y.max())})")
        data = np.empty(n, EVENT_DTYPE)
        data["t"] = t
        data["x"] = x
        data["y"] = y
        data["p"] = polarity_to_signed(p)
        return cls(data, (w, h))

    @classmethod
    def empty(cls, sensor_size: tuple[int, int]) -> "Events":
        """No events on a sensor of the given (width, height)."""
        return cls(np.empty(0, EVENT_DTYPE), sensor_size, validate=False)

    @classmethod
    def concatenate(cls, streams: Sequence["Events"]) -> "Events":
        """Join streams of the same sensor into one time-sorted stream.

        Streams that follow each other in time are appended; overlapping streams are merged by a stable sort on
        time (events with equal times keep the order of ``streams``).
        """
        streams = list(streams)
        if not streams:
            raise NeurofocusError("nothing to concatenate")
        size = streams[0].sensor_size
        if any(s.sensor_size != size for s in streams):
            raise NeurofocusError(f"cannot concatenate events of different sensor sizes: "
                                  f"{sorted({s.sensor_size for s in streams})}")
        data = concatenate_records([s._data for s in streams])
        ends = [(s.t[0], s.t[-1]) for s in streams if len(s)]
        in_order = all(prev[1] <= nxt[0] for prev, nxt in zip(ends, ends[1:]))
        if not in_order:
            data = data[np.argsort(data["t"], kind="stable")]
        return cls(data, size, validate=False)

    # access ------------------------------------------------------------------------------------------------------
    @property
    def data(self) -> np.ndarray:
        """Read-only structured array of :data:`EVENT_DTYPE`, shape (N,)."""
        return self._data

    @property
    def t(self) -> np.ndarray:
        """Timestamps, int64 µs, shape (N,), read-only."""
        return self._data["t"]

    @property
    def x(self) -> np.ndarray:
        """Column index, uint16, shape (N,), read-only."""
        return self._data["x"]

    @property
    def y(self) -> np.ndarray:
        """Row index (0 = top), uint16, shape (N,), read-only."""
        return self._data["y"]

    @property
    def p(self) -> np.ndarray:
        """Polarity, int8 ±1 (+1 = brighter), shape (N,), read-only."""
        return self._data["p"]

    @property
    def sensor_size(self) -> tuple[int, int]:
        """Sensor (width, height) in pixels."""
        return self._sensor_size

    @property
    def width(self) -> int:
        return self._sensor_size[0]

    @property
    def height(self) -> int:
        return self._sensor_size[1]

    def __len__(self) -> int:
        return len(self._data)

    def __getitem__(self, index: slice) -> "Events":
        """Events ``index`` (a slice of event indices, step >= 1); a view, no copy."""
        if not isinstance(index, slice):
            raise TypeError("Events can be indexed by a slice only; use .filter(mask) to select events")
        if index.step is not None and index.step < 1:
            raise NeurofocusError("an event slice must keep time order (step >= 1)")
        return Events(self._data[index], self._sensor_size, validate=False)

    def __repr__(self) -> str:
        w, h = self._sensor_size
        if not len(self):
            return f"Events(0 events, {w}x{h})"
        return f"Events({len(self)} events, {w}x{h}, t {int(self.t[0])}..{int(self.t[-1])} µs)"

    def __eq__(self, other) -> bool:
        return (isinstance(other, Events) and self._sensor_size == other._sensor_size
                and np.array_equal(self._data, other._data))

    __hash__ = None

    # time --------------------------------------------------------------------------------------------------------
    @property
    def time_range(self) -> tuple[int, int]:
        """(first, last) timestamp in µs; raises for an empty stream."""
        if not len(self):
            raise NeurofocusError("the event stream is empty")
        return int(self.t[0]), int(self.t[-1])

    @property
    def duration_us(self) -> int:
        """Last minus first timestamp in µs (0 when empty)."""
        return int(self.t[-1] - self.t[0]) if len(self) else 0

    def index_at(self, t_us, side: str = "left") -> np.ndarray | int:
        """Event index of time ``t_us`` (µs): the number of events before it (``side="left"``) or at/before it."""
        result = np.searchsorted(self.t, t_us, side=side)
        return int(result) if np.ndim(result) == 0 else result

    def slice_time(self, t_start_us: int | None = None, t_end_us: int | None = None) -> "Events":
        """Events with ``t_start_us <= t < t_end_us`` (µs; None = open end); a view, O(log N)."""
        i0 = 0 if t_start_us is None else self.index_at(t_start_us)
        i1 = len(self) if t_end_us is None else self.index_at(t_end_us)
        return self[i0:max(i0, i1)]

    def shift_time(self, offset_us: int) -> "Events":
        """Events with every time moved by ``offset_us`` µs (a copy); times must stay >= 0."""
        offset_us = int(offset_us)
        if len(self) and int(self.t[0]) + offset_us < 0:
            raise NeurofocusError(f"moving the times by {offset_us} µs makes them negative")
        data = self._data.copy()
        data["t"] += offset_us
        return Events(data, self._sensor_size, validate=False)

    # selection ---------------------------------------------------------------------------------------------------
    def filter(self, mask: np.ndarray) -> "Events":
        """Events where the boolean ``mask`` (shape (N,)) is True, order kept (a copy)."""
        mask = np.asarray(mask)
        if mask.dtype != np.bool_ or mask.shape != (len(self),):
            raise NeurofocusError(f"mask must be a boolean array of shape ({len(self)},)")
        return Events(self._data[mask], self._sensor_size, validate=False)

    def crop(self, x0: int, y0: int, width: int, height: int) -> "Events":
        """Events inside the rectangle, with coordinates relative to (x0, y0) and a (width, height) sensor."""
        w, h = check_size(width, height, "crop size")
        x0, y0 = int(x0), int(y0)
        if x0 < 0 or y0 < 0 or x0 + w > self.width or y0 + h > self.height:
            raise NeurofocusError(f"crop {w}x{h}+{x0}+{y0} does not fit the {self.width}x{self.height} sensor")
        x, y = self.x, self.y
        inside = (x >= x0) & (x < x0 + w) & (y >= y0) & (y < y0 + h)
        data = self._data[inside]  # fancy indexing copies
        data["x"] -= x0
        data["y"] -= y0
        return Events(data, (w, h), validate=False)

    # statistics --------------------------------------------------------------------------------------------------
    def polarity_stats(self) -> PolarityStats:
        """Number of ON and OFF events."""
        num_on = int(np.count_nonzero(self.p > 0))
        return PolarityStats(num_on, len(self) - num_on)

    @property
    def rate_hz(self) -> float:
        """Mean event rate in events per second (NaN when the duration is zero)."""
        d = self.duration_us
        return len(self) * 1e6 / d if d else float("nan")


class Spikes:
    """Binary spike frames of a synchronous-readout spike camera, held bit-packed.

    Parameters
    ----------
    packed : ndarray of uint8, shape (T, H, ceil(W / 8))
        Frames packed along the width axis with ``np.packbits(..., axis=2, bitorder="little")``.
    width : int
        W, the number of columns.
    tick_us : float or None
        Readout interval in µs (e.g. 50 for a 20 kHz camera). None when the source does not say; time-based
        methods then raise.
    start_us : float
        Time of tick 0 in µs.

    Use :meth:`from_frames` to build one from a (T, H, W) array.
    """

    __slots__ = ("_packed", "_width", "_tick_us", "_start_us")

    def __init__(self, packed: np.ndarray, width: int, tick_us: float | None, start_us: float = 0.0):
        packed = np.asarray(packed)
        if packed.dtype != np.uint8 or packed.ndim != 3:
            raise NeurofocusError("packed spikes must be a uint8 array of shape (T, H, ceil(W/8))")
        width = int(width)
        if width <= 0 or (width + 7) // 8 != packed.shape[2]:
            raise NeurofocusError(f"width {width} does not match {packed.shape[2]} packed bytes per row")
        check_size(width, max(packed.shape[1], 1), "spike frame size")
        if width % 8 and packed.size and np.any(packed[..., -1] >> (width % 8)):
            raise NeurofocusError("packed spikes have bits set beyond the frame width")
        if tick_us is not None and not (np.isfinite(tick_us) and tick_us > 0):
            raise NeurofocusError(f"tick length must be a positive number of µs, got {tick_us}")
        if not np.isfinite(start_us):
            raise NeurofocusError("start time must be finite")
        self._packed = _read_only(packed)
        self._width = width
        self._tick_us = None if tick_us is None else float(tick_us)
        self._start_us = float(start_us)

    @classmethod
    def from_frames(cls, frames: np.ndarray, tick_us: float | None, start_us: float = 0.0) -> "Spikes":
        """Pack binary frames (T, H, W) of bool or {0, 1} integers."""
        frames = np.asarray(frames)
        if frames.ndim != 3:
            raise NeurofocusError(f"spike frames must have shape (T, H, W), got {frames.shape}")
        if frames.dtype != np.bool_:
            if not np.issubdtype(frames.dtype, np.integer) and not np.issubdtype(frames.dtype, np.floating):
                raise NeurofocusError(f"spike frames must be boolean or 0/1 numbers, got dtype {frames.dtype}")
            if frames.size and (frames.min() < 0 or frames.max() > 1):
                raise NeurofocusError(f"spike frames must hold 0/1 values, found [{frames.min()}, {frames.max()}]")
            frames = frames.astype(bool)
        packed = np.packbits(frames, axis=2, bitorder="little")
        return cls(packed, frames.shape[2], tick_us, start_us)

    # access ------------------------------------------------------------------------------------------------------
    @property
    def packed(self) -> np.ndarray:
        """Read-only bit-packed frames, uint8 (T, H, ceil(W/8)), little bit order along W."""
        return self._packed

    @property
    def num_ticks(self) -> int:
        return self._packed.shape[0]

    @property
    def height(self) -> int:
        return self._packed.shape[1]

    @property
    def width(self) -> int:
        return self._width

    @property
    def shape(self) -> tuple[int, int, int]:
        """(T, H, W)."""
        return self.num_ticks, self.height, self._width

    @property
    def sensor_size(self) -> tuple[int, int]:
        """(width, height), as for events."""
        return self._width, self.height

    @property
    def tick_us(self) -> float | None:
        return self._tick_us

    @property
    def start_us(self) -> float:
        return self._start_us

    def __len__(self) -> int:
        return self.num_ticks

    def __repr__(self) -> str:
        tick = "tick unknown" if self._tick_us is None else f"tick {self._tick_us:g} µs"
        return f"Spikes({self.num_ticks} ticks, {self._width}x{self.height}, {tick}, start {self._start_us:g} µs)"

    def __eq__(self, other) -> bool:
        return (isinstance(other, Spikes) and self._width == other._width and self._tick_us == other._tick_us
                and self._start_us == other._start_us and np.array_equal(self._packed, other._packed))

    __hash__ = None

    def frames(self, start: int | None = None, stop: int | None = None) -> np.ndarray:
        """Unpacked frames of ticks ``start..stop-1``: bool array (T', H, W) (a new array)."""
        part = self._packed[start:stop]
        return np.unpackbits(part, axis=2, count=self._width, bitorder="little").view(bool)

    def count(self, start: int | None = None, stop: int | None = None, region=None) -> np.ndarray:
        """Spikes per pixel over ticks ``start..stop-1``: int32 (H, W), or (y1 - y0, x1 - x0) for
        ``region = (y0, y1, x0, x1)``. Reads the packed bits directly (no unpacking)."""
        start, stop, _ = slice(start, stop).indices(self.num_ticks)
        y0, y1, x0, x1 = (0, self.height, 0, self._width) if region is None else (int(v) for v in region)
        if not (0 <= y0 <= y1 <= self.height and 0 <= x0 <= x1 <= self._width):
            raise NeurofocusError(f"region {region} is outside the {self._width}x{self.height} frames")
        counts = np.zeros((y1 - y0, x1 - x0), np.int32)
        from .spike_bits import count_bits  # numba loads on first use, not with the data model

        count_bits(self._packed, start, max(start, stop), y0, y1, x0, x1, counts)
        return counts

    @property
    def num_spikes(self) -> int:
        """Total number of spikes."""
        return int(np.bitwise_count(self._packed).sum(dtype=np.int64))

    @property
    def firing_rate(self) -> float:
        """Mean spikes per pixel per tick, in [0, 1]."""
        n = self.num_ticks * self.height * self._width
        return self.num_spikes / n if n else float("nan")

    # time --------------------------------------------------------------------------------------------------------
    def _tick(self) -> float:
        if self._tick_us is None:
            raise NeurofocusError("the spike tick length is unknown: give it (--tick-us, or a sidecar JSON)")
        return self._tick_us

    def tick_times_us(self) -> np.ndarray:
        """Time of each tick in µs, float64 (T,)."""
        return self._start_us + self._tick() * np.arange(self.num_ticks)

    @property
    def duration_us(self) -> float:
        """T times the tick length, in µs."""
        return self.num_ticks * self._tick()

    def tick_at(self, t_us: float) -> int:
        """Index of the tick whose readout interval [start + k·tick, start + (k+1)·tick) holds ``t_us``."""
        return int(np.floor((t_us - self._start_us) / self._tick()))

    # selection ---------------------------------------------------------------------------------------------------
    def slice_ticks(self, start: int | None = None, stop: int | None = None) -> "Spikes":
        """Ticks ``start..stop-1`` (a view); the start time moves accordingly."""
        start, stop, _ = slice(start, stop).indices(self.num_ticks)
        stop = max(stop, start)
        start_us = self._start_us + (start * self._tick_us if self._tick_us is not None and start else 0.0)
        if self._tick_us is None and start:
            raise NeurofocusError("cannot move the start time: the spike tick length is unknown")
        return Spikes(self._packed[start:stop], self._width, self._tick_us, start_us)

    def slice_time(self, t_start_us: float | None = None, t_end_us: float | None = None) -> "Spikes":
        """Ticks whose time lies in [t_start_us, t_end_us) (µs; None = open end)."""
        times = self.tick_times_us()
        a = 0 if t_start_us is None else int(np.searchsorted(times, t_start_us, side="left"))
        b = self.num_ticks if t_end_us is None else int(np.searchsorted(times, t_end_us, side="left"))
        return self.slice_ticks(a, b)

    def crop(self, x0: int, y0: int, width: int, height: int) -> "Spikes":
        """Frames cut to the rectangle of (width, height) pixels at (x0, y0)."""
        w, h = check_size(width, height, "crop size")
        x0, y0 = int(x0), int(y0)
        if x0 < 0 or y0 < 0 or x0 + w > self._width or y0 + h > self.height:
            raise NeurofocusError(f"crop {w}x{h}+{x0}+{y0} does not fit the {self._width}x{self.height} frames")
        packed = np.empty((self.num_ticks, h, (w + 7) // 8), np.uint8)
        block = 256
        for a in range(0, self.num_ticks, block):
            sub = self.frames(a, a + block)[:, y0:y0 + h, x0:x0 + w]
            packed[a:a + block] = np.packbits(sub, axis=2, bitorder="little")
        return Spikes(packed, w, self._tick_us, self._start_us)

    @classmethod
    def concatenate(cls, parts: Sequence["Spikes"]) -> "Spikes":
        """Join consecutive recordings of the same size and tick length (the first one's start time is kept)."""
        parts = list(parts)
        if not parts:
            raise NeurofocusError("nothing to concatenate")
        first = parts[0]
        for s in parts[1:]:
            if s.shape[1:] != first.shape[1:] or s.tick_us != first.tick_us:
                raise NeurofocusError("cannot concatenate spikes of different frame sizes or tick lengths")
        return cls(np.concatenate([s.packed for s in parts]), first.width, first.tick_us, first.start_us)


def check_image(image, what: str = "image") -> np.ndarray:
    """Validate an RGB image and return it as float32 (H, W, 3) in [0, 1].

    Accepts float images in [0, 1] and uint8/uint16 images (scaled by their maximum value).
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise NeurofocusError(f"{what} must be RGB of shape (H, W, 3), got {image.shape}")
    if image.dtype == np.uint8 or image.dtype == np.uint16:
        return (image.astype(np.float32) / np.iinfo(image.dtype).max).astype(np.float32)
    if not np.issubdtype(image.dtype, np.floating):
        raise NeurofocusError(f"{what} must be float in [0, 1] or 8/16-bit integers, got dtype {image.dtype}")
    if not np.all(np.isfinite(image)):
        raise NeurofocusError(f"{what} contains NaN or infinite values")
    if image.size and (image.min() < 0 or image.max() > 1):
        raise NeurofocusError(f"{what} values must lie in [0, 1], found [{image.min():.3g}, {image.max():.3g}]")
    return image.astype(np.float32, copy=False)


@dataclasses.dataclass(frozen=True)
class GroundTruth:
    """What a synthetic sweep knows exactly.

    Attributes
    ----------
    all_in_focus : ndarray, float32 (H, W, 3)
        Pinhole (everywhere sharp) sRGB render in [0, 1].
    depth_m : ndarray, float32 (H, W), optional
        Scene depth per pixel in metres.
    infocus_time_us : ndarray, float64 (H, W), optional
        Time in the sweep (µs) at which each pixel is sharpest.
    """

    all_in_focus: np.ndarray
    depth_m: np.ndarray | None = None
    infocus_time_us: np.ndarray | None = None

    def __post_init__(self):
        aif = check_image(self.all_in_focus, "ground-truth all-in-focus image")
        object.__setattr__(self, "all_in_focus", aif)
        for name in ("depth_m", "infocus_time_us"):
            value = getattr(self, name)
            if value is not None:
                value = np.asarray(value)
                if value.shape != aif.shape[:2]:
                    raise NeurofocusError(f"ground-truth {name} has shape {value.shape}, image {aif.shape[:2]}")
                if not np.all(np.isfinite(value)):
                    raise NeurofocusError(f"ground-truth {name} contains NaN or infinite values")


@dataclasses.dataclass(frozen=True)
class FocalSweep:
    """One neuromorphic focal stack sample: an RGB image plus the events or spikes of the focus sweep.

    Attributes
    ----------
    image : ndarray, float32 (H, W, 3)
        The RGB camera's image, sRGB in [0, 1], on the same pixel grid as the neuromorphic sensor.
    image_time_us : int
        When the image was captured, in the time base of the events/spikes (µs).
    events, spikes : Events or Spikes, optional
        The sweep's neuromorphic signal; at least one is given.
    sweep_start_us, sweep_end_us : int, optional
        Start and end of the focus sweep (µs); default to the signal's extent.
    ground_truth : GroundTruth, optional
        Known answers for synthetic sweeps.
    """

    image: np.ndarray
    image_time_us: int
    events: Events | None = None
    spikes: Spikes | None = None
    sweep_start_us: int | None = None
    sweep_end_us: int | None = None
    ground_truth: GroundTruth | None = None

    def __post_init__(self):
        image = check_image(self.image)
        object.__setattr__(self, "image", image)
        h, w = image.shape[:2]
        if self.events is None and self.spikes is None:
            raise NeurofocusError("a focal sweep needs events or spikes")
        for name, signal in (("event sensor", self.events), ("spike sensor", self.spikes)):
            if signal is not None and signal.sensor_size != (w, h):
                sw, sh = signal.sensor_size
                raise NeurofocusError(
                    f"the image is {w}x{h} but the {name} is {sw}x{sh}: bring them onto one pixel grid first "
                    f"(calibrate the rig, or resize/crop the image)")
        if self.ground_truth is not None and self.ground_truth.all_in_focus.shape != image.shape:
            raise NeurofocusError("the ground truth does not have the image's size")
        start, end = self.time_extent_us
        if start > end:
            raise NeurofocusError(f"sweep start {start} µs is after its end {end} µs")
        object.__setattr__(self, "image_time_us", int(self.image_time_us))

    @property
    def time_extent_us(self) -> tuple[float, float]:
        """(start, end) of the sweep in µs: the given bounds, else the signal's extent."""
        starts, ends = [], []
        if self.events is not None and len(self.events):
            starts.append(self.events.t[0])
            ends.append(self.events.t[-1])
        if self.spikes is not None and self.spikes.tick_us is not None and self.spikes.num_ticks:
            starts.append(self.spikes.start_us)
            ends.append(self.spikes.start_us + self.spikes.duration_us)
        start = self.sweep_start_us if self.sweep_start_us is not None else (min(starts) if starts else 0)
        end = self.sweep_end_us if self.sweep_end_us is not None else (max(ends) if ends else start)
        return float(start), float(end)

    @property
    def sensor_size(self) -> tuple[int, int]:
        """(width, height) of the shared pixel grid."""
        return self.image.shape[1], self.image.shape[0]
