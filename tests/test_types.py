import numpy as np
import pytest

from neurofocus.errors import NeurofocusError
from neurofocus.types import EVENT_DTYPE, Events, FocalSweep, GroundTruth, Spikes, polarity_to_signed

from .conftest import random_events


def test_event_layout_is_aligned_16_bytes():
    assert EVENT_DTYPE.itemsize == 16
    assert EVENT_DTYPE.fields["t"][1] == 0 and EVENT_DTYPE["t"] == np.int64
    assert EVENT_DTYPE["x"] == np.uint16 and EVENT_DTYPE["p"] == np.int8


@pytest.mark.parametrize("raw, expected", [
    (np.array([True, False]), [1, -1]),
    (np.array([1, 0], np.uint8), [1, -1]),
    (np.array([1, -1], np.int16), [1, -1]),
    (np.array([1.0, 0.0]), [1, -1]),
])
def test_polarity_encodings_map_on_to_plus_one(raw, expected):
    assert polarity_to_signed(raw).tolist() == expected


@pytest.mark.parametrize("raw", [np.array([-1, 0, 1]), np.array([2, 1]), np.array([0.5, 1.0]), np.array([np.nan])])
def test_bad_polarities_are_rejected(raw):
    with pytest.raises(NeurofocusError):
        polarity_to_signed(raw)


def test_events_validation_names_the_problem():
    with pytest.raises(NeurofocusError, match="not sorted"):
        Events.from_arrays([5, 3], [0, 0], [0, 0], [1, 1], (4, 4))
    with pytest.raises(NeurofocusError, match="outside the 4x4 sensor"):
        Events.from_arrays([1], [4], [0], [1], (4, 4))
    with pytest.raises(NeurofocusError, match="negative timestamp"):
        Events.from_arrays([-1, 2], [0, 0], [0, 0], [1, 1], (4, 4))
    with pytest.raises(NeurofocusError, match="NaN"):
        Events.from_arrays([np.nan], [0], [0], [1], (4, 4))
    with pytest.raises(NeurofocusError, match="different lengths"):
        Events.from_arrays([1, 2], [0], [0], [1], (4, 4))


def test_events_are_immutable(events_small):
    with pytest.raises(ValueError):
        events_small.t[0] = 5
    with pytest.raises(ValueError):
        events_small.data["p"][:] = 1


def test_slicing_by_time_and_index_are_views(events_small):
    ev = events_small
    t0, t1 = 20_000, 60_000
    part = ev.slice_time(t0, t1)
    assert np.all((part.t >= t0) & (part.t < t1))
    assert len(part) == int(np.count_nonzero((ev.t >= t0) & (ev.t < t1)))
    assert np.shares_memory(part.data, ev.data)
    assert ev[10:20] == Events(ev.data[10:20], ev.sensor_size)
    assert len(ev.slice_time(t1, t0)) == 0
    with pytest.raises(TypeError):
        ev[np.arange(3)]


def test_concatenate_appends_and_merges(events_small):
    ev = events_small
    a, b = ev[:700], ev[700:]
    assert Events.concatenate([a, b]) == ev
    merged = Events.concatenate([b, a])  # overlapping/out of order: merged by a stable time sort
    assert np.array_equal(merged.t, ev.t) and len(merged) == len(ev)
    assert merged.data.dtype == EVENT_DTYPE
    with pytest.raises(NeurofocusError, match="different sensor sizes"):
        Events.concatenate([ev, Events.empty((3, 3))])


def test_crop_shifts_coordinates(events_small):
    ev = events_small
    crop = ev.crop(10, 5, 20, 30)
    inside = (ev.x >= 10) & (ev.x < 30) & (ev.y >= 5) & (ev.y < 35)
    assert crop.sensor_size == (20, 30)
    assert len(crop) == int(inside.sum())
    assert np.array_equal(crop.x, ev.x[inside] - 10) and np.array_equal(crop.y, ev.y[inside] - 5)
    with pytest.raises(NeurofocusError):
        ev.crop(60, 0, 10, 10)


def test_polarity_stats_and_rate():
    ev = Events.from_arrays([0, 500_000, 1_000_000], [0, 1, 2], [0, 0, 0], [1, 0, 1], (3, 1))
    stats = ev.polarity_stats()
    assert (stats.num_on, stats.num_off) == (2, 1)
    assert stats.on_fraction == pytest.approx(2 / 3)
    assert ev.rate_hz == pytest.approx(3.0)
    assert np.isnan(Events.empty((2, 2)).polarity_stats().on_fraction)


@pytest.mark.parametrize("width", [8, 13])
def test_spikes_pack_round_trip_and_queries(width):
    rng = np.random.default_rng(1)
    frames = rng.random((40, 7, width)) < 0.3
    sp = Spikes.from_frames(frames, tick_us=50.0, start_us=1000.0)
    assert sp.packed.shape == (40, 7, (width + 7) // 8)
    assert np.array_equal(sp.frames(), frames)
    assert sp.num_spikes == frames.sum()
    assert np.array_equal(sp.count(5, 25), frames[5:25].sum(0))
    assert sp.tick_at(1000 + 50 * 3 + 10) == 3
    part = sp.slice_time(1100, 1300)
    assert part.start_us == 1100 and part.num_ticks == 4
    assert np.array_equal(part.frames(), frames[2:6])
    crop = sp.crop(1, 2, width - 3, 4)
    assert np.array_equal(crop.frames(), frames[:, 2:6, 1:width - 2])
    both = Spikes.concatenate([sp.slice_ticks(0, 10), sp.slice_ticks(10, None)])
    assert both == sp


def test_spikes_reject_bad_input():
    with pytest.raises(NeurofocusError):
        Spikes.from_frames(np.full((2, 3, 4), 2), tick_us=50)
    with pytest.raises(NeurofocusError, match="tick"):
        Spikes.from_frames(np.zeros((2, 3, 4)), tick_us=-1)
    with pytest.raises(NeurofocusError, match="tick length is unknown"):
        Spikes.from_frames(np.zeros((2, 3, 4)), tick_us=None).tick_times_us()


def test_focal_sweep_checks_geometry_and_image():
    ev = random_events(sensor_size=(32, 24))
    image = np.full((24, 32, 3), 0.5, np.float32)
    sweep = FocalSweep(image, image_time_us=50_000, events=ev)
    assert sweep.sensor_size == (32, 24)
    assert sweep.time_extent_us == (float(ev.t[0]), float(ev.t[-1]))
    with pytest.raises(NeurofocusError, match="image is 31x24 but the event sensor is 32x24"):
        FocalSweep(image[:, :31], 0, events=ev)
    bad = image.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(NeurofocusError, match="NaN"):
        FocalSweep(bad, 0, events=ev)
    with pytest.raises(NeurofocusError, match="events or spikes"):
        FocalSweep(image, 0)
    gt = GroundTruth(image, depth_m=np.ones((24, 32)))
    assert FocalSweep(image, 0, events=ev, ground_truth=gt).ground_truth.depth_m.shape == (24, 32)
    with pytest.raises(NeurofocusError, match="depth_m"):
        GroundTruth(image, depth_m=np.ones((5, 5)))


def test_from_arrays_rejects_float_times_beyond_int64():
    with pytest.raises(NeurofocusError, match="beyond the 64-bit range"):
        Events.from_arrays(np.array([1e19, 2e19]), [0, 1], [0, 0], [1, 0], (4, 4))
