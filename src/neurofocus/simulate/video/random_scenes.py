"""Random defocused videos: a focus distance, blur per surface, textures, 2-D and depth motion, a camera pan and a focus schedule."""

from __future__ import annotations


import numpy as np

from ...errors import NeurofocusError
from ...config_dicts import check_positive
from ..optics import ThinLens
from ..scene import canvas_pad, shape_mask
from ..textures import PhotoTextures, random_texture
from .model import FOCUS_DISTANCE_M, FOCUS_KINDS, DefocusVideo, Trajectory, VideoLayer


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

