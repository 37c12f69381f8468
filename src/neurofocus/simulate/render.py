"""Defocus rendering of layered scenes, in linear light.

For a focus distance s, every layer is blurred with the PSF of its depth and composited back to front with the
"over" operator on premultiplied colour: C ← C_layer + (1 − A_layer)·C, A ← A_layer + (1 − A_layer)·A, so that
occluding edges blur correctly (a blurred foreground edge lets the background show through, and vice versa). A layer
whose depth varies (a slanted plane, or an image with a depth map) is split into depth slices with linear ("tent")
weights in inverse depth, spaced so that the blur changes by at most ``slice_step_px`` between slices; the slices of
one layer add up before compositing. The result is divided by the accumulated coverage.

Blurring is a product in the frequency domain: each slice's spectrum is computed once, so a frame costs one
multiplication per slice and one inverse FFT per layer.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import scipy.fft

from ..errors import NeurofocusError
from .optics import ThinLens, psf_otf, radial_frequency
from .scene import Scene

NO_BLUR_PX = 0.05  #: blur diameters below this (pixels) are not blurred at all


def unpremultiply(planes: np.ndarray) -> np.ndarray:
    """Composited premultiplied planes (R, G, B, A) float32 (4, H, W) to an image float32 (H, W, 3) in [0, 1]:
    colour divided by coverage, 0 where nothing covers; clipped (FFT round-off can leave values of ±1e-5)."""
    color = planes[:3].transpose(1, 2, 0)
    coverage = planes[3][..., None]
    image = np.where(coverage > 1e-6, color / np.maximum(coverage, 1e-6), 0.0)
    return np.clip(image, 0.0, 1.0).astype(np.float32)


@dataclasses.dataclass
class _Slice:
    depth_m: float
    spectrum: np.ndarray  # complex64 (4, Hc, Wc//2+1): premultiplied RGB and alpha


def _blur_per_inverse_depth(lens: ThinLens, scene: Scene) -> float:
    """Pixels of blur per 1/m of inverse-depth difference, at the middle of the scene's depth range."""
    mid = 2 / (1 / scene.near_m + 1 / scene.far_m)
    probe = 1 / (1 / mid - 0.01)
    return float(lens.blur_diameter_px(probe, mid)) / 0.01


def depth_slices(depth_m: np.ndarray, alpha: np.ndarray, blur_per_inverse_depth: float,
                 slice_step_px: float) -> list[tuple[float, np.ndarray]]:
    """Split a surface into (depth, weight map) slices with tent weights in inverse depth.

    Adjacent slices differ in blur by at most ``slice_step_px``; weights sum to 1 where ``alpha > 0``.
    """
    covered = alpha > 0
    if not covered.any():
        return []
    inv = 1.0 / depth_m.astype(np.float64)
    lo, hi = float(inv[covered].min()), float(inv[covered].max())
    n = int(np.ceil((hi - lo) * blur_per_inverse_depth / slice_step_px)) + 1
    if n <= 1:
        return [(1.0 / float(np.average(inv[covered], weights=alpha[covered])), np.ones_like(alpha))]
    levels = np.linspace(lo, hi, n)
    step = levels[1] - levels[0]
    return [(1.0 / level, np.clip(1.0 - np.abs(inv - level) / step, 0.0, 1.0).astype(np.float32))
            for level in levels]


class SceneRenderer:
    """Renders a :class:`~neurofocus.simulate.scene.Scene` through a thin lens at any focus distance.

    Parameters
    ----------
    scene : Scene
    lens : ThinLens
    psf : {"disk", "gaussian"}
        Defocus PSF shape.
    slice_step_px : float
        Largest blur difference between the depth slices of a layer.
    workers : int, optional
        FFT threads (default: all cores).
    """

    def __init__(self, scene: Scene, lens: ThinLens, *, psf: str = "disk", slice_step_px: float = 0.75,
                 workers: int | None = None):
        if psf not in ("disk", "gaussian"):
            raise NeurofocusError(f"psf must be 'disk' or 'gaussian', got {psf!r}")
        self.scene, self.lens, self.psf = scene, lens, psf
        self.workers = workers or os.cpu_count() or 1
        self._shape = scene.canvas_shape
        self._rho = radial_frequency(self._shape)
        k = _blur_per_inverse_depth(lens, scene)
        self._layers: list[list[_Slice]] = []
        self._premultiplied = []
        for layer in scene.layers:
            planes = np.concatenate([layer.color * layer.alpha[..., None], layer.alpha[..., None]], axis=2)
            planes = np.ascontiguousarray(planes.transpose(2, 0, 1), np.float32)  # (4, Hc, Wc)
            self._premultiplied.append(planes)
            slices = []
            for depth, weight in depth_slices(layer.depth_m, layer.alpha, k, slice_step_px):
                spectrum = scipy.fft.rfft2(planes * weight[None], workers=self.workers).astype(np.complex64)
                slices.append(_Slice(depth, spectrum))
            self._layers.append(slices)

    @property
    def num_slices(self) -> int:
        return sum(len(s) for s in self._layers)

    def _composite(self, layer_planes) -> np.ndarray:
        acc = np.zeros((4,) + self._shape, np.float32)
        for planes in layer_planes:
            acc = planes + (1.0 - planes[3:4]) * acc
        p, scene = self.scene.pad, self.scene
        return unpremultiply(acc[:, p:p + scene.height, p:p + scene.width])

    def render(self, focus_m: float) -> np.ndarray:
        """The image focused at ``focus_m`` metres: linear RGB, float32 (H, W, 3)."""
        def planes():
            for slices, sharp in zip(self._layers, self._premultiplied):
                diameters = [float(self.lens.blur_diameter_px(s.depth_m, focus_m)) for s in slices]
                if all(d < NO_BLUR_PX for d in diameters):
                    yield sharp
                    continue
                spectrum = np.zeros_like(slices[0].spectrum)
                for s, d in zip(slices, diameters):
                    spectrum += s.spectrum * psf_otf(self._rho, d, self.psf)[None]
                yield scipy.fft.irfft2(spectrum, s=self._shape, workers=self.workers)

        return self._composite(planes())

    def pinhole(self) -> np.ndarray:
        """The all-in-focus (pinhole) image: linear RGB, float32 (H, W, 3)."""
        return self._composite(self._premultiplied)

    def depth_map(self) -> np.ndarray:
        """Depth (m) of the front-most surface covering each pixel by at least half: float32 (H, W)."""
        depth = np.full(self._shape, np.inf, np.float32)
        for layer in self.scene.layers:
            depth = np.where(layer.alpha >= 0.5, layer.depth_m, depth)
        return self.scene.crop(depth).copy()
