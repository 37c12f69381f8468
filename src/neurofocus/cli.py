"""The ``neurofocus`` command.

Every sub-command reports bad input as one line, ``neurofocus: error: <file>: <problem>``, and exits with status 2;
recoverable oddities are printed as ``neurofocus: note: ...``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
import warnings
from pathlib import Path

from . import __version__
from .errors import NeurofocusError
from .io import FORMATS, NeurofocusWarning, detect_format, load_events, load_spikes, save_events, save_spikes
from .io.common import parse_size
from .types import Events, Spikes

EXIT_BAD_INPUT = 2


# --- argument helpers ------------------------------------------------------------------------------------------------

def _size_wxh(text: str) -> tuple[int, int]:
    try:
        return parse_size(text, "WxH")
    except NeurofocusError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _size_hxw(text: str) -> tuple[int, int]:
    try:
        w, h = parse_size(text, "HxW")
    except NeurofocusError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return h, w


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return value


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("input options")
    group.add_argument("--format", choices=sorted(FORMATS), help="input format (default: detected)")
    group.add_argument("--sensor-size", type=_size_wxh, metavar="WxH",
                       help="event sensor size, for files that do not store it")
    group.add_argument("--columns", metavar="ORDER",
                       help="column order of plain (N,4) .npy/.mat arrays (default t,x,y,p: t in µs, p in {0,1})")
    group.add_argument("--spike-size", type=_size_hxw, metavar="HxW", help="frame size of a spike .dat (e.g. 250x400)")
    group.add_argument("--tick-us", type=_positive_float, metavar="T", help="spike readout interval in µs")
    group.add_argument("--spike-extra-columns", type=int, metavar="N",
                       help="columns per stored .dat row beyond the frame width, dropped (16 for 416-column files)")


def _read(args, path) -> Events | Spikes:
    """Read ``path`` as events or spikes, whichever it holds."""
    fmt = args.format or detect_format(path)
    if FORMATS[fmt].kind == "spikes":
        return load_spikes(path, format=fmt, size=args.spike_size, tick_us=args.tick_us,
                           extra_columns=args.spike_extra_columns)
    return load_events(path, format=fmt, sensor_size=args.sensor_size, columns=args.columns)


# --- info ------------------------------------------------------------------------------------------------------------

def describe(data: Events | Spikes) -> dict:
    """Summary figures of a stream, as printed by ``neurofocus info``."""
    if isinstance(data, Events):
        stats = data.polarity_stats()
        out = {"kind": "events", "sensor_size": list(data.sensor_size), "num_events": len(data),
               "num_on": stats.num_on, "num_off": stats.num_off, "on_fraction": stats.on_fraction}
        if len(data):
            out.update(t_first_us=int(data.t[0]), t_last_us=int(data.t[-1]), duration_us=data.duration_us,
                       rate_ev_per_s=data.rate_hz)
        return out
    out = {"kind": "spikes", "frame_size_hxw": [data.height, data.width], "num_ticks": data.num_ticks,
           "tick_us": data.tick_us, "start_us": data.start_us, "num_spikes": data.num_spikes,
           "spikes_per_pixel_per_tick": data.firing_rate}
    if data.tick_us is not None:
        out["duration_us"] = data.duration_us
        out["readout_hz"] = 1e6 / data.tick_us
    return out


def _format_info(path, fmt: str, info: dict) -> str:
    rows = [("file", str(path)), ("format", f"{fmt} ({FORMATS[fmt].description})")]
    if info["kind"] == "events":
        w, h = info["sensor_size"]
        rows += [("sensor", f"{w} x {h} pixels"), ("events", f"{info['num_events']:,}")]
        if info["num_events"]:
            rows += [
                ("time range", f"{info['t_first_us']:,} .. {info['t_last_us']:,} µs"),
                ("duration", f"{info['duration_us'] / 1e3:,.3f} ms"),
                ("rate", "n/a (zero duration)" if info["duration_us"] == 0
                 else f"{info['rate_ev_per_s'] / 1e6:,.3f} M events/s"),
                ("polarity", f"{info['num_on']:,} ON ({100 * info['on_fraction']:.1f} %) / "
                             f"{info['num_off']:,} OFF ({100 * (1 - info['on_fraction']):.1f} %)"),
            ]
    else:
        h, w = info["frame_size_hxw"]
        rows += [("frames", f"{info['num_ticks']:,} ticks of {h} x {w} pixels (H x W)")]
        if info["tick_us"] is None:
            rows += [("tick", "unknown (not in the file: pass --tick-us)")]
        else:
            rows += [("tick", f"{info['tick_us']:g} µs ({info['readout_hz'] / 1e3:g} kHz readout)"),
                     ("time range", f"{info['start_us']:,.1f} .. {info['start_us'] + info['duration_us']:,.1f} µs"),
                     ("duration", f"{info['duration_us'] / 1e3:,.3f} ms")]
        rows += [("spikes", f"{info['num_spikes']:,} ({info['spikes_per_pixel_per_tick']:.4f} per pixel per tick)")]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def cmd_info(args) -> int:
    fmt = args.format or detect_format(args.file)
    info = describe(_read(args, args.file))
    if args.json:
        print(json.dumps({"file": str(args.file), "format": fmt, **info}, indent=2))
    else:
        print(_format_info(args.file, fmt, info))
    return 0


# --- convert ---------------------------------------------------------------------------------------------------------

def cmd_convert(args) -> int:
    data = _read(args, args.input)
    if Path(args.output).resolve() == Path(args.input).resolve():
        raise NeurofocusError("the output would overwrite the input", args.output)
    if isinstance(data, Events):
        if args.t_start_us is not None or args.t_end_us is not None:
            data = data.slice_time(args.t_start_us, args.t_end_us)
        save_events(args.output, data, format=args.to)
        what = f"{len(data):,} events"
    else:
        if args.t_start_us is not None or args.t_end_us is not None:
            data = data.slice_time(args.t_start_us, args.t_end_us)
        save_spikes(args.output, data, format=args.to)
        what = f"{data.num_ticks:,} spike frames"
    print(f"wrote {what} to {args.output}")
    return 0


# --- show ------------------------------------------------------------------------------------------------------------

def cmd_show(args) -> int:
    from .viz import save_event_picture, save_spike_picture

    data = _read(args, args.file)
    name = Path(args.file).name
    if isinstance(data, Events):
        if not len(data):
            raise NeurofocusError("holds no events to show", args.file)
        start = args.t_start_us if args.t_start_us is not None else int(data.t[0])
        end = args.t_end_us if args.t_end_us is not None else (
            start + args.window_us if args.window_us is not None else int(data.t[-1]) + 1)
        window = data.slice_time(start, end)
        save_event_picture(args.output, window, f"{name}: {len(window):,} events, t in [{start:,}, {end:,}) µs")
    else:
        if not data.num_ticks:
            raise NeurofocusError("holds no spike frames to show", args.file)
        if args.t_start_us is not None and data.tick_us is not None:
            center = min(max(data.tick_at(args.t_start_us), 0), data.num_ticks - 1)
        else:
            center = data.num_ticks // 2
        half = args.half_window
        save_spike_picture(args.output, data, center, half,
                           f"{name}: TFP over ticks {max(0, center - half)}..{min(data.num_ticks - 1, center + half)}")
    print(f"wrote {args.output}")
    return 0


# --- formats / demo --------------------------------------------------------------------------------------------------

def cmd_formats(args) -> int:
    width = max(len(n) for n in FORMATS)
    for name, spec in FORMATS.items():
        mode = "read/write" if spec.write else "read"
        print(f"{name:<{width}}  {spec.kind:<6}  {mode:<10}  {', '.join(spec.extensions):<12}  {spec.description}")
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(Path(args.out))


# --- entry point -----------------------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neurofocus", description="Neuromorphic all-in-focus imaging toolkit.")
    parser.add_argument("--version", action="version", version=f"neurofocus {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("info", help="describe an event or spike file")
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    _add_input_options(p)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("convert", help="convert between event (or spike) file formats")
    p.add_argument("input", type=Path)
    p.add_argument("output", type=Path)
    p.add_argument("--to", choices=sorted(n for n, f in FORMATS.items() if f.write),
                   help="output format (default: chosen by the output extension)")
    p.add_argument("--t-start-us", type=int, help="keep events (or spike ticks) from this time (µs)")
    p.add_argument("--t-end-us", type=int, help="keep events (or spike ticks) before this time (µs)")
    _add_input_options(p)
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("show", help="draw an event frame or a spike TFP image as a PNG")
    p.add_argument("file", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True, help="PNG to write")
    p.add_argument("--t-start-us", type=int, help="window start (µs; for spikes: the tick to show)")
    p.add_argument("--t-end-us", type=int, help="window end (µs)")
    p.add_argument("--window-us", type=int, help="window length (µs) from the start")
    p.add_argument("--half-window", type=int, default=16, help="spike TFP half window in ticks (default 16)")
    _add_input_options(p)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("formats", help="list the file formats")
    p.set_defaults(func=cmd_formats)

    p = sub.add_parser("demo", help="generate events, write them in every format, read them back, draw them")
    p.add_argument("--out", default="demo", help="output folder (default: ./demo)")
    p.set_defaults(func=cmd_demo)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    if issubclass(category, NeurofocusWarning):
        print(f"neurofocus: note: {message}", file=sys.stderr)
    else:
        print(warnings.formatwarning(message, category, filename, lineno, line), file=sys.stderr, end="")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    warnings.showwarning = _show_warning
    warnings.simplefilter("always", NeurofocusWarning)
    try:
        return args.func(args)
    except NeurofocusError as exc:
        print(f"neurofocus: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # unreadable input, unwritable output, full disk
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"neurofocus: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("neurofocus: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line; the traceback on request
        if os.environ.get("NEUROFOCUS_DEBUG"):
            traceback.print_exc()
        print(f"neurofocus: internal error: {type(exc).__name__}: {' '.join(str(exc).split())} "
              f"(set NEUROFOCUS_DEBUG=1 for the traceback, and please report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
