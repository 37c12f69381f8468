"""Defocused-event videos (EvFocus-style data) with the blur tied to depth through a thin lens.

EvFocus (Zhu et al., ICML 2025) trains on ESIM "Multi-Objects-2D" scenes — textured objects moving in 2-D over a
moving background — blurred by Gaussian kernels of arbitrary sizes. Here the same kind of scene is a stack of
fronto-parallel textured *layers*, each at its own depth, and the blur of every layer at every frame is the thin-lens
blur circle of its depth with the camera's focus distance (:meth:`~.optics.ThinLens.blur_diameter_px`), so that a
multi-depth scene has foreground and background blurred differently, an object moving in depth changes its blur
(and its image size, by the pinhole magnification d0/d), and the focus itself can drift or sweep.

Model
-----
* A :class:`VideoLayer` is a linear-RGB texture with a coverage (alpha) mask on its own pixel grid, and a
  :class:`Trajectory`: per frame the image position of its anchor point, a rotation, a scale and a depth. The texture
  point u maps to the image point p = c + s·R(θ)·(u − anchor) (image pixel centres at integer coordinates). A
  ``tiled`` layer (the background) repeats its texture mirrored, so it never leaves holes when the camera pans.
* Frame k: each layer is resampled (bilinear, premultiplied colour and alpha) on a canvas that extends the image by
  a margin on each side (content outside the field of view blurs into it), blurred with the PSF of its diameter
  (:func:`~.optics.psf_otf`, FFT on a zero-padded box around the layer) and composited back to front — by the depth
  at that frame; at equal depths a later layer is in front — with the "over" operator in linear light, as :class:`~.render.SceneRenderer` does for depth
  slices. The sharp (pinhole) frame composites the same layers unblurred.
* Ground truth per frame: the sharp and defocused frames, and for the *visible* layer of each pixel (the front-most
  with coverage >= 1/2) its depth and blur diameter. The forward optical flow from frame k to k+1 of the sharp frame
  follows from the visible layer's two similarity transforms exactly: p' = c₁ + (s₁/s₀)·R(θ₁ − θ₀)·(p − c₀). It is
  marked valid where pixel p shows only that layer (coverage ≈ 1, nothing partly in front) and p' lies in the image
  and shows only the same layer at k+1 (all four pixels around p'); elsewhere (occlusion, disocclusion, leaving the
  image, anti-aliased edges) it is undefined.
* Events come from the defocused frames, with :class:`~.dvs_voltmeter.DvsVoltmeter` (8-bit gray of the sRGB frame)
  or :class:`~.ideal_events.IdealEventSimulator` (linear luminance), fed in chunks; optionally also from the sharp
  frames with a second sensor of the same seed (the same pixels), for the sharp-event baselines (E2VID+).

:func:`random_defocus_video` draws a scene: a reference focus distance, a blur diameter in ``blur_px`` for the
background (behind the focus) and each object (in front of or behind it, always in front of the background), depth
motion for some objects, smooth random 2-D trajectories, a camera pan, and a focus schedule: ``constant``, a linear
``drift`` of the focus, or a ``sweep`` across the content's depth range. Surfaces carry bundled or procedural
textures, or crops of a folder of photographs (:class:`~.textures.PhotoTextures`, ``synth --textures DIR``).

Sequence folder layout (written by :func:`write_video_sample`, read by :func:`load_video_sample`)::

    events.hdf5        events of the defocused frames (Prophesee HDF5, ECF-compressed), when simulated
    events_sharp.hdf5  events of the sharp frames, with ``sharp_events``
    frames.npz         sharp (T, H, W, 3) uint8 sRGB, the pinhole frames
                       defocused (T, H, W, 3) uint8 sRGB
                       blur_px (T, H, W) float16, blur-circle diameter of the visible layer (pixels)
                       depth_m (T, H, W) float16, depth of the visible layer (metres)
                       flow (T-1, H, W, 2) float16, forward flow (dx, dy) from frame k to k+1 (pixels,
                       rounded to 1/1024 px)
                       flow_valid (T-1, H, W) bool, where the flow is defined
                       frame_times_us (T,) int64, focus_m (T,) float64
    sequence.json      size, frame times, lens, PSF, focus schedule, per-layer motion (per-frame centre, angle,
                       scale, depth, blur) and how it was drawn, sensor parameters, seeds, counts, seconds

A dataset (``neurofocus synth --kind defocus-video``; :func:`~.dataset.synthesize` with a
:class:`DefocusVideoConfig`) holds ``config.json``, ``seq_00000`` ... and ``manifest.json``, written and resumed like
the focal-sweep datasets.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import time
from pathlib import Path

import numba
import numpy as np
import scipy.fft

from ..atomic import atomic_path, write_text_atomic
from ..color import linear_to_srgb, luminance, to_uint8
from ..config_dicts import check_positive, from_dict
from ..errors import NeurofocusError
from ..progress import progress_bar
from ..types import Events
from .dvs_voltmeter import DvsVoltmeter, VoltmeterParams, gray8
from .ideal_events import IdealEventSimulator, IdealParams
from .optics import ThinLens, psf_otf, radial_frequency
from .render import NO_BLUR_PX, unpremultiply
from .scene import canvas_pad, shape_mask
from .textures import PhotoTextures, random_texture

FOCUS_KINDS = ("constant", "drift", "sweep")
FOCUS_DISTANCE_M = (0.5, 1.5)  #: default range of the reference focus distance of random videos
VIDEO_FILES = ("frames.npz", "sequence.json")
FLOW_QUANTUM_PX = 2.0 ** -10  #: stored flow is rounded to this (float16's spacing at 1 px; halves the file size)
_FULL = 1.0 - 1e-3  # coverage counted as "only this layer"
_EMPTY = 1e-3


# --- scene description --------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Trajectory:
    """Motion and depth of a layer, per frame.

    Attributes
    ----------
    center_px : ndarray, float64 (T, 2)
        Image position (x, y) of the layer's anchor point, pixels.
    angle_rad : ndarray, float64 (T,)
        Rotation (image x towards image y, i.e. clockwise on screen).
    scale : ndarray, float64 (T,)
        Size relative to the texture (> 0).
    depth_m : ndarray, float64 (T,)
        Distance from the lens (> the focal length).
    """

    center_px: np.ndarray
    angle_rad: np.ndarray
    scale: np.ndarray
    depth_m: np.ndarray

    def __post_init__(self):
        center = np.asarray(self.center_px, np.float64)
        n = len(center)
        if center.shape != (n, 2) or n < 1:
            raise NeurofocusError(f"center_px must be (T, 2), got shape {center.shape}")
        fields = {"center_px": center}
        for name in ("angle_rad", "scale", "depth_m"):
            value = np.asarray(getattr(self, name), np.float64)
            if value.shape != (n,):
                raise NeurofocusError(f"{name} must have shape ({n},) like center_px, got {value.shape}")
            fields[name] = value
        for name, value in fields.items():
            if not np.all(np.isfinite(value)):
                raise NeurofocusError(f"{name} must be finite")
        if np.any(fields["scale"] <= 0) or np.any(fields["depth_m"] <= 0):
            raise NeurofocusError("scale and depth_m must be positive")
        for name, value in fields.items():
            value.flags.writeable = False
            object.__setattr__(self, name, value)

    @classmethod
    def still(cls, center_px, depth_m: float, num_frames: int, *, angle_rad: float = 0.0,
              scale: float = 1.0) -> "Trajectory":
        """A layer that does not move."""
        return cls(np.tile(np.asarray(center_px, np.float64), (num_frames, 1)), np.full(num_frames, angle_rad),
                   np.full(num_frames, scale), np.full(num_frames, float(depth_m)))

    @property
    def num_frames(self) -> int:
        return len(self.center_px)

    def matrix(self, k: int, anchor: tuple[float, float]) -> np.ndarray:
        """Affine (2, 3) matrix from texture pixel coordinates to image coordinates at frame ``k``."""
        c, s = np.cos(self.angle_rad[k]), np.sin(self.angle_rad[k])
        linear = self.scale[k] * np.array([[c, -s], [s, c]])
        return np.concatenate([linear, (self.center_px[k] - linear @ np.asarray(anchor))[:, None]], axis=1)

    def step(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(A (2, 2), b (2,)): image point p at frame k moves to A·p + b at frame k + 1."""
        dtheta = self.angle_rad[k + 1] - self.angle_rad[k]
        c, s = np.cos(dtheta), np.sin(dtheta)
        a = self.scale[k + 1] / self.scale[k] * np.array([[c, -s], [s, c]])
        return a, self.center_px[k + 1] - a @ self.center_px[k]


