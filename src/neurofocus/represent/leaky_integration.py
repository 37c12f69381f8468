"""Classical intensity reconstruction: per-pixel leaky integration of events (a high-pass filter on log intensity).

Each event adds ±c to its pixel's log-intensity estimate L, and between events L decays towards 0 as
L(t) = L(t_k) · exp(−ω (t − t_k)) with cut-off frequency ω = 2π f_c (Scheerlinck et al., ACCV 2018, "Continuous-time
intensity estimation using event cameras", the high-pass filter without frames). The decay forgets the unknown initial
intensity and the drift from threshold mismatch and noise; what stays are the edges seen in the last ~1/ω seconds.
This is the baseline that shows what the learned reconstructions (E2VID, EvFocus) add.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ..errors import NeurofocusError
from ..types import Events


@numba.njit(cache=True, nogil=True)
def _integrate(t, x, y, p, contrast, omega_per_us, log_image, last_t):
    for k in range(len(t)):
        xi, yi = x[k], y[k]
        decay = math.exp(-omega_per_us * (t[k] - last_t[yi, xi]))
        log_image[yi, xi] = log_image[yi, xi] * decay + (contrast if p[k] > 0 else -contrast)
        last_t[yi, xi] = t[k]


class LeakyIntegrator:
    """Streaming leaky event integrator; state (log image, time of each pixel's last event) carries over calls.

    Parameters
    ----------
    width, height : int
        Sensor size in pixels.
    contrast : float
        Log-intensity step per event (the contrast threshold c, 0.2 by default: a typical DVS setting).
    cutoff_hz : float
        Cut-off frequency f_c of the high-pass filter in Hz (> 0).
    """

    def __init__(self, width: int, height: int, contrast: float = 0.2, cutoff_hz: float = 5.0):
        if not (math.isfinite(contrast) and contrast > 0):
            raise NeurofocusError(f"contrast must be a positive number, got {contrast!r}")
        if not (math.isfinite(cutoff_hz) and cutoff_hz > 0):
            raise NeurofocusError(f"cutoff_hz must be a positive number of Hz, got {cutoff_hz!r}")
        self.contrast = float(contrast)
        self.omega_per_us = 2.0 * math.pi * float(cutoff_hz) * 1e-6
        self.log_image = np.zeros((height, width), np.float64)
        self.last_t = np.zeros((height, width), np.int64)
        self._started = False

    def update(self, events: Events) -> None:
        """Integrate ``events`` (sorted, later than every event seen before)."""
        if len(events) == 0:
            return
        if not self._started:
            self.last_t[:] = events.t[0]
            self._started = True
        _integrate(events.t, events.x, events.y, events.p, self.contrast, self.omega_per_us, self.log_image,
                   self.last_t)

    def log_intensity(self, t_us: int) -> np.ndarray:
        """float64 (H, W) log-intensity estimate (relative, 0 = no change seen recently) at time ``t_us``."""
        age = np.maximum(int(t_us) - self.last_t, 0)
        return self.log_image * np.exp(-self.omega_per_us * age)

    def image(self, t_us: int, percentiles: tuple[float, float] = (1.0, 99.0)) -> np.ndarray:
        """float32 (H, W) display image in [0, 1]: exp of :meth:`log_intensity`, robust percentiles to 0 and 1."""
        linear = np.exp(self.log_intensity(t_us))
        lo, hi = np.percentile(linear, percentiles)
        if hi - lo < 1e-9:
            return np.full(linear.shape, 0.5, np.float32)
        return np.clip((linear - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)
