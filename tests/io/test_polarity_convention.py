"""A brightening pixel gives +1 in every reader: files made by hand from each format's specification, not by our
writers, with one ON (brightening) event followed by one OFF event."""

import struct

import h5py
import numpy as np
import pytest
import scipy.io

from neurofocus.io import load_events
from neurofocus.simulate import moving_bars_events

from ..conftest import AEDAT4_EVENT, aedat4_event_packet, write_aedat4


def _raw(path, header, words, dtype):
    path.write_bytes(header.encode() + np.asarray(words, dtype).tobytes())


def make_evt3(path):
    words = [0x8000 | 1, 0x6000 | 5, 0x0000 | 2, 0x2000 | (1 << 11) | 3, 0x6000 | 6, 0x2000 | 3]
    _raw(path, "% evt 3.0\n% geometry 8x4\n", words, "<u2")


def make_evt2(path):
    words = [(0x8 << 28) | 1, (0x1 << 28) | (5 << 22) | (3 << 11) | 2, (0x0 << 28) | (6 << 22) | (3 << 11) | 2]
    _raw(path, "% evt 2.0\n% geometry 8x4\n", words, "<u4")


def make_evt21(path):
    words = [(((0x8 << 28) | 1) << 32), (((0x1 << 28) | (5 << 22) | (0 << 11) | 2) << 32) | (1 << 3),
             (((0x0 << 28) | (6 << 22) | (0 << 11) | 2) << 32) | (1 << 3)]
    _raw(path, "% format EVT21;height=4;width=8\n% end\n", words, "<u8")


def make_dat(path):
    rec = struct.pack("<II", 69, 3 | (2 << 14) | (1 << 28)) + struct.pack("<II", 70, 3 | (2 << 14))
    path.write_bytes(b"% Data file containing CD events.\n% Version 2\n% Width 8\n% Height 4\n" + bytes([12, 8]) + rec)


def make_prophesee_hdf5(path):
    rec = np.array([(3, 2, 1, 69), (3, 2, 0, 70)], [("x", "<u2"), ("y", "<u2"), ("p", "<i2"), ("t", "<i8")])
    with h5py.File(path, "w") as f:
        f.attrs["geometry"] = "8x4"
        f.create_dataset("CD/events", data=rec)


def make_event_utils_hdf5(path):
    with h5py.File(path, "w") as f:
        f.create_dataset("events/xs", data=np.array([3, 3], np.int16))
        f.create_dataset("events/ys", data=np.array([2, 2], np.int16))
        f.create_dataset("events/ts", data=np.array([69e-6, 70e-6]))
        f.create_dataset("events/ps", data=np.array([True, False]))
        f.attrs["sensor_resolution"] = (4, 8)


def make_rpg_txt(path):
    path.write_text("8 4\n0.000069 3 2 1\n0.000070 3 2 0\n")


def make_voltmeter_txt(path):
    path.write_text("69 3 2 1\n70 3 2 0\n")


def make_efs_npy(path):
    np.save(path, np.array([[69, 3, 2, 1], [70, 3, 2, 0]], np.int64))


