"""DVS-Voltmeter (Lin, Ma, Guo & Wen, ECCV 2022): a DVS pixel's voltage as Brownian motion with drift.

For the interval between frames k−1 (time t0, gray value L0) and k (t1, L1), with ΔL = L1 − L0, Lm = (L0 + L1)/2 and
Δt = t1 − t0 (µs)::

    μ = k1·(ΔL/Δt)/(Lm + k2) + k4 + k5·Lm        (drift, per µs)
    σ = k3·√Lm/(Lm + k2) + k6                      (diffusion, per √µs)

Both thresholds are 1. Each pixel keeps a residual voltage r and a start time s (= t0 at each interval). Repeat:
choose the polarity of the next event with the two-barrier first-passage probability
p_on = (e^{2μB/σ²} − 1)/(e^{2μB/σ²} − e^{−2μA/σ²}) (A = 1 − r, B = 1 + r); draw the first-passage time τ to that
barrier alone (inverse Gaussian with the drift, the published code's transformed truncated normal against it, Lévy
without drift); if s + τ < t1 emit an event at s + τ, set r = 0, s += τ and repeat; otherwise keep the residual
r ± ep·(t1 − s)/τ (linear interpolation towards the chosen barrier) and stop. Event times are rounded to µs.
Frames are 8-bit gray values as stored (gamma-encoded; the published code reads them with OpenCV's grayscale
conversion, see :func:`gray8`). p = +1 (ON) when the pixel brightens.

:class:`DvsVoltmeter` runs the model in C (``_kernels/dvs_voltmeter.c``) on frames streamed in chunks (constant
memory), pixel rows split over threads, with one reproducible random stream per pixel (``_kernels/rng.h``: the
streams and samplers of :mod:`.rng`, so the events are those of the numba kernel it replaced, bit for bit).
:func:`reference_dvs_voltmeter` is a literal numpy transcription of the published algorithm (vectorised over pixels,
looping over the k-th event of an interval), kept as the statistical oracle for tests and the benchmark.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._kernels import address, lib
from ..color import rgb8_to_gray8, to_uint8
from ..errors import NeurofocusError
from ..types import Events
from .streaming import check_frames, check_setup, sorted_events, stream_states

#: Parameter ranges the all-in-focus papers drew k1..k6 from, uniformly, per sequence (NFS supp. Table 3).
PAPER_RANGES = ((4.0, 5.5), (18.0, 25.0), (5e-5, 2.5e-4), (0.8e-7, 1.2e-7), (3e-9, 8e-8), (8e-6, 1.2e-5))


@dataclasses.dataclass(frozen=True)
class VoltmeterParams:
    """The six DVS-Voltmeter camera parameters k1..k6."""

    k1: float
    k2: float
    k3: float
    k4: float
    k5: float
    k6: float

    @classmethod
    def preset(cls, name: str) -> "VoltmeterParams":
        """Calibrated presets of the DVS-Voltmeter release: ``"DVS346"`` or ``"DVS240"``."""
        presets = {"DVS346": (5.265, 20, 1e-4, 1e-7, 5e-9, 1e-5), "DVS240": (4.42411, 23, 2e-4, 1e-7, 5e-8, 1e-5)}
        if name.upper() not in presets:
            raise NeurofocusError(f"unknown DVS-Voltmeter preset {name!r} (choose DVS346 or DVS240)")
        return cls(*presets[name.upper()])

    @classmethod
    def random(cls, generator: np.random.Generator) -> "VoltmeterParams":
        """Parameters drawn uniformly from the papers' ranges (:data:`PAPER_RANGES`)."""
        return cls(*(float(generator.uniform(lo, hi)) for lo, hi in PAPER_RANGES))

    @classmethod
    def parse(cls, text: str) -> "VoltmeterParams":
        """From ``"k1,k2,k3,k4,k5,k6"`` or a preset name."""
        parts = [p for p in text.replace(" ", ",").split(",") if p]
        if len(parts) == 1:
            return cls.preset(parts[0])
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise NeurofocusError(f"DVS-Voltmeter parameters {text!r} are not six numbers") from None
        if len(values) != 6:
            raise NeurofocusError(f"DVS-Voltmeter needs six parameters k1..k6, got {len(values)}")
        return cls(*values)

    def __post_init__(self):
        values = dataclasses.astuple(self)
        if not all(np.isfinite(values)) or self.k2 <= 0 or self.k3 < 0 or self.k6 <= 0:
            raise NeurofocusError(f"invalid DVS-Voltmeter parameters {values} (need k2 > 0, k3 >= 0, k6 > 0)")

    def as_array(self) -> np.ndarray:
        return np.array(dataclasses.astuple(self), np.float64)


def gray8(frames_srgb: np.ndarray) -> np.ndarray:
    """8-bit gray values of sRGB frames in [0, 1], as OpenCV's ``IMREAD_GRAYSCALE`` makes them from 8-bit RGB
    (the published simulator's input): each channel rounded to 8 bits, then (4899 R + 9617 G + 1868 B + 8192) >> 14.

    Parameters
    ----------
    frames_srgb : ndarray, float (..., 3) in [0, 1]

    Returns
    -------
    ndarray of uint8, (...)
    """
    return rgb8_to_gray8(to_uint8(frames_srgb))


