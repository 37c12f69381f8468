"""Thin-lens defocus: blur-circle size per depth, and the point-spread functions in the frequency domain.

A camera of focal length f and f-number N (aperture A = f/N) focused at distance s images a point at distance d as
a blur circle of diameter c = A·f·|d − s| / (d·(s − f)) on the sensor (c = A·f·s/(s − f)·|1/s − 1/d|: linear in the
difference of inverse distances). Divided by the pixel pitch it is the PSF diameter in pixels.

The disk (pillbox) PSF of diameter D pixels has the optical transfer function 2·J1(πDρ)/(πDρ) at radial frequency ρ
(cycles/pixel). Its edge is anti-aliased by a small Gaussian (σ = min(0.35, D/4) px), which removes the ringing a
sharp sampled disk would have and tends to no blur at all as D → 0. The Gaussian PSF option uses σ = D/4 (half the
blur radius).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
from scipy.special import j1

from ..config_dicts import check_positive
from ..errors import NeurofocusError

_JINC_STEP = 1e-3
_EDGE_SIGMA_PX = 0.35


@dataclasses.dataclass(frozen=True)
class ThinLens:
    """A thin lens in front of a pixel grid.

    Attributes
    ----------
    focal_length_mm : float
        f (the all-in-focus papers rendered with 100 mm).
    f_number : float
        N (the papers: f/1.2).
    pixel_pitch_um : float
        Pixel size (DAVIS346: 18.5 µm; Prophesee Gen4: 4.86 µm; PKU Vidar: 20 µm).
    """

    focal_length_mm: float = 100.0
    f_number: float = 1.2
    pixel_pitch_um: float = 18.5

    def __post_init__(self):
        for name in ("focal_length_mm", "f_number", "pixel_pitch_um"):
            check_positive(getattr(self, name), name)

    @property
    def aperture_mm(self) -> float:
        """Aperture diameter A = f / N in mm."""
        return self.focal_length_mm / self.f_number

    def blur_diameter_px(self, depth_m, focus_m):
        """Blur-circle diameter in pixels of points at ``depth_m`` with the lens focused at ``focus_m`` (metres).

        Broadcasts over arrays; distances must exceed the focal length.
        """
        d = np.asarray(depth_m, np.float64) * 1e3
        s = np.asarray(focus_m, np.float64) * 1e3
        f = self.focal_length_mm
        if np.any(d <= f) or np.any(s <= f):
            raise NeurofocusError(f"distances must exceed the focal length ({f} mm)")
        c_mm = self.aperture_mm * f * np.abs(d - s) / (d * (s - f))
        return c_mm / (self.pixel_pitch_um * 1e-3)

    def inverse_depth_span(self, max_blur_px: float, focus_m: float) -> float:
        """Range of 1/d (1/m) over which the blur, focused at ``focus_m``, grows to ``max_blur_px``."""
        s = focus_m * 1e3
        f = self.focal_length_mm
        per_inverse_mm = self.aperture_mm * f * s / (s - f) / (self.pixel_pitch_um * 1e-3)  # px per (1/mm)
        return max_blur_px / per_inverse_mm * 1e3


@functools.lru_cache(maxsize=8)
def _jinc_table(u_max: float) -> tuple[np.ndarray, np.ndarray]:
    """2·J1(πu)/(πu) tabulated on a uniform grid of step ``_JINC_STEP`` from 0 to past ``u_max``."""
    u = np.arange(0.0, u_max + 2 * _JINC_STEP, _JINC_STEP)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = np.where(u > 0, 2 * j1(np.pi * u) / (np.pi * u), 1.0)
    return u, g.astype(np.float32)


def radial_frequency(shape: tuple[int, int]) -> np.ndarray:
    """Radial frequency ρ (cycles/pixel) on the ``rfft2`` grid of an image of ``shape`` (H, W), float32."""
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    return np.sqrt(fx * fx + fy * fy).astype(np.float32)


def psf_otf(rho: np.ndarray, diameter_px: float, kind: str = "disk") -> np.ndarray:
    """Optical transfer function of a defocus PSF on a frequency grid.

    Parameters
    ----------
    rho : ndarray
        Radial frequencies (cycles/pixel), e.g. from :func:`radial_frequency`.
    diameter_px : float
        Blur-circle diameter D in pixels (0: no blur).
    kind : {"disk", "gaussian"}
        Anti-aliased pillbox, or a Gaussian with σ = D/4.

    Returns
    -------
    ndarray of float32, same shape as ``rho``; 1 at ρ = 0 (the PSF sums to one).
    """
    d = float(diameter_px)
    if d < 0 or not np.isfinite(d):
        raise NeurofocusError(f"blur diameter must be >= 0, got {diameter_px}")
    if kind == "gaussian":
        sigma = d / 4
        return np.exp(-2 * np.pi ** 2 * sigma ** 2 * rho * rho).astype(np.float32)
    if kind != "disk":
        raise NeurofocusError(f"PSF kind must be 'disk' or 'gaussian', got {kind!r}")
    edge = min(_EDGE_SIGMA_PX, d / 4)
    u_max = max(8.0, float(np.ceil(d * float(rho.max()) + 1)))
    _, g = _jinc_table(float(2 ** np.ceil(np.log2(u_max))))
    x = rho * np.float32(d / _JINC_STEP)  # position in the uniform table
    i = x.astype(np.int32)
    frac = x - i
    disk = g[i] * (1 - frac) + g[i + 1] * frac
    return (disk * np.exp(np.float32(-2 * np.pi ** 2 * edge ** 2) * rho * rho)).astype(np.float32)


def psf_kernel(diameter_px: float, kind: str = "disk", size: int | None = None) -> np.ndarray:
    """The PSF as a centred, normalised image (float32 (size, size)); for pictures and tests."""
    size = size or int(2 * np.ceil(diameter_px / 2 + 3) + 1)
    otf = psf_otf(radial_frequency((size, size)), diameter_px, kind)
    kernel = np.fft.fftshift(np.fft.irfft2(otf, s=(size, size)))
    return (kernel / kernel.sum()).astype(np.float32)
