"""NIQE, the Natural Image Quality Evaluator (Mittal, Soundararajan & Bovik 2013): a no-reference score, lower is
better.

The image's natural-scene statistics are compared with those of pristine photographs: NIQE fits a multivariate
Gaussian (MVG) to 36 features of each 96×96 patch of the image and returns the distance between that MVG and the one
fitted to pristine images (the published model, shipped as ``neurofocus/weights/niqe_pris_params.npz``).

Algorithm, as in the LIVE MATLAB release (``computequality.m``):

1. Luminance on the 0–255 scale, rounded to integers (as MATLAB's uint8): by default the Y of ITU-R BT.601 YCbCr as
   MATLAB's ``rgb2ycbcr`` computes it, ``Y = 16 + 65.481 R + 128.553 G + 24.966 B`` (R, G, B in [0, 1]); optionally
   MATLAB's ``rgb2gray`` ``0.2989 R + 0.5870 G + 0.1140 B`` (× 255). The image is cropped to whole 96×96 patches.
2. At two scales (the image, then ``imresize(·, 0.5)`` — MATLAB bicubic with antialiasing, not rounded):
   MSCN coefficients ``(I − μ) / (σ + 1)``, μ and σ² local means of I and I² − μ² under the 7×7 Gaussian window
   (σ = 7/6) with replicated borders (``σ = sqrt(|E[I²] − μ²|)``).
3. Per patch (96×96, then 48×48): a generalised Gaussian fit of the MSCN coefficients (shape α and scale
   ``(β_l + β_r) / 2``) and asymmetric generalised Gaussian fits (α, mean, β_l, β_r) of the products of each
   coefficient with its circularly shifted neighbour along (0, 1), (1, 0), (1, 1) and (1, −1) — 18 features per
   scale. The shape α is found by moment matching on MATLAB's grid 0.2:0.001:10.
4. The patches' mean feature vector ν (NaN-aware) and covariance Σ (patches without NaN, N − 1 normalisation);
   ``NIQE = sqrt((ν_p − ν)ᵀ pinv((Σ_p + Σ) / 2) (ν_p − ν))``.

References
----------
A. Mittal, R. Soundararajan, A. C. Bovik, "Making a 'completely blind' image quality analyzer", IEEE Signal
Processing Letters 20(3), 2013. The pristine parameters are those of the LIVE release, as shipped by BasicSR
(Apache-2.0), whose re-implementation gives 5.7296 on BasicSR's ``baboon.png`` (MATLAB R2021a: 5.72957).
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
from scipy import ndimage, special

from ..errors import NeurofocusError
from ._images import unit_image
from .imresize import imresize

PATCH = 96
#: MATLAB's grid of generalised-Gaussian shapes.
_ALPHAS = np.round(np.arange(0.2, 10.0005, 0.001), 3)
#: Neighbour offsets of the pairwise products (rows, columns), as circshift in the reference.
_SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))
#: MATLAB rgb2gray weights.
RGB2GRAY = (0.298936021293775, 0.587043074451121, 0.114020904255103)
#: MATLAB rgb2ycbcr luma row (input in [0, 1], output on the 0–255 scale, plus 16).
YCBCR_Y = (65.481, 128.553, 24.966)


@functools.lru_cache(maxsize=1)
def pristine_model() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mu (36,), cov (36, 36), window (7, 7)) of the shipped pristine model."""
    from ..weights import weight_path

    path = weight_path("niqe_pris_params.npz")
    try:
        with np.load(path, allow_pickle=False) as npz:
            mu, cov, window = (np.array(npz[k], np.float64) for k in
                               ("mu_pris_param", "cov_pris_param", "gaussian_window"))
    except (KeyError, ValueError, OSError) as exc:
        raise NeurofocusError(f"not a NIQE parameter file ({exc})", path) from None
    if mu.shape != (1, 36) or cov.shape != (36, 36) or window.shape != (7, 7):
        raise NeurofocusError(f"unexpected NIQE parameter shapes {mu.shape}, {cov.shape}, {window.shape}", path)
    return mu[0], cov, window


@functools.lru_cache(maxsize=1)
def _ratio_table() -> np.ndarray:
    a = _ALPHAS
    return special.gamma(2 / a) ** 2 / (special.gamma(1 / a) * special.gamma(3 / a))


