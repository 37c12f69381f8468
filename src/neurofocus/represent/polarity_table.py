"""Cumulative per-pixel polarity tables: how many events (ON, OFF, net) each pixel fired between two times.

The refocusing and merge-weight steps ask this question thousands of times for a pixel region and arbitrary times.
:class:`PolarityTable` answers it without touching the event stream: built once in O(N) (a counting sort of the
events by pixel, keeping time order within a pixel, plus a running count of ON events), each query costs one binary
search per pixel over that pixel's own events — O(pixels · log(events per pixel)), independent of the stream length
and of the width of the time window.
"""

from __future__ import annotations

import numba
import numpy as np

from ..errors import NeurofocusError
from ..types import Events


@numba.njit(cache=True, nogil=True)
def _build(t, x, y, p, width, num_pixels, offsets, times, on_prefix):
    counts = np.zeros(num_pixels + 1, np.int64)
    for k in range(len(t)):
        counts[np.int64(y[k]) * width + x[k] + 1] += 1
    for i in range(num_pixels):
        counts[i + 1] += counts[i]
    offsets[:] = counts
    cursor = counts[:-1].copy()
    is_on = np.zeros(len(t), np.int8)
    for k in range(len(t)):
        pix = np.int64(y[k]) * width + x[k]
        j = cursor[pix]
        times[j] = t[k]
        is_on[j] = 1 if p[k] > 0 else 0
        cursor[pix] = j + 1
    on_prefix[0] = 0
    for j in range(len(t)):
        on_prefix[j + 1] = on_prefix[j] + is_on[j]


@numba.njit(cache=True, nogil=True, inline="always")
def _before(times, lo, hi, tau):
    """Number of entries of the sorted slice times[lo:hi] strictly below tau."""
    a, b = lo, hi
    while a < b:
        m = (a + b) >> 1
        if times[m] < tau:
            a = m + 1
        else:
            b = m
    return a


@numba.njit(cache=True, nogil=True)
def _query(offsets, times, on_prefix, width, y0, y1, x0, x1, step, t_a, t_b, on_out, total_out):
    for i, yy in enumerate(range(y0, y1, step)):
        for j, xx in enumerate(range(x0, x1, step)):
            pix = yy * width + xx
            lo, hi = offsets[pix], offsets[pix + 1]
            ia = _before(times, lo, hi, t_a)
            ib = _before(times, ia, hi, t_b)
            on_out[i, j] = on_prefix[ib] - on_prefix[ia]
            total_out[i, j] = ib - ia


@numba.njit(cache=True, nogil=True)
def _positions(offsets, times, t):
    """Per pixel: the index in ``times`` of its first event at or after ``t``."""
    out = np.empty(len(offsets) - 1, np.int64)
    for pix in range(len(offsets) - 1):
        out[pix] = _before(times, offsets[pix], offsets[pix + 1], t)
    return out


@numba.njit(cache=True, nogil=True)
def _net_from(offsets, times, on_prefix, anchor, width, y0, y1, x0, x1, step, t, forward, out):
    """Signed count from each pixel's anchor position (its first event at or after the anchor time) to ``t``:
    events in [anchor time, t) counted positively when ``forward``, else events in [t, anchor time) negatively."""
    for i, yy in enumerate(range(y0, y1, step)):
        for j, xx in enumerate(range(x0, x1, step)):
            pix = yy * width + xx
            a = anchor[pix]
            if forward:
                lo, hi = a, _before(times, a, offsets[pix + 1], t)
            else:
                lo, hi = _before(times, offsets[pix], a, t), a
            net = 2 * (on_prefix[hi] - on_prefix[lo]) - (hi - lo)
            out[i, j] = net if forward else -net


@numba.njit(cache=True, nogil=True)
def _split_counts(offsets, times, on_prefix, t, on_before, off_before, on_after, off_after):
    for pix in range(len(offsets) - 1):
        lo, hi = offsets[pix], offsets[pix + 1]
        m = _before(times, lo, hi, t)
        on_b = on_prefix[m] - on_prefix[lo]
        on_a = on_prefix[hi] - on_prefix[m]
        on_before[pix] = on_b
        off_before[pix] = (m - lo) - on_b
        on_after[pix] = on_a
        off_after[pix] = (hi - m) - on_a


