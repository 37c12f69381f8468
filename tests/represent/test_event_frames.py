import numpy as np
import pytest

from neurofocus.errors import NeurofocusError
from neurofocus.represent import event_frames

from ..conftest import random_events


def brute_force(ev, bins_of_events, num_bins):
    on = np.zeros((num_bins, ev.height, ev.width), np.int32)
    off = np.zeros_like(on)
    for b, x, y, p in zip(bins_of_events, ev.x, ev.y, ev.p):
        (on if p > 0 else off)[b, y, x] += 1
    return on, off


def test_time_bins_match_brute_force():
    ev = random_events(3000, (20, 15), seed=1)
    t0, t1 = int(ev.t[0]), int(ev.t[-1]) + 1
    bins = (ev.t - t0) * 7 // (t1 - t0)
    on, off = brute_force(ev, bins, 7)
    split = event_frames(ev, 7, polarity="split")
    assert split.shape == (7, 2, 15, 20) and split.dtype == np.int32
    assert np.array_equal(split[:, 0], on) and np.array_equal(split[:, 1], off)
    assert np.array_equal(event_frames(ev, 7), on - off)


def test_count_bins_keep_the_remainder():
    ev = random_events(1003, (10, 10), seed=2)
    frames = event_frames(ev, 64, binning="count", polarity="split")
    per_bin = frames.sum(axis=(1, 2, 3))
    assert per_bin.sum() == 1003  # nothing dropped (the official EFS code drops 1003 % 64 = 43 events)
    assert per_bin.max() - per_bin.min() <= 1
    bins = np.arange(1003) * 64 // 1003
    on, off = brute_force(ev, bins, 64)
    assert np.array_equal(frames[:, 0], on) and np.array_equal(frames[:, 1], off)


def test_window_and_fewer_events_than_bins():
    ev = random_events(10, (4, 4), seed=3)
    frames = event_frames(ev, 64, binning="count", polarity="split")
    assert frames.sum() == 10  # fewer events than bins: no all-zero stack, every event lands somewhere
    window = event_frames(ev, 2, t_start_us=0, t_end_us=50_000, polarity="split")
    assert window.sum() == int(np.count_nonzero(ev.t < 50_000))
    with pytest.raises(NeurofocusError):
        event_frames(ev, 0)
    with pytest.raises(NeurofocusError):
        event_frames(ev, 2, t_start_us=5, t_end_us=5)