def _aggd(x: np.ndarray) -> np.ndarray:
    """Moment-matching AGGD fits of each row of ``x`` (n, m) → (n, 3): alpha, beta_left, beta_right."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        neg, pos = x < 0, x > 0
        left = np.sqrt(np.sum(np.where(neg, x * x, 0), axis=1) / np.sum(neg, axis=1))
        right = np.sqrt(np.sum(np.where(pos, x * x, 0), axis=1) / np.sum(pos, axis=1))
        gamma_hat = left / right
        r_hat = np.mean(np.abs(x), axis=1) ** 2 / np.mean(x * x, axis=1)
        r_norm = r_hat * (gamma_hat**3 + 1) * (gamma_hat + 1) / (gamma_hat**2 + 1) ** 2
    table = _ratio_table()
    alpha = np.empty(len(x))
    for i, r in enumerate(r_norm):  # nearest grid value; the first one on a tie, and the first for NaN (as argmin)
        alpha[i] = _ALPHAS[np.argmin((table - r) ** 2)]
    factor = np.sqrt(special.gamma(1 / alpha) / special.gamma(3 / alpha))
    return np.stack([alpha, left * factor, right * factor], axis=1)


def _patch_features(mscn: np.ndarray, patch: int) -> np.ndarray:
    """(n_patches, 18) features of the whole patches of an MSCN map."""
    rows, cols = mscn.shape[0] // patch, mscn.shape[1] // patch
    blocks = mscn[:rows * patch, :cols * patch].reshape(rows, patch, cols, patch).transpose(0, 2, 1, 3)
    blocks = blocks.reshape(rows * cols, patch, patch)
    fits = _aggd(blocks.reshape(len(blocks), -1))
    features = [fits[:, 0], (fits[:, 1] + fits[:, 2]) / 2]
    for shift in _SHIFTS:
        products = blocks * np.roll(blocks, shift, axis=(1, 2))
        alpha, bl, br = _aggd(products.reshape(len(blocks), -1)).T
        mean = (br - bl) * special.gamma(2 / alpha) / special.gamma(1 / alpha)
        features += [alpha, mean, bl, br]
    return np.stack(features, axis=1)


def _mscn(image: np.ndarray, window: np.ndarray) -> np.ndarray:
    mu = ndimage.correlate(image, window, mode="nearest")
    sigma = np.sqrt(np.abs(ndimage.correlate(image * image, window, mode="nearest") - mu * mu))
    mscn = (image - mu) / (sigma + 1)
    # In a flat neighbourhood the coefficient is 0 in exact arithmetic, but floating-point residues (~1e-13) with an
    # arbitrary sign would be counted as left or right samples by the AGGD fits and shift the score by up to ~0.03
    # on images with flat areas; use the exact value so that the score does not depend on roundoff.
    size = window.shape
    spread = ndimage.maximum_filter(image, size, mode="nearest") - ndimage.minimum_filter(image, size, mode="nearest")
    mscn[spread <= 1e-9 * max(1.0, float(np.abs(image).max()))] = 0.0
    return mscn


def luminance_255(image, convert: str = "y") -> np.ndarray:
    """The rounded 0–255 luminance NIQE works on (see the module docstring); gray input is scaled by 255."""
    image = unit_image(image)
    if image.ndim == 3:
        if convert == "y":
            lum = 16.0 + image @ np.array(YCBCR_Y)
        elif convert == "gray":
            lum = 255.0 * (image @ np.array(RGB2GRAY))
        else:
            raise NeurofocusError(f"convert must be 'y' or 'gray', got {convert!r}")
    else:
        lum = 255.0 * image
    return np.floor(lum + 0.5)  # MATLAB's round to uint8 (half away from zero; values are non-negative)


def niqe(image, convert: str = "y") -> float:
    """NIQE score of an image (no reference; lower is better; pristine photographs score about 3–5).

    Parameters
    ----------
    image : array_like
        (H, W, 3) sRGB or (H, W) gray, float in [0, 1] (or uint8). Both sides must be at least 96 pixels and the
        image must hold at least two whole 96×96 patches; only whole patches are used (the right and bottom
        remainders are cropped).
    convert : {"y", "gray"}
        Luminance of an RGB image: "y" (default) is MATLAB's ``rgb2ycbcr`` Y, which is what BasicSR's reference and
        its 5.7296 on ``baboon.png`` use; "gray" is MATLAB's ``rgb2gray``, which the LIVE ``computequality.m``
        applies to colour input.

    Returns
    -------
    float

    Raises
    ------
    NeurofocusError
        Wrong shape or dtype, NaN/inf, values outside [0, 1], or an image too small.

    Examples
    --------
    >>> from skimage import data
    >>> round(niqe(data.chelsea()), 4)
    2.6255
    """
    lum = luminance_255(image, convert)
    h, w = lum.shape
    rows, cols = h // PATCH, w // PATCH
    if rows < 1 or cols < 1 or rows * cols < 2:
        raise NeurofocusError(f"NIQE needs at least two whole {PATCH}x{PATCH} patches, the image is {w}x{h}")
    mu_p, cov_p, window = pristine_model()
    lum = lum[:rows * PATCH, :cols * PATCH]
    features = [_patch_features(_mscn(lum, window), PATCH)]
    half = imresize(lum / 255.0, 0.5) * 255.0
    features.append(_patch_features(_mscn(half, window), PATCH // 2))
    features = np.concatenate(features, axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mu = np.nanmean(features, axis=0)
    complete = features[~np.isnan(features).any(axis=1)]
    if len(complete) < 2 or np.isnan(mu).any():
        raise NeurofocusError("NIQE is undefined for this image: its patches are flat (no texture to measure)")
    cov = np.cov(complete, rowvar=False)
    d = mu_p - mu
    return float(np.sqrt(d @ np.linalg.pinv((cov_p + cov) / 2) @ d))
