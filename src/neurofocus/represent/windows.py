"""Windows of an event stream: consecutive slices by event count or by duration, the frames of a reconstruction."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..config_dicts import positive_int
from ..errors import NeurofocusError
from ..types import Events


def event_windows(events: Events, window_events: int | None = None,
                  window_us: int | None = None) -> Iterator[tuple[int, int, int]]:
    """Consecutive windows of an event stream, covering every event exactly once.

    Give exactly one of ``window_events`` (events per window; the last window holds the remainder) or
    ``window_us`` (duration in µs: windows [t₀ + kΔ, t₀ + (k+1)Δ) from the first event's time t₀ up to the window
    holding the last event; windows without events are yielded too).

    Yields
    ------
    (start, stop, t_us) : (int, int, int)
        Event indices [start, stop) and the window's time in µs: the timestamp of its last event (by count) or its
        end t₀ + (k+1)Δ (by duration).
    """
    if (window_events is None) == (window_us is None):
        raise NeurofocusError("give exactly one of window_events (events per window) and window_us (µs per window)")
    n = len(events)
    if window_events is not None:
        size = positive_int(window_events, "window_events", integral=True)
        for start in range(0, n, size):
            stop = min(start + size, n)
            yield start, stop, int(events.t[stop - 1])
        return
    step = positive_int(window_us, "window_us", integral=True)
    if n == 0:
        return
    t0, t1 = events.time_range
    count = (t1 - t0) // step + 1
    ends = t0 + step * np.arange(1, count + 1, dtype=np.int64)
    stops = events.index_at(ends)
    start = 0
    for end, stop in zip(ends.tolist(), stops.tolist()):
        yield start, int(stop), int(end)
        start = int(stop)


