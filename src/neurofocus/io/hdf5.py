"""Event HDF5 files: Prophesee's layout (``/CD/events``, ECF-compressed) and event_utils / E2VID+ (``/events/xs``...).

Prophesee: compound ``/CD/events`` {x u16, y u16, p i16, t i64} in chunks of 16,384 events compressed with the ECF
filter (0x8ECF), ``/CD/indexes`` {id u64, ts i64} (one row per 2,000 µs), root attribute ``geometry`` = "WxH".
No HDF5 plugin ships ECF, so this module reads the raw chunks and decodes them itself (:mod:`.ecf`); datasets with
standard filters are read by HDF5 directly.

event_utils: datasets ``events/xs`` (int16), ``events/ys`` (int16), ``events/ts`` (float64, seconds) and ``events/ps``
(bool, True = ON), root attribute ``sensor_resolution`` = (H, W).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import h5py
import numpy as np

from ..atomic import atomic_path
from ..errors import NeurofocusError
from ..types import Events
from . import ecf
from .common import (MAX_COMPRESSION, byte_progress, check_declared_size, check_time_span, events_from_records,
                     fallback_sensor_size, parse_size, relative_clock)
from .records import BACKWARDS, MAX_X, MAX_Y, new_records, new_stats
from .isolated import call_isolated

PROPHESEE_CHUNK = 16384
_INDEX_PERIOD_US = 2000
_ATTRIBUTE_TIMEOUT_S = 5
_INDEX_DTYPE = np.dtype([("id", "<u8"), ("ts", "<i8")])


def hdf5_layout(path: str | os.PathLike) -> str | None:
    """``"prophesee"``, ``"event_utils"``, ``"spikes"`` (bit-packed spike frames) or None."""
    with h5py.File(path, "r") as f:
        if isinstance(f.get("CD/events"), h5py.Dataset):
            return "prophesee"
        if isinstance(f.get("events"), h5py.Group) and all(k in f["events"] for k in ("xs", "ys", "ts", "ps")):
            return "event_utils"
        if isinstance(f.get("spikes/packed"), h5py.Dataset):
            return "spikes"
    return None


def _attr_text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    if isinstance(value, np.ndarray) and value.size == 1:
        return _attr_text(value.item())
    return str(value)


def _geometry_text(path: str) -> str:
    """The root ``geometry`` attribute as text (read in a child: HDF5 hangs on some corrupt string attributes)."""
    with h5py.File(path, "r") as f:
        return _attr_text(f.attrs["geometry"])


def check_dataset_size(dset: h5py.Dataset) -> None:
    """Reject a dataset whose declared shape its stored bytes cannot hold, before anything is allocated."""
    check_declared_size(math.prod(dset.shape) * dset.dtype.itemsize, dset.id.get_storage_size(),
                        f"{dset.name} of shape {dset.shape}", MAX_COMPRESSION, 1 << 20)


def _filter_ids(dset: h5py.Dataset) -> list[int]:
    plist = dset.id.get_create_plist()
    return [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]


def _put_fields(fields: list[np.ndarray], count: int, out: np.ndarray, start: int, stats: np.ndarray) -> int:
    """Write ``count`` events of the field arrays (int64 t µs, x, y, p in {0, 1}) into the records ``out`` (int64
    (N, 2) view, see :mod:`.records`) from index ``start``, updating ``stats``; returns how many polarities are not
    0/1."""
    from .._kernels import address, lib

    if any(len(f) < count for f in fields):
        raise ValueError("fewer field values than events")
    bad = lib.ecf_put_fields(*(address(f, np.int64) for f in fields), count, address(out, np.int64, writable=True),
                             start, len(out), address(stats, np.int64, writable=True))
    if bad < 0:
        raise ValueError("more events than records")
    return bad


def _put_records(rec: np.ndarray, out: np.ndarray, start: int, stats: np.ndarray) -> int:
    """:func:`_put_fields` of the EventCD records ``rec`` (an uncompressed dataset or chunk), a million at a time."""
    bad = 0
    for i in range(0, len(rec), 1 << 20):
        part = rec[i:i + (1 << 20)]
        bad += _put_fields([np.ascontiguousarray(part[k], np.int64) for k in ("t", "x", "y", "p")], len(part), out,
                           start + i, stats)
    return bad


def _check_chunk_count(have: int, want: int, start: int) -> None:
    """Refuse a chunk starting at event ``start`` that holds fewer than the ``want`` events its place needs."""
    if have < want:
        raise NeurofocusError(f"ECF chunk at event {start} holds {have} events, expected {want}")


def _read_ecf_dataset(dset: h5py.Dataset, out: np.ndarray, stats: np.ndarray, progress: bool | None,
                      name: str) -> int:
    """Decode an ECF-compressed 1-D compound dataset chunk by chunk into the records ``out`` (int64 (N, 2) view);
    returns the number of polarities other than 0/1."""
    n_total = dset.shape[0]
    chunk_len = dset.chunks[0]
    n_chunks = dset.id.get_num_chunks()
    infos = sorted((dset.id.get_chunk_info(i) for i in range(n_chunks)), key=lambda s: s.chunk_offset[0])
    scratch = [np.empty(ecf.MAX_EVENTS, np.int64) for _ in range(4)]
    filled = bad = 0
    with byte_progress(sum(s.size for s in infos), f"decoding {name}", progress) as bar:
        for info in infos:
            start = info.chunk_offset[0]
            if start != filled:
                raise NeurofocusError(f"ECF dataset has a missing chunk at event {filled}")
            want = min(chunk_len, n_total - start)
            if want <= 0:
                break
            filter_mask, raw = dset.id.read_direct_chunk(info.chunk_offset)
            if filter_mask & 1:  # the filter was skipped for this chunk: raw records
                records = np.frombuffer(raw, ecf.ECF_EVENT_DTYPE)
                _check_chunk_count(len(records), want, start)
                bad += _put_records(records[:want], out, start, stats)
            else:
                try:
                    have = ecf.decode_into(raw, *scratch)
                except ValueError as exc:
                    raise NeurofocusError(f"ECF chunk at event {start} is corrupt ({exc})") from None
                _check_chunk_count(have, want, start)
                bad += _put_fields(scratch, want, out, start, stats)
            filled = start + want
            bar.update(info.size)
    if filled != n_total:
        raise NeurofocusError(f"ECF dataset ends after {filled} of {n_total} events (missing chunks)")
    return bad


def read_prophesee_hdf5(path: str | os.PathLike, *, sensor_size: tuple[int, int] | None = None,
                        progress: bool | None = None) -> Events:
    """Read the CD events of a Prophesee HDF5 event file (ECF-compressed or not)."""
    name = Path(path).name
    with h5py.File(path, "r") as f:
        dset = f.get("CD/events")
        if not isinstance(dset, h5py.Dataset):
            raise NeurofocusError("no /CD/events dataset: not a Prophesee HDF5 event file")
        missing = {"x", "y", "p", "t"} - set(dset.dtype.names or ())
        if missing:
            raise NeurofocusError(f"/CD/events lacks the fields {sorted(missing)}")
        check_dataset_size(dset)
        size = sensor_size
        if size is None and "geometry" in f.attrs:  # before decoding: the child forks from a smaller process
            size = parse_size(call_isolated(_geometry_text, os.fspath(path), what="reading the geometry attribute",
                                            timeout_s=_ATTRIBUTE_TIMEOUT_S))
        filters = _filter_ids(dset) if dset.chunks else []
        records, out = new_records(dset.shape[0])
        stats = new_stats()
        if ecf.FILTER_ID in filters:
            if filters != [ecf.FILTER_ID]:
                raise NeurofocusError(f"/CD/events combines ECF with other filters {filters}: not supported")
            bad = _read_ecf_dataset(dset, out, stats, progress, name)
        else:
            try:
                rec = dset[()]
            except OSError as exc:
                raise NeurofocusError(f"cannot read /CD/events ({' '.join(str(exc).split())})") from None
            bad = _put_records(rec, out, 0, stats)
    if size is None:
        size = fallback_sensor_size(records["x"], records["y"], f"{name} (no geometry attribute)")
    if int(stats[MAX_X]) >= size[0] or int(stats[MAX_Y]) >= size[1]:
        raise NeurofocusError(f"events lie outside the {size[0]}x{size[1]} sensor: corrupt file or wrong geometry")
    if bad:
        raise NeurofocusError("polarity values other than 0/1 in /CD/events: corrupt file")
    return events_from_records(records, int(stats[BACKWARDS]), size, name)


def write_prophesee_hdf5(path: str | os.PathLike, events: Events) -> None:
    """Write events in Prophesee's HDF5 layout with ECF-compressed chunks (readable by Metavision), atomically.
    Its index counts time from 0: events on an absolute clock are rebased to their first event, with a note."""
    w, h = events.sensor_size
    if w > 2048 or h > 2048:
        raise NeurofocusError(f"a {w}x{h} sensor does not fit ECF's 11-bit addresses")
    events = relative_clock(events, "Prophesee HDF5")
    check_time_span(events, _INDEX_PERIOD_US, "the /CD/indexes of Prophesee HDF5")
    n = len(events)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["geometry"] = f"{w}x{h}"
        f.attrs["format"] = "ECF"
        group = f.create_group("CD")
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_chunk((PROPHESEE_CHUNK,))
        dcpl.set_filter(ecf.FILTER_ID, h5py.h5z.FLAG_OPTIONAL)
        space = h5py.h5s.create_simple((n,), (h5py.h5s.UNLIMITED,))
        dtype = h5py.h5t.py_create(ecf.ECF_EVENT_DTYPE)
        dset_id = h5py.h5d.create(group.id, b"events", dtype, space, dcpl=dcpl)
        t, x, y = events.t, events.x, events.y
        p01 = (events.p > 0).astype(np.int64)
        for start in range(0, n, PROPHESEE_CHUNK):
            stop = min(start + PROPHESEE_CHUNK, n)
            pad = PROPHESEE_CHUNK - (stop - start)  # HDF5 stores whole chunks: repeat the last event
            idx = np.concatenate([np.arange(start, stop), np.full(pad, stop - 1)])
            chunk = ecf.encode_chunk(t[idx], x[idx], y[idx], p01[idx])
            dset_id.write_direct_chunk((start,), chunk, filter_mask=0)
        ts = np.arange(0, (int(t[-1]) if n else 0) + 1, _INDEX_PERIOD_US, dtype=np.int64)
        index = np.empty(len(ts), _INDEX_DTYPE)
        index["ts"] = ts
        index["id"] = np.searchsorted(t, ts, side="left")
        group.create_dataset("indexes", data=index, maxshape=(None,), chunks=True)


def read_event_utils_hdf5(path: str | os.PathLike, *, sensor_size: tuple[int, int] | None = None) -> Events:
    """Read an event_utils / E2VID+ HDF5 file (times in seconds, converted to integer µs)."""
    name = Path(path).name
    with h5py.File(path, "r") as f:
        group = f.get("events")
        if not isinstance(group, h5py.Group):
            raise NeurofocusError("no /events group: not an event_utils HDF5 file")
        dsets = [group.get(k) for k in ("xs", "ys", "ts", "ps")]
        missing = [k for k, d in zip(("xs", "ys", "ts", "ps"), dsets) if not isinstance(d, h5py.Dataset)]
        if missing:
            raise NeurofocusError(f"/events/{', /events/'.join(missing)}: not a dataset (missing or another object)")
        for dset in dsets:
            check_dataset_size(dset)
        xs, ys, ts, ps = (dset[()] for dset in dsets)
        size = sensor_size
        if size is None and "sensor_resolution" in f.attrs:
            res = np.asarray(f.attrs["sensor_resolution"]).ravel()
            if res.size != 2:
                raise NeurofocusError(f"sensor_resolution attribute {res.tolist()} is not (H, W)")
            size = (int(res[1]), int(res[0]))
    if not (len(xs) == len(ys) == len(ts) == len(ps)):
        raise NeurofocusError(f"/events datasets differ in length ({len(xs)}, {len(ys)}, {len(ts)}, {len(ps)})")
    ts = np.asarray(ts, np.float64)
    if len(ts) and not np.all(np.isfinite(ts)):
        raise NeurofocusError("events/ts contains NaN or infinite values")
    if size is None:
        size = fallback_sensor_size(xs, ys, f"{name} (no sensor_resolution attribute)")
    return Events.from_arrays(np.round(ts * 1e6).astype(np.int64), xs, ys, ps, size)


def write_event_utils_hdf5(path: str | os.PathLike, events: Events) -> None:
    """Write events in the event_utils / E2VID+ HDF5 layout (with its summary attributes), atomically."""
    w, h = events.sensor_size
    if w > 32767 or h > 32767:
        raise NeurofocusError("event_utils HDF5 stores int16 coordinates: the sensor is too large")
    stats = events.polarity_stats()
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        group = f.create_group("events")
        opts = dict(compression="gzip", compression_opts=1, shuffle=True) if len(events) else {}
        group.create_dataset("xs", data=events.x.astype(np.int16), **opts)
        group.create_dataset("ys", data=events.y.astype(np.int16), **opts)
        group.create_dataset("ts", data=events.t / 1e6, **opts)
        group.create_dataset("ps", data=events.p > 0, **opts)
        f.attrs["sensor_resolution"] = np.array([h, w], np.int64)
        f.attrs["num_events"] = len(events)
        f.attrs["num_pos"] = stats.num_on
        f.attrs["num_neg"] = stats.num_off
        if len(events):
            f.attrs["t0"] = events.t[0] / 1e6
            f.attrs["tk"] = events.t[-1] / 1e6
            f.attrs["duration"] = events.duration_us / 1e6
