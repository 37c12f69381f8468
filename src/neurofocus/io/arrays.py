"""Events stored as numpy / MATLAB arrays: ``.npy`` (structured or plain (N, 4)), ``.npz`` and ``.mat``.

* Structured arrays and named arrays are matched by field aliases: t = ``t|ts|timestamp|timestamps|time``,
  x = ``x|xs``, y = ``y|ys``, p = ``p|ps|polarity|pol|on``; t must be integer µs.
* Plain (N, 4) arrays (the official EFS code's ``.npy``, the DAVIS346 ``.mat`` samples) are read by a column order,
  default ``t,x,y,p`` with t in µs and p in {0, 1}. An array whose time column is not non-decreasing is rejected:
  usually the column order is wrong.
* The sensor size comes from the container (``sensor_size`` = (W, H), ``width`` / ``height``, or
  ``sensor_resolution`` = (H, W)), else a sidecar ``<file>.json`` with ``sensor_size``, else the events.
"""

from __future__ import annotations

import math
import os
import struct
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import NeurofocusError
from ..types import Events
from .common import MAX_COMPRESSION, check_declared_size, fallback_sensor_size, sidecar_sensor_size, write_sidecar
from .isolated import call_isolated, memory_for

ALIASES = {
    "t": ("t", "ts", "timestamp", "timestamps", "time"),
    "x": ("x", "xs"),
    "y": ("y", "ys"),
    "p": ("p", "ps", "polarity", "pol", "on"),
}
DEFAULT_COLUMNS = ("t", "x", "y", "p")


def parse_columns(columns: str | tuple[str, ...] | None) -> tuple[str, ...]:
    """Validate a column order such as ``"t,x,y,p"`` (a permutation of t, x, y, p)."""
    if columns is None:
        return DEFAULT_COLUMNS
    cols = tuple(c.strip().lower() for c in (columns.split(",") if isinstance(columns, str) else columns))
    if sorted(cols) != sorted(DEFAULT_COLUMNS):
        raise NeurofocusError(f"columns {','.join(cols)!r} must be an order of t,x,y,p (e.g. t,x,y,p or x,y,t,p)")
    return cols


def _find(names, field: str) -> str | None:
    lower = {n.lower(): n for n in names}
    for alias in ALIASES[field]:
        if alias in lower:
            return lower[alias]
    return None


def _named_fields(names) -> dict[str, str] | None:
    found = {f: _find(names, f) for f in ALIASES}
    return found if all(found.values()) else None


def _size_from_mapping(mapping: Mapping) -> tuple[int, int] | None:
    def vec(key):
        return np.asarray(mapping[key]).ravel().astype(np.int64)

    keys = {k.lower(): k for k in mapping}
    if "sensor_size" in keys:
        v = vec(keys["sensor_size"])
        if v.size == 2:
            return int(v[0]), int(v[1])
    if "width" in keys and "height" in keys:
        return int(vec(keys["width"])[0]), int(vec(keys["height"])[0])
    if "sensor_resolution" in keys:
        v = vec(keys["sensor_resolution"])
        if v.size == 2:
            return int(v[1]), int(v[0])
    return None


def _from_table(table: np.ndarray, columns: tuple[str, ...], size, source: str) -> Events:
    if table.ndim != 2 or table.shape[1] != 4:
        raise NeurofocusError(f"expected an (N, 4) events array, got shape {table.shape}")
    if np.issubdtype(table.dtype, np.floating) and not np.all(np.isfinite(table)):
        raise NeurofocusError("the events array contains NaN or infinite values")
    cols = {name: table[:, i] for i, name in enumerate(columns)}
    t = cols["t"]
    if len(t) > 1 and np.any(t[1:] < t[:-1]):
        raise NeurofocusError(f"the time column ({columns.index('t') + 1} of 4, order {','.join(columns)}) is not "
                              f"non-decreasing: the columns are probably in another order (set --columns, e.g. "
                              f"x,y,t,p)")
    if len(t) and np.issubdtype(t.dtype, np.floating) and np.any(t != np.round(t)):
        raise NeurofocusError(f"the time column holds fractions: times must be integer µs (order "
                              f"{','.join(columns)}; set --columns if t is another column)")
    return _build(cols["t"], cols["x"], cols["y"], cols["p"], size, source)