@dataclasses.dataclass
class VideoLayer:
    """A textured, moving, fronto-parallel surface.

    Attributes
    ----------
    color : ndarray, float32 (h, w, 3)
        Linear-light texture.
    alpha : ndarray, float32 (h, w)
        Coverage in [0, 1] (anti-aliased shape).
    trajectory : Trajectory
    name : str
    tiled : bool
        Repeat the texture mirrored beyond its edges (backgrounds); otherwise nothing is outside it.
    anchor : (float, float) or None
        Texture point (x, y) that ``trajectory.center_px`` follows; default the texture centre.
    info : dict
        Free-form JSON-able description (shape, how the motion was drawn), written to ``sequence.json``.
    """

    color: np.ndarray
    alpha: np.ndarray
    trajectory: Trajectory
    name: str = "object"
    tiled: bool = False
    anchor: tuple[float, float] | None = None
    info: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self.color = np.asarray(self.color, np.float32)
        self.alpha = np.asarray(self.alpha, np.float32)
        h, w = self.alpha.shape
        if self.color.shape != (h, w, 3):
            raise NeurofocusError(f"layer {self.name!r}: colour {self.color.shape} and alpha {self.alpha.shape} "
                                  "do not match")
        if h < 2 or w < 2:
            raise NeurofocusError(f"layer {self.name!r}: the texture must be at least 2x2 pixels")
        if self.anchor is None:
            self.anchor = ((w - 1) / 2, (h - 1) / 2)


@dataclasses.dataclass
class DefocusVideo:
    """A moving layered scene seen through a thin lens whose focus may change.

    Attributes
    ----------
    width, height : int
        Image size.
    layers : list of VideoLayer
        Composited by depth at every frame (nearer in front); a background should cover the image.
    times_us : ndarray, int64 (T,)
        Frame times, strictly increasing.
    focus_m : ndarray, float64 (T,)
        Focus distance per frame.
    lens : ThinLens
    focus_kind : str
        How the focus moves ("constant", "drift", "sweep" or a description).
    focus_info : dict
        How the focus schedule was drawn (JSON-able, for ``sequence.json``).
    """

    width: int
    height: int
    layers: list[VideoLayer]
    times_us: np.ndarray
    focus_m: np.ndarray
    lens: ThinLens
    focus_kind: str = "constant"
    focus_info: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self.times_us = np.asarray(self.times_us, np.int64)
        self.focus_m = np.asarray(self.focus_m, np.float64)
        n = len(self.times_us)
        if self.width < 2 or self.height < 2:
            raise NeurofocusError(f"image size must be at least 2x2, got {self.width}x{self.height}")
        if n < 2 or self.times_us.shape != (n,) or np.any(np.diff(self.times_us) <= 0) or self.times_us[0] < 0:
            raise NeurofocusError("times_us must hold at least 2 strictly increasing times >= 0")
        if self.focus_m.shape != (n,):
            raise NeurofocusError(f"focus_m must have one value per frame ({n}), got shape {self.focus_m.shape}")
        if not self.layers:
            raise NeurofocusError("a video needs at least one layer")
        for layer in self.layers:
            if layer.trajectory.num_frames != n:
                raise NeurofocusError(f"layer {layer.name!r} has {layer.trajectory.num_frames} frames of motion, "
                                      f"the video {n}")
        self.blur_px()  # checks the distances against the focal length

    @property
    def num_frames(self) -> int:
        return len(self.times_us)

    def depth_table(self) -> np.ndarray:
        """Depth of every layer at every frame, float64 (T, L)."""
        return np.stack([layer.trajectory.depth_m for layer in self.layers], axis=1)

    def blur_px(self) -> np.ndarray:
        """Blur-circle diameter of every layer at every frame, float64 (T, L) pixels."""
        return self.lens.blur_diameter_px(self.depth_table(), self.focus_m[:, None])


# --- rendering ----------------------------------------------------------------------------------------------------

@numba.njit(cache=True, nogil=True)
def _mirror(u, n):
    """Coordinate u folded into [0, n − 1] by mirroring about the edge pixel centres."""
    if n == 1:
        return 0.0
    period = 2.0 * (n - 1)
    u = u - period * np.floor(u / period)
    return period - u if u > n - 1 else u


