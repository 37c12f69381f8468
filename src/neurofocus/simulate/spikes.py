"""Integrate-and-fire spike camera (e.g. the PKU Vidar): frames of linear intensity in, bit-packed spikes out.

Intensity is linear in [0, 1] and interpolated linearly in time between frames. The sensor reads out synchronously
every ``tick_us`` µs; tick k covers [start + k·tick, start + (k+1)·tick). In each tick every pixel adds::

    Δ = g · (max_rate · Ī + dark_rate)        (Ī: exact mean of the piecewise-linear intensity over the tick)

to its potential, optionally with photon-like noise ``noise_sigma·√Δ·z`` (z ~ N(0, 1), Δ kept >= 0). When the
potential reaches 1 the pixel fires once in that tick and 1 is subtracted (``reset="subtract"``) or the potential is
set to 0 (``reset="zero"``). At most one spike per pixel per tick: the excess is kept, but the potential left after a
spike is capped at 1, so a saturated pixel fires every tick without banking charge for later. The firing rate is
thus ``min(1, g·(max_rate·I + dark_rate))`` spikes per tick (``1 / ceil(1 / rate)`` with reset to zero).

Per pixel, drawn once from the pixel's random stream (:mod:`.rng`): the initial potential ~ U[0, 1), the gain
g = max(0, 1 + gain_sigma·z) and whether it is a hot pixel (probability ``hot_pixel_fraction``). A hot pixel also
fires with probability ``hot_pixel_rate`` in each tick, whatever its potential (which that spike leaves unchanged).

:class:`SpikeSimulator` consumes frames in chunks with all state carried between calls; pixel rows are split over
threads. Output is identical for a given seed whatever the chunking or the number of threads.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numba
import numpy as np

from ..config_dicts import positive_int
from ..errors import NeurofocusError
from ..types import Spikes
from . import rng
from .streaming import check_frames, check_setup, stream_states

_RESETS = ("subtract", "zero")


@dataclasses.dataclass(frozen=True)
class SpikeParams:
    """Pixel model of the spike camera.

    Attributes
    ----------
    max_rate : float
        Spikes per tick at intensity 1, in (0, 1].
    dark_rate : float
        Dark-current rate in spikes per tick, >= 0.
    gain_sigma : float
        Standard deviation of the per-pixel gain (mean 1, clamped >= 0), >= 0.
    noise_sigma : float
        Temporal noise: each tick's increment Δ gets ``noise_sigma·√Δ·z`` added, >= 0.
    hot_pixel_fraction : float
        Share of hot pixels, in [0, 1].
    hot_pixel_rate : float
        Probability per tick of a hot pixel's extra spike, in [0, 1].
    reset : str
        ``"subtract"`` (potential −= 1 on a spike) or ``"zero"`` (potential = 0).
    """

    max_rate: float = 0.5
    dark_rate: float = 0.0
    gain_sigma: float = 0.0
    noise_sigma: float = 0.0
    hot_pixel_fraction: float = 0.0
    hot_pixel_rate: float = 0.01
    reset: str = "subtract"

    def __post_init__(self):
        bounds = {"max_rate": (0.0, 1.0, False), "dark_rate": (0.0, math.inf, True),
                  "gain_sigma": (0.0, math.inf, True), "noise_sigma": (0.0, math.inf, True),
                  "hot_pixel_fraction": (0.0, 1.0, True), "hot_pixel_rate": (0.0, 1.0, True)}
        for name, (lo, hi, lo_closed) in bounds.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise NeurofocusError(f"spike parameter {name} must be a finite number, got {value!r}")
            if not ((value >= lo if lo_closed else value > lo) and value <= hi):
                interval = f"{'[' if lo_closed else '('}{lo:g}, {hi:g}]" if hi < math.inf else ">= 0"
                raise NeurofocusError(f"spike parameter {name} must be {'in ' if hi < math.inf else ''}{interval}, "
                                      f"got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.reset not in _RESETS:
            raise NeurofocusError(f"spike parameter reset must be 'subtract' or 'zero', got {self.reset!r}")


@numba.njit(cache=True, nogil=True)
def _init_pixels(states, gain_sigma, hot_fraction, potential, gain, hot):
    """Draw each pixel's initial potential, gain and hot flag from its stream (always three draws, in this order)."""
    for i in range(len(states)):
        s = states[i]
        u, s = rng.uniform(s)
        potential[i] = u
        z, s = rng.normal(s)
        gain[i] = max(0.0, 1.0 + gain_sigma * z)
        u, s = rng.uniform(s)
        hot[i] = u < hot_fraction
        states[i] = s