@pytest.mark.parametrize("dtype", [
    [("x", "<u2"), ("y", "<u2"), ("p", "<i2"), ("t", "<i8")],          # Metavision EventCD
    [("timestamp", "<i8"), ("x", "<i2"), ("y", "<i2"), ("polarity", "i1")],  # dv-processing
    [("t", "<u8"), ("x", "<u2"), ("y", "<u2"), ("on", "?")],           # aedat
    [("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "?")],            # Tonic
])
def test_structured_npy_conventions(tmp_path, dtype):
    names = [n for n, _ in dtype]
    rows = []
    for t, p in ((69, 1), (70, 0)):
        values = {"x": 3, "y": 2}
        values[names[[n in ("t", "timestamp") for n in names].index(True)]] = t
        values[next(n for n in names if n in ("p", "polarity", "on"))] = p
        rows.append(tuple(values[n] for n in names))
    np.save(tmp_path / "ev.npy", np.array(rows, dtype))
    ev = load_events(tmp_path / "ev.npy", sensor_size=(8, 4))
    assert ev.p.tolist() == [1, -1]


def make_npz(path):
    np.savez(path, t=[69, 70], x=[3, 3], y=[2, 2], p=[1, 0], sensor_size=[8, 4])


def make_mat(path):
    scipy.io.savemat(path, {"events": np.array([[69, 3, 2, 1], [70, 3, 2, 0]], np.int64)})


MAKERS = {"raw-evt3.raw": make_evt3, "raw-evt2.raw": make_evt2, "raw-evt21.raw": make_evt21, "cd.dat": make_dat,
          "prophesee.hdf5": make_prophesee_hdf5, "event_utils.h5": make_event_utils_hdf5, "rpg.txt": make_rpg_txt,
          "voltmeter.txt": make_voltmeter_txt, "efs.npy": make_efs_npy, "named.npz": make_npz, "davis.mat": make_mat}


@pytest.mark.parametrize("name", MAKERS)
def test_on_event_is_plus_one(tmp_path, name):
    path = tmp_path / name
    MAKERS[name](path)
    ev = load_events(path, sensor_size=(8, 4))
    assert ev.p.tolist() == [1, -1]
    assert ev.x.tolist() == [3, 3] and ev.y.tolist() == [2, 2]


def test_aedat4_on_flag_is_plus_one(tmp_path):
    rec = np.array([(69, 3, 2, 1), (70, 3, 2, 0)], AEDAT4_EVENT)
    path = write_aedat4(tmp_path / "f.aedat4", [(0, aedat4_event_packet(rec))])
    assert load_events(path).p.tolist() == [1, -1]


def test_pattern_generator_front_edge_brightens():
    ev = moving_bars_events((64, 8), 400_000, num_bars=1, bar_width_px=10, speed_px_per_s=320, slope=0.0,
                            edge_rise_us=100, seed=3)
    pixel = ev.filter((ev.x == 20) & (ev.y == 4))
    # each edge crossing fires floor(ln 3 / 0.25) = 4 events of one sign within the 100 µs rise time
    groups = pixel.p.reshape(-1, 4)
    assert len(groups) >= 3 and np.all(groups == groups[:, :1])
    signs, starts = groups[:, 0], pixel.t.reshape(-1, 4).min(axis=1)
    # the bar (10 px wide, 320 px/s) moves right: its front edge arrives first and brightens the pixel (ON); the back
    # edge darkens it (OFF) 10/320 s = 31.25 ms later; the next front edge comes (64 - 10)/320 s = 168.75 ms after that
    for sign, gap in zip(signs[:-1], np.diff(starts)):
        assert gap == pytest.approx(31_250 if sign == 1 else 168_750, abs=150)


def test_aedat4_aps_frames(tmp_path, monkeypatch):
    import aedat

    from neurofocus.io import read_aedat4_frames

    class FakeDecoder:
        def __init__(self, path):
            pass

        def __iter__(self):
            pixels = np.arange(12, dtype=np.uint8).reshape(3, 4)
            yield {"stream_id": 1, "frame": {"t": 100, "exposure_begin_t": 90, "exposure_end_t": 110,
                                             "format": "L", "width": 4, "height": 3, "pixels": pixels}}

    monkeypatch.setattr(aedat, "Decoder", FakeDecoder)
    path = tmp_path / "fake.aedat4"
    path.write_bytes(b"#!AER-DAT4.0\r\n")
    frames = read_aedat4_frames(path)
    assert len(frames) == 1 and frames[0].t_us == 100 and frames[0].exposure_us == (90, 110)
    assert frames[0].image.shape == (3, 4)


def test_dat_time_wrap_is_unrolled(tmp_path):
    rec = struct.pack("<II", (1 << 32) - 10, 1) + struct.pack("<II", 5, 2)
    path = tmp_path / "wrap.dat"
    path.write_bytes(b"% Version 2\n% Width 8\n% Height 4\n" + bytes([12, 8]) + rec)
    assert load_events(path).t.tolist() == [(1 << 32) - 10, (1 << 32) + 5]
