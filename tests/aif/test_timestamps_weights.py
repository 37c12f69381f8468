"""Refocusing-time search, focus measures and the streaming merge."""

import numpy as np
import pytest

from neurofocus.aif.merge import StackMerger
from neurofocus.aif.timestamps import (SearchSettings, _merge, golden_section_max, patch_event_times, search_index,
                                       uniform_times)
from neurofocus.aif.weights import (active_pixels, gradient_energy, local_contrast, oracle, polarity_symmetry,
                                    spike_rate_variance)
from neurofocus.represent import PolarityTable
from neurofocus.types import Events

from ..conftest import random_events


def test_golden_section_finds_the_peak_of_a_unimodal_curve():
    calls = []

    def score(k):
        calls.append(k)
        return -(k - 637) ** 2

    assert abs(golden_section_max(score, 0, 999, 2) - 637) <= 2
    assert len(set(calls)) < 25  # logarithmic number of evaluations


def test_robust_search_handles_two_peaks_where_golden_section_does_not():
    def score(k):  # a narrow global peak at 850 and a broad local one at 200
        return np.exp(-((k - 200) / 150) ** 2) + 1.5 * np.exp(-((k - 850) / 60) ** 2)

    golden = search_index(score, 1000, SearchSettings(search="golden", tolerance=0.002))
    robust = search_index(score, 1000, SearchSettings(search="robust", tolerance=0.002))
    assert abs(robust - 850) <= 3 and abs(golden - 850) > 100


def test_patch_event_times_split_events_by_patch_in_time_order():
    ev = random_events(3000, (40, 30), seed=2)
    per_patch = patch_event_times(ev, (30, 40), 4)
    ys, xs = np.linspace(0, 30, 5).round(), np.linspace(0, 40, 5).round()
    for i, times in enumerate(per_patch):
        r, c = divmod(i, 4)
        inside = (ev.y >= ys[r]) & (ev.y < ys[r + 1]) & (ev.x >= xs[c]) & (ev.x < xs[c + 1])
        assert np.array_equal(times, ev.t[inside])
    assert sum(len(t) for t in per_patch) == len(ev)


def test_merging_and_uniform_times():
    times = np.array([100, 105, 300, 302, 900])
    merged = _merge(times, lambda t: t, 10)
    assert merged.tolist() == [102, 301, 900]
    assert uniform_times(0, 1000, 4).tolist() == [125, 375, 625, 875]


def test_polarity_symmetry_peaks_at_the_in_focus_time():
    # a pixel darkening (OFF) before t = 500 and brightening (ON) after: in focus at 500
    t = [100, 200, 300, 400, 600, 700, 800, 900]
    p = [0, 0, 0, 0, 1, 1, 1, 1]
    table = PolarityTable(Events.from_arrays(t, [0] * 8, [0] * 8, p, (1, 1)))
    f = [float(polarity_symmetry(table, s, 0, 1000, 0.0)[0, 0]) for s in (150, 350, 500, 650, 850)]
    assert int(np.argmax(f)) == 2 and f[2] == 4
    # a steady ON stream (leak) is not mistaken for symmetry once its rate is known
    leak = PolarityTable(Events.from_arrays(np.arange(0, 1000, 10), [0] * 100, [0] * 100, [1] * 100, (1, 1)))
    assert polarity_symmetry(leak, 500, 0, 1000, 0.0, on_drift_rate=np.full((1, 1), 0.1))[0, 0] == 0


def test_image_focus_measures_prefer_sharp_texture():
    rng = np.random.default_rng(0)
    sharp = rng.uniform(0.1, 0.9, (40, 40)).astype(np.float32)
    from scipy import ndimage

    blurred = ndimage.gaussian_filter(sharp, 3)
    assert gradient_energy(sharp, 2).mean() > 10 * gradient_energy(blurred, 2).mean()
    assert local_contrast(sharp, 2).mean() > 10 * local_contrast(blurred, 2).mean()
    assert local_contrast(sharp, 2).mean() == pytest.approx(local_contrast(3 * sharp, 2).mean(), rel=1e-3)
    assert spike_rate_variance(sharp * 0.5, 2).mean() > 5 * spike_rate_variance(blurred * 0.5, 2).mean()