@numba.njit(cache=True, nogil=True)
def _warp(src, inverse, x0, y0, tiled, out):
    """Bilinear resampling of ``src`` (C, hs, ws) into ``out`` (C, h, w), whose pixel (i, j) is the canvas point
    (x0 + j, y0 + i) and maps to the texture point ``inverse`` @ (x, y, 1); outside the texture: 0 (or mirrored)."""
    nc, hs, ws = src.shape
    _, h, w = out.shape
    for i in range(h):
        y = y0 + i
        for j in range(w):
            x = x0 + j
            u = inverse[0, 0] * x + inverse[0, 1] * y + inverse[0, 2]
            v = inverse[1, 0] * x + inverse[1, 1] * y + inverse[1, 2]
            if tiled:
                u = _mirror(u, ws)
                v = _mirror(v, hs)
            iu = int(np.floor(u))
            iv = int(np.floor(v))
            fu = u - iu
            fv = v - iv
            for c in range(nc):
                out[c, i, j] = 0.0
            for dv in range(2):
                yy = iv + dv
                if yy < 0 or yy >= hs:
                    continue
                wv = fv if dv else 1.0 - fv
                for du in range(2):
                    xx = iu + du
                    if xx < 0 or xx >= ws:
                        continue
                    wt = wv * (fu if du else 1.0 - fu)
                    if wt == 0.0:
                        continue
                    for c in range(nc):
                        out[c, i, j] += wt * src[c, yy, xx]


@functools.lru_cache(maxsize=64)
def _rho(shape: tuple[int, int]) -> np.ndarray:
    return radial_frequency(shape)


def blur_planes(planes: np.ndarray, diameter_px: float, psf: str = "disk", workers: int = 1) -> np.ndarray:
    """Blur premultiplied planes (C, h, w) float32 with the defocus PSF of ``diameter_px`` (linear convolution: the
    box is zero-padded, so nothing wraps around; content near the box edge spreads out of it and is lost)."""
    if diameter_px < NO_BLUR_PX:
        return planes
    h, w = planes.shape[1:]
    margin = int(np.ceil(diameter_px / 2)) + 4
    shape = (scipy.fft.next_fast_len(h + margin, real=True), scipy.fft.next_fast_len(w + margin, real=True))
    spectrum = scipy.fft.rfft2(planes, s=shape, workers=workers)
    spectrum *= psf_otf(_rho(shape), diameter_px, psf)[None]
    return scipy.fft.irfft2(spectrum, s=shape, workers=workers)[:, :h, :w].astype(np.float32)


@dataclasses.dataclass
class VideoFrame:
    """One rendered frame and its ground truth.

    Attributes
    ----------
    sharp, defocused : ndarray, float32 (H, W, 3)
        Pinhole and defocused frames, linear RGB.
    blur_px, depth_m : ndarray, float32 (H, W)
        Blur diameter and depth of the visible layer (NaN where no layer covers a pixel by half).
    layer : ndarray, int16 (H, W)
        Index (in ``video.layers``) of the visible layer, −1 where none.
    pure : ndarray, bool (H, W)
        The pixel shows only its visible layer (coverage ≈ 1, nothing partly in front).
    """

    sharp: np.ndarray
    defocused: np.ndarray
    blur_px: np.ndarray
    depth_m: np.ndarray
    layer: np.ndarray
    pure: np.ndarray


class DefocusVideoRenderer:
    """Renders the frames of a :class:`DefocusVideo`.

    Parameters
    ----------
    video : DefocusVideo
    psf : {"disk", "gaussian"}
        Defocus PSF (:func:`~.optics.psf_otf`; EvFocus used Gaussians).
    workers : int, optional
        FFT threads (default 1).
    """

    def __init__(self, video: DefocusVideo, *, psf: str = "disk", workers: int | None = None):
        if psf not in ("disk", "gaussian"):
            raise NeurofocusError(f"psf must be 'disk' or 'gaussian', got {psf!r}")
        self.video, self.psf, self.workers = video, psf, workers or 1
        self.depth = video.depth_table()
        self.blur = video.blur_px()
        self.pad = canvas_pad(float(self.blur.max()))
        self.canvas_shape = (video.height + 2 * self.pad, video.width + 2 * self.pad)
        self._sources = []
        for layer in video.layers:
            planes = np.concatenate([layer.color * layer.alpha[..., None], layer.alpha[..., None]], axis=2)
            self._sources.append(np.ascontiguousarray(planes.transpose(2, 0, 1), np.float32))

    def _box(self, j: int, k: int, margin: int) -> tuple[int, int, int, int] | None:
        """Canvas box (y0, y1, x0, x1) that layer j covers at frame k, grown by ``margin``; None when outside."""
        hc, wc = self.canvas_shape
        if self.video.layers[j].tiled:
            return 0, hc, 0, wc
        layer = self.video.layers[j]
        h, w = layer.alpha.shape
        m = layer.trajectory.matrix(k, layer.anchor)
        corners = np.array([[-0.5, -0.5, 1], [w - 0.5, -0.5, 1], [-0.5, h - 0.5, 1], [w - 0.5, h - 0.5, 1]]) @ m.T
        corners += self.pad
        x0 = max(0, int(np.floor(corners[:, 0].min())) - margin)
        x1 = min(wc, int(np.ceil(corners[:, 0].max())) + margin + 1)
        y0 = max(0, int(np.floor(corners[:, 1].min())) - margin)
        y1 = min(hc, int(np.ceil(corners[:, 1].max())) + margin + 1)
        return (y0, y1, x0, x1) if x1 > x0 and y1 > y0 else None

    def _warped(self, j: int, k: int, box) -> np.ndarray:
        layer = self.video.layers[j]
        m = layer.trajectory.matrix(k, layer.anchor)
        m[:, 2] += self.pad  # texture -> canvas
        inverse = np.linalg.inv(np.vstack([m, [0, 0, 1]]))[:2]
        y0, y1, x0, x1 = box
        out = np.empty((4, y1 - y0, x1 - x0), np.float32)
        _warp(self._sources[j], inverse, float(x0), float(y0), layer.tiled, out)
        return out

    def frame(self, k: int) -> VideoFrame:
        """Render frame ``k`` (0 <= k < T)."""
        video = self.video
        if not 0 <= k < video.num_frames:
            raise NeurofocusError(f"frame {k} is outside 0..{video.num_frames - 1}")
        hc, wc = self.canvas_shape
        height, width, pad = video.height, video.width, self.pad
        sharp = np.zeros((4, hc, wc), np.float32)
        blurred = np.zeros((4, hc, wc), np.float32)
        front = np.full((height, width), -1, np.int16)
        pure = np.zeros((height, width), bool)
        for j in np.argsort(-self.depth[k], kind="stable"):  # back to front
            diameter = float(self.blur[k, j])
            box = self._box(j, k, 1 + (int(np.ceil(diameter / 2)) + 2 if diameter >= NO_BLUR_PX else 0))
            if box is None:
                continue
            planes = self._warped(j, k, box)
            y0, y1, x0, x1 = box
            region = (slice(None), slice(y0, y1), slice(x0, x1))
            sharp[region] = planes + (1.0 - planes[3]) * sharp[region]
            out = blur_planes(planes, diameter, self.psf, self.workers)
            blurred[region] = out + (1.0 - out[3]) * blurred[region]
            # which layer each image pixel shows
            iy0, iy1, ix0, ix1 = max(y0, pad), min(y1, pad + height), max(x0, pad), min(x1, pad + width)
            if iy1 <= iy0 or ix1 <= ix0:
                continue
            alpha = planes[3, iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0]
            image = (slice(iy0 - pad, iy1 - pad), slice(ix0 - pad, ix1 - pad))
            front[image] = np.where(alpha >= 0.5, j, front[image])
            pure[image] = np.where(alpha >= _FULL, True, np.where(alpha > _EMPTY, False, pure[image]))
        crop = (slice(None), slice(pad, pad + height), slice(pad, pad + width))
        visible = front >= 0
        index = np.maximum(front, 0)
        depth = np.where(visible, self.depth[k][index], np.nan).astype(np.float32)
        blur = np.where(visible, self.blur[k][index], np.nan).astype(np.float32)
        return VideoFrame(unpremultiply(sharp[crop]), unpremultiply(blurred[crop]), blur, depth, front,
                          pure & visible)


