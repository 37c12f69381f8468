"""All-in-focus commands: ``aif``, ``eval``, ``bench aif``, ``demo``."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from ..errors import NeurofocusError
from ..progress import say
from .common import add_input_options, positive_float, require_signal, size_wxh


def _image_time(args) -> int:
    """The RGB capture time: --image-time, else the sample.json that neurofocus simulate writes beside the files."""
    if args.image_time is not None:
        return int(args.image_time)
    from ..datasets import sample_image_time

    for folder in {Path(args.image).parent, Path(args.events or args.spikes).parent}:
        recorded = sample_image_time(folder)
        if recorded is not None:
            return recorded
    raise NeurofocusError("when was the image captured? give --image-time (µs, in the event/spike time base)")


#: How far (as a share of the recording's span) the image time may lie outside the recording.
IMAGE_TIME_MARGIN = 0.1


def _check_image_time(sweep, signal_path) -> None:
    """The image must be captured during the recording, or close to it (:data:`IMAGE_TIME_MARGIN` of its span)."""
    if sweep.spikes is not None and sweep.spikes.tick_us is None:
        return  # no time base yet: the pipeline asks for --tick-us
    start, end = sweep.time_extent_us
    margin = IMAGE_TIME_MARGIN * (end - start)
    if not start - margin <= sweep.image_time_us <= end + margin:
        raise NeurofocusError(f"the image time {sweep.image_time_us:,} µs lies outside the recording "
                              f"({start:,.0f} .. {end:,.0f} µs) by more than {100 * IMAGE_TIME_MARGIN:g} % of its "
                              f"span: give --image-time in the recording's clock (neurofocus info prints it)",
                              signal_path)


def _config(args):
    from ..aif import AifConfig

    return AifConfig(modality="events" if args.events else "spikes", times=args.times, weights=args.focus_measure,
                     grid=args.grid, contrast=args.contrast, num_uniform=args.num_uniform)


class _Registration:
    """The RGB image on the sensor's grid (via --calib, or as given when both grids agree) and the way back."""

    def __init__(self, args, image: np.ndarray, sensor_size: tuple[int, int]):
        self.calibration, self.grid, self.rgb_image = None, args.output_grid, image
        if args.calib is None:
            if image.shape[:2] != sensor_size[::-1]:
                kind = "event" if args.events else "spike"
                raise NeurofocusError(f"the image is {image.shape[1]}x{image.shape[0]} but the {kind} sensor is "
                                      f"{sensor_size[0]}x{sensor_size[1]}: the two cameras do not share a pixel grid; "
                                      f"give --calib calib.json (made by neurofocus calibrate)", args.image)
            self.sensor_image = image
            return
        from ..calib.estimate import load_calibration
        from ..calib.register import OutputGrid, align_rgb_to_sensor

        self.calibration = load_calibration(args.calib)
        self.calib_path = args.calib
        geometry = self.calibration.geometry
        if (geometry.sensor.width, geometry.sensor.height) != tuple(sensor_size):
            raise NeurofocusError(f"the recording is {sensor_size[0]}x{sensor_size[1]} but the calibration's sensor "
                                  f"is {geometry.sensor.width}x{geometry.sensor.height}", args.events or args.spikes)
        try:
            aligned = align_rgb_to_sensor(image, geometry)
        except NeurofocusError as exc:
            raise exc.with_path(args.image) from None
        if not aligned.valid.any():
            raise NeurofocusError("the calibration maps no sensor pixel into the RGB image", args.calib)
        self.sensor_image, self.valid = aligned.image, aligned.valid
        self.output = OutputGrid(geometry, self.grid, aligned.valid)
        self.valid_out = self.output.valid

    def image_out(self, image: np.ndarray) -> np.ndarray:
        """An sRGB result on the sensor's grid, on the output grid."""
        if self.calibration is None:
            return image
        return self.output.resample(image, aligned_input=self.sensor_image, rgb_image=self.rgb_image)

    def map_out(self, values: np.ndarray) -> np.ndarray:
        """A per-pixel map on the sensor's grid, on the output grid (NaN where no camera pair sees)."""
        if self.calibration is None:
            return values
        return np.where(self.valid_out, self.output.resample(np.asarray(values, np.float32)), np.nan)

    def report(self) -> dict:
        """What result.json records about the registration."""
        g = self.calibration.geometry
        rows, cols = np.nonzero(self.valid_out)
        return {"file": str(self.calib_path), "output_grid": self.grid,
                "rgb_size": [g.rgb.width, g.rgb.height], "sensor_size": [g.sensor.width, g.sensor.height],
                "homography_rgb_to_sensor": g.homography.tolist(), "mean_error_px": self.calibration.summary(),
                "valid_fraction": round(float(self.valid_out.mean()), 4),
                "valid_bbox_xywh": [int(cols.min()), int(rows.min()), int(cols.max() - cols.min() + 1),
                                    int(rows.max() - rows.min() + 1)], "valid_mask": "valid.png"}


