import numpy as np
import pytest

from neurofocus.represent import latest_timestamps, tfi, tfp, time_surface
from neurofocus.types import Spikes

from ..conftest import random_events


def test_latest_timestamps_and_surface():
    ev = random_events(3000, (12, 10), seed=7)
    t_query = 55_555
    latest = latest_timestamps(ev, t_query)
    past = ev.t <= t_query
    expected = np.full((10, 12), -1, np.int64)
    for t, x, y in zip(ev.t[past], ev.x[past], ev.y[past]):
        expected[y, x] = max(expected[y, x], t)
    assert np.array_equal(latest, expected)
    surface = time_surface(ev, t_query, 10_000)
    seen = expected >= 0
    assert np.allclose(surface[seen], np.exp(-(t_query - expected[seen]) / 10_000))
    assert not surface[~seen].any()
    split = latest_timestamps(ev, t_query, split_polarity=True)
    assert np.array_equal(np.maximum(split[0], split[1]), expected)


def test_tfp_and_tfi_recover_a_known_rate():
    frames = np.zeros((100, 2, 3), bool)
    frames[::4, 0, 0] = True   # one spike every 4 ticks: rate 0.25
    frames[::10, 1, 2] = True  # every 10 ticks: rate 0.1
    sp = Spikes.from_frames(frames, tick_us=50)
    image = tfp(sp, 50, 19)  # ticks 31..69: spikes at 32, 36, ..., 68 and at 40, 50, 60
    assert image[0, 0] == pytest.approx(10 / 39) and image[1, 2] == pytest.approx(3 / 39)
    assert np.allclose(image, frames[31:70].mean(axis=0))
    assert np.allclose(tfp(sp, 2, 5), frames[0:8].mean(axis=0))  # clipped at the start
    interval = tfi(sp, 50)
    assert interval[0, 0] == pytest.approx(0.25) and interval[1, 2] == pytest.approx(0.1)
    assert interval[0, 1] == 0  # never fires
    assert tfi(sp, 99)[0, 0] == 0  # no spike after the last tick: undefined, reported as 0
