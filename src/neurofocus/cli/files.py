"""File commands: ``info``, ``convert``, ``show``, ``formats``."""

from __future__ import annotations

from pathlib import Path

from ..errors import NeurofocusError
from ..io import FORMATS, detect_format, save_events, save_spikes
from ..io.common import note
from ..types import Events, Spikes
from .common import add_input_options, read_any


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


def format_info(path, fmt: str, info: dict) -> str:
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
    info = describe(read_any(args, args.file))
    if args.json:
        import json  # here: a fraction of the start-up of the plain output

        print(json.dumps({"file": str(args.file), "format": fmt, **info}, indent=2))
    else:
        print(format_info(args.file, fmt, info))
    return 0


# --- convert ---------------------------------------------------------------------------------------------------------

def _window(data: Events | Spikes, args) -> Events | Spikes:
    """``data`` in [--t-start-us, --t-end-us), times in the file's own clock (as ``info`` prints them); a note when the
    window misses a non-empty recording."""
    if args.t_start_us is None and args.t_end_us is None:
        return data
    window = data.slice_time(args.t_start_us, args.t_end_us)
    if len(data) and not len(window):
        if isinstance(data, Events):
            span = f"its {len(data):,} events lie in {int(data.t[0]):,} .. {int(data.t[-1]):,} µs"
        else:
            times = data.tick_times_us()
            span = f"its {data.num_ticks:,} ticks lie in {times[0]:,.0f} .. {times[-1]:,.0f} µs"
        note(f"the window [{args.t_start_us if args.t_start_us is not None else '-inf'}, "
             f"{args.t_end_us if args.t_end_us is not None else 'inf'}) µs holds nothing of {args.input}: {span} "
             f"(times are in the file's own clock, as neurofocus info prints them)")
    return window


def cmd_convert(args) -> int:
    data = read_any(args, args.input)
    if Path(args.output).resolve() == Path(args.input).resolve():
        raise NeurofocusError("the output would overwrite the input", args.output)
    data = _window(data, args)
    if isinstance(data, Events):
        save_events(args.output, data, format=args.to)
        what = f"{len(data):,} events"
    else:
        save_spikes(args.output, data, format=args.to)
        what = f"{data.num_ticks:,} spike frames"
    print(f"wrote {what} to {args.output}")
    return 0


# --- show ------------------------------------------------------------------------------------------------------------

def cmd_show(args) -> int:
    from ..viz import save_event_picture, save_spike_picture

    data = read_any(args, args.file)
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


# --- formats ---------------------------------------------------------------------------------------------------------

def cmd_formats(args) -> int:
    width = max(len(n) for n in FORMATS)
    for name, spec in FORMATS.items():
        mode = "read/write" if spec.write else "read"
        print(f"{name:<{width}}  {spec.kind:<6}  {mode:<10}  {', '.join(spec.extensions):<12}  {spec.description}")
    return 0


def register(sub) -> None:
    """Add the file commands to the sub-parser collection ``sub``."""
    p = sub.add_parser("info", help="describe an event or spike file")
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    add_input_options(p)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("convert", help="convert between event (or spike) file formats")
    p.add_argument("input", type=Path)
    p.add_argument("output", type=Path)
    p.add_argument("--to", choices=sorted(n for n, f in FORMATS.items() if f.write),
                   help="output format (default: chosen by the output extension)")
    p.add_argument("--t-start-us", type=int, help="keep events (or spike ticks) from this time (µs)")
    p.add_argument("--t-end-us", type=int, help="keep events (or spike ticks) before this time (µs)")
    add_input_options(p)
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("show", help="draw an event frame or a spike TFP image as a PNG")
    p.add_argument("file", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True, help="PNG to write")
    p.add_argument("--t-start-us", type=int, help="window start (µs; for spikes: the tick to show)")
    p.add_argument("--t-end-us", type=int, help="window end (µs)")
    p.add_argument("--window-us", type=int, help="window length (µs) from the start")
    p.add_argument("--half-window", type=int, default=16, help="spike TFP half window in ticks (default 16)")
    add_input_options(p)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("formats", help="list the file formats")
    p.set_defaults(func=cmd_formats)
