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


def _decoder(path):
    import aedat

    with open(path, "rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            raise NeurofocusError("no '#!AER-DAT4.0' magic: not an AEDAT 4 file")
    try:
        return aedat.Decoder(os.fspath(path))
    except (RuntimeError, OSError, ValueError) as exc:
        raise NeurofocusError(f"cannot decode the AEDAT 4 header ({' '.join(str(exc).split())})") from None


def _packets(decoder):
    try:
        yield from decoder
    except (RuntimeError, OSError, ValueError) as exc:
        raise NeurofocusError(f"corrupt AEDAT 4 packet ({' '.join(str(exc).split())})") from None


def read_aedat4(path: str | os.PathLike, *, sensor_size: tuple[int, int] | None = None) -> Events:
    """Read the polarity events of an AEDAT 4 file (first event stream)."""
    decoder = _decoder(path)
    streams = decoder.id_to_stream()
    event_ids = sorted(i for i, s in streams.items() if s.get("type") == "events")
    if not event_ids:
        raise NeurofocusError("the AEDAT 4 file has no event stream")
    sid = event_ids[0]
    size = sensor_size or (int(streams[sid]["width"]), int(streams[sid]["height"]))
    parts = [packet["events"] for packet in _packets(decoder)
             if packet.get("stream_id") == sid and "events" in packet]
    rec = np.concatenate(parts) if parts else np.empty(0, [("t", "<u8"), ("x", "<u2"), ("y", "<u2"), ("on", "?")])
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
