"""Plumbing shared by the streaming sensor simulators (DVS-Voltmeter, ideal events, spikes).

Each simulator consumes frames in chunks, keeps per-pixel state between calls, splits pixel rows over threads and
draws from one random stream per pixel, so its output depends only on the seed.
"""

from __future__ import annotations

import numbers
import os
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from ..config_dicts import positive_int
from ..errors import NeurofocusError
from ..types import EVENT_DTYPE, Events, check_size
from . import rng


class RowBlocks:
    """Pixel rows split into blocks, run by a pool of threads (numba kernels release the GIL).

    With several threads the rows are cut into 4 blocks per thread, so that threads stay busy when some rows fire
    far more than others. Results come back in block (row) order.
    """

    def __init__(self, height: int, workers: int):
        self.workers = workers
        self.blocks = row_blocks(height, 4 * workers if workers > 1 else 1)

    def map(self, function) -> list:
        """[function(block) for block in self.blocks], run on ``workers`` threads."""
        if self.workers == 1 or len(self.blocks) == 1:
            return [function(block) for block in self.blocks]
        with ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(function, self.blocks))


def check_setup(sensor_size, seed, workers) -> tuple[int, int, RowBlocks]:
    """Validate a simulator's sensor size, seed (an integer in [0, 2**63)) and thread count.

    Returns (width, height, the row blocks for the threads).
    """
    width, height = check_size(*sensor_size)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**63:
        raise NeurofocusError(f"seed must be an integer in [0, 2**63), got {seed!r}")
    if workers is not None:
        positive_int(workers, "workers", integral=True)
    return width, height, RowBlocks(height, int(workers or os.cpu_count() or 1))


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


@numba.njit(cache=True, nogil=True)
def _counting_sort_events(t_float, x, y, p, part_ends, frame_times, t_out, x_out, y_out, p_out):
    """Round times to µs and write the events ordered by (rounded time, frame interval), stably (input order breaks
    ties), into the output arrays (the fields of the result's records). Parts (listed interval by interval) end at
    ``part_ends``. Interval after interval, the interval's events (gathered from every part, in part order) are
    counting-sorted by rounded time: the histogram spans one interval's µs and stays in cache. O(N + µs)."""
    n_intervals = len(frame_times) - 1
    first = np.empty((len(part_ends), n_intervals + 1), np.int64)  # [part, k]: its first event of interval >= k
    t_round = np.empty(len(t_float), np.int64)
    start = 0
    for q in range(len(part_ends)):
        interval = 0
        first[q, 0] = start
        for i in range(start, part_ends[q]):
            t_round[i] = np.int64(np.rint(t_float[i]))
            while interval + 1 < n_intervals and t_float[i] >= frame_times[interval + 1]:
                interval += 1
                first[q, interval] = i
        first[q, interval + 1:] = part_ends[q]
        start = part_ends[q]
    n = 0
    for k in range(n_intervals):
        lo, hi = np.iinfo(np.int64).max, np.iinfo(np.int64).min
        for q in range(len(part_ends)):
            for i in range(first[q, k], first[q, k + 1]):
                lo, hi = min(lo, t_round[i]), max(hi, t_round[i])
        if hi < lo:
            continue
        position = np.zeros(hi - lo + 2, np.int64)
        for q in range(len(part_ends)):
            for i in range(first[q, k], first[q, k + 1]):
                position[t_round[i] - lo + 1] += 1
        position[0] = n
        for d in range(hi - lo + 1):
            position[d + 1] += position[d]
        n = position[hi - lo + 1]
        for q in range(len(part_ends)):
            for i in range(first[q, k], first[q, k + 1]):
                j = position[t_round[i] - lo]
                position[t_round[i] - lo] = j + 1
                t_out[j] = t_round[i]
                x_out[j] = x[i]
                y_out[j] = y[i]
                p_out[j] = p[i]


def sorted_events(parts, sensor_size, frame_times) -> Events:
    """Merge per-block (t float µs, x, y, p) arrays into Events with t rounded to µs.

    ``parts`` are the blocks of rows in row order; each lists its events interval by interval, pixel by pixel,
    a pixel's events in firing order. The result is ordered by rounded time, then frame interval (of
    ``frame_times``), then pixel (row-major), then firing order, so it depends neither on how the rows were split
    over threads nor on how the frames were split over calls.
    """
    t_float, x, y, p = (np.concatenate([part[i] for part in parts]) for i in range(4))
    data = np.empty(len(t_float), EVENT_DTYPE)
    if len(data):
        frame_times = np.asarray(frame_times, np.float64)
        if np.diff(frame_times).max() <= 1 << 26:
            part_ends = np.cumsum([len(part[0]) for part in parts])
            _counting_sort_events(t_float, x, y, p, part_ends, frame_times, data["t"], data["x"], data["y"], data["p"])
        else:  # frames more than a minute apart: sort by (time, interval, pixel) explicitly
            t_round = np.rint(t_float).astype(np.int64)
            interval = np.searchsorted(frame_times, t_float, side="right") - 1
            width, height = sensor_size
            order = np.lexsort((interval * (width * height) + y.astype(np.int64) * width + x, t_round))
            data["t"], data["x"], data["y"], data["p"] = t_round[order], x[order], y[order], p[order]
    return Events(data, sensor_size, validate=False)
