"""Plumbing shared by the streaming sensor simulators (DVS-Voltmeter, ideal events, spikes).

Each simulator consumes frames in chunks, keeps per-pixel state between calls, splits pixel rows over threads and
draws from one random stream per pixel, so its output depends only on the seed.
"""

from __future__ import annotations

import numba
import numpy as np

from ..errors import NeurofocusError
from ..types import EVENT_DTYPE, Events, concatenate_records
from . import rng


def check_frames(frames, times_us, width: int, height: int, last_time: float | None):
    """Validate a chunk of frames (N, H, W) and its times (µs, strictly increasing, after ``last_time``).

    Returns (frames as an array, times as float64).
    """
    frames = np.asarray(frames)
    times = np.asarray(times_us, np.float64).ravel()
    if frames.ndim != 3 or frames.shape[1:] != (height, width):
        raise NeurofocusError(f"frames must have shape (N, {height}, {width}), got {frames.shape}")
    if len(times) != len(frames):
        raise NeurofocusError(f"{len(frames)} frames but {len(times)} timestamps")
    if not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0) or (
            last_time is not None and len(times) and times[0] <= last_time):
        raise NeurofocusError("frame timestamps must be finite and strictly increasing")
    if frames.dtype.kind == "f" and not np.all(np.isfinite(frames)):
        raise NeurofocusError("frames contain NaN or infinite values")
    return frames, times


@numba.njit(cache=True)
def stream_states(seed, n):
    """Initial random-stream states (uint64) of pixels 0..n-1 (pixel index y·W + x)."""
    out = np.empty(n, np.uint64)
    for i in range(n):
        out[i] = rng.stream_state(seed, i)
    return out


def row_blocks(height: int, workers: int) -> list[tuple[int, int]]:
    """Split rows 0..height-1 into at most ``workers`` contiguous (start, stop) blocks."""
    edges = np.linspace(0, height, max(1, workers) + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def sorted_events(parts, sensor_size, frame_times) -> Events:
    """Merge per-block (t float µs, x, y, p) arrays into Events with t rounded to µs.

    Events are ordered by rounded time, then frame interval (of ``frame_times``), then pixel (row-major); a pixel's
    own events keep their firing order (each part lists them so). The order therefore depends neither on how the
    rows were split over threads nor on how the frames were split over calls.
    """
    chunks, interval = [], []
    for t, x, y, p in parts:
        rec = np.empty(len(t), EVENT_DTYPE)
        rec["t"], rec["x"], rec["y"], rec["p"] = np.rint(t), x, y, p
        chunks.append(rec)
        interval.append(np.searchsorted(frame_times, t, side="right") - 1)
    data = concatenate_records(chunks)
    width, height = sensor_size
    within = np.concatenate(interval) * (width * height) + data["y"].astype(np.int64) * width + data["x"]
    data = data[np.lexsort((within, data["t"]))]
    return Events(data, sensor_size, validate=False)
