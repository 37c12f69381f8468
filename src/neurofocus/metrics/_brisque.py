"""BRISQUE, the Blind/Referenceless Image Spatial Quality Evaluator (Mittal, Moorthy & Bovik 2012): a no-reference
score, lower is better (about 0–100 on typical photographs; it can leave that range).

36 natural-scene-statistics features feed a support-vector regressor trained on the LIVE IQA database. neurofocus
ships the LIVE regressor of the ``brisque`` PyPI package (v0.2.0, Apache-2.0) as ``neurofocus/weights/
brisque_live.npz`` and computes the features exactly as that package does, so the scores equal the package's (a
widely used reference) without its dependencies (libsvm, and numpy < 2.4):

1. Gray ``0.2125 R + 0.7154 G + 0.0721 B`` (scikit-image's ``rgb2gray``) in [0, 1].
2. At two scales (the image, then OpenCV's bicubic ``resize`` by 0.5): MSCN coefficients
   ``(I − μ) / (σ + 1/255)``, μ and σ = sqrt(|E[I²] − μ²|) local statistics under a normalised 7×7 Gaussian
   (σ = 7/6) with zero padding outside the image.
3. Asymmetric generalised Gaussian fits (moment matching, shape α solved exactly) of the MSCN coefficients
   (features α, (σ_l² + σ_r²) / 2) and of their products with the right, lower, lower-right and lower-left
   neighbours (features α, mean, σ_l², σ_r²): 18 features per scale.
4. Features scaled to [−1, 1] by the training ranges; score = Σ_i c_i exp(−γ ‖x − s_i‖²) − ρ over the 770
   support vectors s_i.

This differs in details from the LIVE MATLAB release (which pads by replication, fits α on a 0.2:0.001:10 grid,
uses ``imresize`` with antialiasing and reports the GGD variance); scores are close to, not equal to, MATLAB's.

References
----------
A. Mittal, A. K. Moorthy, A. C. Bovik, "No-reference image quality assessment in the spatial domain", IEEE
Transactions on Image Processing 21(12), 2012.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
from scipy import ndimage, special

from ..errors import NeurofocusError
from ._images import unit_image

#: scikit-image rgb2gray weights (ITU-R BT.709 luma).
RGB2GRAY = (0.2125, 0.7154, 0.0721)
WINDOW_SIZE, WINDOW_SIGMA = 7, 7 / 6
_C = 1 / 255
N_FEATURES = 36


@functools.lru_cache(maxsize=1)
def live_model() -> dict[str, np.ndarray]:
    """The shipped regressor: support_vectors (n, 36), coefficients (n,), gamma, rho, feature_min, feature_max."""
    from ..weights import weight_path

    path = weight_path("brisque_live.npz")
    keys = ("support_vectors", "coefficients", "gamma", "rho", "feature_min", "feature_max")
    try:
        with np.load(path, allow_pickle=False) as npz:
            model = {k: np.array(npz[k], np.float64) for k in keys}
    except (KeyError, ValueError, OSError) as exc:
        raise NeurofocusError(f"not a BRISQUE model file ({exc})", path) from None
    n = len(model["coefficients"])
    if (model["support_vectors"].shape != (n, N_FEATURES) or model["feature_min"].shape != (N_FEATURES,)
            or model["feature_max"].shape != (N_FEATURES,) or model["gamma"].shape != () or model["rho"].shape != ()):
        raise NeurofocusError("unexpected BRISQUE model shapes", path)
    return model


@functools.lru_cache(maxsize=1)
def _window() -> np.ndarray:
    y, x = np.indices((WINDOW_SIZE, WINDOW_SIZE)) - WINDOW_SIZE // 2
    g = np.exp(-(x * x + y * y) / (2 * WINDOW_SIGMA**2))
    return g / g.sum()


def mscn(gray: np.ndarray) -> np.ndarray:
    """MSCN coefficients of a gray image in [0, 1] (zero padding, as the reference package)."""
    w = _window()
    mu = ndimage.convolve(gray, w, mode="constant", cval=0.0)  # = convolve2d(..., "same"): zeros outside
    sigma = np.sqrt(np.abs(mu * mu - ndimage.convolve(gray * gray, w, mode="constant", cval=0.0)))
    return (gray - mu) / (sigma + _C)


def _ratio(alpha: float) -> float:
    return special.gamma(2 / alpha) ** 2 / (special.gamma(1 / alpha) * special.gamma(3 / alpha))


def _shape(target: float) -> float:
    """α with Γ(2/α)² / (Γ(1/α) Γ(3/α)) = target (the ratio rises monotonically from 0 to 3/4)."""
    from scipy import optimize

    lo, hi = 0.05, 50.0
    if not np.isfinite(target):
        return float("nan")
    if target <= _ratio(lo):
        return lo
    if target >= _ratio(hi):
        return hi
    return optimize.brentq(lambda a: _ratio(a) - target, lo, hi, xtol=1e-14, rtol=1e-14, maxiter=200)


def aggd_fit(x: np.ndarray) -> tuple[float, float, float, float]:
    """(α, mean, σ_left, σ_right) of an asymmetric generalised Gaussian fitted to ``x`` by moment matching."""
    x = x.ravel()
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        neg = x < 0
        sigma_l = np.sqrt(np.mean(x[neg] ** 2))
        sigma_r = np.sqrt(np.mean(x[~neg] ** 2))
        gamma_hat = sigma_l / sigma_r
        r_hat = np.mean(np.abs(x)) ** 2 / np.mean(x * x)
        target = r_hat * (gamma_hat**3 + 1) * (gamma_hat + 1) / (gamma_hat**2 + 1) ** 2
        alpha = _shape(float(target))
        mean = (sigma_r - sigma_l) * np.sqrt(special.gamma(1 / alpha) / special.gamma(3 / alpha)) * (
            special.gamma(2 / alpha) / special.gamma(1 / alpha))
    return float(alpha), float(mean), float(sigma_l), float(sigma_r)


def scale_features(gray: np.ndarray) -> np.ndarray:
    """The 18 features of one scale."""
    m = mscn(gray)
    alpha, _, sl, sr = aggd_fit(m)
    features = [alpha, (sl * sl + sr * sr) / 2]
    for products in (m[:, :-1] * m[:, 1:], m[:-1, :] * m[1:, :], m[:-1, :-1] * m[1:, 1:], m[1:, :-1] * m[:-1, 1:]):
        alpha, mean, sl, sr = aggd_fit(products)
        features += [alpha, mean, sl * sl, sr * sr]
    return np.array(features)


def brisque_features(image) -> np.ndarray:
    """The 36 unscaled BRISQUE features of an image (see :func:`brisque`)."""
    import cv2

    image = unit_image(image, min_side=8)
    gray = image @ np.array(RGB2GRAY) if image.ndim == 3 else image
    half = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_CUBIC)
    return np.concatenate([scale_features(gray), scale_features(half)])


def brisque(image) -> float:
    """BRISQUE score of an image (no reference; lower is better).

    Parameters
    ----------
    image : array_like
        (H, W, 3) sRGB or (H, W) gray, float in [0, 1] (or uint8, divided by 255); each side at least 8 pixels.

    Returns
    -------
    float
        The regressor's output, not clipped (about 0–100 for most photographs; very clean images can score below 0).

    Raises
    ------
    NeurofocusError
        Wrong shape or dtype, NaN/inf, values outside [0, 1], an image too small, or a flat image (no statistics).

    Examples
    --------
    >>> from skimage import data
    >>> round(brisque(data.chelsea()), 3)
    2.871
    """
    features = brisque_features(image)
    if not np.all(np.isfinite(features)):
        raise NeurofocusError("BRISQUE is undefined for this image: it is flat or nearly so (no statistics to fit)")
    model = live_model()
    lo, hi = model["feature_min"], model["feature_max"]
    x = -1 + 2 * (features - lo) / (hi - lo)
    d2 = np.sum((model["support_vectors"] - x) ** 2, axis=1)
    return float(model["coefficients"] @ np.exp(-model["gamma"] * d2) - model["rho"])
