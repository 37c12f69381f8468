"""Plumbing shared by the streaming sensor simulators (DVS-Voltmeter, ideal events, spikes).

Each simulator consumes frames in chunks, keeps per-pixel state between calls, splits pixel rows over threads and
draws from one random stream per pixel, so its output depends only on the seed.
"""

from __future__ import annotations

import numbers
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._kernels import address, check, lib, records
from ..config_dicts import positive_int
from ..errors import NeurofocusError
from ..types import EVENT_DTYPE, Events, check_size


class RowBlocks:
    """Pixel rows split into blocks, run by a pool of threads (the kernels release the GIL).

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


def stream_states(seed: int, n: int) -> np.ndarray:
    """Initial random-stream states, uint64 (n,), of pixels 0..n-1 (pixel index y·W + x) under ``seed``: those of
    :func:`.rng.stream_state` (the C kernels' ``rng.h`` draws the same streams)."""
    out = np.empty(n, np.uint64)
    lib.stream_states(seed, n, address(out, np.uint64, writable=True))
    return out


def row_blocks(height: int, workers: int) -> list[tuple[int, int]]:
    """Split rows 0..height-1 into at most ``workers`` contiguous (start, stop) blocks."""
    edges = np.linspace(0, height, max(1, workers) + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


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
        frame_times = np.ascontiguousarray(frame_times, np.float64)
        if np.diff(frame_times).max() <= 1 << 26:
            # interval after interval, a counting sort by rounded time (C: sort_events in streaming.c)
            part_ends = np.cumsum([len(part[0]) for part in parts], dtype=np.int64)
            check(lib.sort_events(address(t_float, np.float64), address(x, np.uint16), address(y, np.uint16),
                                  address(p, np.int8), len(t_float), address(part_ends, np.int64), len(part_ends),
                                  address(frame_times, np.float64), len(frame_times), *records(data)[:2]),
                  "sort_events failed", "sorting the simulated events")
        else:  # frames more than a minute apart: sort by (time, interval, pixel) explicitly
            t_round = np.rint(t_float).astype(np.int64)
            interval = np.searchsorted(frame_times, t_float, side="right") - 1
            width, height = sensor_size
            order = np.lexsort((interval * (width * height) + y.astype(np.int64) * width + x, t_round))
            data["t"], data["x"], data["y"], data["p"] = t_round[order], x[order], y[order], p[order]
    return Events(data, sensor_size, validate=False)
