"""Image-only baseline: what a single defocused photograph gives without a neuromorphic sensor.

Unsharp masking, I + amount·(I − G_σ * I) in sRGB, clipped to [0, 1]: the classical sharpening every camera
pipeline has. (Learned single-image deblurring networks need weights that cannot be obtained offline here; a
classical deconvolution would need the unknown, spatially varying blur.)
"""

from __future__ import annotations

import numpy as np

from .. import filters


def unsharp_mask(image: np.ndarray, sigma_px: float = 2.0, amount: float = 0.8) -> np.ndarray:
    """Sharpened sRGB image, float32 (H, W, 3) in [0, 1]."""
    image = np.asarray(image, np.float32)
    blurred = filters.gaussian(image, sigma_px)
    return np.clip(image + amount * (image - blurred), 0.0, 1.0).astype(np.float32)
