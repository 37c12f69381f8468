"""Focus measures per stack slice, turned into merge weights (NFS Eq. 5, 12, 13).

Each function returns, for one slice time, a non-negative map (H, W) that is large where the slice is in focus;
:class:`~.merge.StackMerger` turns the maps of all slices into weights that sum to one per pixel.

* Events, polarity symmetry (Eq. 12): as the focus passes a point its blur shrinks and grows again, so the events
  before the in-focus time are mirrored by events of the opposite polarity after it. With CNT(t, p, ≤/≥) the number
  of events of polarity p before/after t, f(t) = max(min(CNT(t, OFF, ≤), CNT(t, ON, ≥)),
  min(CNT(t, ON, ≤), CNT(t, OFF, ≥))), smoothed by a Gaussian (one pixel sees few events).
* Events, symmetry times sharpness (the default for events): Eq. 12 says *when* a pixel passes focus, but on sparse
  streams its maximum is broad (few events, so several slices tie) and a pixel whose events are all of one sign
  shows no symmetry at all. The slice's own sharpness tells the tied slices apart: :func:`local_contrast` is the
  sharpness D of Algorithm 1 (variance over squared mean of the linear luminance) evaluated in a Gaussian window
  around each pixel, and the event measure becomes f · D^β (β: ``AifConfig.sharpness_power``). Where the smoothed
  symmetry is below a floor (``AifConfig.symmetry_floor``, in events) the slice has no symmetry evidence. A pixel
  whose events are all of one sign (in focus at or beyond an end of the sweep, or its trajectory only starts or
  ends turning inside it) has none for any slice although its slices differ; if it is *active*
  (:func:`active_pixels`: at least two events beyond the expected leak nearby), every such slice keeps the floor
  and D alone picks among them. Elsewhere the measure is 0, and a pixel with no evidence at all keeps the input
  image rather than letting D (which also rises with refocusing noise) decide.
* Spikes, spike-rate variance (Eq. 13): the local (Gaussian-windowed) variance of the firing rate around t,
  normalised by the local squared mean: high where fine texture is in focus. The TFP rate image is noisy (shot
  noise); by default it is multiplied by D^β of the refocused slice as for events (on the benchmark's synthetic
  scenes +0.7 dB for β = 2, light field +0.05 dB).
* Gradient energy ("GDF", image only): the local energy of the Laplacian of the slice's luminance, normalised by
  its local squared mean: the classical focus measure of focal-stack fusion (Horn; Zhou et al.).
* Oracle (synthetic data): all weight on the slice whose time is closest to the true in-focus time.
"""

from __future__ import annotations

import numpy as np

from .. import filters
from ..represent import PolarityTable


def _smooth(a: np.ndarray, sigma: float) -> np.ndarray:
    return filters.gaussian(a.astype(np.float32), sigma)


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


def active_pixels(table: PolarityTable, min_events: int, leak_rate: np.ndarray | None, duration_us: float,
                  radius_sigma_px: float = 1.0) -> np.ndarray:
    """Pixels whose intensity changed during the sweep: at least ``min_events`` events beyond the expected leak
    (``leak_rate`` net events per µs, over ``duration_us``), dilated by about 2 px (Gaussian of ``radius_sigma_px``
    above 5 %) since the refocusing gain is smoothed. bool (H, W); all False for ``min_events`` = 0."""
    if min_events <= 0:
        return np.zeros((table.height, table.width), bool)
    count = table.events_per_pixel.astype(np.float32)
    if leak_rate is not None:
        count = count - np.maximum(leak_rate, 0) * np.float32(duration_us)
    return _smooth((count >= min_events).astype(np.float32), radius_sigma_px) > 0.05


def local_contrast(luminance: np.ndarray, sigma_px: float) -> np.ndarray:
    """D of Algorithm 1 per pixel: Gaussian-windowed variance of the linear luminance over its squared local mean,
    float32 (H, W)."""
    y = luminance.astype(np.float32)
    mean = _smooth(y, sigma_px)
    var = np.maximum(_smooth(y * y, sigma_px) - mean * mean, 0)
    return var / (mean * mean + 1e-6)


def gradient_energy(luminance: np.ndarray, sigma_px: float) -> np.ndarray:
    """Local Laplacian energy of a slice's linear luminance over its local squared mean: float32 (H, W)."""
    y = luminance.astype(np.float32)
    energy = _smooth(filters.laplace(y) ** 2, sigma_px)
    return energy / (_smooth(y, sigma_px) ** 2 + 1e-6)


def oracle(infocus_time_us: np.ndarray, slice_times_us: np.ndarray, index: int) -> np.ndarray:
    """1 where slice ``index`` is the slice nearest to the true in-focus time, else 0: float32 (H, W)."""
    nearest = np.argmin(np.abs(infocus_time_us[..., None] - np.asarray(slice_times_us)[None, None, :]), axis=2)
    return (nearest == index).astype(np.float32)
