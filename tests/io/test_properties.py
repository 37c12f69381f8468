"""Property-based tests of the readers' invariants (hypothesis).

* Any valid event stream written by any event writer reads back equal (times rebased only where the format's clock
  starts at 0); any spike frames written by any spike writer read back equal.
* Any byte string, bare or behind a format's magic, is either read into data that keep the invariants or rejected with
  one :class:`NeurofocusError` line naming the file.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurofocus.errors import NeurofocusError
from neurofocus.io import FORMATS, detect_format, load_events, load_spikes, save_events, save_spikes
from neurofocus.types import Events, Spikes

EVENT_WRITERS = sorted(n for n, f in FORMATS.items() if f.kind == "events" and f.write)
SPIKE_WRITERS = sorted(n for n, f in FORMATS.items() if f.kind == "spikes" and f.write)
EXTENSION = {"evt3": ".raw", "evt2": ".raw", "evt21": ".raw", "evt21-legacy": ".raw", "dat": ".dat",
             "prophesee-hdf5": ".hdf5", "hdf5": ".h5", "rpg-txt": ".txt", "voltmeter-txt": ".txt", "npy": ".npy",
             "efs-npy": ".npy", "npz": ".npz", "mat": ".mat", "vidar-dat": ".dat", "spike-npz": ".npz",
             "spike-npy": ".npy", "spike-hdf5": ".h5"}
SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def event_streams(draw) -> Events:
    w, h = draw(st.integers(1, 2048)), draw(st.integers(1, 2048))
    n = draw(st.integers(0, 40))
    t = np.sort(np.array(draw(st.lists(st.integers(0, (1 << 32) - 1), min_size=n, max_size=n)), np.int64))
    x = draw(st.lists(st.integers(0, w - 1), min_size=n, max_size=n))
    y = draw(st.lists(st.integers(0, h - 1), min_size=n, max_size=n))
    p = draw(st.lists(st.sampled_from([-1, 1]), min_size=n, max_size=n))
    return Events.from_arrays(t, np.array(x, np.int64), np.array(y, np.int64), np.array(p, np.int64), (w, h))


@pytest.mark.parametrize("fmt", EVENT_WRITERS)
@SETTINGS
@given(events=event_streams())
def test_every_event_writer_round_trips(fmt, events):
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the notes of files without a stored size, or on an absolute clock
        path = Path(folder) / f"ev{EXTENSION[fmt]}"
        save_events(path, events, format=fmt)
        back = load_events(path, format=fmt)
    assert back == events


@pytest.mark.parametrize("fmt", SPIKE_WRITERS)
@SETTINGS
@given(shape=st.tuples(st.integers(1, 6), st.integers(1, 24), st.integers(1, 24)),
       seed=st.integers(0, 2**32 - 1), tick=st.sampled_from([25.0, 50.0, 100.0]))
def test_every_spike_writer_round_trips(fmt, shape, seed, tick):
    if fmt == "vidar-dat" and (shape[1] * shape[2]) % 8:
        shape = (shape[0], shape[1], 8)  # a Vidar frame is a whole number of bytes
    spikes = Spikes.from_frames(np.random.default_rng(seed).random(shape) < 0.3, tick_us=tick, start_us=0.0)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"sp{EXTENSION[fmt]}"
        save_spikes(path, spikes, format=fmt)
        assert load_spikes(path, format=fmt) == spikes


MAGICS = [b"", b"% evt 3.0\n% format EVT3;height=16;width=16\n% end\n", b"% evt 2.0\n% geometry 16x16\n",
          b"% Data file containing CD events.\n% Version 2\n% Width 16\n% Height 16\n\x0c\x08", b"\x89HDF\r\n\x1a\n",
          b"\x93NUMPY\x01\x00v\x00{'descr': '<i8', 'fortran_order': False, 'shape': (4, 4), }", b"PK\x03\x04",
          b"MATLAB 5.0 MAT-file".ljust(126, b" ") + b"IM", b"#!AER-DAT4.0\r\n", b"16 16\n0.1 1 2 1\n", b"10 1 2 1\n"]
SUFFIXES = [".raw", ".dat", ".h5", ".hdf5", ".npy", ".npz", ".mat", ".aedat4", ".txt"]


def _invariants_hold(data) -> bool:
    if isinstance(data, Events):
        w, h = data.sensor_size
        return (not len(data)) or (data.t[0] >= 0 and bool(np.all(np.diff(data.t) >= 0)) and int(data.x.max()) < w
                                   and int(data.y.max()) < h and bool(np.all(np.abs(data.p) == 1)))
    return min(data.shape) > 0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(magic=st.sampled_from(MAGICS), body=st.binary(max_size=600), suffix=st.sampled_from(SUFFIXES))
def test_any_bytes_are_read_validly_or_rejected_in_one_line(magic, body, suffix):
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = Path(folder) / f"noise{suffix}"
        path.write_bytes(magic + body)
        try:
            fmt = detect_format(path)
            data = (load_events if FORMATS[fmt].kind == "events" else load_spikes)(path, format=fmt)
        except NeurofocusError as exc:
            assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
        else:
            assert _invariants_hold(data)