@numba.njit(cache=True)
def _tick_weights(times, start, tick, k0, n):
    """Weights of the frames in the mean intensity of ticks k0..k0+n-1 (CSR: ``ptr`` (n+1), ``frame``, ``coef``).

    The mean of the piecewise-linear intensity over tick k is ``sum(coef[t] * L[frame[t]] for t in
    range(ptr[k], ptr[k + 1]))``. Each tick's weights depend only on its own bounds and the frame times, so they are
    the same whatever chunk the tick is computed in.
    """
    m = len(times)
    ptr = np.empty(n + 1, np.int64)
    frame = np.empty(2 * n + m + 1, np.int64)
    coef = np.empty(2 * n + m + 1, np.float64)
    t = 0
    seg = 0
    for kk in range(n):
        a = start + (k0 + kk) * tick
        b = start + (k0 + kk + 1) * tick
        ptr[kk] = t
        while seg < m - 2 and times[seg + 1] <= a:
            seg += 1
        last = -1
        i = seg
        while i < m - 1 and times[i] < b:
            t0 = times[i]
            t1 = times[i + 1]
            lo = max(a, t0)
            hi = min(b, t1)
            if hi > lo:
                w = (hi - lo) / tick
                frac = (0.5 * (lo + hi) - t0) / (t1 - t0)  # where the sub-interval's midpoint lies in the segment
                if last == i:
                    coef[t - 1] += w * (1.0 - frac)
                else:
                    frame[t] = i
                    coef[t] = w * (1.0 - frac)
                    t += 1
                frame[t] = i + 1
                coef[t] = w * frac
                t += 1
                last = i + 1
            i += 1
    ptr[n] = t
    return ptr, frame[:t], coef[:t]


#: Multiplying eight 0/1 bytes (read as a little-endian uint64) by this puts byte i at bit 56 + i, carry-free.
_PACK_MAGIC = np.uint64(0x0102040810204080)


@numba.njit(cache=True, nogil=True)
def _integrate_rows(frames, ptr, frame, coef, row0, row1, max_rate, dark_rate, noise_sigma, hot_rate, zero_reset,
                    potential, gain, hot, states, out):
    """Run rows row0..row1-1 through the ticks of ``ptr``; writes their rows of ``out`` (T, H, ceil(W/8)).

    ``potential``, ``gain``, ``hot`` and ``states`` are per pixel, flattened (H·W); those of the rows are updated.
    Per pixel and tick the random draws are: the noise normal (if ``noise_sigma`` > 0), then the hot-pixel uniform
    (if the pixel is hot).
    """
    width = frames.shape[2]
    n_ticks = len(ptr) - 1
    n_bytes = out.shape[2]
    noisy = noise_sigma > 0.0
    inc = np.empty(width, np.float64)
    scale = np.empty(width, np.float64)
    offset = np.empty(width, np.float64)
    hot_x = np.empty(width, np.int64)
    noise = np.empty(width, np.float64)
    layer = np.empty(width, np.int64)
    fired = np.zeros(8 * n_bytes, np.uint8)
    fired64 = fired.view(np.uint64)
    for y in range(row0, row1):
        base = y * width
        pot = potential[base:base + width]
        st = states[base:base + width]
        n_hot = 0
        for x in range(width):
            scale[x] = gain[base + x] * max_rate
            offset[x] = gain[base + x] * dark_rate
            if hot[base + x]:
                hot_x[n_hot] = x
                n_hot += 1
        for k in range(n_ticks):
            t = ptr[k]
            c = coef[t]
            row = frames[frame[t], y]
            for x in range(width):
                inc[x] = c * row[x]
            for t in range(ptr[k] + 1, ptr[k + 1]):
                c = coef[t]
                row = frames[frame[t], y]
                for x in range(width):
                    inc[x] += c * row[x]
            for x in range(width):
                inc[x] = scale[x] * inc[x] + offset[x]
            if noisy:  # a ziggurat step for all pixels (vectorised), then the rare rejections one by one
                for x in range(width):
                    z, ok, i, s = rng.ziggurat_start(st[x])
                    st[x] = s
                    noise[x] = z
                    layer[x] = -1 if ok else i
                for x in range(width):
                    if layer[x] >= 0:
                        z, s = rng.ziggurat_finish(noise[x], layer[x], st[x])
                        st[x] = s
                        noise[x] = z
                for x in range(width):
                    inc[x] = max(0.0, inc[x] + noise_sigma * math.sqrt(inc[x]) * noise[x])
            if zero_reset:
                for x in range(width):
                    p = pot[x] + inc[x]
                    f = p >= 1.0
                    pot[x] = 0.0 if f else p
                    fired[x] = f
            else:  # the potential left is capped at 1: a saturated pixel banks no charge
                for x in range(width):
                    p = pot[x] + inc[x]
                    f = p >= 1.0
                    pot[x] = min(p - (1.0 if f else 0.0), 1.0)
                    fired[x] = f
            for i in range(n_hot):
                x = hot_x[i]
                u, s = rng.uniform(st[x])
                st[x] = s
                if u < hot_rate:
                    fired[x] = 1
            for xb in range(n_bytes):
                out[k, y, xb] = np.uint8((fired64[xb] * _PACK_MAGIC) >> np.uint64(56))


