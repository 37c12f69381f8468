"""Synthetic focal-sweep datasets: one folder per scene, written atomically, resumable and shardable.

Layout of a sample folder (``neurofocus simulate`` writes the same)::

    image.png        the RGB camera's image (8-bit sRGB), captured at ``image_time_us``
    aif.png          all-in-focus ground truth (8-bit sRGB)
    events.hdf5      events (Prophesee HDF5, ECF-compressed; readable by neurofocus and Metavision), or
                     events.<ext> in another event format
    spikes.h5        spikes, when simulated (bit-packed, gzip), or spikes.dat (PKU Vidar, with its sidecar JSON)
    truth.npz        depth_m (H, W) float32 (absent for light fields), infocus_time_us (H, W) float64,
                     frame_times_us (T,), focus_m (T,), kept_indices (K,), kept_frames (K, H, W, 3) uint8 sRGB
    sample.json      everything else: image time, sweep and sensor parameters, seeds, counts, timings

A dataset folder holds ``config.json`` (the settings; a rerun with other settings is refused), ``scene_00000`` ...
and ``manifest.json``. Scene i depends only on (seed, i), so shards (``--shard i/n``: scenes with index % n == i) and
reruns produce the same data. A scene is built in a ``*.partial-*`` folder and renamed when complete: rerunning skips
finished scenes and redoes interrupted ones.

The same machinery writes defocused-event video datasets (:class:`~.defocus_video.DefocusVideoConfig`: folders
``seq_00000`` ... in the layout of :mod:`.defocus_video`, ``"kind": "defocus-video"`` in ``config.json``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from ..atomic import atomic_path, write_text_atomic
from ..errors import NeurofocusError
from ..images import read_image, write_image
from ..io import load_events, load_spikes, save_events, save_spikes
from ..progress import progress_bar
from ..types import FocalSweep, GroundTruth
from .dvs_voltmeter import VoltmeterParams
from .focal_sweep import SceneSweep, SensorSetup, SimulatedSweep, simulate_focal_sweep
from .optics import ThinLens
from .scene import random_scene
from .sweep import SweepSpec, focus_schedule
from .textures import PhotoTextures

SAMPLE_FILES = ("image.png", "aif.png", "truth.npz", "sample.json")


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
        scene (:func:`~.defocus_video.random_ideal_params`, v2e's ranges). Datasets made before this setting
        existed read as False and resume unchanged.
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
    ideal_noise: bool = True
    textures: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "max_blur_px", tuple(float(v) for v in self.max_blur_px))
        if self.textures is not None:
            object.__setattr__(self, "textures", str(PhotoTextures(self.textures).folder))  # fails early, absolute
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
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise NeurofocusError(f"unknown dataset settings {sorted(unknown)}")
        return cls(**{"ideal_noise": False, **data})  # as before ideal_noise existed: older datasets resume

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        if data["textures"] is None:  # as before textures existed: older datasets' config.json stays the same
            del data["textures"]
        return data

    @property
    def lens(self) -> ThinLens:
        return ThinLens(self.focal_length_mm, self.f_number, self.pixel_pitch_um)


def _jsonable(value):
    if dataclasses.is_dataclass(value):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_sample(folder: str | os.PathLike, simulated: SimulatedSweep, meta: dict, *,
                 event_file: str = "events.hdf5", event_format: str | None = None,
                 spike_file: str = "spikes.h5") -> dict:
    """Write a simulated sweep in the sample layout (see the module notes); returns the ``sample.json`` content.

    ``event_file`` / ``event_format`` and ``spike_file`` choose the neuromorphic files' names and formats.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sweep, truth = simulated.sweep, simulated.sweep.ground_truth
    write_image(folder / "image.png", sweep.image)
    write_image(folder / "aif.png", truth.all_in_focus)
    arrays = dict(infocus_time_us=truth.infocus_time_us, frame_times_us=simulated.schedule.times_us,
                  focus_m=simulated.schedule.focus_m, kept_indices=simulated.kept_indices,
                  kept_frames=simulated.kept_frames)
    if truth.depth_m is not None:
        arrays["depth_m"] = truth.depth_m.astype(np.float32)
    with atomic_path(folder / "truth.npz") as tmp:
        np.savez_compressed(tmp, **arrays)
    info = {"image_time_us": sweep.image_time_us, "image_frame": simulated.schedule.image_frame,
            "sweep_start_us": sweep.sweep_start_us, "sweep_end_us": sweep.sweep_end_us,
            "sensor_size": list(sweep.sensor_size)}
    if sweep.events is not None:
        save_events(folder / event_file, sweep.events, format=event_format)
        stats = sweep.events.polarity_stats()
        info.update(event_file=event_file, num_events=len(sweep.events), num_on=stats.num_on)
    if sweep.spikes is not None:
        save_spikes(folder / spike_file, sweep.spikes)
        info.update(spike_file=spike_file)
        info.update(num_spike_ticks=sweep.spikes.num_ticks, spike_tick_us=sweep.spikes.tick_us,
                    num_spikes=sweep.spikes.num_spikes)
    info.update(_jsonable(meta))
    write_text_atomic(folder / "sample.json", json.dumps(info, indent=2, sort_keys=True) + "\n")
    return info


