"""Rendering a defocused video: each layer resampled, blurred by the PSF of its blur circle and composited by depth; the exact forward flow of the sharp frames."""

from __future__ import annotations

import dataclasses
import functools

import numba
import numpy as np
import scipy.fft

from ...errors import NeurofocusError
from ..optics import psf_otf, radial_frequency
from ..render import NO_BLUR_PX, unpremultiply
from ..scene import canvas_pad
from .model import DefocusVideo

_FULL = 1.0 - 1e-3  # coverage counted as "only this layer"
_EMPTY = 1e-3


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