class SpikeSimulator:
    """Streaming integrate-and-fire spike camera for one sensor (model in the module docstring).

    Parameters
    ----------
    sensor_size : (int, int)
        (width, height) of the frames.
    params : SpikeParams
        Pixel model.
    tick_us : float
        Readout interval in µs (50 = 20 kHz).
    start_us : float, optional
        Time of tick 0 in µs, not before the first frame; default: the first frame's time.
    seed : int
        Seed of the per-pixel random streams, in [0, 2**63).
    workers : int, optional
        Threads (default: all cores); results do not depend on it.

    Feed frames with :meth:`feed`; the concatenation (:meth:`Spikes.concatenate`) of its results is the recording.
    """

    def __init__(self, sensor_size: tuple[int, int], params: SpikeParams = SpikeParams(), *, tick_us: float = 50.0,
                 start_us: float | None = None, seed: int = 0, workers: int | None = None):
        self.width, self.height, self._blocks = check_setup(sensor_size, seed, workers)
        if not isinstance(params, SpikeParams):
            raise NeurofocusError(f"params must be a SpikeParams, got {type(params).__name__}")
        self.params = params
        try:
            tick_us = float(tick_us)
            start_us = None if start_us is None else float(start_us)
        except (TypeError, ValueError):
            raise NeurofocusError(f"tick_us and start_us must be numbers, got {tick_us!r}, {start_us!r}") from None
        if not (math.isfinite(tick_us) and tick_us > 0):
            raise NeurofocusError(f"tick_us must be a positive number of µs, got {tick_us}")
        if start_us is not None and not math.isfinite(start_us):
            raise NeurofocusError(f"start_us must be finite, got {start_us}")
        self.tick_us = tick_us
        self.start_us = start_us
        n = self.width * self.height
        self._states = stream_states(int(seed), n)
        self._potential = np.empty(n, np.float64)
        self._gain = np.empty(n, np.float64)
        self._hot = np.empty(n, np.bool_)
        _init_pixels(self._states, params.gain_sigma, params.hot_pixel_fraction, self._potential, self._gain,
                     self._hot)
        self._frames = np.empty((0, self.height, self.width), np.float64)  # frames still needed by future ticks
        self._times = np.empty(0, np.float64)
        self._next_tick = 0

    @property
    def num_ticks(self) -> int:
        """Ticks produced so far."""
        return self._next_tick

    @property
    def potential(self) -> np.ndarray:
        """Current potential of each pixel (a copy), float64 (H, W), in units of the threshold."""
        return self._potential.reshape(self.height, self.width).copy()

    def feed(self, frames: np.ndarray, times_us: np.ndarray) -> Spikes:
        """Simulate the ticks that end by the last of ``frames``.

        Parameters
        ----------
        frames : ndarray (N, H, W)
            Linear intensity in [0, 1], any real dtype.
        times_us : ndarray (N,)
            Frame times in µs, strictly increasing and after the previous call's last frame.

        Returns
        -------
        Spikes
            The ticks after those of the previous call up to the last one that ends at or before ``times_us[-1]``
            (possibly none), with ``tick_us`` and ``start_us`` set (tick 0 of the result at ``start_us``).
        """
        last = float(self._times[-1]) if len(self._times) else None
        frames, times = check_frames(frames, times_us, self.width, self.height, last)
        if frames.dtype.kind not in "biuf":
            raise NeurofocusError(f"frames must be real numbers, got dtype {frames.dtype}")
        if frames.size and (frames.min() < 0 or frames.max() > 1):
            raise NeurofocusError(f"frames must hold linear intensity in [0, 1], found "
                                  f"[{float(frames.min()):.3g}, {float(frames.max()):.3g}]")
        if self.start_us is None and len(times):
            self.start_us = float(times[0])
        elif last is None and len(times) and self.start_us < times[0]:
            raise NeurofocusError(f"start_us {self.start_us:g} µs is before the first frame ({times[0]:g} µs)")
        start = self.start_us if self.start_us is not None else 0.0
        frames = np.concatenate([self._frames, frames.astype(np.float64, copy=False)])
        times = np.concatenate([self._times, times])
        k0 = self._next_tick
        n = 0
        if len(times):
            # ticks k0..k0+n-1 are those whose end start + (k + 1)·tick is at or before the last frame (exactly, in
            # the floating-point values used for the integration, so chunking cannot change the result)
            n = max(0, int(math.floor((times[-1] - start) / self.tick_us)) - k0)
            while n > 0 and start + (k0 + n) * self.tick_us > times[-1]:
                n -= 1
            while start + (k0 + n + 1) * self.tick_us <= times[-1]:
                n += 1
        packed = np.empty((n, self.height, (self.width + 7) // 8), np.uint8)
        if n:
            ptr, frame, coef = _tick_weights(times, start, self.tick_us, k0, n)
            p = self.params
            args = (frames, ptr, frame, coef)
            consts = (p.max_rate, p.dark_rate, p.noise_sigma, p.hot_pixel_rate, p.reset == "zero",
                      self._potential, self._gain, self._hot, self._states, packed)

            def run(block):
                _integrate_rows(*args, block[0], block[1], *consts)

            self._blocks.map(run)
        self._next_tick = k0 + n
        if len(times):  # keep the frames from the one at or before the next tick's start
            keep = max(0, int(np.searchsorted(times, start + self._next_tick * self.tick_us, side="right")) - 1)
            self._frames, self._times = frames[keep:].copy(), times[keep:].copy()
        return Spikes(packed, self.width, self.tick_us, start + k0 * self.tick_us)


def simulate_spikes(frames: np.ndarray, times_us: np.ndarray, params: SpikeParams = SpikeParams(), *,
                    tick_us: float = 50.0, start_us: float | None = None, seed: int = 0, chunk_frames: int = 32,
                    workers: int | None = None) -> Spikes:
    """Spike-camera recording of a whole frame sequence (see :class:`SpikeSimulator`).

    Parameters
    ----------
    frames : ndarray (N, H, W)
        Linear intensity in [0, 1].
    times_us : ndarray (N,)
        Frame times in µs, strictly increasing.
    chunk_frames : int
        Frames per :meth:`SpikeSimulator.feed` call (bounds the working memory; the result does not depend on it).

    Returns
    -------
    Spikes
        All ticks that end by the last frame, tick 0 at ``start_us`` (default: the first frame's time).
    """
    frames = np.asarray(frames)
    if frames.ndim != 3:
        raise NeurofocusError(f"frames must have shape (N, H, W), got {frames.shape}")
    positive_int(chunk_frames, "chunk_frames", integral=True)
    times = np.asarray(times_us)
    if times.shape != (len(frames),):
        raise NeurofocusError(f"{len(frames)} frames but timestamps of shape {times.shape}")
    sim = SpikeSimulator((frames.shape[2], frames.shape[1]), params, tick_us=tick_us, start_us=start_us, seed=seed,
                         workers=workers)
    if len(frames) == 0:
        return sim.feed(frames, times)
    parts = [sim.feed(frames[i:i + chunk_frames], times[i:i + chunk_frames])
             for i in range(0, len(frames), chunk_frames)]
    return Spikes.concatenate(parts)
