"""iniVation AEDAT 4.0 files.

Events are decoded here: the container is parsed with every offset checked against the bytes it points into, and the
packets of the first event stream are decompressed (LZ4 frames with ``lz4``, ZSTD with ``zstandard``, both imported
when a file needs them) by a thread pool while the calling thread copies them, in file order, into one output
(:func:`_decode_events`). The stream's size (``sizeX``, ``sizeY`` of its info node) is the sensor size. APS frames,
when the file has a frame stream, are read with the ``aedat`` package (Rust, MIT) through :func:`read_aedat4_frames`.

Layout (dv-processing's flatbuffer schemas): the line ``#!AER-DAT4.0\r\n``, a uint32 length and an ``IOHeader``
table (0: compression int32, NONE, LZ4, LZ4_HIGH, ZSTD, ZSTD_HIGH; 1: dataTablePosition int64, -1 when absent;
2: infoNode string, XML naming the streams); then packets up to the data table (or the end of the file): stream id
int32, payload size int32, payload. A payload decompresses to a size-prefixed ``EventPacket`` (identifier ``EVTS``)
whose vector 0 holds 16-byte ``Event`` structs: t int64 µs, x int16, y int16, on bool, 3 bytes of padding, which
is :data:`~neurofocus.types.EVENT_DTYPE`'s layout with ``on`` in place of ``p``.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import struct
import threading
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import NeurofocusError
from ..types import EVENT_DTYPE, Events, check_size
from .common import MAX_COMPRESSION, events_from_records
from .isolated import memory_for
from .records import BACKWARDS, LAST_T, MAX_X, MAX_Y, new_stats

MAGIC = b"#!AER-DAT4.0"
_VERSION_LINE = MAGIC + b"\r\n"
#: ``IOHeader.compression`` values (dv-processing's ``CompressionType``), by the codec that undoes them.
_NONE, _LZ4, _ZSTD = (0,), (1, 2), (3, 4)
#: LZ4 stores a run of 255 bytes in one byte at best: no frame decompresses to more than this many times its size.
_LZ4_MAX_RATIO = 256
#: Compressed bytes of event packets per task of the thread pool: their events (about 2 MiB) are converted in cache.
_BATCH_BYTES = 1 << 20
#: Most threads decompressing at once (each holds up to two batches' packets, about 4 MiB).
_MAX_THREADS = 8
#: One ``Event`` struct as raw bytes.
_RAW_EVENT = np.dtype((np.void, EVENT_DTYPE.itemsize))
_P_UNIT = np.int64(1) << 32  # the on/p byte (byte 4) of a record's second 64-bit word
_LOW_40_BITS = (np.int64(1) << 40) - 1  # x, y and p of that word, without the padding


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


class _Flatbuffer:
    """Bounds-checked reads from the flatbuffer ``data[:end]``; any offset out of range raises ``NeurofocusError``
    with ``problem`` (e.g. "corrupt AEDAT 4 packet") and a detail in brackets."""

    def __init__(self, data, end: int, problem: str):
        self.data, self.end, self.problem = data, end, problem

    def error(self, detail: str) -> NeurofocusError:
        return NeurofocusError(f"{self.problem} ({detail})")

    def unpack(self, fmt: str, pos: int) -> tuple:
        if not 0 <= pos <= self.end - struct.calcsize(fmt):
            raise self.error(f"offset {pos:,} lies outside its {self.end:,} bytes")
        return struct.unpack_from(fmt, self.data, pos)

    def field(self, table: int, index: int, size: int) -> int | None:
        """Position of field ``index`` (``size`` bytes) of the table at ``table``, or None when it is absent."""
        vtable = table - self.unpack("<i", table)[0]
        vtable_size, table_size = self.unpack("<HH", vtable)
        if vtable_size < 4 or vtable_size % 2:
            raise self.error(f"a vtable of {vtable_size} bytes")
        if 4 + 2 * index + 2 > vtable_size:
            return None
        offset = self.unpack("<H", vtable + 4 + 2 * index)[0]
        if not offset:
            return None
        if offset + size > table_size:
            raise self.error(f"field {index} lies outside its table of {table_size} bytes")
        self.unpack(f"{size}s", table + offset)
        return table + offset

    def follow(self, pos: int) -> int:
        """The position the uoffset at ``pos`` points to."""
        return pos + self.unpack("<I", pos)[0]

    def vector(self, pos: int, item_size: int) -> tuple[int, int]:
        """(start, length) of the vector the uoffset at ``pos`` points to, whose ``length`` items fit in the buffer."""
        vec = self.follow(pos)
        length = self.unpack("<I", vec)[0]
        if vec + 4 + length * item_size > self.end:
            raise self.error(f"a vector of {length:,} items of {item_size} bytes runs past the end")
        return vec + 4, length


class _Header(NamedTuple):
    """What the file header says: codec (``IOHeader.compression``), streams by id ((typeIdentifier, (sizeX, sizeY)
    or None)), where packets start and end (the data table, or the end of the file)."""

    compression: int
    streams: dict[int, tuple[str, tuple[int, int] | None]]
    packets_start: int
    packets_end: int


def _parse_streams(xml: bytes) -> dict[int, tuple[str, tuple[int, int] | None]]:
    """The streams of the info node (XML): id -> (typeIdentifier, (sizeX, sizeY) if given, else None)."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise NeurofocusError(f"cannot decode the AEDAT 4 header (its XML: {exc})") from None
    out_info = next((n for n in root.iterfind("node") if n.get("name") == "outInfo"), None)
    if root.tag != "dv" or out_info is None:
        raise NeurofocusError("cannot decode the AEDAT 4 header (no <dv><node name='outInfo'> in its XML)")
    streams = {}
    for node in out_info.iterfind("node"):
        attrs = {a.get("key"): (a.text or "").strip() for a in node.iterfind("attr")}
        info = {a.get("key"): (a.text or "").strip() for n in node.iterfind("node") if n.get("name") == "info"
                for a in n.iterfind("attr")}
        try:
            stream_id = int(node.get("name", ""))
            size = (check_size(info["sizeX"], info["sizeY"], "stream size") if "sizeX" in info or "sizeY" in info
                    else None)
        except (ValueError, KeyError):
            raise NeurofocusError(f"cannot decode the AEDAT 4 header (stream {node.get('name')!r}: its id, sizeX or "
                                  f"sizeY is not a number)") from None
        if stream_id in streams:
            raise NeurofocusError(f"cannot decode the AEDAT 4 header (stream id {stream_id} appears twice)")
        streams[stream_id] = (attrs.get("typeIdentifier", ""), size)
    return streams