def _learned(args, sweep):
    """The learned pipeline (--method learned / efs) with the shipped or the given weights."""
    try:
        from ..aif.learned import learned_all_in_focus, load_networks
    except ImportError:
        raise NeurofocusError(f"--method {args.method} needs the networks: pip install 'neurofocus[nets]'") from None
    refocus, merge = load_networks(args.method, "events" if args.events else "spikes", args.refocus_weights,
                                   args.merge_weights, args.device, merge=args.merge)
    return learned_all_in_focus(sweep, refocus, merge, _config(args), device=args.device, progress=True)


def cmd_aif(args) -> int:
    from ..aif import all_in_focus
    from ..datasets import is_sample_folder
    from ..images import read_image
    from ..io import load_events, load_spikes
    from ..types import FocalSweep

    if bool(args.events) == bool(args.spikes):
        raise NeurofocusError("give exactly one of --events FILE or --spikes FILE")
    sample = Path(args.image).parent
    if Path(args.out).resolve() == sample.resolve() and is_sample_folder(sample):
        raise NeurofocusError("is the input sample folder: its aif.png is the ground truth; write elsewhere", args.out)
    image = read_image(args.image)
    image_time = _image_time(args)
    if args.events:
        signal = {"events": load_events(args.events, format=args.format, sensor_size=args.sensor_size,
                                        columns=args.columns, progress=None)}
    else:
        signal = {"spikes": load_spikes(args.spikes, format=args.format, size=args.spike_size,
                                        tick_us=args.tick_us, extra_columns=args.spike_extra_columns)}
    recording = require_signal(next(iter(signal.values())), args.events or args.spikes)
    rig = _Registration(args, image, (recording.width, recording.height))
    try:
        sweep = FocalSweep(rig.sensor_image, image_time, **signal)
    except NeurofocusError as exc:
        raise NeurofocusError(f"{exc.problem}", args.image) from None
    _check_image_time(sweep, args.events or args.spikes)
    t0 = time.perf_counter()
    if args.method == "handcrafted":
        result = all_in_focus(sweep, _config(args), keep_stack=True, progress=True)
    else:
        result = _learned(args, sweep)
    seconds = time.perf_counter() - t0
    _write_aif_outputs(args, rig, sweep, result, seconds)
    return 0


def _png_file(path: Path, image: np.ndarray) -> bytes:
    """Write ``image`` as the PNG ``path`` (atomically); returns its bytes."""
    from ..atomic import write_bytes_atomic
    from ..images import png_bytes

    try:
        data = png_bytes(image)
    except NeurofocusError as exc:
        raise exc.with_path(path) from None
    write_bytes_atomic(path, data)
    return data


