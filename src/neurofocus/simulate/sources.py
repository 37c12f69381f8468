"""Sweep sources from real data: an image with a depth (or disparity) map, and a 4-D light field.

Image + depth: the image is cut into inverse-depth levels (linear "tent" weights, adjacent levels differing by at
most ``level_step_px`` of blur); each level is a fronto-parallel layer composited back to front by the layered
renderer, so occlusion edges blur as in :mod:`.render`. The pixels hidden behind foreground objects are unknown, so
a strongly blurred foreground reveals (normalised) background colour from its neighbourhood, the usual limitation of
image-based refocusing.

Light field: synthetic-aperture refocusing. The frame focused at disparity α is the mean of the views shifted by
α·(column − centre, row − centre) pixels (Fourier shifts, so an in-focus region stays as sharp as the views). Points
whose disparity equals α are in focus; the centre view is the all-in-focus reference. With 9×9 views the aperture
is sampled coarsely: strongly defocused points show discrete copies.
"""

from __future__ import annotations

import os
from pathlib import Path

import numba
import numpy as np
import scipy.fft

from ..color import srgb_to_linear
from ..errors import NeurofocusError
from ..images import read_image, read_pfm
from .focal_sweep import SceneSweep
from .optics import ThinLens
from .scene import Layer, Scene, canvas_pad
from .sweep import FocusSchedule, SweepSpec, focus_schedule

__all__ = ["LightFieldSweep", "depth_from_disparity", "image_depth_scene", "image_depth_sweep",
           "light_field_sweep", "load_hci_light_field", "read_rgbd", "rgbd_scenes"]


def rgbd_scenes(folder: str | os.PathLike) -> list[Path]:
    """The scene folders of an image + depth collection (e.g. ``../shared/data/rgbd``), sorted by name: every
    sub-folder with ``image.png`` and ``depth.npy`` (and optionally ``meta.json``, see :func:`read_rgbd`)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NeurofocusError("not a folder of image + depth scenes", folder)
    scenes = sorted(p for p in folder.iterdir() if (p / "depth.npy").is_file() and (p / "image.png").is_file())
    if not scenes:
        raise NeurofocusError("no scene folders with image.png and depth.npy", folder)
    return scenes


def read_rgbd(scene: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(sRGB image float32 (H, W, 3) in [0, 1], disparity float64 (H, W), larger = nearer) of one scene folder.

    ``depth.npy`` holds disparity in pixels, or depth in m when ``meta.json`` says ``"depth_kind": "depth"``
    (then disparity = 1 / depth); NaN marks unknown values, filled with the nearest known value.
    """
    import json

    from scipy import ndimage

    scene = Path(scene)
    image = read_image(scene / "image.png")
    try:
        values = np.load(scene / "depth.npy", allow_pickle=False).astype(np.float64)
        kind = (json.loads((scene / "meta.json").read_text()).get("depth_kind", "disparity")
                if (scene / "meta.json").is_file() else "disparity")
    except (OSError, ValueError) as exc:
        raise NeurofocusError(f"unreadable depth or meta.json: {exc}", scene) from None
    if values.shape != image.shape[:2]:
        raise NeurofocusError(f"depth.npy is {values.shape}, image.png {image.shape[:2]}", scene)
    holes = ~np.isfinite(values)
    if holes.all():
        raise NeurofocusError("depth.npy holds no finite value", scene)
    if holes.any():
        values = values[tuple(ndimage.distance_transform_edt(holes, return_distances=False, return_indices=True))]
    return image, values if kind == "disparity" else 1 / np.maximum(values, 1e-6)


def depth_from_disparity(disparity: np.ndarray, lens: ThinLens, *, max_blur_px: float,
                         working_distance_m: float = 2.0) -> np.ndarray:
    """Metric depth (m) for a disparity map (larger = nearer), scaled so that the content's full range blurs by
    ``max_blur_px`` with ``lens`` around ``working_distance_m``. Returns float32, same shape."""
    disparity = np.asarray(disparity, np.float64)
    if not np.all(np.isfinite(disparity)):
        raise NeurofocusError("the disparity map contains NaN or infinite values")
    lo, hi = float(disparity.min()), float(disparity.max())
    span = lens.inverse_depth_span(max_blur_px, working_distance_m)
    scale = span / (hi - lo) if hi > lo else 0.0
    inverse = 1 / working_distance_m + (disparity - (lo + hi) / 2) * scale
    return (1 / inverse).astype(np.float32)


