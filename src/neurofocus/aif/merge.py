"""Merging a focal stack with per-slice focus measures (NFS Eq. 5), one slice at a time.

The weight of slice i at a pixel is f_i^γ / Σ_j f_j^γ (f: the slice's focus measure, γ: ``power``; γ = 1 is the
papers' plain normalisation, a larger γ favours the sharpest slice). Slices are merged in linear light. The merger
accumulates the weighted sum, the total weight and the best slice per pixel as slices arrive (float32), so the stack
is never held in memory.

The weights are accumulated in the log domain, relative to the largest γ·log f seen so far at each pixel (the
streaming form of the log-sum-exp trick): f^γ of a small measure (f = 1e-6, γ = 8) neither underflows float32 nor
does a large one overflow it, so the result depends on the ratios of the measures only. A pixel whose measures are
all exactly 0 has no weight and takes the fallback (the input image); rules that want such a "no signal" state set
their measure to 0 explicitly (see the symmetry floor in :mod:`.pipeline`).
"""

from __future__ import annotations

import numpy as np


class StackMerger:
    """Streaming merge of refocused slices.

    Parameters
    ----------
    shape : (int, int)
        (H, W).
    power : float
        γ in the weights f^γ / Σ f^γ.
    """

    def __init__(self, shape: tuple[int, int], power: float = 1.0):
        self.power = float(power)
        self._sum = np.zeros(shape + (3,), np.float32)
        self._weight = np.zeros(shape, np.float32)
        self._log_max = np.full(shape, -np.inf, np.float32)  # largest γ·log f so far; weights are relative to it
        self._best = np.full(shape, -np.inf, np.float32)
        self._best_time = np.zeros(shape, np.float64)
        self.count = 0

    def add(self, linear_rgb: np.ndarray, measure: np.ndarray, t_us: float, timing: np.ndarray | None = None) -> None:
        """Add a slice (linear RGB (H, W, 3)) with its focus measure (H, W) and time (µs).

        ``timing`` (H, W), if given, replaces ``measure`` for the per-pixel in-focus time (the slice whose
        ``timing`` is largest), e.g. a measure without the floors that decide where the input image is kept.
        """
        measure = np.maximum(measure, 0).astype(np.float32, copy=False)
        with np.errstate(divide="ignore"):
            log_w = np.float32(self.power) * np.log(measure)  # -inf where the measure is 0
        new_max = np.maximum(self._log_max, log_w)
        reference = np.where(np.isfinite(new_max), new_max, np.float32(0))
        rescale = np.exp(self._log_max - reference)  # 0 where nothing was accumulated yet
        w = np.exp(log_w - reference)
        self._sum *= rescale[..., None]
        self._sum += w[..., None] * linear_rgb.astype(np.float32, copy=False)
        self._weight = self._weight * rescale + w
        self._log_max = new_max
        timing = measure if timing is None else timing
        better = timing > self._best
        self._best = np.where(better, timing, self._best)
        self._best_time = np.where(better, t_us, self._best_time)
        self.count += 1

    def result(self, fallback_linear: np.ndarray, fallback_time_us: float) -> tuple[np.ndarray, np.ndarray]:
        """(merged linear RGB float32 (H, W, 3), in-focus time of each pixel in µs (H, W)).

        Pixels where every measure was 0 (no signal at all) take ``fallback_linear`` (the input image); pixels where
        every timing measure (by default the measure) was 0 take ``fallback_time_us``.
        """
        empty = self._weight <= 0
        merged = np.where(empty[..., None], fallback_linear,
                          self._sum / np.where(empty, 1.0, self._weight)[..., None]).astype(np.float32)
        infocus = np.where(self._best > 0, self._best_time, fallback_time_us)
        return merged, infocus