def _parse_header(data) -> _Header:
    """The header of the mapped file ``data`` (bytes-like)."""
    if data[:len(MAGIC)] != MAGIC:
        raise NeurofocusError("no '#!AER-DAT4.0' magic: not an AEDAT 4 file")
    whole = _Flatbuffer(data, len(data), "cannot decode the AEDAT 4 header")
    if data[:len(_VERSION_LINE)] != _VERSION_LINE:
        raise whole.error("no line end after the magic")
    length = whole.unpack("<I", len(_VERSION_LINE))[0]
    start = len(_VERSION_LINE) + 4
    if start + length > len(data):
        raise whole.error(f"a header of {length:,} bytes in a file of {len(data):,}")
    header = _Flatbuffer(memoryview(data)[start:start + length], length, whole.problem)
    table = header.follow(0)
    at = header.field(table, 0, 4)
    compression = header.unpack("<i", at)[0] if at is not None else 0
    at = header.field(table, 1, 8)
    table_position = header.unpack("<q", at)[0] if at is not None else -1
    at = header.field(table, 2, 4)
    if at is None:
        raise header.error("no info node")
    xml_start, xml_length = header.vector(at, 1)
    if compression not in _NONE + _LZ4 + _ZSTD:
        raise header.error(f"unknown compression {compression}")
    packets_start = start + length
    packets_end = len(data) if table_position < 0 else table_position
    if not packets_start <= packets_end <= len(data):
        raise header.error(f"the data table at byte {table_position:,} lies outside the file's packets")
    streams = _parse_streams(bytes(header.data[xml_start:xml_start + xml_length]))
    return _Header(compression, streams, packets_start, packets_end)


def _stream_packets(data, header: _Header, stream_id: int) -> list[memoryview]:
    """The payloads of ``stream_id``'s packets, in file order (views of ``data``)."""
    packets, pos, view = [], header.packets_start, memoryview(data)
    while pos < header.packets_end:
        if pos + 8 > header.packets_end:
            raise NeurofocusError(f"corrupt AEDAT 4 packet (a packet header cut at byte {header.packets_end:,})")
        packet_stream, size = struct.unpack_from("<iI", data, pos)
        if pos + 8 + size > header.packets_end:
            raise NeurofocusError(f"corrupt AEDAT 4 packet (one of {size:,} bytes at byte {pos:,} runs past byte "
                                  f"{header.packets_end:,}, the end of the packets)")
        if packet_stream not in header.streams:
            raise NeurofocusError(f"corrupt AEDAT 4 packet (stream id {packet_stream} is not in the header)")
        if packet_stream == stream_id:
            packets.append(view[pos + 8:pos + 8 + size])
        pos += 8 + size
    return packets


