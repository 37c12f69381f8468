"""Image quality metrics.

Full reference: MSE, PSNR, SSIM (Gaussian window, as in the papers), MS-SSIM and LPIPS (:func:`lpips`, v0.1, AlexNet
or VGG16; :class:`LPIPS` is the batched torch module, also usable as a loss). No reference: :func:`niqe` and
:func:`brisque` (lower is better for both).

Images are float arrays in [0, 1] (data range 1), gray (H, W) or colour (H, W, 3) sRGB; colour SSIM is the mean over
channels. Report per-image values and average them over a dataset (never pool pixels across images).

LPIPS needs PyTorch (the ``nets`` extra); its weights, NIQE's pristine model and BRISQUE's regressor ship in
``neurofocus/weights`` (nothing is downloaded).
"""

from __future__ import annotations

import numpy as np

from .. import filters
from ..errors import NeurofocusError
from .imresize import imresize

__all__ = ["LPIPS", "MS_SSIM_WEIGHTS", "brisque", "evaluate", "imresize", "lpips", "ms_ssim", "mse", "niqe", "psnr",
           "ssim"]

#: Wang et al. (2004) constants and window: Gaussian σ = 1.5 truncated to 11x11, K1 = 0.01, K2 = 0.03.
_SIGMA, _TRUNCATE = 1.5, 3.5
_K1, _K2 = 0.01, 0.03
#: Wang, Simoncelli & Bovik (2003) MS-SSIM scale weights.
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _pair(pred, gt) -> tuple[np.ndarray, np.ndarray]:
    pred, gt = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    if pred.shape != gt.shape:
        raise NeurofocusError(f"images differ in size: {pred.shape} vs {gt.shape}")
    if pred.ndim not in (2, 3) or (pred.ndim == 3 and pred.shape[2] not in (1, 3)):
        raise NeurofocusError(f"expected (H, W) or (H, W, 3) images, got {pred.shape}")
    if not (np.all(np.isfinite(pred)) and np.all(np.isfinite(gt))):
        raise NeurofocusError("images contain NaN or infinite values")
    return pred, gt


def mse(pred, gt) -> float:
    """Mean squared error."""
    pred, gt = _pair(pred, gt)
    return float(np.mean((pred - gt) ** 2))


def psnr(pred, gt, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB (inf for identical images)."""
    error = mse(pred, gt)
    return float("inf") if error == 0 else float(10 * np.log10(data_range**2 / error))


def _ssim_maps(x: np.ndarray, y: np.ndarray, data_range: float) -> tuple[np.ndarray, np.ndarray]:
    """(SSIM map, contrast-structure map) of two gray images, valid region only."""
    blur = lambda a: filters.gaussian(a, _SIGMA, mode="reflect", truncate=_TRUNCATE)
    c1, c2 = (_K1 * data_range) ** 2, (_K2 * data_range) ** 2
    mx, my = blur(x), blur(y)
    vx = blur(x * x) - mx * mx
    vy = blur(y * y) - my * my
    cov = blur(x * y) - mx * my
    cs = (2 * cov + c2) / (vx + vy + c2)
    ssim_map = (2 * mx * my + c1) / (mx * mx + my * my + c1) * cs
    r = int(_TRUNCATE * _SIGMA + 0.5)  # drop the border where the window leaves the image
    return ssim_map[r:-r, r:-r], cs[r:-r, r:-r]


def _channels(a: np.ndarray) -> list[np.ndarray]:
    return [a] if a.ndim == 2 else [a[..., c] for c in range(a.shape[2])]


def ssim(pred, gt, data_range: float = 1.0) -> float:
    """Structural similarity with an 11x11 Gaussian window (σ = 1.5), population statistics; channel mean.

    Matches ``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=...)``.
    """
    pred, gt = _pair(pred, gt)
    if min(pred.shape[:2]) < 11:
        raise NeurofocusError("SSIM needs images of at least 11x11 pixels")
    return float(np.mean([_ssim_maps(p, g, data_range)[0].mean() for p, g in zip(_channels(pred), _channels(gt))]))


def _halve(a: np.ndarray) -> np.ndarray:
    """2x2 average pooling; an odd side is zero-padded by one on both ends first (as pytorch-msssim does)."""
    pads = [(1, 1) if n % 2 else (0, 0) for n in a.shape]
    a = np.pad(a, pads)
    h, w = (a.shape[0] // 2) * 2, (a.shape[1] // 2) * 2
    return a[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))


def ms_ssim(pred, gt, data_range: float = 1.0) -> float:
    """Multi-scale SSIM (Wang, Simoncelli & Bovik 2003): 5 scales, 2x2 average downsampling; channel mean.

    Downsampling follows the widely used pytorch-msssim package (identical values on every image size).

    Both image sides must exceed 160 pixels (the coarsest scale must still hold the 11x11 window).
    """
    pred, gt = _pair(pred, gt)
    if min(pred.shape[:2]) <= 160:
        raise NeurofocusError(f"MS-SSIM needs both sides > 160 pixels, got {pred.shape[1]}x{pred.shape[0]}")
    return float(np.mean([_ms_ssim_channel(x, y, data_range)[1] for x, y in zip(_channels(pred), _channels(gt))]))


def _ms_ssim_channel(x: np.ndarray, y: np.ndarray, data_range: float) -> tuple[float, float]:
    """(SSIM, MS-SSIM) of two gray images: SSIM is the first scale's."""
    total = 1.0
    for scale, weight in enumerate(MS_SSIM_WEIGHTS):
        ssim_map, cs_map = _ssim_maps(x, y, data_range)
        if scale == 0:
            first = ssim_map.mean()
        last = scale == len(MS_SSIM_WEIGHTS) - 1
        value = ssim_map.mean() if last else cs_map.mean()
        total *= max(value, 0.0) ** weight
        if not last:
            x, y = _halve(x), _halve(y)
    return first, total


def evaluate(pred, gt) -> dict[str, float]:
    """All metrics that apply to the image size: PSNR, SSIM, MSE, and MS-SSIM when both sides exceed 160 px (its
    first scale gives SSIM)."""
    pred, gt = _pair(pred, gt)
    if min(pred.shape[:2]) <= 160:
        return {"psnr": psnr(pred, gt), "ssim": ssim(pred, gt), "mse": mse(pred, gt)}
    both = [_ms_ssim_channel(x, y, 1.0) for x, y in zip(_channels(pred), _channels(gt))]
    return {"psnr": psnr(pred, gt), "ssim": float(np.mean([s for s, _ in both])), "mse": mse(pred, gt),
            "ms_ssim": float(np.mean([m for _, m in both]))}


def lpips(a, b, net: str = "alex") -> float:
    """LPIPS v0.1 distance between two (H, W, 3) sRGB images in [0, 1] (0 = identical; lower is more similar).

    ``net`` is ``"alex"`` (default) or ``"vgg"``. Needs PyTorch; see :mod:`neurofocus.metrics._lpips` for the exact
    definition, :class:`LPIPS` for batched tensors.
    """
    from ._lpips import lpips as _lpips

    return _lpips(a, b, net=net)


def __getattr__(name: str):
    if name == "LPIPS":  # imported on first use: it needs PyTorch
        from ._lpips import LPIPS

        return LPIPS
    if name in ("brisque", "niqe"):  # imported on first use: they need scipy.ndimage and scipy.special
        from importlib import import_module

        return getattr(import_module(f"._{name}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
