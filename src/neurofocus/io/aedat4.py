"""iniVation AEDAT 4.0 files, decoded with the ``aedat`` package (Rust, MIT).

Events come from the first ``events`` stream (its width and height give the sensor size); APS frames, when the file
has a ``frame`` stream, are available through :func:`read_aedat4_frames`.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import NeurofocusError
from ..types import EVENT_DTYPE, Events
from .common import events_from_records
from .isolated import call_isolated, memory_for
from .records import BACKWARDS, LAST_T, MAX_X, MAX_Y, new_stats

MAGIC = b"#!AER-DAT4.0"


class ApsFrame(NamedTuple):
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


#: The memory file's records seen as the ``aedat`` package's packed 13 bytes (t u8, x u2, y u2, on) at the start of
#: each 16-byte record: a packet is copied in whole; its ``on`` byte lands in ``p`` as 0/1 and is made ±1 after.
_AEDAT_BYTES = np.dtype({"names": ["packet"], "formats": ["V13"], "offsets": [0], "itemsize": EVENT_DTYPE.itemsize})
_AEDAT_OFFSETS = {"t": 0, "x": 8, "y": 10, "on": 12}
#: Records converted at a time in a reused buffer (1 MiB, stays in cache), then written to the memory file in one call.
_BATCH = 1 << 16


def _check_layout(dtype: np.dtype) -> None:
    """Refuse packets whose fields are not ``aedat``'s packed t u8, x u2, y u2, on (13 bytes)."""
    fields = dtype.fields or {}
    if dtype.itemsize != 13 or any(fields.get(k, (None, -1))[1] != v for k, v in _AEDAT_OFFSETS.items()):
        raise NeurofocusError(f"the aedat package returned events of an unknown layout {dtype}")


class _RecordWriter:
    """Writes ``aedat`` packets as :data:`~neurofocus.types.EVENT_DTYPE` records to the memory file ``fd`` (which a
    parent process maps afterwards, see :func:`_map_records`), with the running statistics of :mod:`.records`
    (:attr:`stats`). Writing (rather than mapping the file here) spares a page fault per 4 KiB of output. More than
    ``max_records`` records are refused: the memory file does not count towards the child's memory cap."""

    def __init__(self, fd: int, max_records: int):
        self.fd, self.n, self.k, self.max_records = fd, 0, 0, max_records
        self.layout = None  # the packet dtype last checked
        self.batch = np.zeros(_BATCH, EVENT_DTYPE)
        self.stats = new_stats()

    def append(self, events: np.ndarray) -> None:
        """Append an ``aedat`` packet (t u8 µs, x u2, y u2, on bool; shape (K,))."""
        if events.dtype != self.layout:  # each packet has its own dtype object: compare, check only a new layout
            _check_layout(events.dtype)
            self.layout = events.dtype
        packet = np.ascontiguousarray(events).view("V13")
        while len(packet):
            take = min(len(packet), _BATCH - self.k)
            self.batch[self.k:self.k + take].view(_AEDAT_BYTES)["packet"] = packet[:take]
            self.k += take
            packet = packet[take:]
            if self.k == _BATCH:
                self.flush()

    def flush(self) -> None:
        """Turn the batch's polarities from 0/1 into ±1, update the stats and write the batch out."""
        batch = self.batch[:self.k]
        if not len(batch):
            return
        if self.n + self.k > self.max_records:
            raise NeurofocusError(f"the AEDAT 4 file decodes to more than {self.max_records:,} events, out of all "
                                  f"proportion to its size: corrupt file")
        p = batch["p"]
        np.subtract(p, 1, out=p)
        np.bitwise_or(p, 1, out=p)  # 0 -> -1 -> -1, 1 -> 0 -> 1
        t, stats = batch["t"], self.stats
        stats[BACKWARDS] += np.count_nonzero(t[1:] < t[:-1]) + (t[0] < stats[LAST_T])
        stats[LAST_T] = t[-1]
        stats[MAX_X] = max(stats[MAX_X], batch["x"].max())
        stats[MAX_Y] = max(stats[MAX_Y], batch["y"].max())
        view = memoryview(batch.view(np.uint8))
        while len(view):
            view = view[os.write(self.fd, view):]
        self.n += self.k
        self.k = 0


def _decode_events(path: str, fd: int) -> tuple[tuple[int, int], int, np.ndarray]:
    """Decode the first event stream of ``path`` into records in the memory file ``fd``: (width, height) of the
    stream, number of events, statistics (see :mod:`.records`)."""
    decoder = _decoder(path)
    streams = decoder.id_to_stream()
    event_ids = sorted(i for i, s in streams.items() if s.get("type") == "events")
    if not event_ids:
        raise NeurofocusError("the AEDAT 4 file has no event stream")
    sid = event_ids[0]
    size = (int(streams[sid]["width"]), int(streams[sid]["height"]))
    out = _RecordWriter(fd, memory_for(path) // EVENT_DTYPE.itemsize)
    for packet in _packets(decoder):
        if packet.get("stream_id") == sid and "events" in packet:
            out.append(packet["events"])
    out.flush()
    return size, out.n, out.stats


def _map_records(fd: int, n: int) -> np.ndarray:
    """The first ``n`` records of the memory file ``fd``, mapped (not copied)."""
    if not n:
        return np.empty(0, EVENT_DTYPE)
    return np.frombuffer(mmap.mmap(fd, n * EVENT_DTYPE.itemsize), EVENT_DTYPE)


def read_aedat4(path: str | os.PathLike, *, sensor_size: tuple[int, int] | None = None) -> Events:
    """Read the polarity events of an AEDAT 4 file (first event stream).

    The ``aedat`` package decodes in a forked child (see :mod:`.isolated`), which writes the records into a memory
    file that this process then maps. Events outside the sensor (the stream's size, or ``sensor_size``) are an error:
    they only come from corrupt files.
    """
    fd = os.memfd_create("neurofocus-aedat4")
    try:
        stream_size, n, stats = call_isolated(_decode_events, os.fspath(path), fd, what="the AEDAT 4 decoder",
                                              memory_bytes=memory_for(path))
        records = _map_records(fd, n)
    finally:
        os.close(fd)
    size = sensor_size or stream_size
    max_x, max_y = int(stats[MAX_X]), int(stats[MAX_Y])
    if max_x >= size[0] or max_y >= size[1]:
        raise NeurofocusError(f"events lie outside the {size[0]}x{size[1]} sensor (x up to {max_x}, y up to {max_y}): "
                              f"corrupt file")
    t = records["t"]
    if (stats[BACKWARDS] or (n and t[0] < 0)) and np.any(t < 0):  # a u8 time from 2**63 on reads as negative
        raise NeurofocusError("timestamps overflow int64: corrupt file")
    return events_from_records(records, int(stats[BACKWARDS]), size, Path(path).name)


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