def test_oracle_picks_the_nearest_slice():
    infocus = np.array([[0.0, 40.0, 90.0]])
    masks = [oracle(infocus, np.array([10, 50, 100]), i) for i in range(3)]
    assert np.array_equal(np.stack(masks)[:, 0, :], np.eye(3))


def test_stack_merger_normalises_and_falls_back():
    merger = StackMerger((1, 3), power=1.0)
    a, b = np.full((1, 3, 3), 0.2), np.full((1, 3, 3), 0.8)
    merger.add(a, np.array([[1.0, 3.0, 0.0]]), 10.0)
    merger.add(b, np.array([[1.0, 1.0, 0.0]]), 20.0)
    merged, infocus = merger.result(np.full((1, 3, 3), 0.5), 99.0)
    assert np.allclose(merged[0, :, 0], [0.5, 0.35, 0.5])  # equal weights; 3:1; no signal -> fallback
    assert infocus[0].tolist() == [10.0, 10.0, 99.0]
    sharp = StackMerger((1, 1), power=8.0)
    sharp.add(a[:, :1], np.array([[1.0]]), 0)
    sharp.add(b[:, :1], np.array([[2.0]]), 1)
    assert sharp.result(a[:, :1], 0)[0][0, 0, 0] == pytest.approx((0.2 + 0.8 * 256) / 257)


def test_stack_merger_weights_depend_on_ratios_only():
    a, b = np.full((1, 2, 3), 0.2), np.full((1, 2, 3), 0.8)
    expected = (0.2 + 0.8 * 256) / 257
    for scale in (1e-12, 1.0, 1e12):  # f^8 of these under- or overflows float32; the ratios are what counts
        merger = StackMerger((1, 2), power=8.0)
        merger.add(a, np.array([[1.0, 2.0]]) * scale, 0.0)
        merger.add(b, np.array([[2.0, 1.0]]) * scale, 1.0)
        merged, infocus = merger.result(np.zeros((1, 2, 3)), 5.0)
        assert merged[0, :, 0] == pytest.approx([expected, 1 - expected], rel=1e-4)
        assert infocus[0].tolist() == [1.0, 0.0]
    # a separate timing measure decides the in-focus time, also where the weights left the fallback
    merger = StackMerger((1, 2), power=4.0)
    merger.add(a, np.array([[0.0, 1.0]]), 10.0, timing=np.array([[0.3, 1.0]]))
    merger.add(b, np.array([[0.0, 2.0]]), 20.0, timing=np.array([[0.1, 2.0]]))
    merged, infocus = merger.result(np.full((1, 2, 3), 0.5), 99.0)
    assert merged[0, 0, 0] == 0.5 and infocus[0].tolist() == [10.0, 20.0]


def test_active_pixels_count_events_beyond_the_leak():
    # pixel 0: 3 ON events; pixel 5: 1 event; pixel 9: 6 ON events of which a leak of 5 is expected
    t = [10, 20, 30, 40] + [50 + i for i in range(6)]
    x = [0, 0, 0, 5] + [9] * 6
    events = Events.from_arrays(t, x, [0] * 10, [1] * 10, (10, 1))
    table = PolarityTable(events)
    active = active_pixels(table, 2, None, 100, radius_sigma_px=0.5)[0]
    assert active[0] and active[1] and not active[3] and not active[5] and active[9]
    leak = np.zeros((1, 10), np.float32)
    leak[0, 9] = 0.05  # per µs over 100 µs: 5 events
    active = active_pixels(table, 2, leak, 100, radius_sigma_px=0.5)[0]
    assert active[0] and not active[9]
    assert not active_pixels(table, 0, None, 100).any()
