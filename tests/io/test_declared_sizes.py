"""Readers check what a file declares (array shapes, element sizes) against what it stores before allocating."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import h5py
import numpy as np
import pytest
import scipy.io

from neurofocus.errors import NeurofocusError
from neurofocus.io import load_events, load_spikes, save_spikes
from neurofocus.types import Spikes

HUGE_ROWS = 50_000_000


def _npy_bytes(shape, dtype, payload: bytes) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                              "fortran_order": False, "shape": shape})
    return buf.getvalue() + payload


def _rejects(path, loader=load_events, match="declares"):
    with pytest.raises(NeurofocusError, match=match) as info:
        loader(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("name, shape, loader", [("ev.npy", (HUGE_ROWS, 4), load_events),
                                                 ("sp.npy", (HUGE_ROWS, 64, 64), load_spikes)])
def test_npy_header_declaring_more_than_the_file_holds(tmp_path, name, shape, loader):
    path = tmp_path / name
    path.write_bytes(_npy_bytes(shape, "<i8" if loader is load_events else "u1", bytes(4096)))
    _rejects(path, loader)


@pytest.mark.parametrize("key, loader", [("t", load_events), ("spk", load_spikes)])
def test_npz_member_declaring_more_than_it_stores(tmp_path, key, loader):
    path = tmp_path / "bad.npz"
    shape = (HUGE_ROWS,) if key == "t" else (HUGE_ROWS, 16, 16)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{key}.npy", _npy_bytes(shape, "<i8", bytes(800)))
        for other in ("x", "y", "p") if key == "t" else ():
            zf.writestr(f"{other}.npy", _npy_bytes((100,), "<i8", bytes(800)))
    _rejects(path, loader)


def test_npz_member_whose_zip_entry_claims_an_impossible_ratio(tmp_path):
    path = tmp_path / "bomb.npz"
    payload = _npy_bytes((100,), "<i8", bytes(800))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("t.npy", payload)
    data = bytearray(path.read_bytes())
    # the uncompressed size in the central directory (offset 24 of its entry) becomes 4 GB
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 0xFFFF0000)
    path.write_bytes(bytes(data))
    _rejects(path)


def _mat_matrix(dims, values: bytes, name=b"events") -> bytes:
    """A MAT v5 double miMATRIX element with the given (possibly lying) dimensions."""
    def element(kind, payload):
        return struct.pack("<II", kind, len(payload)) + payload + bytes(-len(payload) % 8)

    body = (element(6, struct.pack("<II", 6, 0)) + element(5, struct.pack(f"<{len(dims)}i", *dims))
            + element(1, name) + element(9, values))
    return struct.pack("<II", 14, len(body)) + body


def _mat_file(element: bytes) -> bytes:
    header = b"MATLAB 5.0 MAT-file, written by a test".ljust(116, b" ") + bytes(8) + struct.pack("<H", 0x0100) + b"IM"
    return header + element


def test_mat_v5_array_declaring_more_than_it_stores(tmp_path):
    path = tmp_path / "bad.mat"
    path.write_bytes(_mat_file(_mat_matrix((HUGE_ROWS, 4), bytes(64))))
    _rejects(path)


def test_mat_v5_compressed_array_declaring_more_than_it_can_expand_to(tmp_path):
    path = tmp_path / "bad.mat"
    packed = zlib.compress(_mat_matrix((HUGE_ROWS, 4), bytes(64)))
    path.write_bytes(_mat_file(struct.pack("<II", 15, len(packed)) + packed))
    _rejects(path)


def test_mat_v5_element_longer_than_the_file(tmp_path):
    path = tmp_path / "cut.mat"
    scipy.io.savemat(path, {"events": np.zeros((500, 4))}, do_compression=False)
    path.write_bytes(path.read_bytes()[:-1000])
    _rejects(path)


def test_valid_mat_files_still_read(tmp_path):
    table = np.column_stack([np.arange(200) * 10, np.arange(200) % 32, np.arange(200) % 24, np.arange(200) % 2])
    for compression in (False, True):
        path = tmp_path / f"ok{compression}.mat"
        scipy.io.savemat(path, {"events": table, "sensor_size": np.array([32, 24])}, do_compression=compression)
        assert len(load_events(path)) == 200


def test_mat_v73_dataset_declaring_rows_it_does_not_store(tmp_path):
    path = tmp_path / "bad73.mat"
    with h5py.File(path, "w") as f:
        f.create_dataset("events", shape=(4, HUGE_ROWS), dtype="<f8", chunks=(4, 1024))
    _rejects(path)


def test_spike_hdf5_with_empty_frames(tmp_path):
    path = tmp_path / "empty.h5"
    save_spikes(path, Spikes.from_frames(np.zeros((3, 8, 16), bool), tick_us=50))
    with h5py.File(path, "r+") as f:
        del f["spikes/packed"]
        f.create_dataset("spikes/packed", data=np.zeros((3, 0, 2), np.uint8)).attrs["width"] = 16
    _rejects(path, load_spikes, "empty spike frames")


def test_mat_header_that_scipy_would_take_for_v4_is_rejected(tmp_path):
    path = tmp_path / "v4.mat"
    scipy.io.savemat(path, {"events": np.zeros((60, 4))})
    data = bytearray(path.read_bytes())
    data[:4] = b"\x00\x00\x00\x01"
    path.write_bytes(bytes(data))
    _rejects(path, match="not a MATLAB v5 header")
