"""Input checks shared by the no-reference metrics."""

from __future__ import annotations

import numpy as np

from ..errors import NeurofocusError


def unit_image(image, name: str = "image", *, min_side: int = 1) -> np.ndarray:
    """``image`` as float64 in [0, 1]: (H, W) gray or (H, W, 3) RGB; uint8 is divided by 255, uint16 by 65535.

    Raises NeurofocusError for another shape, a non-real dtype, NaN/inf, values outside [0, 1] (floats) or a side
    shorter than ``min_side``.
    """
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] != 3):
        raise NeurofocusError(f"{name} must be (H, W) gray or (H, W, 3) RGB, got shape {array.shape}")
    if array.dtype == np.uint8:
        out = array.astype(np.float64) / 255.0
    elif array.dtype == np.uint16:
        out = array.astype(np.float64) / 65535.0
    elif np.issubdtype(array.dtype, np.floating) or array.dtype == bool:
        out = array.astype(np.float64)
        if not np.all(np.isfinite(out)):
            raise NeurofocusError(f"{name} contains NaN or infinite values")
        lo, hi = float(out.min()), float(out.max())
        if lo < 0 or hi > 1:
            raise NeurofocusError(f"{name} values must lie in [0, 1], got {lo:.4g} … {hi:.4g} (clip it, or divide "
                                  "8-bit data by 255)")
    else:
        raise NeurofocusError(f"{name} has unsupported dtype {array.dtype} (use float in [0, 1] or uint8)")
    if min(out.shape[:2]) < min_side:
        raise NeurofocusError(f"{name} of {out.shape[1]}x{out.shape[0]} pixels is too small (each side must be at "
                              f"least {min_side})")
    return out
