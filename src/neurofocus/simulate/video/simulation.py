"""A whole defocused video simulated: sharp and defocused frames, ground truth, and the events of a sensor."""

from __future__ import annotations

import dataclasses

import numpy as np

from ...errors import NeurofocusError
from ...color import linear_to_srgb, luminance, to_uint8
from ...config_dicts import check_positive
from ...progress import progress_bar
from ...types import Events
from ..dvs_voltmeter import DvsVoltmeter, VoltmeterParams, gray8
from ..ideal_events import IdealEventSimulator, IdealParams
from .model import FLOW_QUANTUM_PX, DefocusVideo
from .render import DefocusVideoRenderer, optical_flow


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
    >>> from neurofocus.simulate.defocus_video import random_defocus_video
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