def _build(t, x, y, p, size, source: str) -> Events:
    t, x, y = (np.asarray(a).ravel() for a in (t, x, y))
    if size is None:
        if np.issubdtype(x.dtype, np.floating) and len(x) and not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise NeurofocusError("x or y contains NaN or infinite values")
        size = fallback_sensor_size(x.astype(np.int64), y.astype(np.int64), source)
    return Events.from_arrays(t, x, y, np.asarray(p).ravel(), size)


def _from_mapping(mapping: Mapping, columns, size, source: str) -> Events:
    """Events from named arrays, or from the (N, 4) array ``events`` (or the only 2-D array) of a container."""
    size = size or _size_from_mapping(mapping)
    named = _named_fields(mapping.keys())
    if named:
        return _build(*(mapping[named[f]] for f in ("t", "x", "y", "p")), size, source)
    tables = {k: v for k, v in mapping.items() if isinstance(v, np.ndarray) and v.ndim == 2 and 4 in v.shape}
    key = next((k for k in tables if k.lower() == "events"), None)
    if key is None:
        if len(tables) != 1:
            raise NeurofocusError(f"found no events: expected arrays t, x, y, p or one (N, 4) array 'events' "
                                  f"(arrays: {', '.join(sorted(mapping)) or 'none'})")
        key = next(iter(tables))
    table = tables[key]
    if table.dtype.names:
        return _from_structured(table.ravel(), size, source)
    return _from_table(table, parse_columns(columns), size, source)


def _from_structured(array: np.ndarray, size, source: str) -> Events:
    named = _named_fields(array.dtype.names)
    if not named:
        raise NeurofocusError(f"structured array fields {array.dtype.names} do not name t, x, y and p")
    return _build(*(array[named[f]] for f in ("t", "x", "y", "p")), size, source)


def npy_header(fp, what: str = "the array") -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) from the ``.npy`` header at the start of the binary stream ``fp`` (left after the header)."""
    version = np.lib.format.read_magic(fp)
    if version not in ((1, 0), (2, 0), (3, 0)):
        raise NeurofocusError(f"{what}: unsupported .npy version {version}")
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, _, dtype = read_header(fp)
    if any(not isinstance(n, int) or n < 0 for n in shape):
        raise NeurofocusError(f"{what}: bad shape {shape} in the .npy header")
    return shape, dtype


def _npy_declared_bytes(fp, what: str) -> int:
    shape, dtype = npy_header(fp, what)
    return math.prod(shape) * dtype.itemsize


def load_npy(path: str | os.PathLike, mmap_mode: str | None = None) -> np.ndarray:
    """``np.load`` of a ``.npy`` (no pickles), after checking that the file holds the data its header declares."""
    with open(path, "rb") as fp:
        declared = _npy_declared_bytes(fp, "the array")
        check_declared_size(declared, os.path.getsize(path) - fp.tell(), "the .npy header")
    return np.load(path, allow_pickle=False, mmap_mode=mmap_mode)


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """All arrays of a ``.npz`` (no pickles), after checking each member's declared size against its stored bytes."""
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            check_declared_size(info.file_size, info.compress_size, f"member {info.filename}", MAX_COMPRESSION,
                                1 << 16)
            with zf.open(info) as fp:
                declared = _npy_declared_bytes(fp, f"member {info.filename}")
            check_declared_size(declared, info.file_size, f"member {info.filename}")
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def read_npy(path: str | os.PathLike, *, columns=None, sensor_size=None) -> Events:
    """Read a ``.npy`` of events: structured (field aliases) or plain (N, 4) in ``columns`` order."""
    try:
        array = load_npy(path, mmap_mode="r")
    except (ValueError, OSError, EOFError) as exc:
        raise NeurofocusError(f"not a readable .npy file ({' '.join(str(exc).split())})") from None
    size = sensor_size or sidecar_sensor_size(path)
    source = Path(path).name
    if array.dtype.names:
        return _from_structured(np.asarray(array).ravel(), size, source)
    if array.ndim == 3:
        raise NeurofocusError("this .npy holds a (T, H, W) array: spike frames, not events (use --spikes)")
    return _from_table(np.asarray(array), parse_columns(columns), size, source)


