"""Cumulative per-pixel polarity tables: how many events (ON, OFF, net) each pixel fired between two times.

The refocusing and merge-weight steps ask this question thousands of times for a pixel region and arbitrary times.
:class:`PolarityTable` answers it without touching the event stream: built once in O(N) (a counting sort of the
events by pixel, keeping time order within a pixel, plus a running count of ON events), each query costs one binary
search per pixel over that pixel's own events — O(pixels · log(events per pixel)), independent of the stream length
and of the width of the time window.
"""

from __future__ import annotations

import numpy as np

from .._kernels import check, lib, records
from ..errors import NeurofocusError
from ..types import Events


class _KernelArrays:
    """Arrays handed to the C kernels at every query (a subclass's ``_arrays()``): their addresses (``_addresses``) are
    taken once, and again when the object is unpickled or copied (a deep copy has arrays of its own)."""

    def _take_addresses(self) -> None:
        self._addresses = tuple(a.ctypes.data for a in self._arrays())

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_addresses"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._take_addresses()


class PolarityTable(_KernelArrays):
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
        self._take_addresses()
        check(lib.polarity_build(*records(events.data), self.width, self.height, *self._addresses),
              f"events outside the {self.width}x{self.height} sensor", "the polarity table's counting sort")
        self.num_events = len(events)

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self._offsets, self._times, self._on_prefix

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
            lib.polarity_query(*self._addresses, self.width, y0, x0, step, *on.shape, int(t_start_us), int(t_end_us),
                               on.ctypes.data, total.ctypes.data)
        else:
            on[:] = 0
            total[:] = 0
        return on, total - on

    def split_counts(self, t_us: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """ON and OFF counts of every pixel before ``t_us`` and at or after it (one search per pixel).

        Returns four int32 (H, W) maps: on_before, off_before, on_after, off_after.
        """
        maps = [np.empty(self.width * self.height, np.int32) for _ in range(4)]
        lib.polarity_split_counts(*self._addresses, self.width * self.height, int(t_us), *(m.ctypes.data for m in maps))
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


class AnchoredPolarity(_KernelArrays):
    """Net event counts from a fixed time (e.g. an image's capture time) to any other time.

    Equivalent to ``table.net(t_from_us, t_to_us, region)``, with half the searches: each pixel's position at
    ``t_from_us`` is found once.
    """

    def __init__(self, table: PolarityTable, t_from_us: int):
        self.table = table
        self.t_from_us = t_from_us
        num_pixels = table.width * table.height
        self._anchor = np.empty(num_pixels, np.int64)
        lib.polarity_positions(*table._addresses[:2], num_pixels, t_from_us, self._anchor.ctypes.data)
        self._take_addresses()

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return (*self.table._arrays(), self._anchor)

    def net(self, t_to_us: int, region=None) -> np.ndarray:
        """Signed event sum per pixel from the anchor time to ``t_to_us`` (int32), over ``region`` if given."""
        y0, y1, x0, x1, step = self.table._region(region)
        out = np.empty(self.table._shape(y0, y1, x0, x1, step), np.int32)
        t = int(t_to_us)
        lib.polarity_net_from(*self._addresses, self.table.width, y0, x0, step, *out.shape, t, t >= self.t_from_us,
                              out.ctypes.data)
        return out
