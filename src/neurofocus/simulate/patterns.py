"""Analytic event streams with exactly known content, for demos, tests and benchmarks.

:func:`moving_bars_events` is what an ideal event camera (log-intensity threshold C, no noise) records of bright
slanted bars sliding right over a dark background: when a bar's front edge passes a pixel its log intensity rises by
ln(contrast), which crosses ``floor(ln(contrast) / C)`` thresholds, so the pixel fires that many ON events; the back
edge gives as many OFF events. The edges are given a short rise time, so a pixel's events are spread over it.
"""

from __future__ import annotations

import numpy as np

from ..errors import NeurofocusError
from ..types import EVENT_DTYPE, Events, concatenate_records


def moving_bars_events(sensor_size: tuple[int, int] = (346, 260), duration_us: int = 1_000_000, *,
                       num_bars: int = 4, bar_width_px: float = 30.0, speed_px_per_s: float = 346.0,
                       slope: float = 0.3, contrast: float = 3.0, threshold: float = 0.25,
                       edge_rise_us: float = 2000.0, seed: int = 0) -> Events:
    """Events of ``num_bars`` bright bars moving right (wrapping around the sensor width).

    Parameters
    ----------
    sensor_size : (int, int)
        (width, height).
    duration_us : int
        Length of the recording (µs).
    num_bars, bar_width_px, speed_px_per_s, slope
        Bars at random phases, ``bar_width_px`` wide, moving at ``speed_px_per_s``; their edges lean by ``slope``
        pixels per row.
    contrast, threshold
        Bar/background intensity ratio and contrast threshold C: each edge crossing fires
        ``floor(ln(contrast) / threshold)`` events.
    edge_rise_us : float
        The events of one crossing are spread uniformly (seeded) over this time.
    seed : int
        Seed of the bar phases and event timing.

    Returns
    -------
    Events
        Time-sorted; ``floor(ln(contrast) / threshold)`` events per edge crossing (events that would fall after
        ``duration_us`` are cut).
    """
    width, height = (int(v) for v in sensor_size)
    per_edge = int(np.floor(np.log(contrast) / threshold))
    if per_edge < 1:
        raise NeurofocusError("contrast too low for the threshold: no events")
    if speed_px_per_s <= 0 or bar_width_px <= 0 or bar_width_px >= width:
        raise NeurofocusError("need a positive speed and a bar narrower than the sensor")
    rng = np.random.default_rng(seed)
    phases = rng.uniform(0, width, num_bars)
    speed = speed_px_per_s / 1e6  # px per µs
    yy, xx = np.mgrid[0:height, 0:width]
    xx, yy = xx.ravel().astype(np.float64), yy.ravel().astype(np.float64)
    chunks = []
    crossings = int(np.ceil(duration_us * speed / width)) + 1
    for phase in phases:
        for offset, polarity in ((bar_width_px, 1), (0.0, -1)):  # front edge: brighter; back edge: darker
            first = np.mod(xx - phase - offset - slope * yy, width) / speed  # µs until the edge reaches the pixel
            for k in range(crossings):
                t_cross = first + k * width / speed
                keep = t_cross < duration_us
                if not keep.any():
                    continue
                n = int(keep.sum())
                t = (t_cross[keep, None] + rng.uniform(0, edge_rise_us, (n, per_edge))).ravel()
                part = np.empty(n * per_edge, EVENT_DTYPE)
                part["t"] = t.astype(np.int64)
                part["x"] = np.repeat(xx[keep], per_edge)
                part["y"] = np.repeat(yy[keep], per_edge)
                part["p"] = polarity
                chunks.append(part)
    data = concatenate_records(chunks)
    data = data[np.argsort(data["t"], kind="stable")]
    data = data[data["t"] < duration_us]
    return Events(data, (width, height), validate=False)
