"""Focus measures per stack slice, turned into merge weights (NFS Eq. 5, 12, 13).

Each function returns, for one slice time, a non-negative map (H, W) that is large where the slice is in focus;
:class:`~.merge.StackMerger` turns the maps of all slices into weights that sum to one per pixel.

* Events, polarity symmetry (Eq. 12): as the focus passes a point its blur shrinks and grows again, so the events
  before the in-focus time are mirrored by events of the opposite polarity after it. With CNT(t, p, ≤/≥) the number
  of events of polarity p before/after t, f(t) = max(min(CNT(t, OFF, ≤), CNT(t, ON, ≥)),
  min(CNT(t, ON, ≤), CNT(t, OFF, ≥))), smoothed by a Gaussian (one pixel sees few events).
* Spikes, spike-rate variance (Eq. 13): the local (Gaussian-windowed) variance of the firing rate around t,
  normalised by the local squared mean: high where fine texture is in focus.
* Gradient energy ("GDF", image only): the local energy of the Laplacian of the slice's luminance, normalised by
  its local squared mean: the classical focus measure of focal-stack fusion (Horn; Zhou et al.).
* Oracle (synthetic data): all weight on the slice whose time is closest to the true in-focus time.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..represent import PolarityTable


def _smooth(a: np.ndarray, sigma: float) -> np.ndarray:
    return ndimage.gaussian_filter(a.astype(np.float32), sigma, mode="nearest") if sigma > 0 else a.astype(np.float32)


def polarity_symmetry(table: PolarityTable, t_us: int, start_us: int, end_us: int, sigma_px: float,
                      on_drift_rate: np.ndarray | None = None) -> np.ndarray:
    """Eq. 12 at time ``t_us`` for a table of the sweep [start_us, end_us] (µs): float32 (H, W).

    ``on_drift_rate`` (ON events per µs per pixel, e.g. DVS leak) is subtracted from the ON counts before and after
    ``t_us`` (clipped at 0), so that a steady stream of ON events does not pass for symmetry.
    """
    on_before, off_before, on_after, off_after = table.split_counts(t_us)  # the table holds the sweep's events
    if on_drift_rate is not None:
        on_before = np.maximum(on_before - on_drift_rate * (t_us - start_us), 0)
        on_after = np.maximum(on_after - on_drift_rate * (end_us - t_us), 0)
    f = np.maximum(np.minimum(off_before, on_after), np.minimum(on_before, off_after))
    return _smooth(f, sigma_px)


def spike_rate_variance(rate: np.ndarray, sigma_px: float) -> np.ndarray:
    """Eq. 13 on a TFP rate image (spikes per tick) around the slice time: float32 (H, W)."""
    rate = rate.astype(np.float32)
    mean = _smooth(rate, sigma_px)
    var = np.maximum(_smooth(rate * rate, sigma_px) - mean * mean, 0)
    return var / (mean * mean + 1e-4)


def gradient_energy(luminance: np.ndarray, sigma_px: float) -> np.ndarray:
    """Local Laplacian energy of a slice's linear luminance over its local squared mean: float32 (H, W)."""
    y = luminance.astype(np.float32)
    energy = _smooth(ndimage.laplace(y, mode="nearest") ** 2, sigma_px)
    return energy / (_smooth(y, sigma_px) ** 2 + 1e-6)


def oracle(infocus_time_us: np.ndarray, slice_times_us: np.ndarray, index: int) -> np.ndarray:
    """1 where slice ``index`` is the slice nearest to the true in-focus time, else 0: float32 (H, W)."""
    nearest = np.argmin(np.abs(infocus_time_us[..., None] - np.asarray(slice_times_us)[None, None, :]), axis=2)
    return (nearest == index).astype(np.float32)