class _Budget:
    """Decompressed bytes the file may still produce (shared by the threads): :func:`memory_for` its size."""

    def __init__(self, total: int):
        self.total, self.left, self.lock = total, total, threading.Lock()

    def take(self, nbytes: int) -> None:
        with self.lock:
            self.left -= nbytes
            if self.left < 0:
                raise NeurofocusError(f"the AEDAT 4 file decompresses to more than {self.total:,} bytes, out of all "
                                      f"proportion to its size: corrupt file")


def _decompress(payload: memoryview, compression: int, budget: _Budget, zstd_context) -> bytes | memoryview:
    """One packet's payload decompressed, at most ``budget.left`` bytes and its codec's largest ratio."""
    if compression in _NONE:
        out = payload
    elif compression in _LZ4:
        import lz4.frame

        limit = min(_LZ4_MAX_RATIO * len(payload), budget.left)
        decompressor = lz4.frame.LZ4FrameDecompressor()
        try:
            out = decompressor.decompress(payload, max_length=limit)
        except RuntimeError as exc:
            raise NeurofocusError(f"corrupt AEDAT 4 packet (LZ4: {exc})") from None
        if not decompressor.eof:
            raise NeurofocusError(f"corrupt AEDAT 4 packet (an LZ4 frame of {len(payload):,} bytes is cut short, or "
                                  f"decompresses to more than {limit:,})")
    else:
        import zstandard

        limit = min(MAX_COMPRESSION * len(payload), budget.left)
        try:
            declared = zstandard.frame_content_size(payload)
            if declared > limit:
                raise NeurofocusError(f"corrupt AEDAT 4 packet (a ZSTD frame of {len(payload):,} bytes declares "
                                      f"{declared:,} decompressed)")
            if declared >= 0:
                out = zstd_context.decompress(payload)
            else:
                chunks, size = [], 0
                for chunk in zstd_context.read_to_iter(payload):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > limit:
                        raise NeurofocusError(f"corrupt AEDAT 4 packet (a ZSTD frame of {len(payload):,} bytes "
                                              f"decompresses to more than {limit:,})")
                out = b"".join(chunks)
        except zstandard.ZstdError as exc:
            raise NeurofocusError(f"corrupt AEDAT 4 packet (ZSTD: {exc})") from None
    budget.take(len(out))
    return out


def _packet_events(packet) -> tuple[int, int]:
    """(byte offset, count) of the ``Event`` structs of a decompressed ``EventPacket`` (size-prefixed)."""
    flat = _Flatbuffer(packet, len(packet), "corrupt AEDAT 4 packet")
    size = flat.unpack("<I", 0)[0]
    if 4 + size > len(packet):
        raise flat.error(f"an event packet of {len(packet):,} bytes declares {size:,}")
    flat.end = 4 + size
    if bytes(packet[8:12]) != b"EVTS":
        raise flat.error(f"the event stream holds a packet of type {bytes(packet[8:12])!r}")
    at = flat.field(flat.follow(4), 0, 4)
    if at is None:
        raise flat.error("an event packet without events")
    return flat.vector(at, _RAW_EVENT.itemsize)


def _decode_batch(packets: list[memoryview], compression: int, budget: _Budget) -> list[tuple]:
    """Each packet decompressed and located: (payload, byte offset of its events, number of events)."""
    zstd_context = None
    if compression in _ZSTD:
        import zstandard

        zstd_context = zstandard.ZstdDecompressor()  # one per thread: a context is not thread-safe
    decoded = []
    for payload in packets:
        packet = _decompress(payload, compression, budget, zstd_context)
        decoded.append((packet, *_packet_events(packet)))
    return decoded


def _place_batch(records: np.ndarray, start: int, decoded: list[tuple], stats: np.ndarray) -> int:
    """Copy a batch's events into ``records`` from index ``start``, turn ``on`` (0 / other) into ``p`` (-1 / +1) and
    zero the padding, while they are in cache; updates the running ``stats`` (see :mod:`.records`) and returns the
    count."""
    stop = start
    for packet, offset, count in decoded:
        records[stop:stop + count].view(_RAW_EVENT)[:] = np.frombuffer(packet, _RAW_EVENT, count, offset)
        stop += count
    if stop == start:
        return 0
    on = records["p"][start:stop].view(np.uint8)
    np.minimum(on, 1, out=on)  # a flatbuffer bool: any byte but 0 is true
    words = records[start:stop].view(np.int64).reshape(-1, 2)
    xyp = words[:, 1]
    np.subtract(xyp, _P_UNIT, out=xyp)  # on 1 -> 0, 0 -> 0xFF (with a borrow into the padding, cleared below)
    np.bitwise_or(xyp, _P_UNIT, out=xyp)  # -> 1, 0xFF: p = +1 / -1
    np.bitwise_and(xyp, _LOW_40_BITS, out=xyp)
    t = words[:, 0]
    stats[BACKWARDS] += np.count_nonzero(t[1:] < t[:-1]) + (t[0] < stats[LAST_T])
    stats[LAST_T] = t[-1]
    stats[MAX_X] = max(stats[MAX_X], records["x"][start:stop].max())
    stats[MAX_Y] = max(stats[MAX_Y], records["y"][start:stop].max())
    return stop - start


