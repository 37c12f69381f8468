"""Spike-camera files: PKU Vidar ``.dat`` and frame arrays in ``.npz`` / ``.npy``.

Vidar ``.dat`` is a headerless concatenation of frames of H·W bits. Within a frame the pixel index is row-major
(r·W + c), byte = index // 8, bit = index % 8 (least significant first), and rows are stored bottom-up. Some
sensors write 16 extra columns per row (stored W = 416 for a 400-column sensor); they are dropped: a size of width 416
is read as 400 columns plus that head, and other sizes take ``extra_columns``. The file does not say its size or tick
length: give them as arguments or in a sidecar ``<file>.json``
(``{"height": 250, "width": 400, "tick_us": 50, "start_us": 0, "extra_columns": 0}``).

``.npz`` / ``.npy`` hold a (T, H, W) array of 0/1 (npz key ``spk``, ``spikes`` or ``frames``; optional ``tick_us`` and
``start_us`` scalars).

``.h5`` spike files (this package's compact container) hold the bit-packed frames as dataset ``spikes/packed``
(uint8 (T, H, ceil(W/8)), little bit order along W, gzip-compressed) with attributes ``width``, ``tick_us`` and
``start_us``.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import h5py
import numpy as np

from ..atomic import atomic_path
from ..errors import NeurofocusError
from ..types import Spikes
from .common import note, read_sidecar, write_sidecar
from .arrays import load_npy, load_npz
from .hdf5 import check_dataset_size

FRAME_KEYS = ("spk", "spikes", "frames", "spike_matrix")
VIDAR_HEAD_COLUMNS = 16
_BLOCK_TICKS = 512


def _meta(path, size, tick_us, start_us, extra_columns):
    """Resolve size / tick / start / extra columns from the arguments, then the sidecar."""
    side = read_sidecar(path)
    if size is None and "height" in side and "width" in side:
        size = (side["height"], side["width"])
    if tick_us is None:
        tick_us = side.get("tick_us")
    if start_us is None:
        start_us = side.get("start_us", 0.0)
    if extra_columns is None:
        extra_columns = side.get("extra_columns")
    return size, tick_us, start_us, extra_columns


def read_vidar_dat(path: str | os.PathLike, *, size: tuple[int, int] | None = None, tick_us: float | None = None,
                   start_us: float | None = None, extra_columns: int | None = None) -> Spikes:
    """Read a PKU Vidar spike ``.dat``.

    Parameters
    ----------
    size : (int, int)
        (height, width) of the frames, as the sensor reports them (e.g. (250, 400)); required unless a sidecar gives it.
    tick_us : float, optional
        Readout interval (µs); default: the sidecar's, else unknown.
    start_us : float, optional
        Time of the first frame (µs); default 0.
    extra_columns : int, optional
        Extra columns per stored row to drop; default: 16 if the width is 416 (read as 400), else 0 unless only a
        16-column head makes the file size a whole number of frames.
    """
    (size, tick_us, start_us, extra_columns) = _meta(path, size, tick_us, start_us, extra_columns)
    if size is None:
        raise NeurofocusError("a spike .dat does not store its frame size: give it (--spike-size WxH, e.g. 400x250) "
                              "or write a sidecar JSON with height and width")
    height, width = int(size[0]), int(size[1])
    if height <= 0 or width <= 0:
        raise NeurofocusError(f"bad spike frame size {height}x{width}")
    nbytes = os.path.getsize(path)
    if nbytes == 0:
        raise NeurofocusError("the spike file is empty")
    if extra_columns is None and width == 400 + VIDAR_HEAD_COLUMNS:
        width, extra_columns = 400, VIDAR_HEAD_COLUMNS
    if extra_columns is None:
        plain, headed = height * width, height * (width + VIDAR_HEAD_COLUMNS)
        fits_plain = plain % 8 == 0 and nbytes % (plain // 8) == 0
        fits_headed = headed % 8 == 0 and nbytes % (headed // 8) == 0
        extra_columns = VIDAR_HEAD_COLUMNS if fits_headed and not fits_plain else 0
        if fits_plain and fits_headed:
            note(f"{Path(path).name}: the file size fits {height}x{width} frames with or without a "
                 f"{VIDAR_HEAD_COLUMNS}-column head per row; assuming none (pass the extra columns to override)")
    stored_w = width + int(extra_columns)
    frame_bits = height * stored_w
    if frame_bits % 8:
        raise NeurofocusError(f"a {height}x{stored_w} frame is not a whole number of bytes")
    frame_bytes = frame_bits // 8
    if nbytes % frame_bytes:
        raise NeurofocusError(
            f"size {nbytes} B is not a whole number of {height}x{stored_w} frames ({frame_bytes} B each): "
            f"{nbytes % frame_bytes} trailing bytes (corrupt file, or wrong --spike-size)")
    n_ticks = nbytes // frame_bytes
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    row_bytes = (width + 7) // 8
    packed = np.empty((n_ticks, height, row_bytes), np.uint8)
    if stored_w % 8 == 0:  # whole bytes per stored row: the rows are already packed LSB-first
        rows = raw.reshape(n_ticks, height, stored_w // 8)[:, ::-1, :row_bytes]
        packed[...] = rows
        if width % 8:
            packed[..., -1] &= np.uint8((1 << (width % 8)) - 1)
    else:
        for a in range(0, n_ticks, _BLOCK_TICKS):
            block = raw[a * frame_bytes:min(n_ticks, a + _BLOCK_TICKS) * frame_bytes]
            bits = np.unpackbits(block, bitorder="little").reshape(-1, height, stored_w)[:, ::-1, :width]
            packed[a:a + len(bits)] = np.packbits(bits, axis=2, bitorder="little")
    return Spikes(packed, width, tick_us, start_us)


def write_vidar_dat(path: str | os.PathLike, spikes: Spikes) -> None:
    """Write spikes as a Vidar ``.dat`` (bottom-up rows, LSB first) plus a sidecar JSON with size and tick. Atomic."""
    t, h, w = spikes.shape
    if (h * w) % 8:
        raise NeurofocusError(f"a {h}x{w} frame is not a whole number of bytes: cannot write a Vidar .dat")
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        for a in range(0, t, _BLOCK_TICKS):
            if w % 8 == 0:
                block = spikes.packed[a:a + _BLOCK_TICKS, ::-1, :]
            else:
                block = np.packbits(spikes.frames(a, a + _BLOCK_TICKS)[:, ::-1, :], bitorder="little")
            f.write(np.ascontiguousarray(block).tobytes())
    meta = {"height": h, "width": w, "start_us": spikes.start_us, "extra_columns": 0}
    if spikes.tick_us is not None:
        meta["tick_us"] = spikes.tick_us
    write_sidecar(path, meta)


def _scalar(value, name: str) -> float:
    arr = np.asarray(value)
    if arr.size != 1 or not np.issubdtype(arr.dtype, np.number) or not np.isfinite(arr.item()):
        raise NeurofocusError(f"{name} must be one finite number")
    return float(arr.item())


def read_spike_array(path: str | os.PathLike, *, tick_us: float | None = None,
                     start_us: float | None = None) -> Spikes:
    """Read (T, H, W) spike frames from ``.npy`` or ``.npz`` (keys ``spk``/``spikes``/``frames``)."""
    side = read_sidecar(path)
    try:
        if str(path).lower().endswith(".npz"):
            z = load_npz(path)
            key = next((k for k in z if k.lower() in FRAME_KEYS), None)
            if key is None:
                raise NeurofocusError(f"no spike frames in the .npz (expected a key among {', '.join(FRAME_KEYS)}; "
                                      f"found {', '.join(z) or 'none'})")
            frames = z[key]
            if tick_us is None and "tick_us" in z:
                tick_us = _scalar(z["tick_us"], "tick_us")
            if start_us is None and "start_us" in z:
                start_us = _scalar(z["start_us"], "start_us")
        else:
            frames = load_npy(path)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise NeurofocusError(f"not a readable numpy file ({' '.join(str(exc).split())})") from None
    if frames.ndim != 3:
        raise NeurofocusError(f"spike frames must have shape (T, H, W), got {frames.shape}")
    _check_not_empty(frames.shape)
    tick_us = side.get("tick_us") if tick_us is None else tick_us
    start_us = side.get("start_us", 0.0) if start_us is None else start_us
    return Spikes.from_frames(frames, tick_us, start_us)


def _check_not_empty(shape: tuple[int, int, int]) -> None:
    if 0 in shape:
        raise NeurofocusError(f"empty spike frames: shape (T, H, W) = {tuple(shape)}")


def write_spike_array(path: str | os.PathLike, spikes: Spikes) -> None:
    """Write spikes as a compressed ``.npz`` (``spk`` uint8 (T, H, W), ``tick_us``, ``start_us``) or a ``.npy``
    (uint8 (T, H, W) plus a sidecar JSON). Atomic."""
    frames = spikes.frames().astype(np.uint8)
    if str(path).lower().endswith(".npz"):
        with atomic_path(path) as tmp:
            extra = {} if spikes.tick_us is None else {"tick_us": np.float64(spikes.tick_us)}
            np.savez_compressed(tmp, spk=frames, start_us=np.float64(spikes.start_us), **extra)
        return
    with atomic_path(path) as tmp:
        np.save(tmp, frames)
    meta = {"height": spikes.height, "width": spikes.width, "start_us": spikes.start_us}
    if spikes.tick_us is not None:
        meta["tick_us"] = spikes.tick_us
    write_sidecar(path, meta)


def read_spike_hdf5(path: str | os.PathLike, *, tick_us: float | None = None,
                    start_us: float | None = None) -> Spikes:
    """Read bit-packed spikes from this package's HDF5 container (see the module notes)."""
    with h5py.File(path, "r") as f:
        dset = f.get("spikes/packed")
        if not isinstance(dset, h5py.Dataset):
            raise NeurofocusError("no spikes/packed dataset: not a neurofocus spike HDF5 file")
        check_dataset_size(dset)
        if dset.ndim != 3 or dset.dtype != np.uint8:
            raise NeurofocusError(f"spikes/packed must be uint8 (T, H, ceil(W/8)), got {dset.dtype} {dset.shape}")
        width = int(dset.attrs["width"])
        _check_not_empty(dset.shape[:2] + (width,))
        packed = dset[()]
        stored_tick = dset.attrs.get("tick_us")
        tick = tick_us if tick_us is not None else (None if stored_tick is None else float(stored_tick))
        start = start_us if start_us is not None else float(dset.attrs.get("start_us", 0.0))
    return Spikes(packed, width, tick, start)


def write_spike_hdf5(path: str | os.PathLike, spikes: Spikes) -> None:
    """Write spikes bit-packed and gzip-compressed to HDF5 (the compact container), atomically."""
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        chunks = (min(max(1, spikes.num_ticks), 256),) + spikes.packed.shape[1:] if spikes.num_ticks else None
        dset = f.create_dataset("spikes/packed", data=spikes.packed, chunks=chunks,
                                compression="gzip" if spikes.num_ticks else None, shuffle=False)
        dset.attrs["width"] = spikes.width
        dset.attrs["start_us"] = spikes.start_us
        if spikes.tick_us is not None:
            dset.attrs["tick_us"] = spikes.tick_us
