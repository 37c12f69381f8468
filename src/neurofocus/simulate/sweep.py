"""Focal sweeps: the focus distance over time, the frames it produces, and per-pixel in-focus times.

The focus moves between two distances over ``num_frames`` frames at a constant frame rate. Its motion is uniform
in inverse distance (as a focus ring maps to the sensor position), either at constant speed or with the speed
varying smoothly as when a ring is turned by hand (seeded). Optional focus breathing scales each frame about the
image centre; the RGB camera's image is the frame at ``image_frame``, and everything (ground truth included) is
registered to it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import ndimage

from ..errors import NeurofocusError


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """How the focus sweeps.

    Attributes
    ----------
    num_frames : int
        Frames rendered over the sweep (the papers: 480).
    frame_rate_hz : float
        Frames per second (480 frames at 480 Hz: a 1 s sweep; the EFS code assumes 120 Hz).
    direction : {"near_to_far", "far_to_near"}
    speed : {"constant", "hand"}
        Constant speed in inverse distance, or a smoothly varying (seeded) hand-turned speed.
    hand_variation : float
        Standard deviation of the log-speed for ``speed="hand"`` (0.6: speeds vary about 2x).
    margin : float
        Extra sweep range beyond the content, as a fraction of its inverse-depth span, on each side.
    breathing : float
        Magnification change over the whole sweep (e.g. 0.02 = 2 %); 0 for none.
    image_frame : int or None
        Frame captured by the RGB camera; None: drawn uniformly.
    start_us : int
        Time of the first frame (µs).
    """

    num_frames: int = 480
    frame_rate_hz: float = 480.0
    direction: str = "near_to_far"
    speed: str = "constant"
    hand_variation: float = 0.6
    margin: float = 0.05
    breathing: float = 0.0
    image_frame: int | None = None
    start_us: int = 0

    def __post_init__(self):
        if self.num_frames < 2:
            raise NeurofocusError("a sweep needs at least 2 frames")
        if not self.frame_rate_hz > 0:
            raise NeurofocusError("frame_rate_hz must be positive")
        if self.direction not in ("near_to_far", "far_to_near"):
            raise NeurofocusError(f"direction must be 'near_to_far' or 'far_to_near', got {self.direction!r}")
        if self.speed not in ("constant", "hand"):
            raise NeurofocusError(f"speed must be 'constant' or 'hand', got {self.speed!r}")
        if self.image_frame is not None and not 0 <= self.image_frame < self.num_frames:
            raise NeurofocusError(f"image_frame must be in 0..{self.num_frames - 1}")


@dataclasses.dataclass(frozen=True)
class FocusSchedule:
    """Frame times and focus distances of a sweep.

    Attributes
    ----------
    times_us : ndarray, int64 (T,)
        Frame times.
    focus_m : ndarray, float64 (T,)
        Focus distance at each frame (monotonic).
    magnification : ndarray, float64 (T,)
        Scale of each frame relative to the RGB camera's frame (1 without breathing).
    image_frame : int
        The frame the RGB camera captured.
    """

    times_us: np.ndarray
    focus_m: np.ndarray
    magnification: np.ndarray
    image_frame: int

    @property
    def image_time_us(self) -> int:
        return int(self.times_us[self.image_frame])

    def infocus_time_us(self, depth_m: np.ndarray) -> np.ndarray:
        """When each depth is in focus (µs, float64, same shape); depths outside the sweep get its nearest end."""
        inv_focus = 1.0 / self.focus_m
        order = np.argsort(inv_focus)
        return np.interp(1.0 / np.asarray(depth_m, np.float64), inv_focus[order],
                         self.times_us[order].astype(np.float64))


def _hand_profile(rng: np.random.Generator, n: int, variation: float) -> np.ndarray:
    """Cumulative progress in [0, 1] of a sweep whose speed drifts smoothly (log-normal, correlated over ~n/6)."""
    noise = ndimage.gaussian_filter1d(rng.standard_normal(n + 64), sigma=max(2.0, n / 12), mode="reflect")[32:32 + n]
    noise = (noise - noise.mean()) / max(noise.std(), 1e-9)
    speed = np.exp(variation * noise)
    progress = np.concatenate([[0.0], np.cumsum(0.5 * (speed[1:] + speed[:-1]))])
    return progress / progress[-1]


def focus_schedule(spec: SweepSpec, near_m: float, far_m: float, rng: np.random.Generator) -> FocusSchedule:
    """The focus schedule of a sweep over content between ``near_m`` and ``far_m`` metres."""
    if not 0 < near_m < far_m:
        raise NeurofocusError(f"need 0 < near_m < far_m, got {near_m}, {far_m}")
    n = spec.num_frames
    inv_near, inv_far = 1 / near_m, 1 / far_m
    span = inv_near - inv_far
    start, end = inv_near + spec.margin * span, max(inv_far - spec.margin * span, 1e-6)
    if spec.direction == "far_to_near":
        start, end = end, start
    progress = np.linspace(0, 1, n) if spec.speed == "constant" else _hand_profile(rng, n, spec.hand_variation)
    inverse_focus = start + (end - start) * progress
    times = spec.start_us + np.rint(np.arange(n) * 1e6 / spec.frame_rate_hz).astype(np.int64)
    image_frame = int(rng.integers(n)) if spec.image_frame is None else spec.image_frame
    zoom = 1.0 + spec.breathing * progress
    return FocusSchedule(times, 1.0 / inverse_focus, zoom / zoom[image_frame], image_frame)


def apply_magnification(image: np.ndarray, scale: float) -> np.ndarray:
    """Scale an (H, W, C) image about its centre by ``scale`` (bilinear; edges repeat). Identity for scale 1."""
    if scale == 1.0:
        return image
    h, w = image.shape[:2]
    c = np.array([(h - 1) / 2, (w - 1) / 2])
    matrix = np.diag([1 / scale, 1 / scale, 1.0])
    offset = np.concatenate([c - c / scale, [0.0]])
    return ndimage.affine_transform(image, matrix, offset=offset, order=1, mode="nearest").astype(image.dtype)