@dataclasses.dataclass
class Sample:
    """A sample folder read back: the sweep with ground truth, and the kept frames."""

    sweep: FocalSweep
    kept_frames: np.ndarray
    kept_indices: np.ndarray
    frame_times_us: np.ndarray
    focus_m: np.ndarray
    info: dict

    def kept_frame(self, position: int) -> np.ndarray:
        """Kept frame ``position`` as float32 sRGB (H, W, 3) in [0, 1]."""
        return self.kept_frames[position].astype(np.float32) / 255.0


def load_sample(folder: str | os.PathLike, *, events: bool = True, spikes: bool = True) -> Sample:
    """Read a sample folder written by :func:`write_sample`."""
    folder = Path(folder)
    missing = [name for name in SAMPLE_FILES if not (folder / name).is_file()]
    if missing:
        raise NeurofocusError(f"not a complete sample folder (missing {', '.join(missing)})", folder)
    info = json.loads((folder / "sample.json").read_text())
    with np.load(folder / "truth.npz") as z:
        arrays = {k: z[k] for k in z.files}
    truth = GroundTruth(read_image(folder / "aif.png"), depth_m=arrays.get("depth_m"),
                        infocus_time_us=arrays["infocus_time_us"])
    ev = load_events(folder / info["event_file"]) if events and "event_file" in info else None
    sp = load_spikes(folder / info["spike_file"]) if spikes and "spike_file" in info else None
    sweep = FocalSweep(read_image(folder / "image.png"), info["image_time_us"], events=ev, spikes=sp,
                       sweep_start_us=info["sweep_start_us"], sweep_end_us=info["sweep_end_us"], ground_truth=truth)
    return Sample(sweep, arrays["kept_frames"], arrays["kept_indices"], arrays["frame_times_us"], arrays["focus_m"],
                  info)


def _event_sensor(config: SynthConfig, index: int, sensor_rng: np.random.Generator, noise_rng: np.random.Generator):
    """(model name, VoltmeterParams or None, IdealParams or None) of scene ``index``."""
    from .defocus_video import random_ideal_params
    from .ideal_events import IdealParams

    model = _MIXED[index % len(_MIXED)] if config.event_model == "mixed" else config.event_model
    if model == "dvs-voltmeter":
        return model, VoltmeterParams.random(sensor_rng), None
    if model == "dvs346":
        return model, VoltmeterParams.preset("DVS346"), None
    if model == "ideal" and config.ideal_noise:
        return model, None, random_ideal_params(sensor_rng, noise_rng)
    if model == "ideal":
        return model, None, IdealParams(contrast_pos=float(sensor_rng.uniform(0.15, 0.35)),
                                        contrast_neg=float(sensor_rng.uniform(0.15, 0.35)))
    return model, None, None


def make_scene_sample(config: SynthConfig, seed: int, index: int, folder: Path, *, workers: int = 1) -> dict:
    """Generate scene ``index`` of a dataset into ``folder`` (not atomically: see :func:`synthesize`)."""
    from .spikes import SpikeParams

    t0 = time.perf_counter()
    # spawn(4)'s first three streams are spawn(3)'s: datasets made before the fourth existed stay the same
    scene_rng, sweep_rng, sensor_rng, noise_rng = (np.random.default_rng(s) for s in
                                                   np.random.SeedSequence([seed, index]).spawn(4))
    lens = config.lens
    max_blur = float(scene_rng.uniform(*config.max_blur_px))
    textures = PhotoTextures(config.textures) if config.textures else None
    scene = random_scene(scene_rng, (config.width, config.height), lens, max_blur_px=max_blur, textures=textures)
    speed = config.speed if config.speed != "mixed" else ("hand" if index % 2 else "constant")
    direction = config.direction if config.direction != "random" else (
        "near_to_far" if sweep_rng.random() < 0.5 else "far_to_near")
    spec = SweepSpec(num_frames=config.num_frames, frame_rate_hz=config.frame_rate_hz, speed=speed,
                     direction=direction)
    schedule = focus_schedule(spec, scene.near_m, scene.far_m, sweep_rng)
    event_model, voltmeter, ideal = _event_sensor(config, index, sensor_rng, noise_rng)
    setup = SensorSetup(
        voltmeter=voltmeter, ideal=ideal,
        spikes=SpikeParams(max_rate=float(sensor_rng.uniform(0.3, 0.7))) if config.spikes else None,
        tick_us=config.spike_tick_us)
    source = SceneSweep(scene, lens, schedule, workers=workers)
    simulated = simulate_focal_sweep(source, setup, seed=int(sensor_rng.integers(2**31)),
                                     keep_every=config.keep_every, rgb_noise=config.rgb_noise, workers=workers)
    meta = {"index": index, "dataset_seed": seed, "event_model": event_model, "max_blur_px": max_blur, "speed": speed, "direction": direction,
            "layers": [layer.name for layer in scene.layers], "near_m": scene.near_m, "far_m": scene.far_m,
            "lens": lens, "sensors": setup, "seconds": round(time.perf_counter() - t0, 2)}
    return write_sample(folder, simulated, meta)


