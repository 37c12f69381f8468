"""Event count frames: events accumulated per pixel into B bins, by time or by event count.

Time bins split [t_start, t_end) into B equal durations. Count bins split the N events into B consecutive groups whose
sizes differ by at most one (event i goes to bin floor(i·B/N)), so no event is dropped when N is not a multiple of B
(the official EFS code drops the remainder).
"""

from __future__ import annotations

import numpy as np

from .._kernels import lib, records
from ..errors import NeurofocusError
from ..types import Events


def event_frames(events: Events, num_bins: int, *, binning: str = "time", t_start_us: int | None = None,
                 t_end_us: int | None = None, polarity: str = "signed") -> np.ndarray:
    """Accumulate events into count frames.

    Parameters
    ----------
    events : Events
        The stream.
    num_bins : int
        B, the number of frames.
    binning : {"time", "count"}
        Equal durations over [t_start_us, t_end_us), or equal event counts (remainder spread, none dropped).
    t_start_us, t_end_us : int, optional
        Window in µs (events outside it are ignored); default: the first event to just after the last.
    polarity : {"signed", "split"}
        ``"signed"``: net count Σp per pixel; ``"split"``: ON and OFF counts separately.

    Returns
    -------
    ndarray of int32
        (B, H, W) for ``"signed"``, (B, 2, H, W) with channel 0 = ON, 1 = OFF for ``"split"``.

    Examples
    --------
    >>> ev = Events.from_arrays([0, 1, 2, 3, 4], [0, 0, 1, 1, 1], [0] * 5, [1, 1, 0, 1, 1], (2, 1))
    >>> event_frames(ev, 2, binning="count")[:, 0].tolist()  # bins of 3 and 2 events
    [[2, -1], [0, 2]]
    """
    if int(num_bins) < 1:
        raise NeurofocusError(f"num_bins must be >= 1, got {num_bins}")
    if binning not in ("time", "count"):
        raise NeurofocusError(f"binning must be 'time' or 'count', got {binning!r}")
    if polarity not in ("signed", "split"):
        raise NeurofocusError(f"polarity must be 'signed' or 'split', got {polarity!r}")
    num_bins = int(num_bins)
    if len(events):
        t_start = int(events.t[0]) if t_start_us is None else int(t_start_us)
        t_end = int(events.t[-1]) + 1 if t_end_us is None else int(t_end_us)
        if t_end <= t_start:
            raise NeurofocusError(f"empty time window [{t_start}, {t_end}) µs")
        events = events.slice_time(t_start, t_end)
    else:
        t_start, t_end = 0, 1
    split = polarity == "split"
    out = np.zeros((num_bins, 2 if split else 1, events.height, events.width), np.int32)
    if len(events) and lib.accumulate_frames(*records(events.data), t_start, t_end, num_bins, binning == "count", split,
                                             events.width, events.height, out.ctypes.data):
        raise NeurofocusError(f"events outside the {events.width}x{events.height} sensor")
    return out if split else out[:, 0]
