"""All-in-focus commands: ``aif``, ``eval``, ``bench aif``, ``demo``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ..errors import NeurofocusError
from .common import add_input_options, positive_float


def _image_time(args) -> int:
    """The RGB capture time: --image-time, else the sample.json that neurofocus simulate writes beside the files."""
    if args.image_time is not None:
        return int(args.image_time)
    for folder in {Path(args.image).parent, Path(args.events or args.spikes).parent}:
        meta = folder / "sample.json"
        if meta.is_file():
            return int(json.loads(meta.read_text())["image_time_us"])
    raise NeurofocusError("when was the image captured? give --image-time (µs, in the event/spike time base)")


def _config(args):
    from ..aif import AifConfig

    return AifConfig(modality="events" if args.events else "spikes", times=args.times, weights=args.weights,
                     grid=args.grid, contrast=args.contrast, num_uniform=args.num_uniform)


def _depth_from_sample(folder: Path, infocus_time_us: np.ndarray) -> np.ndarray | None:
    """Depth per pixel from the in-focus times when the sweep's focus schedule is known (simulated data)."""
    truth = folder / "truth.npz"
    if not truth.is_file():
        return None
    with np.load(truth) as z:
        if "frame_times_us" not in z.files or "depth_m" not in z.files:
            return None
        times, focus = z["frame_times_us"].astype(np.float64), z["focus_m"]
    order = np.argsort(times)
    return np.interp(infocus_time_us, times[order], focus[order]).astype(np.float32)


def cmd_aif(args) -> int:
    from ..aif import all_in_focus
    from ..images import read_image, write_image
    from ..io import load_events, load_spikes
    from ..types import FocalSweep
    from ..viz import save_map

    if bool(args.events) == bool(args.spikes):
        raise NeurofocusError("give exactly one of --events FILE or --spikes FILE")
    image = read_image(args.image)
    image_time = _image_time(args)
    if args.events:
        signal = {"events": load_events(args.events, format=args.format, sensor_size=args.sensor_size,
                                        columns=args.columns, progress=None)}
    else:
        signal = {"spikes": load_spikes(args.spikes, format=args.format, size=args.spike_size,
                                        tick_us=args.tick_us, extra_columns=args.spike_extra_columns)}
    try:
        sweep = FocalSweep(image, image_time, **signal)
    except NeurofocusError as exc:
        raise NeurofocusError(f"{exc.problem}", args.image) from None
    t0 = time.perf_counter()
    result = all_in_focus(sweep, _config(args), keep_stack=True, progress=True)
    seconds = time.perf_counter() - t0
    out = Path(args.out)
    write_image(out / "aif.png", result.image)
    for i, (t, slice_image) in enumerate(zip(result.stack_times_us, result.stack)):
        write_image(out / "stack" / f"slice_{i:03d}_t{int(t)}us.png", slice_image)
    save_map(out / "infocus_time.png", result.infocus_time_us / 1e3, "in-focus time (ms)",
             "in-focus time of each pixel (slice with the largest focus measure)")
    info = {"image": str(args.image), "signal": str(args.events or args.spikes), "image_time_us": image_time,
            "modality": result.modality, "times": args.times, "weights": result.weights,
            "stack_times_us": [int(t) for t in result.stack_times_us], "runtime_s": round(seconds, 3),
            "timings_s": {k: round(v, 4) for k, v in result.timings_s.items()}}
    if result.contrast is not None:
        info["contrast_threshold"] = {"median": float(np.median(result.contrast)),
                                      "min": float(result.contrast.min()), "max": float(result.contrast.max())}
    depth = _depth_from_sample(Path(args.image).parent, result.infocus_time_us)
    if depth is not None:
        save_map(out / "depth.png", depth, "depth (m)", "depth from the in-focus times", cmap="magma_r")
        info["depth"] = "depth.png"
    from ..atomic import write_text_atomic

    write_text_atomic(out / "result.json", json.dumps(info, indent=2) + "\n")
    print(f"wrote {out}/aif.png ({len(result.stack_times_us)} slices, {result.modality}, {seconds:.2f} s), "
          f"stack/, infocus_time.png, result.json")
    return 0


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
    report = bench.run(args.scenes, args.frames, args.light_field, args.lf_frames, args.focus_positions)
    report += f"\nTotal {time.perf_counter() - t0:.0f} s; command: neurofocus bench aif --scenes {args.scenes} " \
              f"--frames {args.frames}" + (f" --light-field {args.light_field}" if args.light_field else "") + "\n"
    print(report)
    if args.output:
        write_text_atomic(args.output, report)
    return 0


def cmd_demo(args) -> int:
    from ..demo import run_demo

    return run_demo(Path(args.out))


def register(sub) -> None:
    """Add the all-in-focus commands to the sub-parser collection ``sub``."""
    p = sub.add_parser("aif", help="all-in-focus image from an RGB image and the events or spikes of a focus sweep")
    p.add_argument("--image", required=True, type=Path, help="the RGB image (same pixel grid as the sensor)")
    p.add_argument("--events", type=Path, help="events recorded during the sweep")
    p.add_argument("--spikes", type=Path, help="spikes recorded during the sweep")
    p.add_argument("--image-time", type=int, metavar="T_US", help="capture time of the image (µs)")
    p.add_argument("--method", choices=["handcrafted"], default="handcrafted", help="pipeline (default handcrafted)")
    p.add_argument("--times", choices=["robust", "golden", "uniform"], default="robust",
                   help="refocusing-time selection (default robust: coarse scan + golden section)")
    p.add_argument("--num-uniform", type=int, default=16, help="slices for --times uniform (16)")
    p.add_argument("--weights", choices=["symmetry", "spike-variance", "gradient"],
                   help="focus measure (default: symmetry for events, spike-variance for spikes)")
    p.add_argument("--grid", type=int, default=8, help="patches per side (8)")
    p.add_argument("--contrast", type=positive_float, help="event contrast threshold (default: estimated)")
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
    b = bench_sub.add_parser("aif", help="the hand-crafted all-in-focus pipeline and its ablations")
    b.add_argument("--scenes", type=int, default=6, help="synthetic scenes (6)")
    b.add_argument("--frames", type=int, default=240, help="frames per synthetic sweep (240)")
    b.add_argument("--light-field", type=Path, help="an HCI-layout light field folder to add")
    b.add_argument("--lf-frames", type=int, default=120, help="frames per light-field sweep (120)")
    b.add_argument("--focus-positions", type=int, default=7, help="points of the focus-position table (7)")
    b.add_argument("--output", type=Path, help="also write the report here (Markdown)")
    b.set_defaults(func=cmd_bench_aif)

    p = sub.add_parser("demo", help="render a scene, simulate events and spikes, make it all-in-focus, score it")
    p.add_argument("--out", default="demo", help="output folder (default: ./demo)")
    p.set_defaults(func=cmd_demo)
