"""Simulating a whole neuromorphic focal stack: render the sweep, feed the sensors, keep the ground truth.

A *sweep source* renders frame k of a sweep in linear RGB and knows the all-in-focus image, the depth and the
in-focus time of every pixel. :class:`SceneSweep` renders a layered scene through a thin lens; the light-field and
image+depth sources live in :mod:`.sources`. :func:`simulate_focal_sweep` streams the frames in chunks through the
requested simulators (DVS-Voltmeter, ideal events, spikes), so memory does not grow with the sweep length, and returns
a :class:`~neurofocus.types.FocalSweep` with ground truth plus every ``keep_every``-th frame.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np

from ..color import linear_to_srgb, luminance, to_uint8
from ..progress import progress_bar
from ..types import FocalSweep, GroundTruth
from .dvs_voltmeter import DvsVoltmeter, VoltmeterParams, gray8
from .optics import ThinLens
from .render import SceneRenderer
from .scene import Scene
from .sweep import FocusSchedule, apply_magnification


class SweepSource(Protocol):
    """What :func:`simulate_focal_sweep` needs from a renderer."""

    schedule: FocusSchedule

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` in linear RGB, float32 (H, W, 3) in [0, 1]."""

    def all_in_focus(self) -> np.ndarray:
        """The sharp image, linear RGB, float32 (H, W, 3)."""

    def depth_m(self) -> np.ndarray | None:
        """Metric depth per pixel (float32 (H, W)) or None when unknown."""

    def infocus_time_us(self) -> np.ndarray:
        """When each pixel is sharpest (µs, float64 (H, W))."""


class SceneSweep:
    """A focal sweep of a layered :class:`~neurofocus.simulate.scene.Scene` through a thin lens."""

    def __init__(self, scene: Scene, lens: ThinLens, schedule: FocusSchedule, *, psf: str = "disk",
                 workers: int | None = None, depth_m: np.ndarray | None = None):
        self.schedule = schedule
        self.renderer = SceneRenderer(scene, lens, psf=psf, workers=workers)
        self._depth = depth_m  # exact depth when the scene's layers only approximate it

    def frame(self, index: int) -> np.ndarray:
        image = self.renderer.render(float(self.schedule.focus_m[index]))
        return apply_magnification(image, float(self.schedule.magnification[index]))

    def all_in_focus(self) -> np.ndarray:
        return self.renderer.pinhole()

    def depth_m(self) -> np.ndarray:
        return self.renderer.depth_map() if self._depth is None else self._depth

    def infocus_time_us(self) -> np.ndarray:
        return self.schedule.infocus_time_us(self.depth_m())


@dataclasses.dataclass(frozen=True)
class SensorSetup:
    """Which neuromorphic signals to simulate, and how.

    Attributes
    ----------
    voltmeter : VoltmeterParams or None
        DVS-Voltmeter events (on 8-bit gray frames).
    ideal : IdealParams or None
        ESIM-style ideal events (on linear luminance); used when ``voltmeter`` is None.
    spikes : SpikeParams or None
        Spike camera (on linear luminance), with ``tick_us``.
    tick_us : float
        Spike readout interval.
    """

    voltmeter: VoltmeterParams | None = None
    ideal: object | None = None
    spikes: object | None = None
    tick_us: float = 50.0


@dataclasses.dataclass
class SimulatedSweep:
    """A simulated focal sweep.

    Attributes
    ----------
    sweep : FocalSweep
        RGB image, events and/or spikes, and ground truth.
    schedule : FocusSchedule
        Frame times and focus distances.
    kept_frames : ndarray, uint8 (K, H, W, 3)
        sRGB frames ``kept_indices`` (ground truth for refocusing at those times).
    kept_indices : ndarray, int64 (K,)
    """

    sweep: FocalSweep
    schedule: FocusSchedule
    kept_frames: np.ndarray
    kept_indices: np.ndarray


