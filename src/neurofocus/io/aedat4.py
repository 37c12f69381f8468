"""iniVation AEDAT 4.0 files, decoded with the ``aedat`` package (Rust, MIT).

Events come from the first ``events`` stream (its width and height give the sensor size); APS frames, when the file
has a ``frame`` stream, are available through :func:`read_aedat4_frames`.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from ..errors import NeurofocusError
from ..types import Events
from .common import events_from_decoded
from .isolated import call_isolated, memory_for

MAGIC = b"#!AER-DAT4.0"


@dataclasses.dataclass(frozen=True)
class ApsFrame:
    """One APS frame of a DAVIS camera.

    Attributes
    ----------
    t_us : int
        Frame timestamp (µs, the camera's clock, as the events).
    exposure_us : (int, int)
        Exposure start and end (µs).
    image : ndarray, uint8, (H, W) or (H, W, 3)
        Pixels as stored (gray, or RGB for colour sensors).
    """

    t_us: int
    exposure_us: tuple[int, int]
    image: np.ndarray


def _is_rust_panic(exc: BaseException) -> bool:
    """pyo3's PanicException derives from BaseException, not Exception: recognise it by name."""
    return type(exc).__name__ == "PanicException"


def _decoder(path):
    import aedat

    with open(path, "rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            raise NeurofocusError("no '#!AER-DAT4.0' magic: not an AEDAT 4 file")
    try:
        return aedat.Decoder(os.fspath(path))
    except BaseException as exc:  # noqa: BLE001 - decoder errors and Rust panics only
        if not (isinstance(exc, (RuntimeError, OSError, ValueError)) or _is_rust_panic(exc)):
            raise
        raise NeurofocusError(f"cannot decode the AEDAT 4 header ({' '.join(str(exc).split())})") from None


def _packets(decoder):
    try:
        yield from decoder
    except BaseException as exc:  # noqa: BLE001 - decoder errors and Rust panics only
        if not (isinstance(exc, (RuntimeError, OSError, ValueError)) or _is_rust_panic(exc)):
            raise
        raise NeurofocusError(f"corrupt AEDAT 4 packet ({' '.join(str(exc).split())})") from None


def _decode_events(path) -> tuple[tuple[int, int], np.ndarray]:
    """(width, height) of the first event stream and its records {t u8, x u2, y u2, on ?}."""
    decoder = _decoder(path)
    streams = decoder.id_to_stream()
    event_ids = sorted(i for i, s in streams.items() if s.get("type") == "events")
    if not event_ids:
        raise NeurofocusError("the AEDAT 4 file has no event stream")
    sid = event_ids[0]
    size = (int(streams[sid]["width"]), int(streams[sid]["height"]))
    parts = [packet["events"] for packet in _packets(decoder)
             if packet.get("stream_id") == sid and "events" in packet]
    rec = np.concatenate(parts) if parts else np.empty(0, [("t", "<u8"), ("x", "<u2"), ("y", "<u2"), ("on", "?")])
    return size, rec


def read_aedat4(path: str | os.PathLike, *, sensor_size: tuple[int, int] | None = None) -> Events:
    """Read the polarity events of an AEDAT 4 file (first event stream).

    Events outside the sensor (the stream's size, or ``sensor_size``) are an error: they only come from corrupt
    files.
    """
    stream_size, rec = call_isolated(_decode_events, os.fspath(path), what="the AEDAT 4 decoder",
                                     memory_bytes=memory_for(path))
    size = sensor_size or stream_size
    if len(rec) and (int(rec["x"].max()) >= size[0] or int(rec["y"].max()) >= size[1]):
        raise NeurofocusError(f"events lie outside the {size[0]}x{size[1]} sensor (x up to {int(rec['x'].max())}, "
                              f"y up to {int(rec['y'].max())}): corrupt file")
    if len(rec) and int(rec["t"].max()) >= 1 << 63:
        raise NeurofocusError("timestamps overflow int64: corrupt file")
    on = rec["on"]
    return events_from_decoded(rec["t"].astype(np.int64), rec["x"], rec["y"],
                               np.where(on, np.int8(1), np.int8(-1)), size, Path(path).name)


def read_aedat4_frames(path: str | os.PathLike) -> list[ApsFrame]:
    """All APS frames of an AEDAT 4 file, in file order (empty if it has no frame stream)."""
    frames = []
    for packet in _packets(_decoder(path)):
        if "frame" in packet:
            fr = packet["frame"]
            t = int(fr.get("t", fr.get("exposure_begin_t", 0)))
            exposure = (int(fr.get("exposure_begin_t", t)), int(fr.get("exposure_end_t", t)))
            frames.append(ApsFrame(t, exposure, np.asarray(fr["pixels"])))
    return frames
