"""An ideal DVS in the manner of ESIM (Rebecq, Gehrig & Scaramuzza, CoRL 2018) with v2e's threshold mismatch,
refractory period, leak and shot noise (Hu, Liu & Delbruck, CVPRW 2021).

Each pixel sees its log intensity L = log(eps + I) (I linear, in [0, 1]; eps = ``log_eps``), interpolated linearly
in time between consecutive frames, and keeps a reference level ref, initially L of the first frame. Whenever L
reaches ref + C+ the pixel fires an ON event (p = +1) at the exact crossing time and ref += C+; whenever L reaches
ref − C− it fires an OFF event (p = −1) and ref −= C−. All crossings of an interval are emitted, in time order.

* Threshold mismatch: C+ ~ N(contrast_pos, threshold_sigma) and C− ~ N(contrast_neg, threshold_sigma), drawn once
  per pixel and clamped to >= ``min_threshold``.
* Refractory period: a crossing less than ``refractory_us`` after the pixel's last emitted crossing event is not
  emitted, but ref still moves to the crossed level.
* Leak: ref drifts down at ``leak_rate_hz``·C+ per second (C+ of the pixel), so a static pixel fires ON events at
  ``leak_rate_hz``. It enters as a linear ramp over each interval, so crossing times stay exact. So that pixels do
  not leak in sync, when the leak is on each pixel's ref starts at L0 − u·C+, u ~ U(0, 1) from its random stream.
* Shot noise: an independent Poisson process of rate ``shot_noise_rate_hz`` per pixel, each event ON or OFF with
  probability 1/2. Shot events neither move ref nor take part in the refractory period; the time of the next one is
  part of the pixel state, so the process runs on unbroken across :meth:`IdealEventSimulator.feed` calls.

:class:`IdealEventSimulator` streams frames in chunks with pixel rows split over threads; every pixel draws from
its own random stream (:mod:`.rng`), so the output depends on the seed only, not on ``workers`` or the chunking.
Events with equal (rounded) times are ordered by frame interval, then row, then column; a pixel's own events keep
their firing order.
"""

from __future__ import annotations

import dataclasses
import math

import numba
import numpy as np

from ..config_dicts import positive_int
from ..errors import NeurofocusError
from ..types import Events
from . import rng
from .streaming import check_frames, check_setup, sorted_events


@dataclasses.dataclass(frozen=True)
class IdealParams:
    """Parameters of the ideal DVS.

    Attributes
    ----------
    contrast_pos, contrast_neg : float
        Nominal ON and OFF thresholds C+ and C− in log-intensity units (> 0).
    threshold_sigma : float
        Standard deviation of the per-pixel thresholds around the nominal values (>= 0; 0 = no mismatch).
    min_threshold : float
        Lower clamp of the per-pixel thresholds (> 0).
    refractory_us : float
        Refractory period in µs (>= 0).
    log_eps : float
        eps in L = log(eps + I) (> 0).
    leak_rate_hz : float
        Leak event rate of a static pixel in Hz (>= 0).
    shot_noise_rate_hz : float
        Shot-noise event rate per pixel in Hz, both polarities together (>= 0).
    """

    contrast_pos: float = 0.2
    contrast_neg: float = 0.2
    threshold_sigma: float = 0.03
    min_threshold: float = 0.01
    refractory_us: float = 0.0
    log_eps: float = 1e-3
    leak_rate_hz: float = 0.0
    shot_noise_rate_hz: float = 0.0

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise NeurofocusError(f"ideal DVS parameter {field.name} must be a number, got {value!r}") from None
            if not math.isfinite(value):
                raise NeurofocusError(f"ideal DVS parameter {field.name} must be finite, got {value}")
            positive = field.name in ("contrast_pos", "contrast_neg", "min_threshold", "log_eps")
            if positive and value <= 0:
                raise NeurofocusError(f"ideal DVS parameter {field.name} must be > 0, got {value}")
            if value < 0:
                raise NeurofocusError(f"ideal DVS parameter {field.name} must be >= 0, got {value}")
            object.__setattr__(self, field.name, value)