def _event_simulator(setup: SensorSetup, size, seed: int, workers):
    if setup.voltmeter is not None:
        return DvsVoltmeter(size, setup.voltmeter, seed=seed, workers=workers), "gray8"
    if setup.ideal is not None:
        from .ideal_events import IdealEventSimulator

        return IdealEventSimulator(size, setup.ideal, seed=seed, workers=workers), "luma"
    return None, None


def simulate_focal_sweep(source: SweepSource, setup: SensorSetup, *, seed: int = 0, keep_every: int = 4,
                         chunk_frames: int = 16, rgb_noise: float = 0.0, workers: int | None = None,
                         progress: bool = False) -> SimulatedSweep:
    """Render a sweep and simulate its events and/or spikes.

    Parameters
    ----------
    source : SweepSource
        The renderer (its schedule fixes frame times and the RGB capture frame).
    setup : SensorSetup
        Which sensors to simulate.
    seed : int
        Seed of the sensor noise (the scene has its own).
    keep_every : int
        Keep every n-th frame (and the RGB capture frame) as ground truth.
    chunk_frames : int
        Frames rendered and simulated at once.
    rgb_noise : float
        Standard deviation of Gaussian read noise added to the RGB camera's image (linear light); 0 for none.
    workers : int, optional
        Threads for rendering and simulation.
    progress : bool
        Show a progress bar.
    """
    schedule = source.schedule
    n = len(schedule.times_us)
    first = source.frame(0)
    height, width = first.shape[:2]
    events_sim, event_input = _event_simulator(setup, (width, height), seed, workers)
    spike_sim = None
    if setup.spikes is not None:
        from .spikes import SpikeSimulator

        spike_sim = SpikeSimulator((width, height), setup.spikes, tick_us=setup.tick_us,
                                   start_us=float(schedule.times_us[0]), seed=seed + 1, workers=workers)
    kept_indices = np.unique(np.concatenate([np.arange(0, n, keep_every), [n - 1, schedule.image_frame]]))
    kept = np.empty((len(kept_indices), height, width, 3), np.uint8)
    event_parts, spike_parts = [], []
    image_linear = None
    for start in progress_bar(range(0, n, chunk_frames), desc="simulating sweep", disable=not progress, leave=False):
        idx = range(start, min(n, start + chunk_frames))
        linear = np.stack([first if k == 0 else source.frame(k) for k in idx])
        srgb = linear_to_srgb(linear)
        times = schedule.times_us[start:start + len(idx)]
        for j, k in enumerate(idx):
            where = np.searchsorted(kept_indices, k)
            if where < len(kept_indices) and kept_indices[where] == k:
                kept[where] = to_uint8(srgb[j])
            if k == schedule.image_frame:
                image_linear = linear[j]
        if events_sim is not None:
            signal = gray8(srgb) if event_input == "gray8" else luminance(linear)
            event_parts.append(events_sim.feed(signal, times))
        if spike_sim is not None:
            spike_parts.append(spike_sim.feed(np.clip(luminance(linear), 0, 1), times))
    if rgb_noise > 0:
        noise_rng = np.random.default_rng([seed, 7])
        image_linear = np.clip(image_linear + noise_rng.normal(0, rgb_noise, image_linear.shape), 0, 1)
    image = to_uint8(linear_to_srgb(image_linear)).astype(np.float32) / 255.0  # as an 8-bit camera writes it
    from ..types import Events, Spikes

    truth = GroundTruth(linear_to_srgb(source.all_in_focus()), depth_m=source.depth_m(),
                        infocus_time_us=source.infocus_time_us())
    sweep = FocalSweep(image, schedule.image_time_us,
                       events=Events.concatenate(event_parts) if event_parts else None,
                       spikes=Spikes.concatenate(spike_parts) if spike_parts else None,
                       sweep_start_us=int(schedule.times_us[0]), sweep_end_us=int(schedule.times_us[-1]),
                       ground_truth=truth)
    return SimulatedSweep(sweep, schedule, kept, kept_indices)