def _batches(packets: list[memoryview]) -> list[list[memoryview]]:
    """Consecutive packets in groups of about :data:`_BATCH_BYTES` stored bytes."""
    batches, size = [[]], 0
    for packet in packets:
        if size >= _BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(packet)
        size += len(packet)
    return batches


def _in_order(fn, items: list, workers: int):
    """``fn(item)`` for each item, in order: run by ``workers`` threads at most ``2 * workers`` items ahead (so that
    finished results wait in memory only briefly), or in this thread when ``workers`` is 1."""
    if workers <= 1:
        yield from map(fn, items)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    pool, pending = ThreadPoolExecutor(workers), deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) > 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(cancel_futures=True)


def _grown(records: np.ndarray, kept: int, capacity: int) -> np.ndarray:
    """A new uninitialised output of ``capacity`` records starting with the first ``kept`` of ``records``."""
    grown = np.empty(capacity, EVENT_DTYPE)
    grown[:kept].view(_RAW_EVENT)[:] = records[:kept].view(_RAW_EVENT)
    return grown


def _decode_events(path) -> tuple[np.ndarray, tuple[int, int], np.ndarray]:
    """The records of the first event stream of ``path`` (``EVENT_DTYPE``, (N,)), the stream's (width, height) and
    the statistics of :mod:`.records`.

    Batches of packets are decompressed by a thread pool while this thread copies the finished ones, in file order,
    into the output, whose size is estimated from the compression ratio so far (grown, by a copy, if it falls short;
    its unused tail is never written, so costs no memory).
    """
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        data = mmap.mmap(f.fileno(), size, flags=mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0),
                         prot=mmap.PROT_READ) if size else b""
    header = _parse_header(data)
    event_ids = sorted(i for i, (kind, _) in header.streams.items() if kind == "EVTS")
    if not event_ids:
        raise NeurofocusError("the AEDAT 4 file has no event stream")
    stream_size = header.streams[event_ids[0]][1]
    if stream_size is None:
        raise NeurofocusError("cannot decode the AEDAT 4 header (the event stream has no sizeX, sizeY)")
    batches = _batches(_stream_packets(data, header, event_ids[0]))
    stored_total = sum(len(packet) for batch in batches for packet in batch)
    budget = _Budget(memory_for(path))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = min(len(batches), cores, _MAX_THREADS)
    records, n, stored, stats = np.empty(0, EVENT_DTYPE), 0, 0, new_stats()
    with contextlib.closing(_in_order(lambda batch: _decode_batch(batch, header.compression, budget), batches,
                                      workers)) as decoded:
        for batch, decoded_batch in zip(batches, decoded):
            count = sum(count for _, _, count in decoded_batch)
            stored += sum(len(packet) for packet in batch)
            if n + count > len(records):
                estimate = (n + count) * stored_total // max(stored, 1) * 5 // 4
                records = _grown(records, n, max(n + count, min(estimate, budget.total // EVENT_DTYPE.itemsize)))
            n += _place_batch(records, n, decoded_batch, stats)
    return records[:n], stream_size, stats


def read_aedat4(path: str | os.PathLike, *, sensor_size: tuple[int, int] | None = None) -> Events:
    """Read the polarity events of an AEDAT 4 file (its first event stream, by id).

    Events outside the sensor (the stream's size, or ``sensor_size``) are an error: they only come from corrupt files.
    """
    records, stream_size, stats = _decode_events(path)
    size = sensor_size or stream_size
    max_x, max_y = int(stats[MAX_X]), int(stats[MAX_Y])
    if max_x >= size[0] or max_y >= size[1]:
        raise NeurofocusError(f"events lie outside the {size[0]}x{size[1]} sensor (x up to {max_x}, y up to {max_y}): "
                              f"corrupt file")
    t = records["t"]
    if (stats[BACKWARDS] or (len(t) and t[0] < 0)) and np.any(t < 0):  # a time from 2**63 on reads as negative
        raise NeurofocusError("timestamps overflow int64: corrupt file")
    return events_from_records(records, int(stats[BACKWARDS]), size, Path(path).name)


def _is_rust_panic(exc: BaseException) -> bool:
    """pyo3's PanicException derives from BaseException, not Exception: recognise it by name."""
    return type(exc).__name__ == "PanicException"


def _decoder(path):
    """An ``aedat.Decoder`` of ``path`` (for the frames), its errors and panics turned into ``NeurofocusError``."""
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
