"""Bad files give one clear NeurofocusError naming the file, never garbage or a deep traceback."""

import numpy as np
import pytest

from neurofocus.errors import NeurofocusError
from neurofocus.io import load_events, load_spikes, save_events, save_spikes
from neurofocus.types import Spikes

from ..conftest import SAMPLES, random_events


def expect_error(path, match, loader=load_events, **kwargs):
    with pytest.raises(NeurofocusError, match=match) as info:
        loader(path, **kwargs)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    return message


def test_missing_and_empty_files(tmp_path):
    expect_error(tmp_path / "nope.raw", "no such file")
    (tmp_path / "empty.raw").write_bytes(b"")
    expect_error(tmp_path / "empty.raw", "empty")
    expect_error(tmp_path, "folder")


def test_random_bytes(tmp_path):
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, 50_000, dtype=np.uint8).tobytes()
    (tmp_path / "noise.bin").write_bytes(noise)
    expect_error(tmp_path / "noise.bin", "unknown file format")
    (tmp_path / "noise.raw").write_bytes(noise)
    expect_error(tmp_path / "noise.raw", "no Prophesee RAW header")
    (tmp_path / "noise.npy").write_bytes(noise)
    expect_error(tmp_path / "noise.npy", "not a readable .npy file")
    (tmp_path / "noise.h5").write_bytes(noise)
    expect_error(tmp_path / "noise.h5", "not an HDF5 file")
    (tmp_path / "noise.txt").write_bytes(noise)
    expect_error(tmp_path / "noise.txt", "text")


@pytest.mark.parametrize("header", ["% evt 3.0\n% geometry 1280x720\n", "% evt 2.0\n% geometry 640x480\n"])
def test_raw_header_followed_by_random_words(tmp_path, header):
    rng = np.random.default_rng(1)
    path = tmp_path / "garbage.raw"
    path.write_bytes(header.encode() + rng.integers(0, 256, 400_000, dtype=np.uint8).tobytes())
    expect_error(path, "corrupt")


def test_truncated_raw(tmp_path):
    src = SAMPLES / "evt3_cut.raw"
    data = src.read_bytes()
    path = tmp_path / "cut.raw"
    path.write_bytes(data[:-1])  # the whole file reads (test_vendored_samples): this cuts inside its last word
    expect_error(path, "truncated EVT 3.0 data")


def test_truncated_dat_and_hdf5(tmp_path):
    ev = random_events(500, (64, 48))
    save_events(tmp_path / "ev.dat", ev)
    data = (tmp_path / "ev.dat").read_bytes()
    (tmp_path / "cut.dat").write_bytes(data[:-3])
    expect_error(tmp_path / "cut.dat", "truncated DAT data")
    save_events(tmp_path / "ev.h5", ev)
    data = (tmp_path / "ev.h5").read_bytes()
    (tmp_path / "cut.h5").write_bytes(data[: len(data) // 2])
    expect_error(tmp_path / "cut.h5", "unreadable HDF5 file.*truncated")


def test_truncated_aedat4(tmp_path):
    data = (SAMPLES / "aedat4_cut.aedat4").read_bytes()
    (tmp_path / "cut.aedat4").write_bytes(data[: len(data) // 3])
    expect_error(tmp_path / "cut.aedat4", "corrupt AEDAT 4 packet")


def test_plain_array_in_wrong_column_order_is_rejected_with_a_hint(tmp_path):
    ev = random_events(300, (64, 48))
    table = np.column_stack([ev.x, ev.y, ev.t, ev.p > 0]).astype(np.int64)  # x,y,t,p instead of t,x,y,p
    np.save(tmp_path / "xytp.npy", table)
    expect_error(tmp_path / "xytp.npy", "--columns", sensor_size=(64, 48))
    back = load_events(tmp_path / "xytp.npy", columns="x,y,t,p", sensor_size=(64, 48))
    assert back == ev


def test_nan_and_fractional_times(tmp_path):
    np.save(tmp_path / "nan.npy", np.array([[0.0, 1, 1, 1], [np.nan, 1, 1, 0]]))
    expect_error(tmp_path / "nan.npy", "NaN", sensor_size=(8, 8))
    np.save(tmp_path / "sec.npy", np.array([[0.5, 1, 1, 1], [0.75, 1, 1, 0]]))
    expect_error(tmp_path / "sec.npy", "integer µs", sensor_size=(8, 8))
    (tmp_path / "nan.txt").write_text("1 1 1 1\nnan 2 2 0\n")
    expect_error(tmp_path / "nan.txt", "NaN", sensor_size=(8, 8))


def test_text_problems(tmp_path):
    (tmp_path / "three.txt").write_text("1 2 3\n4 5 6\n")
    expect_error(tmp_path / "three.txt", "expected 4 columns")
    (tmp_path / "bad.txt").write_text("10 1 1 1\n11 1 1 oops\n")
    expect_error(tmp_path / "bad.txt", "oops")
    (tmp_path / "unsorted.txt").write_text("10 1 1 1\n5 1 1 0\n")
    expect_error(tmp_path / "unsorted.txt", "not sorted", sensor_size=(8, 8))
    (tmp_path / "negative.txt").write_text("-3 1 1 1\n5 1 1 0\n")
    expect_error(tmp_path / "negative.txt", "negative", sensor_size=(8, 8))


def test_events_outside_the_given_sensor(tmp_path):
    ev = random_events(300, (64, 48))
    save_events(tmp_path / "ev.raw", ev)
    expect_error(tmp_path / "ev.raw", "outside the 32x24 sensor", sensor_size=(32, 24))
    save_events(tmp_path / "ev.npz", ev)
    expect_error(tmp_path / "ev.npz", "outside the 32x24 sensor", sensor_size=(32, 24))


def test_spike_dat_problems(tmp_path):
    sp = Spikes.from_frames(np.random.default_rng(0).random((10, 250, 400)) < 0.1, tick_us=50)
    save_spikes(tmp_path / "s.dat", sp)
    (tmp_path / "s.dat.json").unlink()
    expect_error(tmp_path / "s.dat", "frame size", loader=load_spikes)
    expect_error(tmp_path / "s.dat", "not a whole number", loader=load_spikes, size=(250, 300))
    data = (tmp_path / "s.dat").read_bytes()
    (tmp_path / "cut.dat").write_bytes(data[:-100])
    expect_error(tmp_path / "cut.dat", "12400 trailing bytes", loader=load_spikes, size=(250, 400))
    with pytest.raises(NeurofocusError, match="not events|spike frames"):
        load_events(tmp_path / "s.dat")


def test_kinds_are_not_confused(tmp_path):
    save_events(tmp_path / "ev.npz", random_events(50, (8, 8)))
    expect_error(tmp_path / "ev.npz", "not spike frames", loader=load_spikes)
    np.save(tmp_path / "frames.npy", np.zeros((4, 5, 6), np.uint8))
    expect_error(tmp_path / "frames.npy", "spike frames")


def test_bad_sidecar(tmp_path):
    save_spikes(tmp_path / "s.dat", Spikes.from_frames(np.zeros((2, 8, 8), bool), tick_us=50))
    (tmp_path / "s.dat.json").write_text("{not json")
    expect_error(tmp_path / "s.dat", "not valid JSON", loader=load_spikes)