def _write_aif_outputs(args, rig, sweep, result, seconds: float) -> None:
    """aif.png, the stack, the in-focus (and depth) maps, result.json and report.html; a rerun replaces them.

    The images are encoded and the metrics computed in a thread pool (PNG encoding and most of numpy/scipy release
    the GIL), then result.json and the report are written."""
    from concurrent.futures import ThreadPoolExecutor

    from ..atomic import OutputFolder, write_text_atomic
    from ..datasets import sample_focus_schedule, sample_ground_truth
    from ..images import png_bytes, write_image
    from ..metrics import evaluate
    from ..viz import save_map

    sample = Path(args.image).parent
    out = OutputFolder(args.out, owned=("stack/slice_*.png",))
    image = rig.image_out(result.image)
    input_image = rig.image_out(sweep.image)
    truth = sample_ground_truth(sample)
    if truth is not None and truth.shape != image.shape:
        truth = None  # the image is not the sample's own
    schedule = sample_focus_schedule(sample)
    infocus_ms = rig.map_out(result.infocus_time_us / 1e3)
    info = {"image": str(args.image), "signal": str(args.events or args.spikes), "image_time_us": sweep.image_time_us,
            "method": args.method, "modality": result.modality, "times": args.times, "weights": result.weights,
            "stack_times_us": [int(t) for t in result.stack_times_us], "runtime_s": round(seconds, 3),
            "timings_s": {k: round(v, 4) for k, v in result.timings_s.items()}}
    if result.contrast is not None:
        info["contrast_threshold"] = {"median": float(np.median(result.contrast)),
                                      "min": float(result.contrast.min()), "max": float(result.contrast.max())}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        slices = [pool.submit(_png_file, out.path(f"stack/slice_{i:03d}_t{int(t)}us.png"), rig.image_out(s))
                  for i, (t, s) in enumerate(zip(result.stack_times_us, result.stack))]
        pngs = [pool.submit(png_bytes, input_image), pool.submit(_png_file, out.path("aif.png"), image)]
        jobs = [pool.submit(save_map, out.path("infocus_time.png"), infocus_ms, "in-focus time (ms)",
                            "in-focus time of each pixel (slice with the largest focus measure)")]
        if schedule is not None:
            depth = np.interp(result.infocus_time_us, *schedule).astype(np.float32)
            jobs.append(pool.submit(save_map, out.path("depth.png"), rig.map_out(depth), "depth (m)",
                                    "depth from the in-focus times", cmap="magma_r"))
            info["depth"] = "depth.png"
        if rig.calibration is not None:
            jobs.append(pool.submit(write_image, out.path("valid.png"), rig.valid_out.astype(np.float32)))
            info["calibration"] = rig.report()
        metrics = None if truth is None else [pool.submit(evaluate, input_image, truth),
                                              pool.submit(evaluate, image, truth)]
        slices = [job.result() for job in slices]
        input_png, result_png = (job.result() for job in pngs)
        for job in jobs:
            job.result()
        if metrics is not None:
            info["metrics"] = {"input image": metrics[0].result(), "result": metrics[1].result()}
    write_text_atomic(out.path("result.json"), json.dumps(info, indent=2) + "\n")
    _write_report(out.path("report.html"), args, sweep, result, info, input_png, result_png, slices,
                  None if schedule is None else np.interp(np.asarray(result.stack_times_us, np.float64), *schedule),
                  infocus_ms * 1e3)
    out.finish()
    print(f"wrote {out.folder}/aif.png ({len(slices)} slices, {result.modality}, {seconds:.2f} s), "
          f"stack/, infocus_time.png, result.json, report.html")


def _write_report(path: Path, args, sweep, result, info: dict, input_png: bytes, result_png: bytes,
                  slices: list[bytes], slice_depth_m, infocus_time_us: np.ndarray) -> None:
    """report.html of an aif run (on the output grid; the images as PNG bytes): images, stack, in-focus map, metrics,
    settings, timings."""
    from ..viz import sweep_picture
    from ..viz.report import metrics_table, write_aif_report

    settings = {k: info[k] for k in ("image", "signal", "image_time_us", "method", "modality", "times", "weights")}
    settings["slices"] = len(slices)
    if "contrast_threshold" in info:
        settings["contrast threshold (median)"] = round(info["contrast_threshold"]["median"], 4)
    write_aif_report(
        path, title=f"neurofocus aif: {Path(args.image).name}",
        summary=f"{len(slices)} slices from {result.modality}, {args.method} pipeline, {info['runtime_s']:.2f} s",
        input_image=input_png, result_image=result_png, stack=slices, stack_times_us=result.stack_times_us,
        image_time_us=sweep.image_time_us, infocus_time_us=infocus_time_us, slice_depth_m=slice_depth_m,
        sweep_picture=sweep_picture(sweep),
        tables={"Metrics against the ground truth": metrics_table(info.get("metrics", {})), "Settings": settings,
                "Timings (s)": info["timings_s"]})


def cmd_eval(args) -> int:
    from ..images import read_image
    from ..metrics import evaluate

    pred, gt = read_image(args.pred), read_image(args.gt)
    if pred.shape != gt.shape:
        raise NeurofocusError(f"is {pred.shape[1]}x{pred.shape[0]} but the reference is {gt.shape[1]}x{gt.shape[0]}",
                              args.pred)
    scores = evaluate(pred, gt)
    if args.json:
        print(json.dumps(scores, indent=2))
    else:
        print("  ".join(f"{k.upper()} {v:.4f}" if k != "psnr" else f"PSNR {v:.2f} dB" for k, v in scores.items()))
    return 0