def optical_flow(video: DefocusVideo, k: int, layer_k: np.ndarray, pure_k: np.ndarray, layer_next: np.ndarray,
                 pure_next: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact forward flow from frame k to k+1 of the sharp frames, and where it is defined.

    Parameters
    ----------
    video : DefocusVideo
    k : int
        0 <= k < T − 1.
    layer_k, pure_k, layer_next, pure_next : ndarray (H, W)
        :attr:`VideoFrame.layer` and :attr:`VideoFrame.pure` of frames k and k + 1.

    Returns
    -------
    flow : ndarray, float32 (H, W, 2)
        (dx, dy) in pixels: the point of the visible layer at pixel p is at p + flow at frame k + 1.
    valid : ndarray, bool (H, W)
        Pixels that show only one layer at k whose point is, at k + 1, inside the image and shows only that layer
        (all four pixels around it); False at occlusions, disocclusions, edges and where it leaves the image.
    """
    height, width = layer_k.shape
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    flow = np.zeros((height, width, 2), np.float64)
    for j in np.unique(layer_k[layer_k >= 0]):
        a, b = video.layers[int(j)].trajectory.step(k)
        mask = layer_k == j
        x, y = xx[mask], yy[mask]
        flow[mask, 0] = a[0, 0] * x + a[0, 1] * y + b[0] - x
        flow[mask, 1] = a[1, 0] * x + a[1, 1] * y + b[1] - y
    x1, y1 = xx + flow[..., 0], yy + flow[..., 1]
    valid = pure_k & (x1 >= 0) & (x1 <= width - 1) & (y1 >= 0) & (y1 <= height - 1)
    for fy in (np.floor, np.ceil):
        for fx in (np.floor, np.ceil):
            iy = np.clip(fy(y1), 0, height - 1).astype(np.intp)
            ix = np.clip(fx(x1), 0, width - 1).astype(np.intp)
            valid &= (layer_next[iy, ix] == layer_k) & pure_next[iy, ix]
    return flow.astype(np.float32), valid


# --- simulation ---------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class SimulatedVideo:
    """A defocused-event video and its ground truth (the arrays of ``frames.npz``).

    Attributes
    ----------
    sharp, defocused : ndarray, uint8 (T, H, W, 3)
        sRGB frames: pinhole and through the lens.
    blur_px, depth_m : ndarray, float16 (T, H, W)
        Blur diameter (pixels) and depth (metres) of the visible layer.
    flow : ndarray, float16 (T-1, H, W, 2)
        Forward flow of the sharp frames (dx, dy) in pixels, rounded to :data:`FLOW_QUANTUM_PX`.
    flow_valid : ndarray, bool (T-1, H, W)
    frame_times_us : ndarray, int64 (T,)
    focus_m : ndarray, float64 (T,)
    events, sharp_events : Events or None
        Events of the defocused and of the sharp frames.
    info : dict
        ``sequence.json`` (when read back or written).
    """

    sharp: np.ndarray
    defocused: np.ndarray
    blur_px: np.ndarray
    depth_m: np.ndarray
    flow: np.ndarray
    flow_valid: np.ndarray
    frame_times_us: np.ndarray
    focus_m: np.ndarray
    events: Events | None = None
    sharp_events: Events | None = None
    info: dict = dataclasses.field(default_factory=dict)

    ARRAYS = ("sharp", "defocused", "blur_px", "depth_m", "flow", "flow_valid", "frame_times_us", "focus_m")


def _event_sensor(sensor, size, seed: int, workers):
    if sensor is None:
        return None
    if isinstance(sensor, VoltmeterParams):
        return DvsVoltmeter(size, sensor, seed=seed, workers=workers)
    if isinstance(sensor, IdealParams):
        return IdealEventSimulator(size, sensor, seed=seed, workers=workers)
    raise NeurofocusError(f"sensor must be VoltmeterParams, IdealParams or None, got {type(sensor).__name__}")


def _sensor_input(sensor, linear: np.ndarray) -> np.ndarray:
    return gray8(linear_to_srgb(linear)) if isinstance(sensor, VoltmeterParams) else np.clip(luminance(linear), 0, 1)


def simulate_defocus_video(video: DefocusVideo, sensor: VoltmeterParams | IdealParams | None = None, *,
                           sharp_events: bool = False, seed: int = 0, psf: str = "disk", chunk_frames: int = 16,
                           workers: int | None = None, progress: bool = False) -> SimulatedVideo:
    """Render a video with its ground truth and simulate the events of its defocused (and sharp) frames.

    Parameters
    ----------
    video : DefocusVideo
    sensor : VoltmeterParams or IdealParams or None
        DVS-Voltmeter (fed 8-bit gray sRGB) or the ideal DVS (fed linear luminance); None for no events.
    sharp_events : bool
        Also simulate the events of the sharp frames (same sensor: same seed).
    seed : int
        Seed of the sensor noise.
    psf : {"disk", "gaussian"}
    chunk_frames : int
        Frames rendered before they are fed to the sensors (memory use).
    workers : int, optional
        Threads for the FFTs and the sensors (results do not depend on it).

    Examples
    --------
    >>> video = random_defocus_video(np.random.default_rng(0), (64, 48), num_frames=4, blur_px=(2, 6))
    >>> sim = simulate_defocus_video(video, IdealParams(), sharp_events=True, seed=1)
    >>> sim.defocused.shape, sim.flow.shape, sim.flow_valid.dtype
    ((4, 48, 64, 3), (3, 48, 64, 2), dtype('bool'))
    >>> bool(np.allclose(sim.blur_px[0], video.lens.blur_diameter_px(sim.depth_m[0].astype(float), sim.focus_m[0]),
    ...                  rtol=3e-3, atol=0.02))
    True
    """
    if sharp_events and sensor is None:
        raise NeurofocusError("sharp_events needs an event sensor")
    check_positive(chunk_frames, "chunk_frames")
    renderer = DefocusVideoRenderer(video, psf=psf, workers=workers)
    n, height, width = video.num_frames, video.height, video.width
    size = (width, height)
    out = SimulatedVideo(
        sharp=np.empty((n, height, width, 3), np.uint8), defocused=np.empty((n, height, width, 3), np.uint8),
        blur_px=np.empty((n, height, width), np.float16), depth_m=np.empty((n, height, width), np.float16),
        flow=np.empty((n - 1, height, width, 2), np.float16), flow_valid=np.empty((n - 1, height, width), bool),
        frame_times_us=video.times_us.copy(), focus_m=video.focus_m.copy())
    sims = [_event_sensor(sensor, size, seed, workers)]
    if sharp_events:
        sims.append(_event_sensor(sensor, size, seed, workers))
    parts: list[list[Events]] = [[], []]
    previous = None
    for start in progress_bar(range(0, n, chunk_frames), desc="rendering video", disable=not progress, leave=False):
        stop = min(n, start + chunk_frames)
        linear = [[], []]
        for k in range(start, stop):
            frame = renderer.frame(k)
            out.sharp[k] = to_uint8(linear_to_srgb(frame.sharp))
            out.defocused[k] = to_uint8(linear_to_srgb(frame.defocused))
            out.blur_px[k], out.depth_m[k] = frame.blur_px, frame.depth_m
            if previous is not None:
                flow, valid = optical_flow(video, k - 1, previous.layer, previous.pure, frame.layer, frame.pure)
                out.flow[k - 1] = np.round(flow / FLOW_QUANTUM_PX) * FLOW_QUANTUM_PX
                out.flow_valid[k - 1] = valid
            previous = frame
            linear[0].append(frame.defocused)
            linear[1].append(frame.sharp)
        times = video.times_us[start:stop]
        for i, sim in enumerate(sims):
            if sim is not None:
                parts[i].append(sim.feed(_sensor_input(sensor, np.stack(linear[i])), times))
    if sims[0] is not None:
        out.events = Events.concatenate(parts[0])
    if sharp_events:
        out.sharp_events = Events.concatenate(parts[1])
    return out


# --- random scenes ------------------------------------------------------------------------------------------------

def _check_range(name: str, value, lower: float = 0.0, integer: bool = False) -> tuple:
    try:
        lo, hi = (int(v) if integer else float(v) for v in value)
    except (TypeError, ValueError):
        raise NeurofocusError(f"{name} must be a (min, max) pair, got {value!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lower <= lo <= hi):
        raise NeurofocusError(f"{name} must be an increasing range with min >= {lower}, got {value!r}")
    return lo, hi


def _wiggle(rng: np.random.Generator, t: np.ndarray, duration: float) -> tuple[np.ndarray, float]:
    """A smooth oscillation that starts at 0, sin(2πt/P + φ) − sin(φ) with P in [0.6, 1.6] durations, and its
    angular frequency 2π/P."""
    period = rng.uniform(0.6, 1.6) * duration
    phase = rng.uniform(0, 2 * np.pi)
    return np.sin(2 * np.pi * t / period + phase) - np.sin(phase), 2 * np.pi / period


def _fits(lens: ThinLens, blur_px: float, focus_m: float) -> bool:
    """Whether surfaces blurred by up to ``blur_px`` in front of and behind ``focus_m`` fit: the near ones at least
    half the focus distance and 1.5 focal lengths away, the far ones nearer than 50 m."""
    if focus_m * 1e3 <= 1.5 * lens.focal_length_mm:
        return False
    inv, span = 1.0 / focus_m, lens.inverse_depth_span(blur_px, focus_m)
    return inv + span <= min(2 * inv, 1e3 / (1.5 * lens.focal_length_mm)) and inv - 1.05 * span >= 0.02


def usable_focus_range(lens: ThinLens, blur_px: float, focus_distance_m: tuple[float, float]) -> tuple[float, float]:
    """The part of ``focus_distance_m`` where blurs up to ``blur_px`` fit in front of and behind the focus (see
    :func:`random_defocus_video`); raises NeurofocusError when none does."""
    lo, hi = _check_range("focus_distance_m", focus_distance_m)
    grid = np.linspace(lo, hi, 65)
    ok = [s for s in grid if _fits(lens, blur_px, s)]
    if not ok:
        raise NeurofocusError(f"blur up to {blur_px:g} px does not fit the lens ({lens.focal_length_mm:g} mm "
                              f"f/{lens.f_number:g}) at focus distances {lo:g}-{hi:g} m: use a smaller blur range or "
                              "another lens")
    return float(min(ok)), float(max(ok))


def _inverse_depth(rng, blur_lo, blur_hi, inv_focus, per_px, inv_background):
    """(inverse depth, blur, side) of an object: blur in [blur_lo, blur_hi] at the reference focus, in front of the
    focus or behind it (then nearer than the background)."""
    blur = rng.uniform(blur_lo, blur_hi)
    behind_ok = blur * per_px < 0.9 * (inv_focus - inv_background)
    behind = bool(rng.random() < 0.4) and behind_ok
    return inv_focus + (-1 if behind else 1) * blur * per_px, blur, "behind" if behind else "in front"


def random_defocus_video(rng: np.random.Generator, size: tuple[int, int] = (346, 260), *, num_frames: int = 100,
                         frame_rate_hz: float = 200.0, lens: ThinLens = ThinLens(25.0, 1.4, 18.5),
                         blur_px: tuple[float, float] = (0.0, 15.0), num_objects: tuple[int, int] = (2, 6),
                         focus: str = "mixed", depth_motion: float = 0.5, camera_pan: float = 0.5,
                         max_speed_px_s: float = 150.0, max_rotation_deg_s: float = 60.0,
                         focus_distance_m: tuple[float, float] = FOCUS_DISTANCE_M,
                         textures: PhotoTextures | None = None) -> DefocusVideo:
    """A random multi-depth scene of textured objects moving in 2-D (and in depth) over a background.

    Parameters
    ----------
    rng : numpy Generator
        All randomness.
    size : (int, int)
        Image (width, height).
    num_frames, frame_rate_hz : int, float
        Frames and their rate (the motion is set in pixels per second).
    lens : ThinLens
        The camera (default a 25 mm f/1.4 lens on DAVIS346 pixels).
    blur_px : (float, float)
        Range of the blur diameter (pixels) of each surface at the reference focus distance; focus drifts and
        sweeps and depth motion change it from there (the frames' ``blur_px`` map holds the actual value).
    num_objects : (int, int)
        Inclusive range of the number of objects.
    focus : {"constant", "drift", "sweep", "mixed"}
        Focus schedule; "mixed" draws constant (1/2), drift (1/4) or sweep (1/4).
    depth_motion : float
        Probability that an object moves in depth (linearly in depth over the sequence, to a blur drawn like the
        first; its image scales by the pinhole magnification d0/d).
    camera_pan : float
        Probability that the background moves (translation up to half ``max_speed_px_s``, slight rotation).
    max_speed_px_s, max_rotation_deg_s : float
        Largest object speed and rotation rate.
    focus_distance_m : (float, float)
        Range of the reference focus distance (narrowed to where ``blur_px`` fits the lens: surfaces in front no
        nearer than half the focus distance, behind no farther than 50 m).
    textures : PhotoTextures, optional
        Photographs whose crops texture the background and every object (each layer's ``info["texture"]`` names
        the photo and the box); default the bundled images and procedural patterns (:func:`.textures.random_texture`).
    """
    def texture(h: int, w: int) -> tuple[np.ndarray, dict]:
        if textures is None:
            return random_texture(rng, h, w), {}
        image, where = textures.random(rng, h, w)
        return image, {"texture": where}

    width, height = (int(v) for v in size)
    if width < 8 or height < 8:
        raise NeurofocusError(f"image size must be at least 8x8, got {width}x{height}")
    if int(num_frames) < 2:
        raise NeurofocusError(f"a video needs at least 2 frames, got {num_frames}")
    check_positive(frame_rate_hz, "frame_rate_hz")
    if focus not in FOCUS_KINDS + ("mixed",):
        raise NeurofocusError(f"focus must be constant, drift, sweep or mixed, got {focus!r}")
    blur_lo, blur_hi = _check_range("blur_px", blur_px)
    n_lo, n_hi = _check_range("num_objects", num_objects, integer=True)
    for name, value in (("depth_motion", depth_motion), ("camera_pan", camera_pan)):
        if not 0 <= value <= 1:
            raise NeurofocusError(f"{name} is a probability in [0, 1], got {value}")
    if not (max_speed_px_s >= 0 and max_rotation_deg_s >= 0):
        raise NeurofocusError("max_speed_px_s and max_rotation_deg_s must be >= 0")
    num_frames = int(num_frames)
    times_us = np.rint(np.arange(num_frames) * 1e6 / frame_rate_hz).astype(np.int64)
    if np.any(np.diff(times_us) <= 0):
        raise NeurofocusError(f"frame_rate_hz {frame_rate_hz} is too high for µs timestamps")
    t = times_us / 1e6
    duration = max(float(t[-1]), 1.0 / frame_rate_hz)

    # depths: a reference focus, the background behind it, objects in front of or behind it
    focus_lo, focus_hi = usable_focus_range(lens, blur_hi, focus_distance_m)
    focus_ref = rng.uniform(focus_lo, focus_hi)
    inv_focus = 1.0 / focus_ref
    per_px = lens.inverse_depth_span(1.0, focus_ref)  # inverse depth (1/m) per pixel of blur
    blur_bg = rng.uniform(blur_lo, blur_hi)
    inv_bg = inv_focus - max(blur_bg, 0.05 * blur_hi + 1e-3) * per_px  # always (slightly) behind the focus
    n_objects = int(rng.integers(n_lo, n_hi + 1))
    objects = []
    for _ in range(n_objects):
        inv0, b0, side0 = _inverse_depth(rng, blur_lo, blur_hi, inv_focus, per_px, inv_bg)
        moves = bool(rng.random() < depth_motion)
        inv1, b1, side1 = _inverse_depth(rng, blur_lo, blur_hi, inv_focus, per_px, inv_bg) if moves else (
            inv0, b0, side0)
        depth = 1 / inv0 + (1 / inv1 - 1 / inv0) * t / duration
        objects.append(dict(depth=depth, blur_reference_start_px=b0, blur_reference_end_px=b1, side_start=side0, side_end=side1, moves=moves))

    # focus schedule
    kind = focus if focus != "mixed" else ("constant", "constant", "drift", "sweep")[int(rng.integers(4))]
    if kind == "constant":
        inv_focus_t = np.full(num_frames, inv_focus)
    elif kind == "drift":
        change = rng.uniform(0.25, 1.0) * max(blur_hi, 1.0) * per_px * (1 if rng.random() < 0.5 else -1)
        inv_focus_t = inv_focus + change * (t / duration - 0.5)
    else:
        inv_all = [np.full(num_frames, inv_bg)] + [1 / o["depth"] for o in objects]
        near, far = max(float(v.max()) for v in inv_all), min(float(v.min()) for v in inv_all)
        ends = (near, far) if rng.random() < 0.5 else (far, near)
        inv_focus_t = ends[0] + (ends[1] - ends[0]) * t / duration
    focus_m = 1.0 / inv_focus_t

    # the canvas margin follows the largest blur of the sequence
    depths = np.stack([np.full(num_frames, 1 / inv_bg)] + [o["depth"] for o in objects], axis=1)
    pad = canvas_pad(float(lens.blur_diameter_px(depths, focus_m[:, None]).max()))
    hc, wc = height + 2 * pad, width + 2 * pad

    # background: a texture larger than the canvas, mirrored beyond it; optionally panning
    hb, wb = int(hc * 1.25) + 2, int(wc * 1.25) + 2
    pans = bool(rng.random() < camera_pan)
    direction = rng.uniform(0, 2 * np.pi)
    speed = rng.uniform(0.1, 0.5) * max_speed_px_s if pans else 0.0
    omega = np.deg2rad(rng.uniform(-0.1, 0.1) * max_rotation_deg_s) if pans else 0.0
    centre = np.array([(width - 1) / 2, (height - 1) / 2])
    bg_motion = Trajectory(centre + speed * t[:, None] * np.array([np.cos(direction), np.sin(direction)]),
                           omega * t, np.ones(num_frames), np.full(num_frames, 1 / inv_bg))
    bg_texture, bg_where = texture(hb, wb)
    layers = [VideoLayer(bg_texture, np.ones((hb, wb), np.float32), bg_motion, "background",
                         tiled=True, info=dict(blur_reference_px=blur_bg, pans=pans, speed_px_s=speed,
                                               direction_rad=direction, rotation_rad_s=omega, **bg_where))]

    # objects: a shape on its own texture, moving over the image
    for i, obj in enumerate(objects):
        kind_shape = ("rectangle", "ellipse", "polygon", "star")[int(rng.integers(4))]
        extent = rng.uniform(0.15, 0.4) * min(width, height)
        box = (extent * rng.uniform(0.6, 1.6), extent * rng.uniform(0.6, 1.6))
        side = int(np.ceil(np.hypot(*box))) + 6
        alpha = shape_mask(kind_shape, (side, side), ((side - 1) / 2, (side - 1) / 2), box, 0.0, rng)
        start = rng.uniform([0.1 * width, 0.1 * height], [0.9 * width, 0.9 * height])
        speed = rng.uniform(0.1, 1.0) * max_speed_px_s
        heading = np.arctan2(height / 2 - start[1], width / 2 - start[0]) + rng.uniform(-np.pi / 2, np.pi / 2)
        velocity = speed * np.array([np.cos(heading), np.sin(heading)])
        wiggle_x, fx = _wiggle(rng, t, duration)
        wiggle_y, fy = _wiggle(rng, t, duration)
        amplitude = rng.uniform(0, 0.4) * speed
        centre_t = start + velocity * t[:, None] + amplitude * np.stack([wiggle_x / fx, wiggle_y / fy], axis=1)
        omega = np.deg2rad(rng.uniform(-1, 1) * max_rotation_deg_s)
        angle0 = rng.uniform(0, 2 * np.pi)
        wiggle_s, _ = _wiggle(rng, t, duration)
        scale_2d = np.exp(rng.uniform(-0.15, 0.15) * wiggle_s)
        depth = obj["depth"]
        motion = Trajectory(centre_t, angle0 + omega * t, scale_2d * depth[0] / depth, depth)
        info = dict(shape=kind_shape, box_px=list(box), speed_px_s=speed, heading_rad=float(heading),
                    wiggle_px_s=amplitude, rotation_rad_s=omega,
                    **{k: v for k, v in obj.items() if k != "depth"})
        obj_texture, where = texture(side, side)
        layers.append(VideoLayer(obj_texture, alpha, motion, f"{kind_shape} {i}", info={**info, **where}))
    return DefocusVideo(width, height, layers, times_us, focus_m, lens, focus_kind=kind,
                        focus_info=dict(reference_m=focus_ref, usable_range_m=[focus_lo, focus_hi]))


# --- sequence folders ---------------------------------------------------------------------------------------------

def _rounded(values, digits: int = 5) -> list:
    return np.round(np.asarray(values, np.float64), digits).tolist()


def video_description(video: DefocusVideo) -> dict:
    """JSON-able description of a video: lens, focus schedule and per-layer motion, depth and blur per frame."""
    blur = video.blur_px()
    layers = []
    for j, layer in enumerate(video.layers):
        tr = layer.trajectory
        layers.append(dict(name=layer.name, tiled=layer.tiled, texture_size=[layer.alpha.shape[1],
                                                                             layer.alpha.shape[0]],
                           anchor=list(layer.anchor), center_px=_rounded(tr.center_px, 4),
                           angle_rad=_rounded(tr.angle_rad, 6), scale=_rounded(tr.scale, 6),
                           depth_m=_rounded(tr.depth_m, 6), blur_px=_rounded(blur[:, j], 4),
                           **_jsonable(layer.info)))
    return dict(size=[video.width, video.height], num_frames=video.num_frames, lens=dataclasses.asdict(video.lens),
                focus=dict(kind=video.focus_kind, focus_m=_rounded(video.focus_m, 6),
                           **_jsonable(video.focus_info)),
                layers=layers)


def _jsonable(value):
    from .dataset import _jsonable as convert

    return convert(value)


def write_video_sample(folder: str | os.PathLike, simulated: SimulatedVideo, meta: dict) -> dict:
    """Write a simulated video in the sequence layout (module notes); returns the ``sequence.json`` content."""
    from ..io import save_events

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "frames.npz") as tmp:
        np.savez_compressed(tmp, **{name: getattr(simulated, name) for name in SimulatedVideo.ARRAYS})
    height, width = simulated.sharp.shape[1:3]
    info = {"size": [width, height], "num_frames": len(simulated.frame_times_us),
            "frame_times_us": simulated.frame_times_us.tolist(), "files": ["frames.npz", "sequence.json"]}
    for key, events in (("", simulated.events), ("_sharp", simulated.sharp_events)):
        if events is not None:
            save_events(folder / f"events{key}.hdf5", events)
            stats = events.polarity_stats()
            info[f"event{key}_file"] = f"events{key}.hdf5"
            info[f"num_events{key}"], info[f"num_on{key}"] = len(events), stats.num_on
            info["files"].append(f"events{key}.hdf5")
    info["flow_valid_fraction"] = round(float(simulated.flow_valid.mean()), 4) if simulated.flow_valid.size else 0.0
    info.update(_jsonable(meta))
    write_text_atomic(folder / "sequence.json", json.dumps(info, indent=1, sort_keys=True) + "\n")
    simulated.info = info
    return info


def load_video_sample(folder: str | os.PathLike, *, events: bool = True) -> SimulatedVideo:
    """Read a sequence folder written by :func:`write_video_sample`."""
    from ..io import load_events

    folder = Path(folder)
    missing = [name for name in VIDEO_FILES if not (folder / name).is_file()]
    if missing:
        raise NeurofocusError(f"not a complete sequence folder (missing {', '.join(missing)})", folder)
    info = json.loads((folder / "sequence.json").read_text())
    try:
        with np.load(folder / "frames.npz", allow_pickle=False) as z:
            arrays = {name: z[name] for name in SimulatedVideo.ARRAYS}
    except (KeyError, ValueError, OSError) as exc:
        raise NeurofocusError(f"frames.npz is incomplete or unreadable ({exc})", folder) from None
    ev = load_events(folder / info["event_file"]) if events and "event_file" in info else None
    sharp = load_events(folder / info["event_sharp_file"]) if events and "event_sharp_file" in info else None
    return SimulatedVideo(**arrays, events=ev, sharp_events=sharp, info=info)


# --- datasets -----------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class DefocusVideoConfig:
    """Settings of a defocused-event video dataset (``neurofocus synth --kind defocus-video``).

    Attributes
    ----------
    width, height : int
        Sensor and image size (DAVIS346: 346x260).
    num_frames, frame_rate_hz : int, float
        Frames per sequence and their rate (100 at 200 Hz: 0.5 s).
    blur_px : (float, float)
        Range of each surface's blur diameter at the reference focus (see :func:`random_defocus_video`).
    num_objects : (int, int)
        Inclusive range of the number of moving objects.
    focus : {"mixed", "constant", "drift", "sweep"}
        Focus schedule.
    depth_motion, camera_pan : float
        Probabilities that an object moves in depth, that the background moves.
    max_speed_px_s, max_rotation_deg_s : float
        Largest object speed and rotation rate.
    focal_length_mm, f_number, pixel_pitch_um : float
        The lens and the pixel pitch (default a 25 mm f/1.4 lens on 18.5 µm DAVIS346 pixels).
    psf : {"disk", "gaussian"}
        Defocus PSF.
    event_model : {"dvs-voltmeter", "ideal", "none"}
        The sensor, with its parameters drawn per sequence: DVS-Voltmeter with k1..k6 uniform in the papers' ranges
        (:data:`~.dvs_voltmeter.PAPER_RANGES`: k1, k2 set the contrast response, k3, k6 the noise, k4, k5 the leak
        drift; the model has no refractory period), the ideal model with every parameter drawn by
        :func:`random_ideal_params` (thresholds, mismatch, refractory period, leak, shot noise), or no events.
    sharp_events : bool
        Also simulate the events of the sharp frames (E2VID+ training data).
    textures : str, optional
        A folder of photographs whose crops texture every surface (:class:`~.textures.PhotoTextures`; e.g. the Kodak
        suite); default the bundled images and procedural patterns.
    """

    KIND = "defocus-video"

    width: int = 346
    height: int = 260
    num_frames: int = 100
    frame_rate_hz: float = 200.0
    blur_px: tuple[float, float] = (0.0, 15.0)
    num_objects: tuple[int, int] = (2, 6)
    focus: str = "mixed"
    depth_motion: float = 0.5
    camera_pan: float = 0.5
    max_speed_px_s: float = 150.0
    max_rotation_deg_s: float = 60.0
    focal_length_mm: float = 25.0
    f_number: float = 1.4
    pixel_pitch_um: float = 18.5
    psf: str = "disk"
    event_model: str = "dvs-voltmeter"
    sharp_events: bool = False
    textures: str | None = None

    def __post_init__(self):
        if self.textures is not None:
            object.__setattr__(self, "textures", str(PhotoTextures(self.textures).folder))  # fails early, absolute
        object.__setattr__(self, "blur_px", _check_range("blur_px", self.blur_px))
        object.__setattr__(self, "num_objects", _check_range("num_objects", self.num_objects, integer=True))
        if self.width < 8 or self.height < 8:
            raise NeurofocusError(f"size must be at least 8x8, got {self.width}x{self.height}")
        if self.num_frames < 2:
            raise NeurofocusError(f"a sequence needs at least 2 frames, got {self.num_frames}")
        check_positive(self.frame_rate_hz, "frame rate")
        if self.focus not in FOCUS_KINDS + ("mixed",):
            raise NeurofocusError(f"focus must be mixed, constant, drift or sweep, got {self.focus!r}")
        if self.psf not in ("disk", "gaussian"):
            raise NeurofocusError(f"psf must be disk or gaussian, got {self.psf!r}")
        if self.event_model not in ("dvs-voltmeter", "ideal", "none"):
            raise NeurofocusError(f"event_model must be dvs-voltmeter, ideal or none, got {self.event_model!r}")
        if self.sharp_events and self.event_model == "none":
            raise NeurofocusError("sharp events need an event model (not none)")
        for name in ("depth_motion", "camera_pan"):
            if not 0 <= getattr(self, name) <= 1:
                raise NeurofocusError(f"{name} is a probability in [0, 1], got {getattr(self, name)}")
        if not (self.max_speed_px_s >= 0 and self.max_rotation_deg_s >= 0):
            raise NeurofocusError("max_speed_px_s and max_rotation_deg_s must be >= 0")
        if np.any(np.diff(np.rint(np.arange(self.num_frames) * 1e6 / self.frame_rate_hz)) <= 0):
            raise NeurofocusError(f"frame rate {self.frame_rate_hz} is too high for µs timestamps")
        usable_focus_range(self.lens, self.blur_px[1], FOCUS_DISTANCE_M)  # fails early when the blur cannot fit

    @classmethod
    def from_json(cls, data: dict) -> "DefocusVideoConfig":
        return from_dict(cls, data, "unknown defocus-video settings {unknown}", ignore=("kind",))

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        if data["textures"] is None:  # as before textures existed: older datasets resume
            del data["textures"]
        return {"kind": self.KIND, **data}

    @property
    def lens(self) -> ThinLens:
        return ThinLens(self.focal_length_mm, self.f_number, self.pixel_pitch_um)


def random_ideal_params(threshold_rng: np.random.Generator, noise_rng: np.random.Generator) -> IdealParams:
    """Ideal-DVS parameters of one sequence: ON and OFF thresholds uniform in [0.15, 0.35] (log units) from
    ``threshold_rng``; from ``noise_rng`` a per-pixel threshold mismatch σ in [0, 0.05], a refractory period in
    [0, 1000] µs, a leak rate in [0, 0.5] Hz and a shot-noise rate in [0, 2] Hz per pixel (v2e's ranges for
    indoor-lit DAVIS pixels: Hu et al. 2021)."""
    cp, cm = (float(threshold_rng.uniform(0.15, 0.35)) for _ in range(2))
    sigma, refractory, leak, shot = (float(noise_rng.uniform(0, hi)) for hi in (0.05, 1000.0, 0.5, 2.0))
    return IdealParams(contrast_pos=cp, contrast_neg=cm, threshold_sigma=sigma, refractory_us=refractory,
                       leak_rate_hz=leak, shot_noise_rate_hz=shot)


def make_video_sample(config: DefocusVideoConfig, seed: int, index: int, folder: Path, *, workers: int = 1) -> dict:
    """Generate sequence ``index`` of a dataset into ``folder`` (not atomically: see :func:`~.dataset.synthesize`)."""
    t0 = time.perf_counter()
    # spawn(3)'s first two streams are spawn(2)'s: datasets made before the third existed stay the same
    scene_rng, sensor_rng, noise_rng = (np.random.default_rng(s)
                                        for s in np.random.SeedSequence([seed, index]).spawn(3))
    lens = config.lens
    textures = PhotoTextures(config.textures) if config.textures else None
    video = random_defocus_video(scene_rng, (config.width, config.height), num_frames=config.num_frames,
                                 frame_rate_hz=config.frame_rate_hz, lens=lens, blur_px=config.blur_px,
                                 num_objects=config.num_objects, focus=config.focus, depth_motion=config.depth_motion,
                                 camera_pan=config.camera_pan, max_speed_px_s=config.max_speed_px_s,
                                 max_rotation_deg_s=config.max_rotation_deg_s, textures=textures)
    if config.event_model == "dvs-voltmeter":
        sensor = VoltmeterParams.random(sensor_rng)
    elif config.event_model == "ideal":
        sensor = random_ideal_params(sensor_rng, noise_rng)
    else:
        sensor = None
    sensor_seed = int(sensor_rng.integers(2**31))
    simulated = simulate_defocus_video(video, sensor, sharp_events=config.sharp_events, seed=sensor_seed,
                                       psf=config.psf, workers=workers)
    meta = {"index": index, "dataset_seed": seed, "sensor_seed": sensor_seed, "psf": config.psf,
            "event_model": config.event_model, "sensor": sensor, "blur_range_px": list(config.blur_px),
            **video_description(video), "seconds": round(time.perf_counter() - t0, 2)}
    return write_video_sample(folder, simulated, meta)
