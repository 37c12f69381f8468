"""The E2VID voxel grid: events spread over B temporal bins by linear interpolation, then normalised.

Conventions (matching the E2VID / E2VID+ reference): with events sorted by time and B bins,
t* = (B − 1)·(t − t_first)/(t_last − t_first) (the denominator is 1 if zero); with i = floor(t*), d = t* − i, each
event adds p·(1 − d) to bin i and p·d to bin i + 1 (when it exists), p = ±1. Normalisation acts on the non-zero voxels
only: V ← (V − mean)/std with the population std, zeros stay zero; skipped when every voxel is zero, and only centred
when the std is zero.
"""

from __future__ import annotations

import numpy as np

from .._kernels import lib, records
from ..errors import NeurofocusError
from ..types import Events


def normalize_voxel_grid(grid: np.ndarray) -> np.ndarray:
    """E2VID normalisation over the non-zero voxels (population std); returns a new float32 array."""
    grid = np.array(grid, dtype=np.float32)
    mask = grid != 0
    n = np.count_nonzero(mask)
    if n:
        values = grid[mask].astype(np.float64)
        mean, std = values.mean(), values.std()
        grid[mask] = (values - mean) / std if std > 0 else values - mean
    return grid


def voxel_grid(events: Events, num_bins: int = 5, *, normalize: bool = True) -> np.ndarray:
    """E2VID voxel grid of a window of events.

    Parameters
    ----------
    events : Events
        The window (its first and last events define the time span).
    num_bins : int
        B, the number of temporal bins (E2VID uses 5).
    normalize : bool
        Apply the E2VID normalisation.

    Returns
    -------
    ndarray of float32, (B, H, W)
    """
    if int(num_bins) < 1:
        raise NeurofocusError(f"num_bins must be >= 1, got {num_bins}")
    acc = np.zeros((int(num_bins), events.height, events.width), np.float64)
    if len(events) and lib.splat_voxels(*records(events.data), int(num_bins), events.width, events.height,
                                        acc.ctypes.data):
        raise NeurofocusError(f"unsorted events or events outside the {events.width}x{events.height} sensor")
    return normalize_voxel_grid(acc) if normalize else acc.astype(np.float32)
