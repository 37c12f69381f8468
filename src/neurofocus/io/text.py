"""Plain-text event files: one event per line, ``t x y p``.

Two conventions share the layout and differ in the time unit:

* rpg / E2VID text: t in seconds (floating point), p in {0, 1}, optional first line ``width height``;
* DVS-Voltmeter text: t in integer µs, p in {0, 1} (p = 1 when the pixel brightened).

Lines starting with ``#`` are comments; a comment ``# sensor_size WxH`` (written by this module) gives the sensor
size to files without a ``width height`` line. The reader tells the two apart by whether the time column holds
fractions.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import NeurofocusError
from ..types import Events, check_size
from .common import byte_progress, fallback_sensor_size

_BLOCK_BYTES = 32 << 20
_WRITE_BLOCK = 1 << 20


def _first_lines(path, n: int = 8) -> list[str]:
    lines = []
    with open(path, "rb") as f:
        for raw in f:
            try:
                line = raw.decode("ascii").strip()
            except UnicodeDecodeError:
                raise NeurofocusError("not a text event file (non-ASCII bytes)") from None
            if line and not line.startswith("#"):
                lines.append(line)
            if len(lines) >= n:
                break
    return lines


def _comment_size(path) -> tuple[int, int] | None:
    """Sensor size from a leading ``# sensor_size WxH`` comment, if any."""
    with open(path, "rb") as f:
        for raw in f:
            if not raw.startswith(b"#"):
                return None
            m = re.match(rb"#\s*sensor_size\s*[:=]?\s*(\d+)\s*x\s*(\d+)", raw)
            if m:
                return int(m[1]), int(m[2])
    return None


def _first_bad_line(path) -> str:
    """Describe the first line that is not four numbers (for error messages)."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            line = raw.decode("ascii", "replace").strip()
            if not line or line.startswith("#") or (number == 1 and len(line.split()) == 2):
                continue
            fields = line.split()
            try:
                [float(v) for v in fields]
            except ValueError:
                return f"line {number} ({line[:40]!r}) is not 4 numbers"
            if len(fields) != 4:
                return f"line {number} has {len(fields)} fields, expected 4 (t x y p)"
    return "expected lines of 4 numbers 't x y p'"


def sniff_text(path: str | os.PathLike) -> str | None:
    """``"rpg-txt"`` (seconds), ``"voltmeter-txt"`` (µs) or None if the file is not a text event file."""
    try:
        lines = _first_lines(path)
    except (NeurofocusError, OSError):
        return None
    if lines and len(lines[0].split()) == 2:
        lines = lines[1:]
    if not lines or any(len(line.split()) != 4 for line in lines):
        return None
    try:
        [float(v) for line in lines for v in line.split()]
    except ValueError:
        return None
    fractional = any(ch in line.split()[0] for line in lines for ch in ".eE")
    return "rpg-txt" if fractional else "voltmeter-txt"


def read_text(path: str | os.PathLike, *, seconds: bool | None = None, sensor_size: tuple[int, int] | None = None,
              progress: bool | None = None) -> Events:
    """Read a ``t x y p`` text event file.

    Parameters
    ----------
    seconds : bool, optional
        True if t is in seconds (rpg), False if in integer µs (DVS-Voltmeter); default: detected.
    sensor_size : (int, int), optional
        (width, height); default: the ``width height`` first line, else inferred from the events.
    """
    lines = _first_lines(path, 2)
    header_size = None
    if lines and len(lines[0].split()) == 2:
        try:
            header_size = check_size(*(int(v) for v in lines[0].split()), "the 'width height' line's size")
        except ValueError:
            raise NeurofocusError(f"first line {lines[0]!r} is neither 'width height' nor an event") from None
    if len(lines) == (header_size is not None):  # no event lines: an empty recording, if its size is known
        size = sensor_size or header_size or _comment_size(path)
        if size is None:
            raise NeurofocusError("the text file holds no events (and no sensor size)")
        return Events.empty(size)
    if seconds is None:
        kind = sniff_text(path)
        if kind is None:
            raise NeurofocusError(f"not a 't x y p' text event file: {_first_bad_line(path)}")
        seconds = kind == "rpg-txt"
    blocks = []
    skip_header = header_size is not None
    with open(path, "rb") as f, byte_progress(os.path.getsize(path), f"parsing {Path(path).name}", progress) as bar:
        tail = b""
        while True:
            data = f.read(_BLOCK_BYTES)
            bar.update(len(data))
            chunk = tail + data
            if data:
                cut = chunk.rfind(b"\n") + 1
                chunk, tail = chunk[:cut], chunk[cut:]
            else:
                tail = b""
            if skip_header and chunk:
                chunk = chunk.split(b"\n", 1)[1] if b"\n" in chunk else b""
                skip_header = False
            if chunk.strip():
                try:
                    block = np.loadtxt(io.BytesIO(chunk), dtype=np.float64, comments="#", ndmin=2)
                except ValueError:
                    raise NeurofocusError(_first_bad_line(path)) from None
                if block.size and block.shape[1] != 4:
                    raise NeurofocusError(f"expected 4 columns 't x y p', found {block.shape[1]}")
                blocks.append(block)
            if not data:
                break
    table = np.concatenate(blocks) if blocks else np.empty((0, 4))
    if not len(table):
        raise NeurofocusError("the text file holds no events")
    if not np.all(np.isfinite(table)):
        raise NeurofocusError("NaN or infinite values in the text file")
    t = np.round(table[:, 0] * 1e6) if seconds else table[:, 0]
    size = sensor_size or header_size or _comment_size(path)
    if size is None:
        size = fallback_sensor_size(table[:, 1].astype(np.int64), table[:, 2].astype(np.int64),
                                    f"{Path(path).name} (text without a 'width height' line)")
    return Events.from_arrays(t, table[:, 1], table[:, 2], table[:, 3], size)


def write_text(path: str | os.PathLike, events: Events, *, seconds: bool) -> None:
    """Write ``t x y p`` lines (p in {0, 1}); rpg style (``seconds=True``: a ``width height`` first line and t in
    seconds with µs precision) or DVS-Voltmeter style (t in integer µs; the size in a ``# sensor_size`` comment).
    Atomic."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="ascii") as f:
        if seconds:
            f.write(f"{events.width} {events.height}\n")
        else:
            f.write(f"# sensor_size {events.width}x{events.height}\n")
        fmt = "%.6f %d %d %d" if seconds else "%d %d %d %d"
        for start in range(0, len(events), _WRITE_BLOCK):
            part = events[start:start + _WRITE_BLOCK]
            t = part.t / 1e6 if seconds else part.t
            cols = np.column_stack([t, part.x, part.y, (part.p > 0).astype(np.int64)])
            np.savetxt(f, cols, fmt=fmt)