def image_depth_scene(image_srgb: np.ndarray, depth_m: np.ndarray, lens: ThinLens, *,
                      level_step_px: float = 1.0) -> Scene:
    """A layered scene from an sRGB image (H, W, 3) in [0, 1] and a depth map (H, W) in metres."""
    image_srgb = np.asarray(image_srgb, np.float32)
    depth_m = np.asarray(depth_m, np.float64)
    if image_srgb.ndim != 3 or depth_m.shape != image_srgb.shape[:2]:
        raise NeurofocusError(f"image {image_srgb.shape} and depth {depth_m.shape} sizes differ")
    if not np.all(np.isfinite(depth_m)) or depth_m.min() <= lens.focal_length_mm * 1e-3:
        raise NeurofocusError("depths must be finite and beyond the focal length")
    height, width = depth_m.shape
    near, far = float(depth_m.min()), float(depth_m.max())
    if far <= near:
        far = near * 1.001
    max_blur = float(lens.blur_diameter_px(far, near))
    pad = canvas_pad(max_blur)
    inverse = np.pad(1.0 / depth_m, pad, mode="edge")
    color = np.pad(srgb_to_linear(image_srgb), ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    n = int(np.ceil(max_blur / level_step_px)) + 1
    levels = np.linspace(1 / far, 1 / near, n)
    step = levels[1] - levels[0] if n > 1 else 1.0
    layers = []
    for level in levels:  # far to near
        weight = np.clip(1.0 - np.abs(inverse - level) / step, 0.0, 1.0).astype(np.float32)
        if weight.any():
            layers.append(Layer(color, weight, np.full(weight.shape, 1 / level, np.float32), f"level {1 / level:.3f} m"))
    return Scene(width, height, pad, layers, near_m=near, far_m=far)


def image_depth_sweep(image_srgb: np.ndarray, depth_m: np.ndarray, lens: ThinLens, spec: SweepSpec,
                      rng: np.random.Generator, **renderer_options) -> SceneSweep:
    """A focal sweep over an image with a depth map (see :func:`image_depth_scene`)."""
    scene = image_depth_scene(image_srgb, depth_m, lens)
    return SceneSweep(scene, lens, focus_schedule(spec, scene.near_m, scene.far_m, rng),
                      depth_m=np.asarray(depth_m, np.float32), **renderer_options)


@numba.njit(cache=True, parallel=True)
def _shifted_sum(spectra, ramp_x, ramp_y, out):
    """out = mean over views of spectra[view] · ramp_x[view, x] · ramp_y[view, y] (a Fourier shift per view)."""
    n_views, channels, h, w = spectra.shape
    for y in numba.prange(h):
        for x in range(w):
            for c in range(channels):
                out[c, y, x] = 0
            for v in range(n_views):
                rot = ramp_x[v, x] * ramp_y[v, y]
                for c in range(channels):
                    out[c, y, x] += spectra[v, c, y, x] * rot
            for c in range(channels):
                out[c, y, x] /= n_views


class LightFieldSweep:
    """A focal sweep by synthetic-aperture refocusing of a light field.

    Parameters
    ----------
    views : ndarray, float (U, V, H, W, 3)
        sRGB views in [0, 1] on a regular grid, ``views[row, col]``; the centre view is the all-in-focus image.
    disparity : ndarray, float (H, W)
        Disparity of the centre view in pixels between neighbouring views (as the HCI benchmark gives it).
    schedule : FocusSchedule
        Its ``focus_m`` holds the inverse of (α + offset): see :func:`light_field_sweep`.
    offset : float
        α = 1/focus_m − offset.
    """

    def __init__(self, views: np.ndarray, disparity: np.ndarray, schedule: FocusSchedule, offset: float):
        views = np.asarray(views, np.float32)
        if views.ndim != 5 or views.shape[-1] != 3 or views.shape[2:4] != np.asarray(disparity).shape:
            raise NeurofocusError(f"views must be (rows, cols, H, W, 3) matching the disparity map, got {views.shape}")
        rows, cols, h, w, _ = views.shape
        self.schedule = schedule
        self._offset = offset
        self._disparity = np.asarray(disparity, np.float64)
        self._center = views[rows // 2, cols // 2]
        self._pad = int(np.ceil(max(abs(self._disparity).max(), 1.0) * max(rows, cols) / 2)) + 4
        p = self._pad
        self._shape = (h + 2 * p, w + 2 * p)
        linear = srgb_to_linear(views).reshape(rows * cols, h, w, 3).transpose(0, 3, 1, 2)
        padded = np.pad(linear, ((0, 0), (0, 0), (p, p), (p, p)), mode="reflect")
        self._spectra = scipy.fft.rfft2(padded, workers=-1).astype(np.complex64)
        rr, cc = np.mgrid[0:rows, 0:cols]
        self._du = (cc - cols // 2).ravel().astype(np.float64)
        self._dv = (rr - rows // 2).ravel().astype(np.float64)
        self._fx = np.fft.rfftfreq(self._shape[1])
        self._fy = np.fft.fftfreq(self._shape[0])

    def refocus(self, alpha: float) -> np.ndarray:
        """The view average focused at disparity ``alpha``: linear RGB float32 (H, W, 3)."""
        out = np.empty(self._spectra.shape[1:], np.complex64)
        ramp_x = np.exp(-2j * np.pi * alpha * np.outer(self._du, self._fx)).astype(np.complex64)
        ramp_y = np.exp(-2j * np.pi * alpha * np.outer(self._dv, self._fy)).astype(np.complex64)
        _shifted_sum(self._spectra, ramp_x, ramp_y, out)
        image = scipy.fft.irfft2(out, s=self._shape, workers=-1)
        p = self._pad
        return np.clip(image[:, p:-p, p:-p].transpose(1, 2, 0), 0, 1).astype(np.float32)

    def frame(self, index: int) -> np.ndarray:
        return self.refocus(1.0 / float(self.schedule.focus_m[index]) - self._offset)

    def all_in_focus(self) -> np.ndarray:
        return srgb_to_linear(self._center)

    def depth_m(self) -> None:
        return None  # only disparity is known

    def infocus_time_us(self) -> np.ndarray:
        return self.schedule.infocus_time_us(1.0 / (self._disparity + self._offset))


def light_field_sweep(views: np.ndarray, disparity: np.ndarray, spec: SweepSpec,
                      rng: np.random.Generator) -> LightFieldSweep:
    """A focal sweep over the light field's disparity range (nearest = largest disparity)."""
    disparity = np.asarray(disparity, np.float64)
    if not np.all(np.isfinite(disparity)):
        raise NeurofocusError("the disparity map contains NaN or infinite values")
    lo, hi = float(disparity.min()), float(disparity.max())
    offset = 1.0 - lo  # α + offset >= 1: a positive stand-in for inverse depth
    schedule = focus_schedule(spec, 1.0 / (hi + offset), 1.0 / (lo + offset), rng)
    return LightFieldSweep(views, disparity, schedule, offset)


def load_hci_light_field(folder: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Views (n, n, H, W, 3) sRGB and the centre view's disparity (H, W) of a light field in the HCI benchmark
    layout: ``input_Cam000.png`` ... (row-major over an n×n grid) and one disparity ``.pfm``."""
    folder = Path(folder)
    paths = sorted(folder.glob("input_Cam*.png"))
    n = int(round(np.sqrt(len(paths))))
    if not paths or n * n != len(paths):
        raise NeurofocusError(f"expected n×n input_CamNNN.png views, found {len(paths)}", folder)
    maps = sorted(folder.glob("*disp*.pfm")) or sorted(folder.glob("*.pfm"))
    if not maps:
        raise NeurofocusError("no disparity map (.pfm) in the light-field folder", folder)
    views = np.stack([read_image(p) for p in paths]).reshape((n, n) + read_image(paths[0]).shape)
    disparity = read_pfm(maps[0])
    if disparity.shape != views.shape[2:4]:
        raise NeurofocusError(f"disparity {disparity.shape} does not match the views {views.shape[2:4]}", maps[0])
    return views, disparity