def cmd_bench_aif(args) -> int:
    from ..atomic import write_text_atomic
    from ..bench import aif as bench

    t0 = time.perf_counter()
    networks = _bench_networks(args)
    say(f"bench aif: {(3 if args.textures else 2) * args.scenes} synthetic scenes" + "".join(f", {p}" for p in (args.light_field, args.rgbd) if p)
        + "; a line per case as it is scored")
    result = bench.run(args.scenes, args.frames, args.light_field, args.lf_frames, args.focus_positions,
                       args.slice_counts, networks, args.rows, rgbd=args.rgbd, size=args.size,
                       textures=args.textures)
    report = result.markdown
    names = " ".join(f"--{m[:-1]}-networks " + " ".join(str(f) for f in files)
                     for m, files in (("events", args.event_networks), ("spikes", args.spike_networks)) if files)
    report += f"\nTotal {time.perf_counter() - t0:.0f} s; command: neurofocus bench aif --scenes {args.scenes} " \
              f"--frames {args.frames} --size {args.size[0]}x{args.size[1]}" + (f" --light-field {args.light_field}" if args.light_field else "") + \
              (f" --rgbd {args.rgbd}" if args.rgbd else "") + (f" --textures {args.textures}" if args.textures else "") + \
              (" --learned" if args.learned else "") + (f" {names}" if names else "") + \
              "".join(f" --rows '{text}'" for text in args.rows) + "\n"
    print(report)
    if args.output:
        write_text_atomic(args.output, report)
    if args.report:
        from ..viz.report import write_bench_report

        write_bench_report(args.report, title="neurofocus bench aif", summary=report.splitlines()[-1],
                           markdown=report, strips=result.strips)
        say(f"wrote {args.report}")
    return 0


def _bench_networks(args) -> dict:
    """modality → (refocus network, merge network or None) from --event-networks / --spike-networks files, else
    (with --learned) the shipped ones."""
    if not (args.learned or args.event_networks or args.spike_networks):
        return {}
    try:
        from ..aif.learned import load_networks, shipped_weights
    except ImportError:
        raise NeurofocusError("the learned rows need the networks: pip install 'neurofocus[nets]'") from None
    networks = {}
    for modality, files in (("events", args.event_networks), ("spikes", args.spike_networks)):
        if files:
            if len(files) > 2:
                raise NeurofocusError(f"--{modality[:-1]}-networks takes a refocus and at most one merge network file")
            networks[modality] = load_networks("learned", modality, files[0], files[1] if len(files) > 1 else None,
                                               merge="auto" if len(files) > 1 else "handcrafted")
        elif args.learned and shipped_weights("learned", modality)[0] is not None:
            networks[modality] = load_networks("learned", modality)
    if not networks:
        raise NeurofocusError("--learned: no trained networks ship with this version of neurofocus; give "
                              "--event-networks / --spike-networks files (from neurofocus train)")
    return networks


def cmd_demo(args) -> int:
    from ..demo import run_demo

    return run_demo(Path(args.out))


