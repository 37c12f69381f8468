"""Argument types and input options shared by the sub-commands."""

from __future__ import annotations

import argparse

from ..errors import NeurofocusError
from ..io import FORMATS, detect_format, load_events, load_spikes
from ..io.common import parse_size
from ..types import Events, Spikes


def size_wxh(text: str) -> tuple[int, int]:
    try:
        return parse_size(text)
    except NeurofocusError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def frame_size_wxh(text: str) -> tuple[int, int]:
    """A spike frame size given as WxH, like every size on the command line, as (height, width) for
    :func:`neurofocus.io.load_spikes`."""
    w, h = size_wxh(text)
    return h, w


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return value


def add_input_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("input options")
    group.add_argument("--format", choices=sorted(FORMATS), help="input format (default: detected)")
    group.add_argument("--sensor-size", type=size_wxh, metavar="WxH",
                       help="event sensor size, for files that do not store it")
    group.add_argument("--columns", metavar="ORDER",
                       help="column order of plain (N,4) .npy/.mat arrays (default t,x,y,p: t in µs, p in {0,1})")
    group.add_argument("--spike-size", type=frame_size_wxh, metavar="WxH",
                       help="frame size of a spike .dat (e.g. 400x250)")
    group.add_argument("--tick-us", type=positive_float, metavar="T", help="spike readout interval in µs")
    group.add_argument("--spike-extra-columns", type=non_negative_int, metavar="N",
                       help="columns per stored .dat row beyond the frame width, dropped (16 for 416-column files)")


def read_any(args, path) -> Events | Spikes:
    """Read ``path`` as events or spikes, whichever it holds."""
    fmt = args.format or detect_format(path)
    if FORMATS[fmt].kind == "spikes":
        return load_spikes(path, format=fmt, size=args.spike_size, tick_us=args.tick_us,
                           extra_columns=args.spike_extra_columns)
    return load_events(path, format=fmt, sensor_size=args.sensor_size, columns=args.columns)


def require_signal(data: Events | Spikes, path) -> Events | Spikes:
    """``data`` if it holds at least one event or spike; otherwise a one-line error naming ``path``."""
    if isinstance(data, Events) and not len(data):
        raise NeurofocusError("the recording holds no events", path)
    if isinstance(data, Spikes) and (not data.num_ticks or not data.num_spikes):
        raise NeurofocusError(f"the spike recording holds no spikes ({data.num_ticks:,} empty frames)", path)
    return data