class PolarityTable:
    """Per-pixel cumulative event counts for fast window queries.

    Parameters
    ----------
    events : Events
        The stream to index (kept only through the table: 12 bytes per event).

    Examples
    --------
    >>> ev = Events.from_arrays([10, 20, 30, 40], [0, 0, 0, 1], [0, 0, 0, 0], [1, 1, 0, 1], (2, 1))
    >>> table = PolarityTable(ev)
    >>> table.net(0, 35).tolist(), table.net(35, 0).tolist()  # backwards in time flips the sign
    ([[1, 0]], [[-1, 0]])
    """

    def __init__(self, events: Events):
        if len(events) >= 2**31:
            raise NeurofocusError("more than 2**31 events: split the stream first")
        self.width, self.height = events.sensor_size
        num_pixels = self.width * self.height
        self._offsets = np.empty(num_pixels + 1, np.int64)
        self._times = np.empty(len(events), np.int64)
        self._on_prefix = np.empty(len(events) + 1, np.int32)
        _build(events.t, events.x, events.y, events.p, self.width, num_pixels, self._offsets, self._times,
               self._on_prefix)
        self.num_events = len(events)

    @property
    def events_per_pixel(self) -> np.ndarray:
        """Total events per pixel, int64 (H, W)."""
        return np.diff(self._offsets).reshape(self.height, self.width)

    def _region(self, region):
        """(y0, y1, x0, x1, step) from None, (y0, y1, x0, x1) or (y0, y1, x0, x1, step)."""
        if region is None:
            return 0, self.height, 0, self.width, 1
        y0, y1, x0, x1, *rest = (int(v) for v in region)
        step = rest[0] if rest else 1
        if not (0 <= y0 < y1 <= self.height and 0 <= x0 < x1 <= self.width) or step < 1:
            raise NeurofocusError(f"region {region} is outside the {self.width}x{self.height} sensor")
        return y0, y1, x0, x1, step

    @staticmethod
    def _shape(y0, y1, x0, x1, step):
        return (y1 - y0 + step - 1) // step, (x1 - x0 + step - 1) // step

    def counts(self, t_start_us: int, t_end_us: int, region=None) -> tuple[np.ndarray, np.ndarray]:
        """ON and OFF counts per pixel for events with ``t_start_us <= t < t_end_us``.

        Parameters
        ----------
        region : (y0, y1, x0, x1) or (y0, y1, x0, x1, step), optional
            Rows y0..y1-1 and columns x0..x1-1 only, every ``step``-th (default: the whole sensor).

        Returns
        -------
        on, off : ndarray of int32, (y1 - y0, x1 - x0) (divided by ``step``, rounded up)
        """
        y0, y1, x0, x1, step = self._region(region)
        on = np.empty(self._shape(y0, y1, x0, x1, step), np.int32)
        total = np.empty_like(on)
        if t_end_us > t_start_us:
            _query(self._offsets, self._times, self._on_prefix, self.width, y0, y1, x0, x1, step, int(t_start_us),
                   int(t_end_us), on, total)
        else:
            on[:] = 0
            total[:] = 0
        return on, total - on

    def split_counts(self, t_us: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """ON and OFF counts of every pixel before ``t_us`` and at or after it (one search per pixel).

        Returns four int32 (H, W) maps: on_before, off_before, on_after, off_after.
        """
        maps = [np.empty(self.width * self.height, np.int32) for _ in range(4)]
        _split_counts(self._offsets, self._times, self._on_prefix, int(t_us), *maps)
        return tuple(m.reshape(self.height, self.width) for m in maps)

    def anchored(self, t_from_us: int) -> "AnchoredPolarity":
        """Net counts from the fixed time ``t_from_us`` to any time, with one search per pixel per query."""
        return AnchoredPolarity(self, int(t_from_us))

    def net(self, t_from_us: int, t_to_us: int, region=None) -> np.ndarray:
        """Signed event sum Σp per pixel from ``t_from_us`` to ``t_to_us`` (int32).

        Forwards (``t_to_us >= t_from_us``) it is the sum over events in [t_from, t_to); backwards it is minus the
        sum over [t_to, t_from), so ``net(a, b) + net(b, c) == net(a, c)`` for any times.
        """
        lo, hi = sorted((int(t_from_us), int(t_to_us)))
        on, off = self.counts(lo, hi, region)
        net = on - off
        return net if t_to_us >= t_from_us else -net


class AnchoredPolarity:
    """Net event counts from a fixed time (e.g. an image's capture time) to any other time.

    Equivalent to ``table.net(t_from_us, t_to_us, region)``, with half the searches: each pixel's position at
    ``t_from_us`` is found once.
    """

    def __init__(self, table: PolarityTable, t_from_us: int):
        self.table = table
        self.t_from_us = t_from_us
        self._anchor = _positions(table._offsets, table._times, t_from_us)

    def net(self, t_to_us: int, region=None) -> np.ndarray:
        """Signed event sum per pixel from the anchor time to ``t_to_us`` (int32), over ``region`` if given."""
        y0, y1, x0, x1, step = self.table._region(region)
        out = np.empty(self.table._shape(y0, y1, x0, x1, step), np.int32)
        t = int(t_to_us)
        _net_from(self.table._offsets, self.table._times, self.table._on_prefix, self._anchor, self.table.width,
                  y0, y1, x0, x1, step, t, t >= self.t_from_us, out)
        return out