def _kind(kind: str):
    """(config class, sample maker, folder prefix, file that marks a finished folder) of a dataset kind."""
    if kind == "focal-sweep":
        return SynthConfig, make_scene_sample, "scene", "sample.json"
    if kind == "defocus-video":
        from .defocus_video import DefocusVideoConfig, make_video_sample

        return DefocusVideoConfig, make_video_sample, "seq", "sequence.json"
    raise NeurofocusError(f"unknown dataset kind {kind!r} (focal-sweep or defocus-video)")


def _kind_of(config) -> str:
    return getattr(config, "KIND", "focal-sweep")


def _build_scene(args) -> dict:
    out, kind, config_json, seed, index = args
    config_class, make_sample, prefix, _ = _kind(kind)
    config = config_class.from_json(config_json)
    final = Path(out) / f"{prefix}_{index:05d}"
    partial = Path(out) / f"{prefix}_{index:05d}.partial-{uuid.uuid4().hex[:8]}"
    try:
        info = make_sample(config, seed, index, partial)
        os.replace(partial, final)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return info


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` -> (i, n) with 0 <= i < n."""
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise NeurofocusError(f"shard {text!r} is not of the form i/n (e.g. 0/4)") from None
    if not 0 <= i < n:
        raise NeurofocusError(f"shard {text!r}: need 0 <= i < n")
    return i, n


def write_manifest(out: Path) -> dict:
    """(Re)write ``manifest.json`` from the finished scene folders; returns it."""
    config = json.loads((out / "config.json").read_text())
    _, _, prefix, marker = _kind(config.get("kind", "focal-sweep"))
    scenes = []
    for folder in sorted(out.glob(f"{prefix}_?????")):
        if (folder / marker).is_file():
            info = json.loads((folder / marker).read_text())
            size = sum(f.stat().st_size for f in folder.iterdir())
            entry = {"index": info["index"], "folder": folder.name, "bytes": size,
                     "num_events": info.get("num_events"), "num_spikes": info.get("num_spikes"),
                     "seconds": info.get("seconds")}
            if "num_events_sharp" in info:
                entry["num_events_sharp"] = info["num_events_sharp"]
            scenes.append(entry)
    manifest = {"config": config, "num_scenes": len(scenes), "total_bytes": sum(s["bytes"] for s in scenes),
                "scenes": scenes}
    write_text_atomic(out / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return manifest


def synthesize(out: str | os.PathLike, num_scenes: int, *, seed: int = 0, config: SynthConfig = SynthConfig(),
               shard: tuple[int, int] = (0, 1), workers: int | None = None, dask_address: str | None = None,
               progress: bool = True) -> dict:
    """Generate (or complete) a dataset of ``num_scenes`` scenes in ``out``; returns the manifest.

    Parameters
    ----------
    config : SynthConfig or DefocusVideoConfig
        Focal sweeps, or defocused-event videos (:mod:`.defocus_video`).
    shard : (i, n)
        Only scenes with index % n == i (several machines can split a job).
    workers : int, optional
        Local processes (default: all cores).
    dask_address : str, optional
        Submit scenes to this dask.distributed scheduler instead ("local" starts a local cluster); needs the
        ``dask`` extra.
    """
    kind = _kind_of(config)
    _, _, prefix, marker = _kind(kind)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config_path = out / "config.json"
    wanted = json.loads(json.dumps({"seed": seed, **config.to_json()}))  # tuples as JSON lists
    if config_path.exists():
        existing = json.loads(config_path.read_text())
        if existing != wanted:
            raise NeurofocusError(f"{out} holds a dataset made with other settings (see config.json): use another "
                                  "folder or the same settings")
    else:
        write_text_atomic(config_path, json.dumps(wanted, indent=2) + "\n")
    for stale in out.glob(f"{prefix}_*.partial-*"):  # interrupted earlier: redo
        shutil.rmtree(stale, ignore_errors=True)
    todo = [i for i in range(num_scenes)
            if i % shard[1] == shard[0] and not (out / f"{prefix}_{i:05d}" / marker).is_file()]
    tasks = [(str(out), kind, config.to_json(), seed, i) for i in todo]
    bar = progress_bar(total=len(tasks), desc="scenes", unit="scene", disable=not progress)
    if dask_address:
        _run_dask(tasks, dask_address, bar)
    elif (workers or os.cpu_count() or 1) > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(min(len(tasks), workers or os.cpu_count() or 1)) as pool:
            for _ in pool.map(_build_scene, tasks):
                bar.update()
    else:
        for task in tasks:
            _build_scene(task)
            bar.update()
    bar.close()
    return write_manifest(out)


def _run_dask(tasks, address: str, bar) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise NeurofocusError("dask is not installed: pip install 'neurofocus[dask]'") from None
    cluster = LocalCluster(processes=True, threads_per_worker=1) if address == "local" else None
    with Client(cluster or address) as client:
        for future in as_completed(client.map(_build_scene, tasks, pure=False)):
            future.result()
            bar.update()
    if cluster is not None:
        cluster.close()