def _simulate_rows(frames: np.ndarray, times: np.ndarray, k: np.ndarray, row0: int, row1: int, resid: np.ndarray,
                   states: np.ndarray, t_out: np.ndarray, x_out: np.ndarray, y_out: np.ndarray, p_out: np.ndarray,
                   *, vector: bool = True) -> int:
    """Run rows row0..row1-1 through the intervals between consecutive ``frames`` (N, H, W), uint8 or float64, at
    ``times`` (µs) with k1..k6 ``k``; returns the number of events written to the outputs (t float64 µs, x and y
    uint16, p int8), or -1 if they are too small (the caller grows them and reruns from saved state).

    ``resid`` (float64) and ``states`` (uint64), per pixel of those rows (flattened), carry the model between calls.
    ``vector``: let the kernel draw four pixels at a time in AVX2 where the CPU has it (False: never; same events).
    """
    n_frames, height, width = frames.shape
    pixels = (row1 - row0) * width
    if not 0 <= row0 <= row1 <= height or len(resid) != pixels or len(states) != pixels or len(times) != n_frames:
        raise ValueError(f"rows {row0}..{row1} of {frames.shape} frames with {len(times)} times, "
                         f"{len(resid)} residuals and {len(states)} streams")
    capacity = len(t_out)
    if not len(x_out) == len(y_out) == len(p_out) == capacity:
        raise ValueError("the event outputs differ in length")
    uint8 = frames.dtype == np.uint8
    return lib.voltmeter_rows(address(frames, np.uint8 if uint8 else np.float64), uint8, n_frames, height, width,
                              address(times, np.float64), address(k, np.float64), row0, row1,
                              address(resid, np.float64, writable=True), address(states, np.uint64, writable=True),
                              capacity, address(t_out, np.float64, writable=True),
                              address(x_out, np.uint16, writable=True), address(y_out, np.uint16, writable=True),
                              address(p_out, np.int8, writable=True), vector)