def _load_npz(path) -> dict:
    try:
        return load_npz(path)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise NeurofocusError(f"not a readable .npz file ({' '.join(str(exc).split())})") from None


def read_npz(path: str | os.PathLike, *, columns=None, sensor_size=None) -> Events:
    """Read a ``.npz`` holding named arrays t, x, y, p (aliases) or one (N, 4) array."""
    return _from_mapping(_load_npz(path), columns, sensor_size or sidecar_sensor_size(path), Path(path).name)


def _load_mat(path) -> dict:
    with open(path, "rb") as f:
        head = f.read(128)
    if head[:19] == b"MATLAB 7.3 MAT-file" or head[:4] == b"\x89HDF":
        import h5py

        from .hdf5 import check_dataset_size

        with h5py.File(path, "r") as f:  # v7.3 files are HDF5 with column-major (transposed) arrays
            dsets = {k: v for k, v in f.items() if isinstance(v, h5py.Dataset)}
            for dset in dsets.values():
                check_dataset_size(dset)
            return {k: np.asarray(v[()]).T for k, v in dsets.items()}
    import scipy.io

    check_mat_sizes(path)
    try:
        contents = call_isolated(scipy.io.loadmat, os.fspath(path), what="scipy's MATLAB reader",
                                 memory_bytes=memory_for(path))
        return {k: v for k, v in contents.items() if not k.startswith("__")}
    except (ValueError, TypeError, OSError, NotImplementedError) as exc:
        raise NeurofocusError(f"not a readable MATLAB file ({' '.join(str(exc).split())})") from None


#: MAT v5 data types (tag values) and the bytes per element of the array classes (mxCLASS ids).
_MI_MATRIX, _MI_COMPRESSED = 14, 15
_CLASS_BYTES = {1: 8, 2: 8, 3: 8, 4: 1, 5: 8, 6: 8, 7: 4, 8: 1, 9: 1, 10: 2, 11: 2, 12: 4, 13: 4, 14: 8, 15: 8}


