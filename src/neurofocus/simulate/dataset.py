"""Synthetic focal-sweep datasets' settings (:class:`SynthConfig`) and one scene of such a dataset simulated
(:func:`simulate_scene_sample`). Writing it to its folder, and running whole datasets (``neurofocus synth``), is
:mod:`neurofocus.datasets`' job."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from ..config_dicts import asdict_omitting, from_dict
from ..errors import NeurofocusError
from .dvs_voltmeter import VoltmeterParams
from .focal_sweep import SceneSweep, SensorSetup, SimulatedSweep, simulate_focal_sweep
from .optics import ThinLens
from .scene import random_scene
from .sweep import SweepSpec, focus_schedule
from .sources import depth_from_disparity, image_depth_sweep, read_rgbd, rgbd_scenes
from .textures import PhotoTextures


#: Event simulators of a focal-sweep dataset (:class:`SynthConfig`).
EVENT_MODELS = ("dvs-voltmeter", "ideal", "mixed", "none")
#: What ``event_model="mixed"`` draws for scene index i: ``_MIXED[i % 3]``.
_MIXED = ("dvs-voltmeter", "dvs346", "ideal")


@dataclasses.dataclass(frozen=True)
class SynthConfig:
    """Settings of a synthetic dataset (the defaults follow the papers' recipe at DAVIS346 size).

    Attributes
    ----------
    width, height : int
        Sensor and image size.
    num_frames, frame_rate_hz : int, float
        Frames per sweep and their rate (480 frames at 480 Hz: a 1 s sweep).
    speed, direction : str
        Sweep speed ("constant", "hand" or "mixed": half of each) and direction ("near_to_far", "far_to_near",
        "random").
    max_blur_px : (float, float)
        Range of the largest defocus blur per scene (uniform).
    focal_length_mm, f_number, pixel_pitch_um : float
        The lens (papers: 100 mm, f/1.2) and the pixel pitch (DAVIS346: 18.5 µm).
    event_model : {"dvs-voltmeter", "ideal", "mixed", "none"}
        DVS-Voltmeter with k1..k6 drawn from the papers' ranges per scene, or the ideal model with random ON and
        OFF contrast thresholds in [0.15, 0.35], or by scene index modulo 3 the first, DVS-Voltmeter's DVS346
        preset and the second ("mixed"), or no events.
    ideal_noise : bool
        Ideal events: also draw a per-pixel threshold mismatch, refractory period, leak and shot-noise rate per
        scene (:func:`~.ideal_events.random_ideal_params`, v2e's ranges; ``synth --ideal-noise``), as
        defocus-video datasets always do. Off by default, so datasets and figures made before it existed are
        made again unchanged.
    spikes : bool
        Also simulate a spike camera (tick ``spike_tick_us``, max rate drawn in [0.3, 0.7] per scene). The default
        tick, 100 µs, is the temporal resolution the NFS paper gives for its spike camera (10⁻⁴ s); at 50 µs
        (20 kHz) a 1 s sweep at 346x260 takes about 110 MB per scene.
    keep_every : int
        Keep every n-th frame as refocusing ground truth.
    rgb_noise : float
        Read-noise standard deviation of the RGB image (linear light).
    textures : str or None
        A folder of photographs whose crops texture every surface (:class:`~.textures.PhotoTextures`, e.g.
        ``../shared/data/textures/kodak``); None: the bundled images and procedural patterns.
    rgbd : str or None
        A folder of real image + depth scenes (:func:`~.sources.rgbd_scenes`, e.g. ``../shared/data/rgbd``):
        scene ``index`` is then a sweep rendered from scene ``index`` modulo their number
        (:func:`~.sources.image_depth_sweep`), scaled by a random factor (down to the size that just holds
        ``width`` × ``height``), cropped at a random place and flipped left-right half of the time, its disparity
        range mapped to the scene's largest blur (not with ``textures``). None: random layered scenes.
    """

    width: int = 346
    height: int = 260
    num_frames: int = 480
    frame_rate_hz: float = 480.0
    speed: str = "mixed"
    direction: str = "near_to_far"
    max_blur_px: tuple[float, float] = (15.0, 40.0)
    focal_length_mm: float = 100.0
    f_number: float = 1.2
    pixel_pitch_um: float = 18.5
    event_model: str = "dvs-voltmeter"
    spikes: bool = False
    spike_tick_us: float = 100.0
    keep_every: int = 4
    rgb_noise: float = 0.002
    ideal_noise: bool = False
    textures: str | None = None
    rgbd: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "max_blur_px", tuple(float(v) for v in self.max_blur_px))
        if self.textures is not None:
            object.__setattr__(self, "textures", str(PhotoTextures(self.textures).folder))  # fails early, absolute
        if self.rgbd is not None:
            if self.textures is not None:
                raise NeurofocusError("rgbd scenes are real photographs: textures are for random scenes, not both")
            rgbd_scenes(self.rgbd)  # fails early
            object.__setattr__(self, "rgbd", str(Path(self.rgbd).resolve()))
        if self.event_model not in EVENT_MODELS:
            raise NeurofocusError(f"event_model must be one of {', '.join(EVENT_MODELS)}, got {self.event_model!r}")
        if self.speed not in ("constant", "hand", "mixed"):
            raise NeurofocusError(f"speed must be constant, hand or mixed, got {self.speed!r}")
        if self.direction not in ("near_to_far", "far_to_near", "random"):
            raise NeurofocusError(f"direction must be near_to_far, far_to_near or random, got {self.direction!r}")
        if self.event_model == "none" and not self.spikes:
            raise NeurofocusError("nothing to simulate: no event model and no spikes")
        if not 0 < self.max_blur_px[0] <= self.max_blur_px[1]:
            raise NeurofocusError(f"max_blur_px must be an increasing positive range, got {self.max_blur_px}")

    @classmethod
    def from_json(cls, data: dict) -> "SynthConfig":
        return from_dict(cls, data, "unknown dataset settings {unknown}")

    def to_json(self) -> dict:
        return asdict_omitting(self, {"textures": None, "ideal_noise": False, "rgbd": None})

    @property
    def lens(self) -> ThinLens:
        return ThinLens(self.focal_length_mm, self.f_number, self.pixel_pitch_um)


def _event_sensor(config: SynthConfig, index: int, sensor_rng: np.random.Generator, noise_rng: np.random.Generator):
    """(model name, VoltmeterParams or None, IdealParams or None) of scene ``index``."""
    from .ideal_events import IdealParams, random_ideal_params

    model = _MIXED[index % len(_MIXED)] if config.event_model == "mixed" else config.event_model
    if model == "dvs-voltmeter":
        return model, VoltmeterParams.random(sensor_rng), None
    if model == "dvs346":
        return model, VoltmeterParams.preset("DVS346"), None
    if model == "ideal":
        params = random_ideal_params(sensor_rng, noise_rng)
        if not config.ideal_noise:  # the thresholds only (noise_rng is a stream of its own: nothing else moves)
            params = IdealParams(contrast_pos=params.contrast_pos, contrast_neg=params.contrast_neg)
        return model, None, params
    return model, None, None


def simulate_scene_sample(config: SynthConfig, seed: int, index: int, *,
                          workers: int = 1) -> tuple[SimulatedSweep, dict]:
    """Scene ``index`` of a dataset: the simulated sweep and its ``sample.json`` description (what
    :func:`neurofocus.datasets.write_sample` writes). It depends only on (``config``, ``seed``, ``index``)."""
    from .spikes import SpikeParams

    t0 = time.perf_counter()
    # spawn(4)'s first three streams are spawn(3)'s: datasets made before the fourth existed stay the same
    scene_rng, sweep_rng, sensor_rng, noise_rng = (np.random.default_rng(s) for s in
                                                   np.random.SeedSequence([seed, index]).spawn(4))
    lens = config.lens
    max_blur = float(scene_rng.uniform(*config.max_blur_px))
    speed = config.speed if config.speed != "mixed" else ("hand" if index % 2 else "constant")
    direction = config.direction if config.direction != "random" else (
        "near_to_far" if sweep_rng.random() < 0.5 else "far_to_near")
    spec = SweepSpec(num_frames=config.num_frames, frame_rate_hz=config.frame_rate_hz, speed=speed,
                     direction=direction)
    if config.rgbd:
        source, described = _rgbd_source(config, index, scene_rng, sweep_rng, spec, max_blur, workers)
    else:
        textures = PhotoTextures(config.textures) if config.textures else None
        scene = random_scene(scene_rng, (config.width, config.height), lens, max_blur_px=max_blur, textures=textures)
        source = SceneSweep(scene, lens, focus_schedule(spec, scene.near_m, scene.far_m, sweep_rng),
                            workers=workers)
        described = {"layers": [layer.name for layer in scene.layers]}
    event_model, voltmeter, ideal = _event_sensor(config, index, sensor_rng, noise_rng)
    setup = SensorSetup(
        voltmeter=voltmeter, ideal=ideal,
        spikes=SpikeParams(max_rate=float(sensor_rng.uniform(0.3, 0.7))) if config.spikes else None,
        tick_us=config.spike_tick_us)
    simulated = simulate_focal_sweep(source, setup, seed=int(sensor_rng.integers(2**31)),
                                     keep_every=config.keep_every, rgb_noise=config.rgb_noise, workers=workers)
    meta = {"index": index, "dataset_seed": seed, "event_model": event_model, "max_blur_px": max_blur, "speed": speed,
            "direction": direction, **described, "near_m": source.renderer.scene.near_m,
            "far_m": source.renderer.scene.far_m,
            "lens": lens, "sensors": setup, "seconds": round(time.perf_counter() - t0, 2)}
    return simulated, meta


def _rgbd_source(config: SynthConfig, index: int, scene_rng: np.random.Generator, sweep_rng: np.random.Generator,
                 spec: SweepSpec, max_blur: float, workers: int) -> tuple[SceneSweep, dict]:
    """The sweep of a ``config.rgbd`` scene (see :class:`SynthConfig`) and what ``sample.json`` says of it."""
    import cv2

    scenes = rgbd_scenes(config.rgbd)
    folder = scenes[index % len(scenes)]
    image, disparity = read_rgbd(folder)
    height, width = disparity.shape
    smallest = max(config.width / width, config.height / height)
    if smallest > 1:
        raise NeurofocusError(f"is {width}x{height}, smaller than the dataset's {config.width}x{config.height}",
                              folder)
    scale = float(scene_rng.uniform(smallest, 1.0))
    size = (max(config.width, round(width * scale)), max(config.height, round(height * scale)))
    if scale < 1:
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        disparity = cv2.resize(disparity, size, interpolation=cv2.INTER_AREA)
    x = int(scene_rng.integers(size[0] - config.width + 1))
    y = int(scene_rng.integers(size[1] - config.height + 1))
    window = np.s_[y:y + config.height, x:x + config.width]
    image, disparity = image[window], disparity[window]
    flip = bool(scene_rng.random() < 0.5)
    if flip:
        image, disparity = image[:, ::-1], disparity[:, ::-1]
    depth = depth_from_disparity(disparity, config.lens, max_blur_px=max_blur)
    source = image_depth_sweep(np.ascontiguousarray(image), depth, config.lens, spec, sweep_rng, workers=workers)
    return source, {"rgbd_scene": folder.name, "scale": round(scale, 4), "crop_xy": [x, y], "flipped": flip}

