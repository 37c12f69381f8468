"""Every writer round-trips exactly through its reader."""

import numpy as np
import pytest

from neurofocus.io import FORMATS, detect_format, load_events, load_spikes, save_events, save_spikes
from neurofocus.simulate import moving_bars_events
from neurofocus.types import Spikes

from ..conftest import random_events

EXT = {"evt3": ".raw", "evt2": ".raw", "evt21": ".raw", "evt21-legacy": ".raw", "dat": ".dat",
       "prophesee-hdf5": ".hdf5", "hdf5": ".h5", "rpg-txt": ".txt", "voltmeter-txt": ".txt", "npy": ".npy",
       "efs-npy": ".npy", "npz": ".npz", "mat": ".mat"}
WRITABLE = [n for n, f in FORMATS.items() if f.kind == "events" and f.write]


@pytest.fixture(scope="module")
def bars():
    return moving_bars_events((346, 260), 60_000, seed=1)


@pytest.mark.parametrize("fmt", WRITABLE)
def test_event_round_trip_and_detection(tmp_path, bars, fmt):
    path = tmp_path / f"ev{EXT[fmt]}"
    save_events(path, bars, format=fmt)
    detected = detect_format(path)
    expected = {"evt21-legacy": "evt21", "efs-npy": "npy"}.get(fmt, fmt)
    assert detected == expected
    assert load_events(path) == bars


@pytest.mark.parametrize("fmt", WRITABLE)
def test_random_events_with_equal_times_round_trip(tmp_path, fmt):
    ev = random_events(4000, (640, 480), seed=7, t_max=3000)  # many events share a timestamp
    path = tmp_path / f"ev{EXT[fmt]}"
    save_events(path, ev, format=fmt)
    assert load_events(path, format=fmt) == ev


@pytest.mark.parametrize("fmt", ["evt3", "evt2", "evt21", "prophesee-hdf5", "hdf5", "npy", "npz"])
def test_empty_stream_round_trip_or_clear_error(tmp_path, fmt):
    from neurofocus.errors import NeurofocusError
    from neurofocus.types import Events

    path = tmp_path / f"ev{EXT[fmt]}"
    save_events(path, Events.empty((32, 24)), format=fmt)
    try:
        back = load_events(path, format=fmt)
    except NeurofocusError as exc:  # formats that cannot say the size of an empty stream must say so
        assert str(path) in str(exc)
    else:
        assert len(back) == 0 and back.sensor_size == (32, 24)


def test_evt3_file_round_trip_across_24_bit_wraps(tmp_path):
    ev = random_events(2000, (1280, 720), seed=9, t_max=100_000_000)  # 100 s: five wraps of 16.8 s
    save_events(tmp_path / "long.raw", ev)
    assert load_events(tmp_path / "long.raw") == ev


@pytest.mark.parametrize("width, ext", [(400, ".dat"), (13, ".npz"), (16, ".npy"), (13, ".h5")])
def test_spike_round_trip(tmp_path, width, ext):
    rng = np.random.default_rng(2)
    sp = Spikes.from_frames(rng.random((30, 8, width)) < 0.2, tick_us=50.0, start_us=100.0)
    if ext == ".dat" and width % 8:
        pytest.skip("not byte aligned")
    save_spikes(tmp_path / f"s{ext}", sp)
    assert load_spikes(tmp_path / f"s{ext}") == sp
