"""Intensity images from spikes: TFP (texture from playback) and TFI (texture from inter-spike intervals).

A spike pixel integrates light and fires each time the integral reaches its threshold, so its firing rate in spikes
per tick is proportional to intensity (saturating at 1). Both estimators return that rate; multiply by the
threshold-to-intensity scale of the sensor (or fit it to an image) to get intensities.
"""

from __future__ import annotations

import numpy as np

from ..errors import NeurofocusError
from ..types import Spikes


def _check_tick(spikes: Spikes, tick: int) -> int:
    tick = int(tick)
    if not 0 <= tick < spikes.num_ticks:
        raise NeurofocusError(f"tick {tick} is outside the recording (0..{spikes.num_ticks - 1})")
    return tick


def tfp(spikes: Spikes, center_tick: int, half_window: int) -> np.ndarray:
    """Texture from playback: the mean of the spike frames in the 2h+1 ticks centred on ``center_tick``.

    The window is clipped to the recording (and then holds fewer ticks).

    Returns
    -------
    ndarray of float32, (H, W)
        Spikes per tick in [0, 1].
    """
    center = _check_tick(spikes, center_tick)
    if int(half_window) < 0:
        raise NeurofocusError(f"half_window must be >= 0, got {half_window}")
    a = max(0, center - int(half_window))
    b = min(spikes.num_ticks, center + int(half_window) + 1)
    return (spikes.count(a, b) / np.float32(b - a)).astype(np.float32)


def tfi(spikes: Spikes, tick: int, max_interval: int = 512) -> np.ndarray:
    """Texture from inter-spike intervals: 1 / (ticks between the last spike at or before ``tick`` and the first
    spike after it).

    Parameters
    ----------
    max_interval : int
        How far (ticks) to look on each side; a pixel without a spike within reach on either side gets 0.

    Returns
    -------
    ndarray of float32, (H, W)
        Spikes per tick in [0, 1].
    """
    tick = _check_tick(spikes, tick)
    a = max(0, tick - int(max_interval) + 1)
    b = min(spikes.num_ticks, tick + int(max_interval) + 1)
    frames = spikes.frames(a, b)
    past = frames[: tick - a + 1][::-1]  # index 0 = the tick itself
    future = frames[tick - a + 1:]
    has_past = past.any(axis=0)
    has_future = future.any(axis=0) if len(future) else np.zeros(has_past.shape, bool)
    since = past.argmax(axis=0)
    until = future.argmax(axis=0) + 1 if len(future) else np.zeros(has_past.shape, np.int64)
    interval = (since + until).astype(np.float32)
    return np.where(has_past & has_future, 1.0 / np.maximum(interval, 1), 0.0).astype(np.float32)
