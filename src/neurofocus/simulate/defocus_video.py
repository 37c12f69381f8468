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

The sequence folders and datasets these videos are written to are :mod:`neurofocus.datasets`' business
(``neurofocus synth --kind defocus-video``).

This module holds the dataset settings (:class:`DefocusVideoConfig`) and one sequence of a dataset
(:func:`simulate_video_sample`), and names the rest, which lives in :mod:`.video` by job: :mod:`.video.model`
(layers, trajectories, the video), :mod:`.video.render` (frames and exact flow), :mod:`.video.simulation` (frames and
events of a whole video), :mod:`.video.random_scenes` (random videos).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from ..config_dicts import asdict_omitting, check_positive, from_dict
from ..errors import NeurofocusError
from .dvs_voltmeter import VoltmeterParams
from .ideal_events import random_ideal_params
from .optics import ThinLens
from .textures import PhotoTextures
from .video.model import (
    FLOW_QUANTUM_PX,
    FOCUS_DISTANCE_M,
    FOCUS_KINDS,
    DefocusVideo,
    Trajectory,
    VideoLayer,
    video_description,
)
from .video.random_scenes import _check_range, random_defocus_video, usable_focus_range
from .video.render import DefocusVideoRenderer, VideoFrame, blur_planes, optical_flow
from .video.simulation import SimulatedVideo, simulate_defocus_video

__all__ = ["FLOW_QUANTUM_PX", "FOCUS_DISTANCE_M", "FOCUS_KINDS", "DefocusVideo", "DefocusVideoConfig",
           "DefocusVideoRenderer", "SimulatedVideo", "Trajectory", "VideoFrame", "VideoLayer", "blur_planes",
           "optical_flow", "random_defocus_video", "random_ideal_params", "simulate_defocus_video",
           "simulate_video_sample", "usable_focus_range", "video_description"]


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
        return {"kind": self.KIND, **asdict_omitting(self, {"textures": None})}

    @property
    def lens(self) -> ThinLens:
        return ThinLens(self.focal_length_mm, self.f_number, self.pixel_pitch_um)


def simulate_video_sample(config: DefocusVideoConfig, seed: int, index: int, *,
                          workers: int = 1) -> tuple[SimulatedVideo, dict]:
    """Sequence ``index`` of a dataset: the simulated video and its ``sequence.json`` description (what
    :func:`neurofocus.datasets.write_video_sample` writes). It depends only on (``config``, ``seed``, ``index``)."""
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
    return simulated, meta