@numba.njit(cache=True)
def _draw_pixels(seed, cp_nom, cm_nom, sigma, cmin, with_leak, shot_scale, cpos, cneg, ref_offset, shot_delay,
                 states):
    """Per-pixel thresholds, leak offsets u·C+, first shot-noise delays (µs) and stream states after the draws."""
    for i in range(len(cpos)):
        s = rng.stream_state(seed, i)
        cp, cm = cp_nom, cm_nom
        if sigma > 0.0:
            z, s = rng.normal(s)
            cp = cp_nom + sigma * z
            z, s = rng.normal(s)
            cm = cm_nom + sigma * z
        cpos[i] = max(cp, cmin)
        cneg[i] = max(cm, cmin)
        ref_offset[i] = 0.0
        if with_leak:
            u, s = rng.uniform(s)
            ref_offset[i] = u * cpos[i]
        shot_delay[i] = np.inf
        if shot_scale < np.inf:
            e, s = rng.exponential(s)
            shot_delay[i] = e * shot_scale
        states[i] = s


@numba.njit(cache=True, nogil=True)
def _start(frame, t, eps, ref_offset, shot_delay, ref, last_log, next_shot):
    """Initialise ref, the last log intensity and the next shot-noise time from the first frame (time ``t`` µs)."""
    height, width = frame.shape
    for yy in range(height):
        for xx in range(width):
            j = yy * width + xx
            level = math.log(eps + np.float64(frame[yy, xx]))
            last_log[j] = level
            ref[j] = level - ref_offset[j]
            next_shot[j] = t + shot_delay[j]


@numba.njit(cache=True, nogil=True)
def _simulate_rows(frames, times, row0, row1, eps, leak_per_us, refractory, shot_scale, cpos, cneg, ref, last_log,
                   last_event, next_shot, states, t_out, x_out, y_out, p_out):
    """Run rows row0..row1-1 through the intervals ending at each of ``frames`` (interval m runs from
    ``times[m]`` to ``times[m + 1]``); returns the number of events, or -1 if the output arrays are too small.

    The per-pixel arrays (those rows, flattened) carry the state between calls and are updated in place.
    """
    n_new, _, width = frames.shape
    cap = len(t_out)
    n = 0
    for m in range(n_new):
        t0 = times[m]
        t1 = times[m + 1]
        dt = t1 - t0
        for yy in range(row0, row1):
            base = (yy - row0) * width
            for xx in range(width):
                j = base + xx
                level = math.log(eps + np.float64(frames[m, yy, xx]))
                r = ref[j]
                cp = cpos[j]
                cm = cneg[j]
                drop = leak_per_us * cp * dt  # fall of ref over the interval
                a = last_log[j] - r  # L − ref at t0; L − ref moves linearly to b at t1
                b = level - r + drop
                last_log[j] = level
                if b >= cp:
                    count = int(math.floor(b / cp))
                    step = cp
                    sign = 1
                elif b <= -cm:
                    count = int(math.floor(-b / cm))
                    step = -cm
                    sign = -1
                else:
                    count = 0
                    step = 0.0
                    sign = 0
                ref[j] = r - drop + count * step
                ns = next_shot[j]
                if count == 0 and not ns <= t1:
                    continue
                # merge the crossings (time t0 + (k·step − a)/(b − a)·dt, k = 1..count) with the shot events
                scale = dt / (b - a) if count > 0 else 0.0
                k = 1
                tc = min(max(t0 + (step - a) * scale, t0), t1) if count > 0 else np.inf
                last = last_event[j]
                state = states[j]
                while True:
                    if ns <= t1 and ns <= tc:
                        tev = ns
                        u, state = rng.uniform(state)
                        pol = 1 if u < 0.5 else -1
                        e, state = rng.exponential(state)
                        ns += e * shot_scale
                    elif k <= count:
                        tev = tc
                        pol = sign
                        k += 1
                        tc = min(max(t0 + (k * step - a) * scale, t0), t1) if k <= count else np.inf
                        if tev - last < refractory:
                            continue
                        last = tev
                    else:
                        break
                    if n >= cap:
                        return -1
                    t_out[n] = tev
                    x_out[n] = xx
                    y_out[n] = yy
                    p_out[n] = pol
                    n += 1
                last_event[j] = last
                states[j] = state
                next_shot[j] = ns
    return n


