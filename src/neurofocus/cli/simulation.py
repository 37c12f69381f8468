"""Simulation commands: ``simulate``, ``simulate-events``, ``simulate-spikes``, ``synth``."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from ..errors import NeurofocusError
from ..io import FORMATS, event_writer, save_spikes
from .common import positive_float, size_wxh

_EVENT_EXTENSIONS = {"evt3": ".raw", "evt2": ".raw", "evt21": ".raw", "dat": ".dat", "prophesee-hdf5": ".hdf5",
                     "hdf5": ".h5", "rpg-txt": ".txt", "voltmeter-txt": ".txt", "npy": ".npy", "efs-npy": ".npy",
                     "npz": ".npz", "mat": ".mat"}


# --- sensor options ---------------------------------------------------------------------------------------------------

def _add_event_model_options(p, default_model: str | None) -> None:
    g = p.add_argument_group("event sensor")
    if default_model is None:
        g.add_argument("--event-model", dest="model", choices=["dvs-voltmeter", "ideal"], required=True,
                       help="event simulator")
    else:
        g.add_argument("--event-model", dest="model", choices=["dvs-voltmeter", "ideal", "none"],
                       default=default_model, help=f"event simulator (default {default_model})")
    g.add_argument("--preset", default="DVS346", help="DVS-Voltmeter preset: DVS346 or DVS240 (default DVS346)")
    g.add_argument("--k", metavar="K1,..,K6", help="DVS-Voltmeter parameters k1..k6 instead of a preset")
    g.add_argument("--random-k", action="store_true", help="draw k1..k6 from the papers' ranges (seeded)")
    g.add_argument("--contrast", type=positive_float, default=0.2, help="ideal model: contrast threshold C (0.2)")
    g.add_argument("--threshold-sigma", type=float, default=0.03, help="ideal model: per-pixel mismatch (0.03)")
    g.add_argument("--refractory-us", type=float, default=0.0, help="ideal model: refractory period (µs)")
    g.add_argument("--leak-hz", type=float, default=0.0, help="ideal model: leak events per pixel per second")
    g.add_argument("--shot-noise-hz", type=float, default=0.0, help="ideal model: shot-noise events per pixel per s")


def _event_setup(args):
    """(VoltmeterParams or None, IdealParams or None) from the options (each model's module imported only for it:
    the ideal model's kernels are numba's, DVS-Voltmeter's are C)."""
    if args.model == "dvs-voltmeter":
        from ..simulate.dvs_voltmeter import VoltmeterParams

        if args.random_k:
            return VoltmeterParams.random(np.random.default_rng([args.seed, 11])), None
        return VoltmeterParams.parse(args.k) if args.k else VoltmeterParams.preset(args.preset), None
    if args.model == "ideal":
        from ..simulate.ideal_events import IdealParams

        return None, IdealParams(contrast_pos=args.contrast, contrast_neg=args.contrast,
                                 threshold_sigma=args.threshold_sigma, refractory_us=args.refractory_us,
                                 leak_rate_hz=args.leak_hz, shot_noise_rate_hz=args.shot_noise_hz)
    return None, None


def _add_spike_options(p, flag: bool) -> None:
    g = p.add_argument_group("spike sensor")
    if flag:
        g.add_argument("--with-spikes", action="store_true", help="also simulate a spike camera")
    g.add_argument("--tick-us", type=positive_float, default=50.0, help="spike readout interval in µs (50)")
    g.add_argument("--max-rate", type=positive_float, default=0.5, help="spikes per tick at full intensity (0.5)")
    g.add_argument("--dark-rate", type=float, default=0.0, help="dark-current spikes per tick (0)")
    g.add_argument("--gain-sigma", type=float, default=0.0, help="per-pixel gain non-uniformity (0)")
    g.add_argument("--noise-sigma", type=float, default=0.0, help="temporal noise of the integrated light (0)")


def _spike_params(args):
    from ..simulate.spikes import SpikeParams

    return SpikeParams(max_rate=args.max_rate, dark_rate=args.dark_rate, gain_sigma=args.gain_sigma,
                       noise_sigma=args.noise_sigma)


# --- simulate ---------------------------------------------------------------------------------------------------------

def _load_map(path: Path) -> np.ndarray:
    from ..images import read_image, read_pfm

    if path.suffix.lower() == ".pfm":
        return read_pfm(path)
    if path.suffix.lower() == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise NeurofocusError(f"not a readable .npy map ({exc})", path) from None
        if array.ndim != 2:
            raise NeurofocusError(f"a depth map must be 2-D, got shape {array.shape}", path)
        return array.astype(np.float64)
    return read_image(path)[..., 0].astype(np.float64)


def _source(args, lens, spec, rng):
    """The sweep source chosen by the options."""
    from ..images import read_image
    from ..simulate.focal_sweep import SceneSweep
    from ..simulate.scene import random_scene, scene_from_description
    from ..simulate.sources import depth_from_disparity, image_depth_sweep, light_field_sweep, load_hci_light_field
    from ..simulate.sweep import focus_schedule

    if args.light_field:
        views, disparity = load_hci_light_field(args.light_field)
        return light_field_sweep(views, disparity, spec, rng)
    if args.image:
        if not args.depth:
            raise NeurofocusError("--image needs --depth (a depth or disparity map)")
        image, depth = read_image(args.image), _load_map(args.depth)
        if depth.shape != image.shape[:2]:
            raise NeurofocusError(f"the depth map is {depth.shape[1]}x{depth.shape[0]} but the image is "
                                  f"{image.shape[1]}x{image.shape[0]}", args.depth)
        if args.depth_kind == "disparity":
            depth = depth_from_disparity(depth, lens, max_blur_px=args.max_blur_px)
        return image_depth_sweep(image, depth, lens, spec, rng)
    if args.scene:
        try:
            description = json.loads(Path(args.scene).read_text())
        except (OSError, ValueError) as exc:
            raise NeurofocusError(f"not a readable JSON scene description ({exc})", args.scene) from None
        scene = scene_from_description(description, lens, seed=args.scene_seed)
    else:
        from ..simulate.textures import PhotoTextures

        textures = PhotoTextures(args.textures) if args.textures else None
        scene = random_scene(np.random.default_rng(args.scene_seed), args.size, lens, max_blur_px=args.max_blur_px,
                             textures=textures, procedural_fraction=0.0)
    return SceneSweep(scene, lens, focus_schedule(spec, scene.near_m, scene.far_m, rng))


def _rig(args, source):
    """The rig of ``--rig`` (``default`` or a rig JSON file) for the sensor grid of ``source``."""
    from ..calib.estimate import load_calibration
    from ..simulate.rig import default_rig

    if args.rig_views < 1:
        raise NeurofocusError(f"--rig-views must be positive, got {args.rig_views}")
    height, width = source.all_in_focus().shape[:2]
    if args.rig == "default":
        return default_rig((width, height), seed=args.seed)
    rig = load_calibration(args.rig).geometry
    if (rig.sensor.width, rig.sensor.height) != (width, height):
        raise NeurofocusError(f"the rig's sensor is {rig.sensor.width}x{rig.sensor.height} but the simulated sensor "
                              f"is {width}x{height}", args.rig)
    return rig


def _simulate_rig(out: Path, rig, source, simulated, setup, args) -> tuple[dict, np.ndarray]:
    """Write ``rig_truth.json`` and the checkerboard set ``calibration/``; return the ``sample.json`` entry and the
    RGB camera's image (float32 sRGB (H_rgb, W_rgb, 3))."""
    from ..color import linear_to_srgb
    from ..calib.estimate import RigCalibration, save_calibration
    from ..simulate.rig import rgb_camera_view, write_calibration_set

    save_calibration(out / "rig_truth.json", RigCalibration(rig))
    print(f"rendering {args.rig_views} checkerboard views for calibration/ ...", flush=True)
    write_calibration_set(out / "calibration", rig, setup, num_views=args.rig_views, rgb_noise=args.rgb_noise,
                          seed=args.seed)
    capture = source.frame(simulated.schedule.image_frame)  # rendering is deterministic: the capture, before noise
    view = rgb_camera_view(capture, rig, args.rgb_noise, np.random.default_rng([args.seed, 17]))
    info = {"rgb_size": [rig.rgb.width, rig.rgb.height], "truth": "rig_truth.json",
            "sensor_grid_image": "image_sensor_grid.png", "calibration": "calibration"}
    return info, linear_to_srgb(view)


def cmd_simulate(args) -> int:
    from ..images import write_image
    from ..datasets import dataset_kind, write_sample
    from ..simulate.focal_sweep import SensorSetup, simulate_focal_sweep
    from ..simulate.optics import ThinLens
    from ..simulate.sweep import SweepSpec
    from ..atomic import OutputFolder
    from ..io.common import sidecar_path
    from ..viz import save_contact_sheet, save_event_picture, save_map

    folder = OutputFolder(args.out, owned=("calibration/*",))
    out = folder.folder
    lens = ThinLens(args.focal_length_mm, args.f_number, args.pixel_pitch_um)
    spec = SweepSpec(num_frames=args.frames, frame_rate_hz=args.frame_rate, speed=args.speed,
                     direction=args.direction, breathing=args.breathing, image_frame=args.image_frame)
    voltmeter, ideal = _event_setup(args)
    setup = SensorSetup(voltmeter=voltmeter, ideal=ideal, spikes=_spike_params(args) if args.with_spikes else None,
                        tick_us=args.tick_us)
    if voltmeter is None and ideal is None and setup.spikes is None:
        raise NeurofocusError("nothing to simulate: --event-model none and no --with-spikes")
    t0 = time.perf_counter()
    source = _source(args, lens, spec, np.random.default_rng([args.scene_seed, 1]))
    rig = _rig(args, source) if args.rig else None
    print(f"rendering and simulating {args.frames} frames ...", flush=True)
    simulated = simulate_focal_sweep(source, setup, seed=args.seed, rgb_noise=args.rgb_noise, progress=True)
    sweep = simulated.sweep
    meta = {"command": "simulate", "lens": lens, "sweep": spec, "sensors": setup, "scene_seed": args.scene_seed,
            "seed": args.seed}
    if rig is not None:
        meta["rig"], rgb_image = _simulate_rig(out, rig, source, simulated, setup, args)
    meta["seconds"] = round(time.perf_counter() - t0, 2)
    event_file = f"events{_EVENT_EXTENSIONS[args.events_format]}"
    vidar_ok = sweep.spikes is not None and (sweep.spikes.width * sweep.spikes.height) % 8 == 0
    info = write_sample(out, simulated, meta, event_file=event_file, event_format=args.events_format,
                        spike_file="spikes.dat" if vidar_ok else "spikes.h5")
    kind = dataset_kind("focal-sweep")
    streams = [info[k] for k in kind.streams.values() if k in info]
    folder.record(*kind.files, *streams,
                  *[sidecar_path(name).name for name in streams if sidecar_path(out / name).is_file()])
    if rig is not None:  # the sample's image is the RGB camera's; the sensor-grid capture is kept beside it
        write_image(folder.path("image_sensor_grid.png"), sweep.image)
        write_image(out / "image.png", rgb_image)
        folder.record("rig_truth.json", *[p.relative_to(out).as_posix() for p in (out / "calibration").rglob("*")
                                          if p.is_file()])
    picks = np.linspace(0, len(simulated.kept_indices) - 1, min(12, len(simulated.kept_indices))).round().astype(int)
    times = simulated.schedule.times_us
    save_contact_sheet(folder.path("stack_sheet.png"), [simulated.kept_frames[i] for i in picks],
                       [f"frame {simulated.kept_indices[i]}, t = {times[simulated.kept_indices[i]] / 1e3:.1f} ms\n"
                        f"focus {simulated.schedule.focus_m[simulated.kept_indices[i]]:.3f}" for i in picks],
                       title="rendered focal sweep (focus distance in m, or 1/(disparity + offset) for light fields)")
    truth = sweep.ground_truth
    save_map(folder.path("infocus_time.png"), truth.infocus_time_us / 1e3, "in-focus time (ms)",
             "per-pixel in-focus time")
    if truth.depth_m is not None:
        save_map(folder.path("depth.png"), truth.depth_m, "depth (m)", "scene depth", cmap="magma_r")
    if sweep.events is not None and len(sweep.events):
        save_event_picture(folder.path("events.png"), sweep.events, "all events of the sweep")
    folder.finish()
    print(f"wrote {out}: image.png (t = {sweep.image_time_us} µs), aif.png, {event_file if sweep.events else ''} "
          f"{'spikes' if sweep.spikes else ''}, truth.npz, stack_sheet.png, infocus_time.png "
          f"({info.get('num_events', 0):,} events, {info.get('num_spikes', 0):,} spikes, {meta['seconds']} s)")
    if rig is not None:
        print(f"rig: image.png is the RGB camera's view ({rig.rgb.width}x{rig.rgb.height}, sensor "
              f"{rig.sensor.width}x{rig.sensor.height}); image_sensor_grid.png the capture on the sensor's grid; "
              f"rig_truth.json the true rig; calibration/: {args.rig_views} checkerboard views (rgb_NN.png"
              f"{', events_NN.raw' if sweep.events is not None else ''}{', spikes_NN' if sweep.spikes else ''}"
              f", board.json)")
    return 0


# --- simulate-events / simulate-spikes --------------------------------------------------------------------------------

def cmd_simulate_events(args) -> int:
    from ..simulate.frame_sequence import FrameSequence
    from ..color import luminance, srgb_to_linear

    frames = FrameSequence(args.input, timestamps=args.timestamps, fps=args.fps)
    voltmeter, ideal = _event_setup(args)
    size = (frames.width, frames.height)
    if voltmeter:
        from ..simulate.dvs_voltmeter import DvsVoltmeter

        sim = DvsVoltmeter(size, voltmeter, seed=args.seed)
    else:
        from ..simulate.ideal_events import IdealEventSimulator

        sim = IdealEventSimulator(size, ideal, seed=args.seed)
    num_on = num_off = 0
    with event_writer(args.out, size, format=args.to) as write:  # RAW: chunk by chunk
        for chunk, times in frames.chunks(gray8=voltmeter is not None):
            events = sim.feed(chunk if voltmeter else luminance(srgb_to_linear(chunk)), times)
            write(events)
            stats = events.polarity_stats()
            num_on, num_off = num_on + stats.num_on, num_off + stats.num_off
    print(f"wrote {num_on + num_off:,} events ({num_on:,} ON, {num_off:,} OFF) of {len(frames)} frames "
          f"{frames.width}x{frames.height} to {args.out}")
    return 0


def cmd_simulate_spikes(args) -> int:
    from ..color import luminance, srgb_to_linear
    from ..simulate.frame_sequence import FrameSequence
    from ..simulate.spikes import SpikeSimulator
    from ..types import Spikes

    frames = FrameSequence(args.input, timestamps=args.timestamps, fps=args.fps)
    sim = SpikeSimulator((frames.width, frames.height), _spike_params(args), tick_us=args.tick_us,
                         start_us=float(frames.times_us[0]), seed=args.seed)
    parts = [sim.feed(np.clip(luminance(srgb_to_linear(chunk)), 0, 1), times) for chunk, times in frames.chunks()]
    spikes = Spikes.concatenate(parts)
    save_spikes(args.out, spikes, format=args.to)
    print(f"wrote {spikes.num_ticks:,} ticks ({spikes.num_spikes:,} spikes, {spikes.firing_rate:.4f} per pixel per "
          f"tick) to {args.out}")
    return 0


# --- synth -----------------------------------------------------------------------------------------------------------

def _blur_range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not MIN,MAX") from None
    return lo, hi


_VIDEO_ONLY = ("blur", "objects", "focus", "psf", "sharp_events")
_SWEEP_ONLY = ("max_blur", "speed", "direction", "with_spikes", "rgbd", "tick_us", "keep_every", "ideal_noise")


def _object_range(text: str) -> tuple[int, int]:
    try:
        lo, hi = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not MIN,MAX (whole numbers)") from None
    return lo, hi


def _synth_config(args):
    """The dataset settings of ``synth``: focal sweeps or defocused-event videos."""
    def given(names):
        return [f"--{n.replace('_', '-')}" for n in names if getattr(args, n) not in (None, False)]

    if args.kind == "defocus-video":
        from ..simulate.defocus_video import DefocusVideoConfig

        if given(_SWEEP_ONLY):
            raise NeurofocusError(f"{', '.join(given(_SWEEP_ONLY))}: focal-sweep options, not for --kind defocus-video")
        defaults = DefocusVideoConfig()
        return DefocusVideoConfig(width=args.size[0], height=args.size[1],
                                  num_frames=args.frames or defaults.num_frames,
                                  frame_rate_hz=args.frame_rate or defaults.frame_rate_hz,
                                  blur_px=args.blur or defaults.blur_px,
                                  num_objects=args.objects or defaults.num_objects,
                                  focus=args.focus or defaults.focus, psf=args.psf or defaults.psf,
                                  event_model=args.events, sharp_events=args.sharp_events,
                                  textures=str(args.textures) if args.textures else None)
    from ..simulate.dataset import SynthConfig

    if given(_VIDEO_ONLY):
        raise NeurofocusError(f"{', '.join(given(_VIDEO_ONLY))}: defocus-video options (use --kind defocus-video)")
    return SynthConfig(width=args.size[0], height=args.size[1], num_frames=args.frames or 480,
                       frame_rate_hz=args.frame_rate or 480.0, speed=args.speed or "mixed",
                       direction=args.direction or "near_to_far", max_blur_px=args.max_blur or (15.0, 40.0),
                       event_model=args.events, spikes=args.with_spikes, spike_tick_us=args.tick_us or 100.0,
                       keep_every=args.keep_every or 4, textures=str(args.textures) if args.textures else None,
                       ideal_noise=args.ideal_noise, rgbd=str(args.rgbd) if args.rgbd else None)


def cmd_synth(args) -> int:
    from ..datasets import parse_shard, synthesize

    config = _synth_config(args)
    t0 = time.perf_counter()
    manifest = synthesize(args.out, args.scenes, seed=args.seed, config=config, shard=parse_shard(args.shard),
                          workers=args.workers, dask_address=args.dask)
    done = manifest["num_scenes"]
    what = "sequences" if args.kind == "defocus-video" else "scenes"
    print(f"{args.out}: {done} of {args.scenes} {what} complete, {manifest['total_bytes'] / 1e9:.2f} GB "
          f"({manifest['total_bytes'] / max(done, 1) / 1e6:.1f} MB per {what[:-1]}), this run "
          f"{time.perf_counter() - t0:.0f} s")
    keys = ("seed", "width", "height", "num_frames", "event_model") + (
        ("blur_px", "focus", "sharp_events") if args.kind == "defocus-video" else ("spikes",))
    print(json.dumps({"kind": args.kind, **{k: manifest["config"][k] for k in keys}}))
    return 0


# --- registration ----------------------------------------------------------------------------------------------------

def _add_frames_options(p) -> None:
    p.add_argument("--input", required=True, type=Path, metavar="DIR_OR_VIDEO",
                   help="the frames: a folder of images (sorted by name, or listed in a DVS-Voltmeter info.txt) or "
                        "a video file")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--timestamps", type=Path, help="frame times file (µs per line, or '<name> <µs>')")
    g.add_argument("--fps", type=positive_float, help="frame rate, when there are no timestamps")
    p.add_argument("--seed", type=int, default=0, help="seed of the sensor noise (default 0)")


def register(sub) -> None:
    """Add the simulation commands to the sub-parser collection ``sub``."""
    p = sub.add_parser("simulate", help="simulate one focal sweep: the files a real rig would give, plus truth")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    src = p.add_argument_group("scene (default: a random layered scene)")
    src.add_argument("--scene", type=Path, help="a JSON scene description (see neurofocus.simulate.scene)")
    src.add_argument("--scene-seed", type=int, default=0, help="seed of the random scene and the sweep")
    src.add_argument("--size", type=size_wxh, default=(346, 260), metavar="WxH", help="random scene size (346x260)")
    src.add_argument("--textures", type=Path, metavar="DIR",
                     help="a folder of photographs whose crops texture the random scene's surfaces (default: the "
                          "bundled photographs)")
    src.add_argument("--image", type=Path, help="an sRGB image to refocus ...")
    src.add_argument("--depth", type=Path, help="... with this depth/disparity map (.npy, .pfm or image)")
    src.add_argument("--depth-kind", choices=["depth", "disparity"], default="depth",
                     help="the map holds metric depth (m) or disparity (larger = nearer; scaled to --max-blur-px)")
    src.add_argument("--light-field", type=Path, help="HCI-layout light field folder (input_CamNNN.png + .pfm)")
    src.add_argument("--max-blur-px", type=positive_float, default=30.0, help="largest blur (random scenes, disparity)")
    sw = p.add_argument_group("sweep and lens")
    sw.add_argument("--frames", type=int, default=480, help="frames in the sweep (480)")
    sw.add_argument("--frame-rate", type=positive_float, default=480.0, help="frames per second (480)")
    sw.add_argument("--speed", choices=["constant", "hand"], default="constant", help="focus speed profile")
    sw.add_argument("--direction", choices=["near_to_far", "far_to_near"], default="near_to_far")
    sw.add_argument("--breathing", type=float, default=0.0, help="magnification change over the sweep (0.02 = 2 %%)")
    sw.add_argument("--image-frame", type=int, help="frame the RGB camera captures (default: random)")
    sw.add_argument("--rgb-noise", type=float, default=0.002, help="RGB read noise (linear light, 0.002)")
    sw.add_argument("--focal-length-mm", type=positive_float, default=100.0)
    sw.add_argument("--f-number", type=positive_float, default=1.2)
    sw.add_argument("--pixel-pitch-um", type=positive_float, default=18.5)
    _add_event_model_options(p, "dvs-voltmeter")
    _add_spike_options(p, flag=True)
    p.add_argument("--events-format", choices=sorted(_EVENT_EXTENSIONS), default="evt3",
                   help="event file format (default evt3: events.raw)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sensor noise and the default rig (default 0)")
    rg = p.add_argument_group("hybrid rig (RGB camera and sensor on different pixel grids)")
    rg.add_argument("--rig", metavar="default|RIG.json",
                    help="write image.png as the RGB camera of this rig sees it ('default': a typical mismatched rig "
                         "drawn with --seed), plus rig_truth.json and checkerboard recordings in calibration/")
    rg.add_argument("--rig-views", type=int, default=10, help="checkerboard views in calibration/ (10)")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("simulate-events", help="simulate the events of your own frames")
    _add_frames_options(p)
    _add_event_model_options(p, None)
    p.add_argument("--out", required=True, type=Path, help="events file to write")
    p.add_argument("--to", choices=sorted(n for n, f in FORMATS.items() if f.kind == "events" and f.write),
                   help="event format (default: by the extension)")
    p.set_defaults(func=cmd_simulate_events)

    p = sub.add_parser("simulate-spikes", help="simulate the spikes of your own frames")
    _add_frames_options(p)
    _add_spike_options(p, flag=False)
    p.add_argument("--out", required=True, type=Path, help="spike file to write (.dat, .h5, .npz)")
    p.add_argument("--to", choices=sorted(n for n, f in FORMATS.items() if f.kind == "spikes"),
                   help="spike format (default: by the extension)")
    p.set_defaults(func=cmd_simulate_spikes)

    p = sub.add_parser("synth", help="generate a synthetic dataset: focal sweeps, or defocused-event videos "
                                     "(resumable, shardable)")
    p.add_argument("--kind", choices=["focal-sweep", "defocus-video"], default="focal-sweep",
                   help="focal sweeps (all-in-focus papers) or defocused-event videos with depth, blur and flow "
                        "ground truth (EvFocus); default focal-sweep")
    p.add_argument("--scenes", type=int, required=True, help="number of scenes (sequences)")
    p.add_argument("--out", required=True, type=Path, help="dataset folder")
    p.add_argument("--seed", type=int, default=0, help="dataset seed (scene i depends only on it and i)")
    p.add_argument("--shard", default="0/1", help="i/n: make only scenes with index %% n == i (default 0/1)")
    p.add_argument("--workers", type=int, help="local processes (default: all cores)")
    p.add_argument("--dask", metavar="ADDRESS", help="dask scheduler address ('local' for a local cluster)")
    p.add_argument("--size", type=size_wxh, default=(346, 260), metavar="WxH")
    p.add_argument("--frames", type=int, help="frames per scene (focal sweep 480, video 100)")
    p.add_argument("--frame-rate", "--fps", dest="frame_rate", type=positive_float,
                   help="frames per second (focal sweep 480, video 200)")
    p.add_argument("--event-model", dest="events", choices=["dvs-voltmeter", "ideal", "mixed", "none"],
                   default="dvs-voltmeter",
                   help="event simulator (default dvs-voltmeter; focal sweeps: mixed = DVS-Voltmeter with random k, "
                        "its DVS346 preset and ideal events, by scene index modulo 3)")
    p.add_argument("--textures", type=Path, metavar="DIR",
                   help="a folder of photographs (e.g. ../shared/data/textures/kodak) whose crops texture the "
                        "background and the objects (default: bundled images and procedural patterns)")
    g = p.add_argument_group("focal sweeps")
    g.add_argument("--speed", choices=["constant", "hand", "mixed"], help="sweep speed (mixed)")
    g.add_argument("--direction", choices=["near_to_far", "far_to_near", "random"], help="(near_to_far)")
    g.add_argument("--max-blur", type=_blur_range, metavar="MIN,MAX",
                   help="range of the largest blur per scene in pixels (15,40)")
    g.add_argument("--with-spikes", action="store_true", help="also simulate spikes")
    g.add_argument("--rgbd", type=Path, metavar="DIR",
                   help="a folder of real image + depth scenes (e.g. ../shared/data/rgbd: image.png, depth.npy, "
                        "meta.json per scene): scene i is rendered from scene i modulo their number, randomly "
                        "scaled, cropped and flipped, instead of a random layered scene")
    g.add_argument("--ideal-noise", action="store_true",
                   help="ideal events (--event-model ideal or mixed): also draw a per-pixel threshold mismatch, "
                        "refractory period, leak and shot noise per scene (defocus videos always do)")
    g.add_argument("--tick-us", type=positive_float,
                   help="spike readout interval (µs; default 100, the NFS paper's spike camera)")
    g.add_argument("--keep-every", type=int, help="keep every n-th frame as ground truth (4)")
    g = p.add_argument_group("defocused-event videos (--kind defocus-video)")
    g.add_argument("--blur", type=_blur_range, metavar="MIN,MAX",
                   help="blur diameter of each surface at the reference focus, pixels (0,15)")
    g.add_argument("--objects", type=_object_range, metavar="MIN,MAX", help="number of moving objects (2,6)")
    g.add_argument("--focus", choices=["mixed", "constant", "drift", "sweep"],
                   help="focus schedule (mixed: constant, drift or sweep per sequence)")
    g.add_argument("--psf", choices=["disk", "gaussian"], help="defocus PSF (disk)")
    g.add_argument("--sharp-events", action="store_true",
                   help="also simulate the events of the sharp frames (events_sharp.hdf5)")
    p.set_defaults(func=cmd_synth)