def _event_buffers(capacity: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Outputs of :func:`_simulate_rows` for ``capacity`` events: t (float64 µs), x, y (uint16), p (int8)."""
    return (np.empty(capacity, np.float64), np.empty(capacity, np.uint16), np.empty(capacity, np.uint16),
            np.empty(capacity, np.int8))


class DvsVoltmeter:
    """Streaming DVS-Voltmeter simulator for one sensor.

    Parameters
    ----------
    sensor_size : (int, int)
        (width, height) of the frames.
    params : VoltmeterParams
        k1..k6 (see :meth:`VoltmeterParams.preset` and :meth:`VoltmeterParams.random`).
    seed : int
        Seed of the per-pixel random streams.
    workers : int, optional
        Threads (default: all cores); results do not depend on it.

    Feed frames with :meth:`feed`; the first frame only initialises the state.
    """

    def __init__(self, sensor_size: tuple[int, int], params: VoltmeterParams, *, seed: int = 0,
                 workers: int | None = None):
        self.width, self.height, self._blocks = check_setup(sensor_size, seed, workers)
        self.params = params
        n = self.width * self.height
        self._resid = np.zeros(n, np.float64)
        self._states = stream_states(seed, n)
        self._last_frame = None
        self._last_time = None
        self._outputs = {block: _event_buffers(0) for block in self._blocks.blocks}  # per block, reused by feed

    def feed(self, frames: np.ndarray, times_us: np.ndarray) -> Events:
        """Simulate the events up to the last of ``frames``.

        Parameters
        ----------
        frames : ndarray (N, H, W)
            Gray values in [0, 255] (any real dtype; 8-bit as in the published simulator).
        times_us : ndarray (N,)
            Frame times in µs, strictly increasing and after the previous call's last frame.

        Returns
        -------
        Events
            Events after the previous frame, up to the last frame of this chunk, sorted by time.
        """
        frames, times = check_frames(frames, times_us, self.width, self.height, self._last_time)
        if self._last_frame is not None:
            frames = np.concatenate([self._last_frame[None], frames])
            times = np.concatenate([[self._last_time], times])
        self._last_frame, self._last_time = frames[-1].copy(), float(times[-1])
        if len(frames) < 2:
            return Events.empty((self.width, self.height))
        frames = np.ascontiguousarray(frames, np.uint8 if frames.dtype == np.uint8 else np.float64)
        k = self.params.as_array()

        def run(block):
            row0, row1 = block
            sl = slice(row0 * self.width, row1 * self.width)
            # half an event per pixel and interval at first (textured motion makes about 0.3), then what sufficed
            cap = max(1 << 16, len(self._outputs[block][0]), (row1 - row0) * self.width * (len(frames) - 1) // 2)
            while True:
                if len(self._outputs[block][0]) < cap:
                    self._outputs[block] = _event_buffers(cap)
                out = self._outputs[block]
                resid, states = self._resid[sl].copy(), self._states[sl].copy()
                n = _simulate_rows(frames, times, k, row0, row1, resid, states, *out)
                if n >= 0:
                    self._resid[sl], self._states[sl] = resid, states
                    return tuple(a[:n] for a in out)
                cap *= 4

        parts = self._blocks.map(run)
        return sorted_events(parts, (self.width, self.height), times)


def simulate_dvs_voltmeter(frames: np.ndarray, times_us: np.ndarray, params: VoltmeterParams, *, seed: int = 0,
                           chunk_frames: int = 32, workers: int | None = None) -> Events:
    """DVS-Voltmeter events of a whole frame sequence (see :class:`DvsVoltmeter`)."""
    frames = np.asarray(frames)
    sim = DvsVoltmeter((frames.shape[2], frames.shape[1]), params, seed=seed, workers=workers)
    parts = [sim.feed(frames[i:i + chunk_frames], np.asarray(times_us)[i:i + chunk_frames])
             for i in range(0, len(frames), chunk_frames)]
    return Events.concatenate(parts) if parts else Events.empty((frames.shape[2], frames.shape[1]))


def reference_dvs_voltmeter(frames: np.ndarray, times_us: np.ndarray, params: VoltmeterParams,
                            generator: np.random.Generator) -> Events:
    """Literal numpy transcription of the published DVS-Voltmeter algorithm (slow; the oracle for tests and the
    benchmark). Vectorised over pixels; loops in Python over the k-th event of each interval, with the published
    sampling formulas (inverse Gaussian by Michael–Schucany–Haas, the truncated normal by inverse CDF with erfinv,
    Lévy by erfinv)."""
    from scipy.special import erf, erfinv

    frames = np.asarray(frames, np.float64)
    times = np.asarray(times_us, np.float64)
    k1, k2, k3, k4, k5, k6 = params.as_array()
    _, h, w = frames.shape
    yy, xx = np.mgrid[0:h, 0:w]
    xx, yy = xx.ravel(), yy.ravel()
    resid = np.zeros(h * w)
    out = []

    def first_passage(ep, c, sigma):
        tau = np.empty_like(ep)
        zero = c == 0
        lam = (ep / sigma) ** 2
        tau[zero] = lam[zero] / erfinv(1 - generator.random(zero.sum())) ** 2
        nz = ~zero
        ep, c, sigma, lam = ep[nz], c[nz], sigma[nz], lam[nz]
        x = generator.standard_normal(len(ep))
        neg = c < 0
        with np.errstate(divide="ignore", invalid="ignore"):
            b = -np.sqrt(-4 * ep[neg] * c[neg] / sigma[neg] ** 2)
            beta_cdf = 0.5 * (1 + erf(b / np.sqrt(2)))
            v = np.clip(2 * (beta_cdf * generator.random(neg.sum())) - 1, -1, 1)
            x[neg] = np.minimum(np.sqrt(2) * erfinv(v), b)
            mean = ep / c
            y = mean * x * x
            xp = mean + mean / 2 / lam * (y - np.sqrt(4 * lam * y + y * y))
            u = generator.random(len(ep))
            tau[nz] = np.where(u > mean / (mean + xp), mean * mean / xp, xp)
        return tau

    for fi in range(len(frames) - 1):
        t0, t1 = times[fi], times[fi + 1]
        l0, l1 = frames[fi].ravel(), frames[fi + 1].ravel()
        lm = (l0 + l1) / 2
        mu_all = k1 * (l1 - l0) / (t1 - t0) / (lm + k2) + k4 + k5 * lm
        sigma_all = k3 * np.sqrt(lm) / (lm + k2) + k6
        idx = np.arange(h * w)
        start = np.full(h * w, t0)
        r = resid.copy()
        while len(idx):  # the k-th event of the interval, for every pixel that is still active
            mu, sigma = mu_all[idx], sigma_all[idx]
            a_on, b_off = 1 - r, 1 + r
            with np.errstate(over="ignore", invalid="ignore"):
                e_b = np.exp(2 * mu * b_off / sigma ** 2)
                e_a = np.exp(-2 * mu * a_on / sigma ** 2)
                p_on = (e_b - 1) / (e_b - e_a)
            p_on = np.where(np.isnan(p_on), 1.0, p_on)
            p_on = np.where(mu == 0, 0.5, p_on)
            on = generator.random(len(idx)) <= p_on
            ep = np.where(on, a_on, b_off)
            tau = first_passage(ep, np.where(on, mu, -mu), sigma)
            t_event = start + tau
            fired = t_event < t1
            done = ~fired
            resid[idx[done]] = r[done] + np.where(on[done], 1, -1) * ep[done] * (t1 - start[done]) / tau[done]
            out.append((t_event[fired], xx[idx[fired]], yy[idx[fired]], np.where(on[fired], 1, -1)))
            idx, start, r = idx[fired], t_event[fired], np.zeros(int(fired.sum()))
    parts = [(t, x.astype(np.uint16), y.astype(np.uint16), p.astype(np.int8)) for t, x, y, p in out]
    return sorted_events(parts, (w, h), times)
