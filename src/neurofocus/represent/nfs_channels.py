"""The neuromorphic focal stack as network input channels: direction-aware event bins between two times, spike-rate
bins around a time, and per-slice event / spike channels around slice times.

The settings objects of :mod:`neurofocus.models.inputs` (``EventBinning``, ``SpikeBinning``, ``EventSlicing``,
``SpikeSlicing``) hold the parameters a trained network was made with and call these kernels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..config_dicts import positive_float as _positive_float, positive_int as _positive_int
from ..errors import NeurofocusError
from ..types import Events, Spikes
from .event_frames import event_frames
from .polarity_table import PolarityTable
from .spike_images import tfp

#: Default event count scale: a typical DVS contrast threshold, so that a bin (and the sum of the bins) is roughly
#: a change of log intensity and values stay O(1).
DEFAULT_COUNT_SCALE = 0.2


def event_bins(events: Events, image_time_us: int, target_time_us: int, num_bins: int = 64, *,
               count_scale: float = DEFAULT_COUNT_SCALE, binning: str = "time") -> np.ndarray:
    """Direction-aware signed event bins from the image time to the target time.

    Parameters
    ----------
    events : Events
        The sweep's events.
    image_time_us, target_time_us : int
        Times in µs. Forwards (target >= image) the window is [image, target); backwards it is [target, image).
    num_bins : int
        B.
    count_scale : float
        Factor applied to the signed counts.
    binning : {"time", "count"}
        Equal durations, or equal event counts (remainder spread over the bins, none dropped).

    Returns
    -------
    ndarray of float32, (B, H, W)
        Bin 0 is next to the image time. Forwards: bin k holds count_scale · Σp of the k-th sub-window after the
        image time. Backwards: the bins of [target, image) in reverse order, negated. The sum over the bins equals
        ``count_scale * PolarityTable(events).net(image_time_us, target_time_us)``.

    Examples
    --------
    >>> ev = Events.from_arrays([10, 20, 30, 40], [0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 0, 1], (1, 1))
    >>> event_bins(ev, 0, 40, 2, count_scale=1.0)[:, 0, 0].tolist()  # [0, 20) and [20, 40)
    [1.0, 0.0]
    >>> event_bins(ev, 40, 0, 2, count_scale=1.0)[:, 0, 0].tolist()  # going back: [20, 40) first, negated
    [0.0, -1.0]
    """
    num_bins = _positive_int(num_bins, "num_bins")
    scale = np.float32(_positive_float(count_scale, "count_scale"))
    t_img, t_tgt = int(image_time_us), int(target_time_us)
    lo, hi = min(t_img, t_tgt), max(t_img, t_tgt)
    if lo == hi:
        return np.zeros((num_bins, events.height, events.width), np.float32)
    window = events.slice_time(lo, hi)
    frames = event_frames(window, num_bins, binning=binning, t_start_us=lo, t_end_us=hi)
    if t_tgt < t_img:
        frames = -frames[::-1]  # int32: no negative zeros
    return frames.astype(np.float32) * scale


def spike_bins(spikes: Spikes, target_time_us: float, num_bins: int = 64, ticks_per_bin: int = 4) -> np.ndarray:
    """Consecutive TFP frames centred on the target time.

    Frame k averages the ticks [c − B·w/2 + k·w, c − B·w/2 + (k+1)·w), c = the target's tick, clipped to the
    recording; a frame entirely outside the recording repeats the nearest one inside.

    Returns
    -------
    ndarray of float32, (B, H, W)
        Spikes per tick in [0, 1].
    """
    num_bins = _positive_int(num_bins, "num_bins")
    w = _positive_int(ticks_per_bin, "ticks_per_bin")
    n = spikes.num_ticks
    if n == 0:
        raise NeurofocusError("the spike recording is empty")
    center = int(np.clip(spikes.tick_at(target_time_us), 0, n - 1))
    start = center - num_bins * w // 2
    out = np.empty((num_bins, spikes.height, spikes.width), np.float32)
    for k in range(num_bins):
        a, b = start + k * w, start + (k + 1) * w
        if b <= 0:
            a, b = 0, min(w, n)
        elif a >= n:
            a, b = max(0, n - w), n
        a, b = max(a, 0), min(b, n)
        out[k] = spikes.count(a, b) / np.float32(b - a)
    return out


def event_slices(events: Events, times_us: Sequence[int], half_window_us: int, *,
                 count_scale: float = DEFAULT_COUNT_SCALE, mode: str = "flip",
                 table: PolarityTable | None = None) -> np.ndarray:
    """One event channel per slice time t_k from the window [t_k − h, t_k + h).

    Parameters
    ----------
    times_us : sequence of int
        Slice times in µs (K of them).
    half_window_us : int
        h in µs.
    mode : {"flip", "signed"}
        ``"flip"``: Σp over [t_k, t_k + h) minus Σp over [t_k − h, t_k); ``"signed"``: Σp over [t_k − h, t_k + h).
    table : PolarityTable, optional
        A table of ``events`` built beforehand (saves the O(N) build when called repeatedly).

    Returns
    -------
    ndarray of float32, (K, H, W)
        Counts times ``count_scale``.
    """
    if mode not in ("flip", "signed"):
        raise NeurofocusError(f"mode must be 'flip' or 'signed', got {mode!r}")
    h = _positive_int(half_window_us, "half_window_us")
    scale = np.float32(_positive_float(count_scale, "count_scale"))
    table = PolarityTable(events) if table is None else table
    times = [int(t) for t in times_us]
    out = np.empty((len(times), events.height, events.width), np.float32)
    for k, t in enumerate(times):
        before = table.net(t - h, t)
        after = table.net(t, t + h)
        out[k] = (after - before) if mode == "flip" else (after + before)
    return out * scale


def spike_slices(spikes: Spikes, times_us: Sequence[float], half_window_ticks: int) -> np.ndarray:
    """TFP firing rate (2h + 1 ticks, clipped to the recording) around each slice time: float32 (K, H, W) in [0, 1]."""
    h = _positive_int(half_window_ticks, "half_window_ticks")
    if spikes.num_ticks == 0:
        raise NeurofocusError("the spike recording is empty")
    out = np.empty((len(times_us), spikes.height, spikes.width), np.float32)
    for k, t in enumerate(times_us):
        out[k] = tfp(spikes, int(np.clip(spikes.tick_at(t), 0, spikes.num_ticks - 1)), h)
    return out


def event_bins_region(table: PolarityTable, image_time_us: int, target_time_us: int, num_bins: int,
                      region: tuple[int, int, int, int], *, count_scale: float = DEFAULT_COUNT_SCALE) -> np.ndarray:
    """:func:`event_bins` (time binning) of the events from the image time to the target time, on ``region`` =
    (y0, y1, x0, x1) only, from a table of the events: the cost of the region, not of the sensor.

    Equal to ``event_bins(events, image_time_us, target_time_us, num_bins, ...)[:, y0:y1, x0:x1]`` bit for bit: bin b of
    [lo, hi) holds the events with lo + ⌈b·(hi − lo)/B⌉ <= t < lo + ⌈(b + 1)·(hi − lo)/B⌉, the boundaries of
    :func:`neurofocus.represent.event_frames`, here counted with the table's per-pixel binary searches.

    Returns float32 (B, y1 − y0, x1 − x0).
    """
    y0, y1, x0, x1 = region
    t_img, t_tgt = int(image_time_us), int(target_time_us)
    lo, hi = min(t_img, t_tgt), max(t_img, t_tgt)
    b = _positive_int(num_bins, "num_bins")
    if lo == hi:
        return np.zeros((b, y1 - y0, x1 - x0), np.float32)
    span = hi - lo
    anchored = table.anchored(lo)
    cumulative = np.stack([anchored.net(lo - ((-k * span) // b), region) for k in range(b + 1)])
    frames = np.diff(cumulative, axis=0)
    if t_tgt < t_img:
        frames = -frames[::-1]
    return frames.astype(np.float32) * np.float32(_positive_float(count_scale, "count_scale"))
