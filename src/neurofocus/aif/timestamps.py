"""Choosing the refocusing times of the stack (NFS Algorithm 1, Eq. 10).

The image is split into N×N patches. For each patch a search maximises the sharpness D of the refocused patch over
time; for events the search runs over the patch's own event index (the k-th event of the patch fixes the time), so a
sweep whose speed varies (a hand-turned focus ring) is sampled evenly in *events*, not in seconds. For spikes, which
fire continuously, it runs over the tick index.

* ``search="golden"``: the golden-section search of Algorithm 1, until the bracket holds at most ``tolerance`` of
  the index range.
* ``search="robust"``: a coarse scan at ``coarse`` evenly spaced indices first, then golden refinement between the
  neighbours of the best one (for patches whose sharpness has several peaks, e.g. two objects at different depths).

Sharpness D is the variance of the patch's linear luminance divided by its squared mean (the paper uses the plain
variance; normalising makes D insensitive to a uniform brightness drift, such as DVS leak events add).

Textureless patches: a patch whose events are too few, or whose best sharpness is less than ``min_gain`` times that
of the input image, contributes no time (the EFS code gave such patches the input's time, so textureless scenes
filled the stack with copies of the input). The input image itself is always a slice of the stack. Times closer than
``merge_fraction`` of the stream (in events, or ticks) are merged into one slice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from .._kernels import check, lib, records
from ..errors import NeurofocusError
from ..types import Events
from .refocus import crop, patch_regions, subsampled

GOLDEN = (1 + 5**0.5) / 2


@dataclasses.dataclass(frozen=True)
class SearchSettings:
    """Settings of the refocusing-time search.

    Attributes
    ----------
    grid : int
        Patches per side (the papers: 8).
    search : {"golden", "robust"}
    tolerance : float
        Stop when the bracket spans at most this fraction of the patch's index range.
    coarse : int
        Points of the coarse scan (robust search).
    min_events : int
        Patches with fewer events have no time.
    min_gain : float
        A patch's best sharpness must exceed the input's by this factor to give a time.
    merge_fraction : float
        Times closer than this fraction of the stream are one slice.
    """

    grid: int = 8
    search: str = "robust"
    tolerance: float = 0.01
    coarse: int = 16
    min_events: int = 20
    min_gain: float = 1.05
    merge_fraction: float = 0.01

    def __post_init__(self):
        if self.search not in ("golden", "robust"):
            raise NeurofocusError(f"search must be 'golden' or 'robust', got {self.search!r}")
        if self.grid < 1 or self.coarse < 3 or not 0 < self.tolerance < 1:
            raise NeurofocusError("need grid >= 1, coarse >= 3 and 0 < tolerance < 1")


def sharpness(luminance: np.ndarray) -> float:
    """D: variance over squared mean of a (patch of) linear luminance."""
    mean = float(luminance.mean())
    return float(luminance.var()) / max(mean * mean, 1e-12)


def golden_section_max(score: Callable[[int], float], lo: int, hi: int, tolerance: int) -> int:
    """Index in [lo, hi] maximising a unimodal ``score`` (NFS Algorithm 1); evaluations are cached."""
    cache: dict[int, float] = {}

    def f(x: float) -> float:
        k = int(round(x))
        if k not in cache:
            cache[k] = score(k)
        return cache[k]

    left, right = float(lo), float(hi)
    while right - left > max(tolerance, 1):
        t1, t2 = right - (right - left) / GOLDEN, left + (right - left) / GOLDEN
        if f(t1) > f(t2):
            right = t2
        else:
            left = t1
    return int(round((left + right) / 2))


def search_index(score: Callable[[int], float], n: int, settings: SearchSettings) -> int:
    """Best index in [0, n - 1] by the chosen search."""
    tolerance = max(1, int(settings.tolerance * n))
    if settings.search == "golden" or n <= settings.coarse:
        return golden_section_max(score, 0, n - 1, tolerance)
    grid = np.linspace(0, n - 1, settings.coarse).round().astype(int)
    values = [score(int(k)) for k in grid]
    best = int(np.argmax(values))
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    return golden_section_max(score, int(lo), int(hi), tolerance)


def patch_event_times(events: Events, shape: tuple[int, int], grid: int) -> list[np.ndarray]:
    """Event times (µs, sorted) of each patch of :func:`~.refocus.patch_regions`, row-major; O(N)."""
    h, w = shape
    ys = np.linspace(0, h, grid + 1).round().astype(int)
    xs = np.linspace(0, w, grid + 1).round().astype(int)
    row_of = (np.searchsorted(ys, np.arange(h), side="right") - 1).astype(np.int64)
    col_of = (np.searchsorted(xs, np.arange(w), side="right") - 1).astype(np.int64)
    bounds = np.empty(grid * grid + 1, np.int64)
    times = np.empty(len(events), np.int64)
    check(lib.group_by_patch(*records(events.data), row_of.ctypes.data, h, col_of.ctypes.data, w, grid,
                             bounds.ctypes.data, times.ctypes.data),
          f"events outside the {w}x{h} image", "grouping the events by patch")
    return [times[bounds[i]:bounds[i + 1]] for i in range(grid * grid)]


@dataclasses.dataclass
class TimeSelection:
    """Selected refocusing times.

    Attributes
    ----------
    patch_times_us : ndarray, float64 (N·N,)
        Each patch's time (NaN where the patch gave none).
    patch_gain : ndarray, float64 (N·N,)
        Sharpness at that time over the input's.
    times_us : ndarray, int64
        The stack's times after merging near-duplicates (without the image time).
    evaluations : int
        Refocused patches evaluated.
    """

    patch_times_us: np.ndarray
    patch_gain: np.ndarray
    times_us: np.ndarray
    evaluations: int


def _merge(times: np.ndarray, position: Callable[[np.ndarray], np.ndarray], tolerance: float) -> np.ndarray:
    """Cluster sorted ``times`` whose ``position`` (event or tick index) differs by < tolerance; medians."""
    if not len(times):
        return np.zeros(0, np.int64)
    times = np.sort(times)
    pos = position(times)
    groups, current = [], [times[0]]
    for prev, t, p_prev, p in zip(times[:-1], times[1:], pos[:-1], pos[1:]):
        if p - p_prev < tolerance:
            current.append(t)
        else:
            groups.append(current)
            current = [t]
    groups.append(current)
    return np.array([int(np.median(g)) for g in groups], np.int64)


def select_times_events(refocuser, events: Events, settings: SearchSettings = SearchSettings()) -> TimeSelection:
    """Per-patch refocusing times for an :class:`~.refocus.EventRefocuser` and its events."""
    shape = refocuser.luminance.shape
    regions = patch_regions(shape, settings.grid)
    per_patch = patch_event_times(events, shape, settings.grid)
    patch_times = np.full(len(regions), np.nan)
    gains = np.full(len(regions), np.nan)
    evaluations = 0
    for i, (region, times) in enumerate(zip(regions, per_patch)):
        if len(times) < settings.min_events:
            continue
        region = subsampled(region)  # large patches are searched on a subsampled grid
        base = sharpness(crop(refocuser.luminance, region))

        def score(k: int) -> float:
            nonlocal evaluations
            evaluations += 1
            return sharpness(refocuser.luminance_at(int(times[k]), region))

        k = search_index(score, len(times), settings)
        value = score(k)
        if value >= settings.min_gain * base:
            patch_times[i] = times[k]
            gains[i] = value / max(base, 1e-12)
    found = patch_times[np.isfinite(patch_times)].astype(np.int64)
    merged = _merge(found, lambda t: np.searchsorted(events.t, t), settings.merge_fraction * len(events))
    return TimeSelection(patch_times, gains, merged, evaluations)


def select_times_spikes(refocuser, settings: SearchSettings = SearchSettings()) -> TimeSelection:
    """Per-patch refocusing times for a :class:`~.refocus.SpikeRefocuser` (search over ticks)."""
    spikes = refocuser.spikes
    shape = refocuser.luminance.shape
    regions = patch_regions(shape, settings.grid)
    ticks = spikes.tick_times_us()
    patch_times = np.full(len(regions), np.nan)
    gains = np.full(len(regions), np.nan)
    evaluations = 0
    for i, region in enumerate(regions):
        base = sharpness(refocuser.luminance[region[0]:region[1], region[2]:region[3]])

        def score(k: int) -> float:
            nonlocal evaluations
            evaluations += 1
            return sharpness(refocuser.luminance_at(float(ticks[k]), region))

        k = search_index(score, len(ticks), settings)
        value = score(k)
        if value >= settings.min_gain * base:
            patch_times[i] = ticks[k]
            gains[i] = value / max(base, 1e-12)
    found = np.rint(patch_times[np.isfinite(patch_times)]).astype(np.int64)
    merged = _merge(found, lambda t: (t - spikes.start_us) / spikes.tick_us, settings.merge_fraction * len(ticks))
    return TimeSelection(patch_times, gains, merged, evaluations)


def uniform_times(start_us: float, end_us: float, count: int) -> np.ndarray:
    """``count`` times evenly spaced over the sweep (the ablation's "uniform" selection), int64 µs."""
    if count < 1:
        raise NeurofocusError("need at least one time")
    return np.rint(start_us + (np.arange(count) + 0.5) * (end_us - start_us) / count).astype(np.int64)
