"""EvFocus command: ``evfocus`` — a sequence of sharp frames reconstructed from an out-of-focus event stream."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..errors import NeurofocusError
from .common import add_input_options, positive_float, require_signal

#: --method → the registered model name (None: the classical leaky integrator, no network).
METHODS = {"evfocus": "evfocus", "e2vid": "e2vid", "integrate": None}
#: The default window never holds more than this fraction of the recording (a short recording still gives a sequence).
MIN_DEFAULT_FRAMES = 30


def _shipped_weights(method: str) -> Path | None:
    """The packaged weight file of ``method``, if the package ships one."""
    from importlib import resources

    path = Path(str(resources.files("neurofocus").joinpath("weights", f"{method}.safetensors")))
    return path if path.is_file() else None


def default_window_events(num_events: int, width: int, height: int) -> int:
    """Events per frame by default: E2VID's half the pixel count, but at most 1/30 of the recording."""
    return max(1, min(width * height // 2, num_events // MIN_DEFAULT_FRAMES))


def _network_frames(args, events):
    """(t_us, image) per window from the E2VID / EvFocus network of ``args.method``, and the weight file."""
    try:
        from ..models import load_model
        from ..models.recurrent import reconstruct_sequence
    except ImportError:
        raise NeurofocusError(f"--method {args.method} needs the networks: pip install 'neurofocus[nets]' "
                              "(or --method integrate)") from None
    weights = args.weights or _shipped_weights(args.method)
    if weights is None:
        raise NeurofocusError(f"no trained {args.method} weights ship with this version of neurofocus yet; give "
                              f"--weights FILE.safetensors (a model saved by neurofocus.models.save_weights) "
                              f"or use --method integrate")
    model = load_model(weights)
    if model.name != METHODS[args.method]:
        raise NeurofocusError(f"holds a {model.name!r} model, not {args.method!r}", weights)
    return reconstruct_sequence(model, events, args.window_events, args.window_us, model.config.num_bins,
                                args.device), weights


def _integrated_frames(args, events):
    """(t_us, image) per window from the leaky event integrator."""
    from ..represent.leaky_integration import LeakyIntegrator
    from ..represent.windows import event_windows

    integrator = LeakyIntegrator(events.width, events.height, args.contrast, args.cutoff_hz)
    for start, stop, t_us in event_windows(events, args.window_events, args.window_us):
        integrator.update(events[start:stop])
        yield t_us, integrator.image(t_us)


def cmd_evfocus(args) -> int:
    from ..atomic import OutputFolder, write_bytes_atomic, write_text_atomic
    from ..images import png_bytes
    from ..io import load_events
    from ..progress import progress_bar
    from ..viz.report import write_evfocus_report

    if args.weights is not None and METHODS[args.method] is None:
        raise NeurofocusError("--weights is for --method evfocus or e2vid, not integrate")
    events = require_signal(load_events(args.events, format=args.format, sensor_size=args.sensor_size,
                                        columns=args.columns), args.events)
    if args.window_events is None and args.window_us is None:
        args.window_events = default_window_events(len(events), events.width, events.height)
    weights = None
    if METHODS[args.method] is None:
        sequence = _integrated_frames(args, events)
    else:
        sequence, weights = _network_frames(args, events)
    out = OutputFolder(args.out, owned=("frames/frame_*.png",))
    t0 = time.perf_counter()
    frames, times, pngs = [], [], []
    for index, (t_us, image) in enumerate(progress_bar(sequence, desc=f"evfocus ({args.method})", unit="frame")):
        name = f"frame_{index:05d}_t{t_us}us.png"
        pngs.append(png_bytes(image))
        write_bytes_atomic(out.path(f"frames/{name}"), pngs[-1])
        frames.append(name)
        times.append(t_us)
    seconds = time.perf_counter() - t0
    info = {"events": str(args.events), "method": args.method, "weights": None if weights is None else str(weights),
            "num_frames": len(frames), "window_events": args.window_events, "window_us": args.window_us,
            "frame_times_us": times, "frames": frames, "runtime_s": round(seconds, 3),
            "seconds_per_frame": round(seconds / len(frames), 4)}
    if METHODS[args.method] is None:
        info.update(contrast=args.contrast, cutoff_hz=args.cutoff_hz)
    write_text_atomic(out.path("result.json"), json.dumps(info, indent=2) + "\n")
    video = None
    if args.video:
        video = _write_video(out.path("reconstruction.mp4"), out.folder / "frames", frames, args.fps)
    settings = {k: v for k, v in info.items() if k not in ("frame_times_us", "frames") and v is not None}
    write_evfocus_report(out.path("report.html"), title=f"neurofocus evfocus: {Path(args.events).name}",
                         summary=f"{len(frames)} frames, {args.method}, {seconds / len(frames) * 1e3:.1f} ms per frame",
                         frames=pngs, times_us=times, tables={"Settings": settings})
    out.finish()
    noun = "frame" if len(frames) == 1 else "frames"
    print(f"wrote {len(frames)} {noun} to {out.folder}/frames ({seconds / len(frames):.3f} s per frame)"
          + (f", {video}" if video else "") + ", result.json, report.html")
    return 0


def _write_video(path: Path, folder: Path, frames: list[str], fps: float) -> Path:
    from ..atomic import atomic_path
    from ..images import read_image

    try:
        import imageio.v3 as iio
    except ImportError:
        raise NeurofocusError("--video needs the 'video' extra: pip install 'neurofocus[video]'") from None
    from ..color import to_uint8

    with atomic_path(path) as tmp:
        iio.imwrite(tmp, [to_uint8(read_image(folder / name)) for name in frames], fps=fps)
    return path


def register(sub) -> None:
    """Add the ``evfocus`` command to the sub-parser collection ``sub``."""
    p = sub.add_parser("evfocus", help="reconstruct sharp frames from out-of-focus events (EvFocus, or E2VID)")
    p.add_argument("--events", required=True, type=Path, help="the event recording")
    p.add_argument("--out", required=True, type=Path, help="output folder (frames/, result.json, report.html)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--window-events", type=int, metavar="N", help="events per frame (default: half the pixel count, at most 1/30 of the recording)")
    g.add_argument("--window-us", type=int, metavar="T", help="µs per frame")
    p.add_argument("--method", choices=sorted(METHODS), default="evfocus",
                   help="evfocus or e2vid (networks), or integrate (leaky event integration, no network); "
                        "default evfocus")
    p.add_argument("--weights", type=Path, help="network weight file (default: the weights shipped for --method)")
    p.add_argument("--contrast", type=positive_float, default=0.2,
                   help="integrate: event contrast threshold, log-intensity step per event (0.2)")
    p.add_argument("--cutoff-hz", type=positive_float, default=5.0, help="integrate: high-pass cut-off frequency, Hz (5)")
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda, cuda:1, ...)")
    p.add_argument("--video", action="store_true", help="also write reconstruction.mp4 (needs the video extra)")
    p.add_argument("--fps", type=float, default=25.0, help="video frame rate (25)")
    add_input_options(p)
    p.set_defaults(func=cmd_evfocus)