def _matrix_declared_bytes(header: bytes, order: str) -> int | None:
    """Bytes the dimensions of a miMATRIX element declare (``header``: its start, tag included), or None if cut."""
    if len(header) < 24:
        return None
    cls = header[16 if order == "<" else 19]
    dims_tag = header[24:32]
    if len(dims_tag) < 8:
        return None
    dims_type, dims_bytes = struct.unpack(order + "II", dims_tag)
    if dims_type >> 16:  # small data element: dimensions packed into the tag
        dims_bytes, dims_raw = dims_type >> 16, dims_tag[4:]
    else:
        dims_raw = header[32:32 + min(dims_bytes, 256)]
    dims = struct.unpack(f"{order}{len(dims_raw) // 4}i", dims_raw[:len(dims_raw) // 4 * 4])
    if any(d < 0 for d in dims):
        raise NeurofocusError(f"negative array dimensions {dims}")
    return math.prod(dims) * _CLASS_BYTES.get(cls, 8)


def check_mat_sizes(path: str | os.PathLike) -> None:
    """Walk the top-level elements of a MATLAB v5 file and reject one whose declared size the file cannot hold, or
    whose (compressed) array declares more than its bytes can expand to, before scipy allocates anything."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(128)
        if len(head) < 128:
            raise NeurofocusError("truncated MATLAB header (shorter than 128 bytes)")
        if 0 in head[:4]:  # what scipy takes for a v4 file, whose header it trusts with any allocation
            raise NeurofocusError("not a MATLAB v5 header (a zero byte in its first 4 bytes: v4 or corrupt); only "
                                  "v5 and v7.3 files are read")
        order = {b"IM": "<", b"MI": ">"}.get(head[126:128])
        if order is None:
            raise NeurofocusError("not a MATLAB v5 file (no endian indicator)")
        pos = 128
        while pos + 8 <= size:
            f.seek(pos)
            kind, nbytes = struct.unpack(order + "II", f.read(8))
            if kind >> 16:  # small data element
                pos += 8
                continue
            check_declared_size(nbytes, size - pos - 8, f"the element at byte {pos}")
            if kind == _MI_COMPRESSED:
                inflater = zlib.decompressobj()
                start = inflater.decompress(f.read(min(nbytes, 4096)), 512)
                declared = _matrix_declared_bytes(start, order)
                if len(start) >= 8:
                    check_declared_size(struct.unpack(order + "I", start[4:8])[0], nbytes,
                                        f"the compressed element at byte {pos}", MAX_COMPRESSION, 1 << 16)
                if declared is not None:
                    check_declared_size(declared, nbytes, f"the compressed array at byte {pos}", MAX_COMPRESSION,
                                        1 << 16)
            elif kind == _MI_MATRIX:
                declared = _matrix_declared_bytes(struct.pack(order + "II", kind, nbytes) + f.read(512), order)
                if declared is not None:  # values may be stored in a narrower type than their class: up to 8x
                    check_declared_size(declared, nbytes, f"the array at byte {pos}", 8, 1 << 10)
            pos += 8 + nbytes


def read_mat(path: str | os.PathLike, *, columns=None, sensor_size=None) -> Events:
    """Read a MATLAB ``.mat`` (v5 or v7.3) holding an (N, 4) array ``events`` or named arrays t, x, y, p."""
    return _from_mapping(_load_mat(path), columns, sensor_size or sidecar_sensor_size(path), Path(path).name)


def events_table(events: Events, dtype=np.int64) -> np.ndarray:
    """(N, 4) array [t µs, x, y, p in {0, 1}], the EFS / DVS-Voltmeter column order."""
    return np.column_stack([events.t, events.x, events.y, (events.p > 0)]).astype(dtype)


def write_npy(path: str | os.PathLike, events: Events, *, efs_layout: bool = False) -> None:
    """Write a ``.npy``: the structured :data:`~neurofocus.types.EVENT_DTYPE` array, or (``efs_layout``) the EFS
    (N, 4) int64 [t, x, y, p∈{0,1}] table. The sensor size goes to a sidecar ``<file>.json``. Atomic."""
    with atomic_path(path) as tmp:
        np.save(tmp, events_table(events) if efs_layout else np.ascontiguousarray(events.data))
    write_sidecar(path, {"sensor_size": list(events.sensor_size)})


def write_npz(path: str | os.PathLike, events: Events) -> None:
    """Write a compressed ``.npz`` with arrays t (int64 µs), x, y (uint16), p (int8 ±1) and sensor_size (W, H)."""
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, t=events.t, x=events.x, y=events.y, p=events.p,
                            sensor_size=np.array(events.sensor_size, np.int64))


def write_mat(path: str | os.PathLike, events: Events) -> None:
    """Write a MATLAB v5 ``.mat`` with ``events`` (N, 4) int64 [t, x, y, p∈{0,1}] and ``sensor_size`` (W, H)."""
    import scipy.io

    with atomic_path(path) as tmp:
        scipy.io.savemat(tmp, {"events": events_table(events), "sensor_size": np.array(events.sensor_size)},
                         do_compression=True)
