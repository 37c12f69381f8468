"""Merging a focal stack with per-slice focus measures (NFS Eq. 5), one slice at a time.

The weight of slice i at a pixel is f_i^γ / Σ_j f_j^γ (f: the slice's focus measure, γ: ``power``; γ = 1 is the
papers' plain normalisation, a larger γ favours the sharpest slice). Slices are merged in linear light. The merger
accumulates the weighted sum, the total weight and the best slice per pixel as slices arrive (float32), so the stack
is never held in memory.
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
        self._best = np.full(shape, -np.inf, np.float32)
        self._best_time = np.zeros(shape, np.float64)
        self.count = 0

    def add(self, linear_rgb: np.ndarray, measure: np.ndarray, t_us: float) -> None:
        """Add a slice (linear RGB (H, W, 3)) with its focus measure (H, W) and time (µs)."""
        w = np.power(np.maximum(measure, 0).astype(np.float32), np.float32(self.power))
        self._sum += w[..., None] * linear_rgb.astype(np.float32, copy=False)
        self._weight += w
        better = measure > self._best
        self._best = np.where(better, measure, self._best)
        self._best_time = np.where(better, t_us, self._best_time)
        self.count += 1

    def result(self, fallback_linear: np.ndarray, fallback_time_us: float) -> tuple[np.ndarray, np.ndarray]:
        """(merged linear RGB float32 (H, W, 3), in-focus time of each pixel in µs (H, W)).

        Pixels where every measure was 0 (no signal at all) take ``fallback_linear`` (the input image) and its time.
        """
        empty = self._weight <= 0
        merged = np.where(empty[..., None], fallback_linear,
                          self._sum / np.where(empty, 1.0, self._weight)[..., None]).astype(np.float32)
        infocus = np.where(empty, fallback_time_us, self._best_time)
        return merged, infocus
