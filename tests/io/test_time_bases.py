"""Absolute clocks (AEDAT 4's epoch µs) do not blow up the writers of formats whose clock starts at 0; RAW readers
say what they drop."""

from __future__ import annotations

import numpy as np
import pytest

from neurofocus.errors import NeurofocusError
from neurofocus.io import NeurofocusWarning, load_events, save_events
from neurofocus.io.common import ABSOLUTE_CLOCK_US
from neurofocus.types import Events

from ..conftest import SAMPLES, random_events

EPOCH_US = 1_605_537_493_718_345  # the first event of the AEDAT 4 sample


@pytest.mark.parametrize("name, fmt", [("e.raw", "evt3"), ("e2.raw", "evt2"), ("e21.raw", "evt21"),
                                       ("e.dat", "dat"), ("e.hdf5", "prophesee-hdf5")])
def test_absolute_clock_is_rebased_for_formats_counting_from_zero(tmp_path, name, fmt):
    ev = random_events(2000, (64, 48), seed=1).shift_time(EPOCH_US)
    with pytest.warns(NeurofocusWarning, match=f"relative to the first event \\(t - {int(ev.t[0]):,} µs\\)"):
        save_events(tmp_path / name, ev, format=fmt)
    assert (tmp_path / name).stat().st_size < 100_000
    back = load_events(tmp_path / name)
    assert np.array_equal(back.t, ev.t - ev.t[0])
    assert np.array_equal(back.x, ev.x) and np.array_equal(back.p, ev.p)


def test_relative_clock_is_kept(tmp_path, recwarn):
    ev = random_events(500, (64, 48), seed=2).shift_time(ABSOLUTE_CLOCK_US - 200_000)
    save_events(tmp_path / "e.raw", ev)
    assert load_events(tmp_path / "e.raw") == ev
    assert not [w for w in recwarn if issubclass(w.category, NeurofocusWarning)]


@pytest.mark.parametrize("name, t_last", [("e.raw", 1 << 50), ("e.hdf5", 1 << 50), ("e.hdf5", 1 << 34)])
def test_absurd_time_span_is_refused_not_written(tmp_path, name, t_last):
    ev = Events.from_arrays([0, 5, t_last], [1, 2, 3], [1, 1, 1], [1, 0, 1], (8, 8))
    with pytest.raises(NeurofocusError, match="filler records") as info:
        save_events(tmp_path / name, ev)
    assert name in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_spans_shorter_than_the_absolute_clock_threshold_are_always_written(tmp_path):
    ev = Events.from_arrays([10, ABSOLUTE_CLOCK_US - 1], [1, 2], [1, 1], [1, 0], (8, 8))  # 2 events, 71 minutes
    for name in ("e.hdf5", "e.raw"):
        save_events(tmp_path / name, ev)
        assert load_events(tmp_path / name) == ev


def test_real_aedat4_sample_converts_to_prophesee_formats(tmp_path):
    ev = load_events(SAMPLES / "aedat4_cut.aedat4")
    assert ev.t[0] >= ABSOLUTE_CLOCK_US  # epoch µs
    for name in ("out.raw", "out.hdf5"):
        with pytest.warns(NeurofocusWarning, match="absolute"):
            save_events(tmp_path / name, ev)
        assert (tmp_path / name).stat().st_size < 2 * (SAMPLES / "aedat4_cut.aedat4").stat().st_size
        assert len(load_events(tmp_path / name)) == len(ev)


def _raw_with_narrower_header(tmp_path, ev, width):
    save_events(tmp_path / "wide.raw", ev)
    data = (tmp_path / "wide.raw").read_bytes()
    w, h = ev.sensor_size
    data = data.replace(f"width={w}".encode(), f"width={width}".encode()).replace(
        f"geometry {w}x{h}".encode(), f"geometry {width}x{h}".encode())
    (tmp_path / "narrow.raw").write_bytes(data)
    return tmp_path / "narrow.raw"


def test_raw_reader_notes_events_dropped_outside_the_sensor(tmp_path):
    rng = np.random.default_rng(4)
    n = 3000
    x = np.where(np.arange(n) % 500 == 7, 100, rng.integers(0, 64, n))  # 6 events at x = 100
    ev = Events.from_arrays(np.arange(n) * 10, x, rng.integers(0, 48, n), rng.integers(0, 2, n), (128, 48))
    path = _raw_with_narrower_header(tmp_path, ev, 64)
    with pytest.warns(NeurofocusWarning, match="dropped 6 outside the 64x48 sensor of 3,000 EVT 3.0 events"):
        back = load_events(path)
    assert len(back) == n - 6 and back.sensor_size == (64, 48)


def test_raw_reader_notes_events_before_the_first_time_base(tmp_path):
    ev = Events.from_arrays([100, 200, 300], [1, 2, 3], [4, 5, 6], [1, 0, 1], (16, 16))
    save_events(tmp_path / "e.raw", ev, format="evt2")
    data = (tmp_path / "e.raw").read_bytes()
    header_end = data.index(b"% end\n") + len(b"% end\n")
    orphan = ((1 << 28) | (3 << 11) | 2).to_bytes(4, "little")  # a CD_ON word before any TIME_HIGH
    (tmp_path / "orphan.raw").write_bytes(data[:header_end] + orphan + data[header_end:])
    with pytest.warns(NeurofocusWarning, match="dropped 1 before the first time base"):
        assert load_events(tmp_path / "orphan.raw") == ev
