import numpy as np
import pytest

from neurofocus.errors import NeurofocusError
from neurofocus.represent import PolarityTable

from ..conftest import random_events


def test_queries_match_brute_force():
    ev = random_events(20_000, (24, 16), seed=5)
    table = PolarityTable(ev)
    rng = np.random.default_rng(0)
    for _ in range(20):
        a, b = sorted(rng.integers(-1000, 110_000, 2))
        inside = (ev.t >= a) & (ev.t < b)
        on = np.zeros((16, 24), np.int32)
        off = np.zeros_like(on)
        np.add.at(on, (ev.y[inside & (ev.p > 0)], ev.x[inside & (ev.p > 0)]), 1)
        np.add.at(off, (ev.y[inside & (ev.p < 0)], ev.x[inside & (ev.p < 0)]), 1)
        got_on, got_off = table.counts(a, b)
        assert np.array_equal(got_on, on) and np.array_equal(got_off, off)
        assert np.array_equal(table.net(a, b, region=(3, 9, 5, 20)), (on - off)[3:9, 5:20])
        assert np.array_equal(table.net(a, b, region=(3, 16, 5, 20, 3)), (on - off)[3:16:3, 5:20:3])


def test_net_is_antisymmetric_and_additive():
    ev = random_events(5000, (10, 10), seed=6)
    table = PolarityTable(ev)
    a, b, c = 10_000, 70_000, 40_000
    assert np.array_equal(table.net(b, a), -table.net(a, b))
    assert np.array_equal(table.net(a, c) + table.net(c, b), table.net(a, b))
    assert not table.net(a, a).any()
    assert table.events_per_pixel.sum() == len(ev)
    with pytest.raises(NeurofocusError):
        table.net(0, 1, region=(0, 11, 0, 5))


def test_anchored_and_split_queries_match_the_plain_ones():
    ev = random_events(8000, (20, 12), seed=8)
    table = PolarityTable(ev)
    anchored = table.anchored(50_000)
    for t in (0, 12_345, 50_000, 50_001, 77_777, 200_000):
        assert np.array_equal(anchored.net(t), table.net(50_000, t))
        assert np.array_equal(anchored.net(t, region=(2, 9, 3, 17)), table.net(50_000, t, region=(2, 9, 3, 17)))
        assert np.array_equal(anchored.net(t, region=(1, 12, 0, 20, 2)), table.net(50_000, t)[1:12:2, 0:20:2])
        on_b, off_b, on_a, off_a = table.split_counts(t)
        assert np.array_equal(on_b - off_b, table.net(-1, t)) and np.array_equal(on_a - off_a, table.net(t, 10**9))
        assert (on_b + off_b + on_a + off_a).sum() == len(ev)
