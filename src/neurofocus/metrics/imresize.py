"""MATLAB-compatible ``imresize`` (bicubic, with antialiasing when shrinking), in numpy.

No-reference metrics such as NIQE were defined with MATLAB's ``imresize(I, scale)`` and their published numbers
depend on it: its bicubic kernel (Keys, a = -0.5), its antialiasing (when shrinking by s < 1 the kernel is
stretched by 1/s and scaled by s, so it also low-pass filters), its half-pixel-centred coordinate mapping and its
mirrored (symmetric) borders. OpenCV's and PIL's bicubic resizes differ from it.
"""

from __future__ import annotations

import math

import numpy as np

from ..config_dicts import positive_float
from ..errors import NeurofocusError


def cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB's bicubic)."""
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    near = (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
    far = (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2))
    return near + far


def resize_matrix(in_length: int, scale: float, out_length: int | None = None, antialiasing: bool = True) -> np.ndarray:
    """The (out_length, in_length) matrix that resizes one axis as MATLAB's ``imresize`` does.

    Output sample x (1-based) sits at input coordinate ``u = x / scale + 0.5 · (1 − 1 / scale)``; it takes the
    kernel-weighted input samples within the kernel's support, the weights normalised to sum to 1, indices beyond the
    border mirrored (``… 2 1 | 1 2 … n | n n−1 …``).
    """
    if out_length is None:
        out_length = math.ceil(in_length * scale)
    width = 4.0
    if scale < 1 and antialiasing:
        kernel = lambda d: scale * cubic(scale * d)
        width = width / scale
    else:
        kernel = cubic
    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    taps = math.ceil(width) + 2
    indices = left[:, None] + np.arange(taps)[None, :]  # 1-based input positions
    weights = kernel(u[:, None] - indices)
    weights /= weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_length), np.arange(in_length - 1, -1, -1)])
    columns = mirror[(indices.astype(np.int64) - 1) % (2 * in_length)]
    matrix = np.zeros((out_length, in_length))
    np.add.at(matrix, (np.repeat(np.arange(out_length), taps), columns.ravel()), weights.ravel())
    return matrix


def imresize(image: np.ndarray, scale: float, antialiasing: bool = True) -> np.ndarray:
    """Resize a (H, W) or (H, W, C) float image by ``scale`` like MATLAB's ``imresize(image, scale)`` (bicubic).

    Parameters
    ----------
    image : ndarray
        (H, W) or (H, W, C); any real dtype, computed in float64 (no rounding or clipping).
    scale : float
        Positive factor; the output is ``ceil(H · scale) × ceil(W · scale)``.
    antialiasing : bool
        MATLAB's default (True): widen the kernel when shrinking.

    Returns
    -------
    ndarray
        float64.

    Examples
    --------
    >>> imresize(np.ones((6, 8)), 0.5).shape
    (3, 4)
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim not in (2, 3):
        raise NeurofocusError(f"imresize expects an (H, W) or (H, W, C) image, got shape {image.shape}")
    scale = positive_float(scale, "scale")
    rows = resize_matrix(image.shape[0], scale, antialiasing=antialiasing)
    cols = resize_matrix(image.shape[1], scale, antialiasing=antialiasing)
    out = np.tensordot(rows, image, axes=(1, 0))  # MATLAB resizes the first dimension first for equal scales
    out = np.moveaxis(np.tensordot(cols, out, axes=(1, 1)), 0, 1)
    return out