def random_ideal_params(threshold_rng: np.random.Generator, noise_rng: np.random.Generator) -> IdealParams:
    """Ideal-DVS parameters of one sequence: ON and OFF thresholds uniform in [0.15, 0.35] (log units) from
    ``threshold_rng``; from ``noise_rng`` a per-pixel threshold mismatch σ in [0, 0.05], a refractory period in
    [0, 1000] µs, a leak rate in [0, 0.5] Hz and a shot-noise rate in [0, 2] Hz per pixel (v2e's ranges for
    indoor-lit DAVIS pixels: Hu et al. 2021)."""
    cp, cm = (float(threshold_rng.uniform(0.15, 0.35)) for _ in range(2))
    sigma, refractory, leak, shot = (float(noise_rng.uniform(0, hi)) for hi in (0.05, 1000.0, 0.5, 2.0))
    return IdealParams(contrast_pos=cp, contrast_neg=cm, threshold_sigma=sigma, refractory_us=refractory,
                       leak_rate_hz=leak, shot_noise_rate_hz=shot)


class IdealEventSimulator:
    """Streaming ideal-DVS simulator for one sensor (model in the module docstring).

    Parameters
    ----------
    sensor_size : (int, int)
        (width, height) of the frames.
    params : IdealParams
        Thresholds, mismatch, refractory period, leak and shot noise.
    seed : int
        Seed (>= 0) of the per-pixel random streams (thresholds, leak offsets, shot noise).
    workers : int, optional
        Threads (default: all cores); results do not depend on it.

    Feed frames with :meth:`feed`; the first frame only initialises the state.
    """

    def __init__(self, sensor_size: tuple[int, int], params: IdealParams = IdealParams(), *, seed: int = 0,
                 workers: int | None = None):
        self.width, self.height, self._blocks = check_setup(sensor_size, seed, workers)
        if not isinstance(params, IdealParams):
            raise NeurofocusError(f"params must be IdealParams, got {type(params).__name__}")
        self.params = params
        n = self.width * self.height
        self._shot_scale = 1e6 / params.shot_noise_rate_hz if params.shot_noise_rate_hz > 0 else np.inf
        self._cpos, self._cneg = np.empty(n), np.empty(n)
        self._ref_offset, self._shot_delay = np.empty(n), np.empty(n)
        self._states = np.empty(n, np.uint64)
        _draw_pixels(np.uint64(seed), params.contrast_pos, params.contrast_neg, params.threshold_sigma,
                     params.min_threshold, params.leak_rate_hz > 0, self._shot_scale, self._cpos, self._cneg,
                     self._ref_offset, self._shot_delay, self._states)
        self._ref, self._last_log, self._next_shot = np.empty(n), np.empty(n), np.empty(n)
        self._last_event = np.full(n, -np.inf)
        self._last_time = None
        self._caps = {block: 0 for block in self._blocks.blocks}

    @property
    def thresholds(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-pixel (C+, C−) thresholds, float64 (H, W) each, copies."""
        shape = (self.height, self.width)
        return self._cpos.reshape(shape).copy(), self._cneg.reshape(shape).copy()

    def feed(self, frames: np.ndarray, times_us: np.ndarray) -> Events:
        """Simulate the events up to the last of ``frames``.

        Parameters
        ----------
        frames : ndarray (N, H, W)
            Linear intensity in [0, 1] (any real dtype).
        times_us : ndarray (N,)
            Frame times in µs, strictly increasing and after the previous call's last frame.

        Returns
        -------
        Events
            Events after the previous frame, up to the last frame of this chunk, sorted by time (rounded to µs).

        Raises
        ------
        NeurofocusError
            On a wrong shape, times that are not strictly increasing, or values that are not finite or not in [0, 1].
        """
        frames, times = check_frames(frames, times_us, self.width, self.height, self._last_time)
        if frames.dtype.kind not in "biuf":
            raise NeurofocusError(f"frames must hold real numbers, got dtype {frames.dtype}")
        if frames.size:
            lo, hi = frames.min(), frames.max()
            if lo < 0 or hi > 1:
                raise NeurofocusError(f"frames must be linear intensities in [0, 1], found [{lo:.4g}, {hi:.4g}]")
        if frames.dtype != np.float32 and frames.dtype != np.float64:
            frames = frames.astype(np.float64)
        frames = np.ascontiguousarray(frames)
        if not len(frames):
            return Events.empty((self.width, self.height))
        p = self.params
        if self._last_time is None:
            _start(frames[0], times[0], p.log_eps, self._ref_offset, self._shot_delay, self._ref, self._last_log,
                   self._next_shot)
            self._last_time = float(times[0])
            frames, times = frames[1:], times[1:]
            if not len(frames):
                return Events.empty((self.width, self.height))
        times = np.concatenate([[self._last_time], times])
        self._last_time = float(times[-1])
        n_intervals = len(frames)
        leak_per_us = p.leak_rate_hz * 1e-6

        def run(block):
            row0, row1 = block
            sl = slice(row0 * self.width, row1 * self.width)
            saved = [a[sl].copy() for a in (self._ref, self._last_log, self._last_event, self._next_shot,
                                            self._states)]
            cap = max(1 << 16, self._caps[block], (row1 - row0) * self.width * n_intervals // 8)
            while True:
                out = (np.empty(cap, np.float64), np.empty(cap, np.uint16), np.empty(cap, np.uint16),
                       np.empty(cap, np.int8))
                state = [a.copy() for a in saved]
                n = _simulate_rows(frames, times, row0, row1, p.log_eps, leak_per_us, p.refractory_us,
                                   self._shot_scale, self._cpos[sl], self._cneg[sl], *state, *out)
                if n >= 0:
                    for dst, src in zip((self._ref, self._last_log, self._last_event, self._next_shot,
                                         self._states), state):
                        dst[sl] = src
                    self._caps[block] = cap
                    return tuple(a[:n] for a in out)
                cap *= 4

        parts = self._blocks.map(run)
        return sorted_events(parts, (self.width, self.height), times)


def simulate_ideal_events(frames: np.ndarray, times_us: np.ndarray, params: IdealParams = IdealParams(), *,
                          seed: int = 0, chunk_frames: int = 32, workers: int | None = None) -> Events:
    """Ideal-DVS events of a whole frame sequence (see :class:`IdealEventSimulator`).

    Parameters
    ----------
    frames : ndarray (N, H, W)
        Linear intensity in [0, 1].
    times_us : ndarray (N,)
        Frame times in µs, strictly increasing.
    params : IdealParams
    seed : int
        Seed of the per-pixel random streams.
    chunk_frames : int
        Frames per :meth:`IdealEventSimulator.feed` call (bounds the memory; the result does not depend on it).
    workers : int, optional
        Threads (default: all cores).

    Returns
    -------
    Events
        Sensor size (W, H), times rounded to µs, sorted by time.
    """
    frames = np.asarray(frames)
    if frames.ndim != 3:
        raise NeurofocusError(f"frames must have shape (N, H, W), got {frames.shape}")
    positive_int(chunk_frames, "chunk_frames", integral=True)
    times_us = np.asarray(times_us)
    size = (frames.shape[2], frames.shape[1])
    sim = IdealEventSimulator(size, params, seed=seed, workers=workers)
    if times_us.ndim != 1 or len(times_us) != len(frames):
        raise NeurofocusError(f"{len(frames)} frames but times_us has shape {times_us.shape}")
    parts = [sim.feed(frames[i:i + chunk_frames], times_us[i:i + chunk_frames])
             for i in range(0, len(frames), chunk_frames)]
    return Events.concatenate(parts) if parts else Events.empty(size)
