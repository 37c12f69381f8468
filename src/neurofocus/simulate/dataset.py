"""Synthetic focal-sweep datasets' settings (:class:`SynthConfig`) and one scene of such a dataset simulated
(:func:`simulate_scene_sample`). Writing it to its folder, and running whole datasets (``neurofocus synth``), is
:mod:`neurofocus.datasets`' job."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from ..config_dicts import from_dict
from ..errors import NeurofocusError
from .dvs_voltmeter import VoltmeterParams
from .focal_sweep import SceneSweep, SensorSetup, SimulatedSweep, simulate_focal_sweep
from .optics import ThinLens
from .scene import random_scene
from .sweep import SweepSpec, focus_schedule


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
    event_model : {"dvs-voltmeter", "ideal", "none"}
        DVS-Voltmeter with k1..k6 drawn from the papers' ranges per scene, or the ideal model with a random
        contrast threshold in [0.15, 0.35], or no events.
    spikes : bool
        Also simulate a spike camera (tick ``spike_tick_us``, max rate drawn in [0.3, 0.7] per scene). The default
        tick, 100 µs, is the temporal resolution the NFS paper gives for its spike camera (10⁻⁴ s); at 50 µs
        (20 kHz) a 1 s sweep at 346x260 takes about 110 MB per scene.
    keep_every : int
        Keep every n-th frame as refocusing ground truth.
    rgb_noise : float
        Read-noise standard deviation of the RGB image (linear light).
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

    def __post_init__(self):
        object.__setattr__(self, "max_blur_px", tuple(float(v) for v in self.max_blur_px))
        if self.event_model not in ("dvs-voltmeter", "ideal", "none"):
            raise NeurofocusError(f"event_model must be dvs-voltmeter, ideal or none, got {self.event_model!r}")
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
        return dataclasses.asdict(self)

    @property
    def lens(self) -> ThinLens:
        return ThinLens(self.focal_length_mm, self.f_number, self.pixel_pitch_um)


def simulate_scene_sample(config: SynthConfig, seed: int, index: int, *,
                          workers: int = 1) -> tuple[SimulatedSweep, dict]:
    """Scene ``index`` of a dataset: the simulated sweep and its ``sample.json`` description (what
    :func:`neurofocus.datasets.write_sample` writes). It depends only on (``config``, ``seed``, ``index``)."""
    from .ideal_events import IdealParams
    from .spikes import SpikeParams

    t0 = time.perf_counter()
    scene_rng, sweep_rng, sensor_rng = (np.random.default_rng(s) for s in
                                        np.random.SeedSequence([seed, index]).spawn(3))
    lens = config.lens
    max_blur = float(scene_rng.uniform(*config.max_blur_px))
    scene = random_scene(scene_rng, (config.width, config.height), lens, max_blur_px=max_blur)
    speed = config.speed if config.speed != "mixed" else ("hand" if index % 2 else "constant")
    direction = config.direction if config.direction != "random" else (
        "near_to_far" if sweep_rng.random() < 0.5 else "far_to_near")
    spec = SweepSpec(num_frames=config.num_frames, frame_rate_hz=config.frame_rate_hz, speed=speed,
                     direction=direction)
    schedule = focus_schedule(spec, scene.near_m, scene.far_m, sweep_rng)
    setup = SensorSetup(
        voltmeter=VoltmeterParams.random(sensor_rng) if config.event_model == "dvs-voltmeter" else None,
        ideal=IdealParams(contrast_pos=float(sensor_rng.uniform(0.15, 0.35)),
                          contrast_neg=float(sensor_rng.uniform(0.15, 0.35))) if config.event_model == "ideal" else None,
        spikes=SpikeParams(max_rate=float(sensor_rng.uniform(0.3, 0.7))) if config.spikes else None,
        tick_us=config.spike_tick_us)
    source = SceneSweep(scene, lens, schedule, workers=workers)
    simulated = simulate_focal_sweep(source, setup, seed=int(sensor_rng.integers(2**31)),
                                     keep_every=config.keep_every, rgb_noise=config.rgb_noise, workers=workers)
    meta = {"index": index, "dataset_seed": seed, "max_blur_px": max_blur, "speed": speed, "direction": direction,
            "layers": [layer.name for layer in scene.layers], "near_m": scene.near_m, "far_m": scene.far_m,
            "lens": lens, "sensors": setup, "seconds": round(time.perf_counter() - t0, 2)}
    return simulated, meta