def register(sub) -> None:
    """Add the all-in-focus commands to the sub-parser collection ``sub``."""
    p = sub.add_parser("aif", help="all-in-focus image from an RGB image and the events or spikes of a focus sweep")
    p.add_argument("--image", required=True, type=Path,
                   help="the RGB image (on the sensor's pixel grid, or any size with --calib)")
    p.add_argument("--events", type=Path, help="events recorded during the sweep")
    p.add_argument("--spikes", type=Path, help="spikes recorded during the sweep")
    p.add_argument("--image-time", type=int, metavar="T_US", help="capture time of the image (µs)")
    p.add_argument("--method", choices=["handcrafted", "learned", "efs"], default="handcrafted",
                   help="pipeline: hand-crafted (default), learned (NeuroRefocusNet + NeuroMergeNet, events or "
                        "spikes) or efs (EvRefocusNet + EvMergeNet, events); the times always come from the search")
    p.add_argument("--refocus-weights", type=Path, help="learned/efs: refocus network weights (default: shipped)")
    p.add_argument("--merge-weights", type=Path, help="learned/efs: merge network weights (default: shipped)")
    p.add_argument("--merge", choices=["auto", "network", "handcrafted"], default="auto",
                   help="learned: merge with the merge network, or with the hand-crafted focus measures of --weights "
                        "(auto, the default: the network when one is given or ships)")
    p.add_argument("--device", default="cpu", help="learned/efs: torch device (cpu, cuda, ...)")
    p.add_argument("--times", choices=["robust", "golden", "uniform"], default="robust",
                   help="refocusing-time selection (default robust: coarse scan + golden section)")
    p.add_argument("--num-uniform", type=int, default=16, help="slices for --times uniform (16)")
    p.add_argument("--focus-measure", choices=["symmetry", "spike-variance", "gradient"],
                   help="focus measure (default: symmetry for events, spike-variance for spikes)")
    p.add_argument("--grid", type=int, default=8, help="patches per side (8)")
    p.add_argument("--contrast", type=positive_float, help="event contrast threshold (default: estimated)")
    p.add_argument("--calib", type=Path, help="rig calibration (neurofocus calibrate) when the RGB camera and the "
                   "sensor do not share a pixel grid")
    p.add_argument("--output-grid", choices=["undistorted", "sensor", "rgb"], default="undistorted",
                   help="with --calib: write results on the sensor's undistorted grid (default), its raw pixels, or "
                        "the RGB camera's pixels (refocus residual mapped back onto the RGB image)")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    add_input_options(p)
    p.set_defaults(func=cmd_aif)

    p = sub.add_parser("eval", help="compare an image with a reference (PSNR, SSIM, MS-SSIM, MSE)")
    p.add_argument("--pred", required=True, type=Path)
    p.add_argument("--gt", required=True, type=Path)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("bench", help="benchmarks that print tables")
    bench_sub = p.add_subparsers(dest="bench", required=True, metavar="BENCHMARK")
    b = bench_sub.add_parser("aif", help="the all-in-focus pipelines (hand-crafted; learned with networks) and "
                                          "their ablations")
    b.add_argument("--scenes", type=int, default=6, help="synthetic scenes (6)")
    b.add_argument("--frames", type=int, default=240, help="frames per synthetic sweep (240)")
    b.add_argument("--size", type=size_wxh, default=(346, 260), metavar="WxH",
                   help="width x height of the synthetic scenes (346x260)")
    b.add_argument("--light-field", type=Path, help="an HCI-layout light field folder to add")
    b.add_argument("--rgbd", type=Path, metavar="DIR",
                   help="a folder of real image + depth scenes to add (e.g. ../shared/data/rgbd: image.png, "
                        "depth.npy, meta.json per scene)")
    b.add_argument("--textures", type=Path, metavar="DIR",
                   help="a folder of photographs (e.g. ../shared/data/textures/kodak): adds --scenes random scenes "
                        "whose surfaces are crops of them")
    b.add_argument("--lf-frames", type=int, default=120, help="frames per light-field and --rgbd sweep (120)")
    b.add_argument("--focus-positions", type=int, default=7, help="points of the focus-position table (7)")
    b.add_argument("--slice-counts", type=lambda v: [int(x) for x in v.split(",") if x],
                   default=[30, 25, 20, 15, 10, 8, 6], metavar="N,N,...",
                   help="stack sizes of the slice-count table (30,25,20,15,10,8,6; '' for none)")
    b.add_argument("--learned", action="store_true", help="add the learned pipeline with the shipped networks")
    b.add_argument("--rows", action="append", default=[], metavar="TEXT",
                   help="only the rows whose label contains TEXT (repeatable; the input image is always shown)")
    b.add_argument("--event-networks", nargs="+", type=Path, metavar="FILE",
                   help="refocus [and merge] network weights for events (learned rows; without a merge network the "
                        "hand-crafted measures merge)")
    b.add_argument("--spike-networks", nargs="+", type=Path, metavar="FILE", help="the same for spikes")
    b.add_argument("--output", type=Path, help="also write the report here (Markdown)")
    b.add_argument("--report", type=Path, metavar="FILE",
                   help="also write an HTML page: the tables and a picture strip per case (self-contained)")
    b.set_defaults(func=cmd_bench_aif)

    p = sub.add_parser("demo", help="render a scene, simulate events and spikes, make it all-in-focus, score it")
    p.add_argument("--out", default="demo", help="output folder (default: ./demo)")
    p.set_defaults(func=cmd_demo)
