"""The ideal (ESIM-style) DVS simulator: exact crossing counts and times, mismatch, refractory period, leak, shot
noise, chunking and thread invariance, bad input."""

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

from neurofocus.errors import NeurofocusError
from neurofocus.simulate.ideal_events import IdealEventSimulator, IdealParams, simulate_ideal_events
from neurofocus.types import Events

EPS = 1e-3


def log_i(intensity):
    return np.log(EPS + np.asarray(intensity, np.float64))


def per_pixel(ev: Events):
    """{(x, y): (t array, p array)} in stream order."""
    out = {}
    for x, y in set(zip(ev.x.tolist(), ev.y.tolist())):
        mask = (ev.x == x) & (ev.y == y)
        out[(x, y)] = (ev.t[mask], ev.p[mask])
    return out


def pixel_groups(ev: Events):
    """Pixel index (y·W + x), its event count and the sorted-by-pixel (stable) times and polarities."""
    pix = ev.y.astype(np.int64) * ev.width + ev.x
    order = np.argsort(pix, kind="stable")
    pix, t, p = pix[order], ev.t[order], ev.p[order]
    counts = np.bincount(pix, minlength=ev.width * ev.height)
    return counts, pix, t, p


def expected_ramp(i0, i1, t0, t1, c, polarity):
    """Events of a one-interval ramp from the reference L0, as the papers define them, sorted as the simulator
    orders ties (time, row, column)."""
    l0, l1 = log_i(i0), log_i(i1)
    rows = []
    h, w = i0.shape
    for y in range(h):
        for x in range(w):
            dl = (l1[y, x] - l0[y, x]) * polarity
            frac = dl / c
            assert abs(frac - round(frac)) > 1e-6  # keep clear of ties, so the expectation is exact
            for k in range(1, int(math.floor(frac)) + 1):
                t = t0 + k * c / dl * (t1 - t0)
                assert abs(t - math.floor(t) - 0.5) > 1e-6
                rows.append((int(np.rint(t)), y, x))
    rows.sort()
    return (np.array([r[0] for r in rows], np.int64), np.array([r[2] for r in rows]), np.array([r[1] for r in rows]))


# 1, 7 ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("polarity", [1, -1])
def test_ramp_gives_exact_counts_and_times(polarity):
    g = np.random.default_rng(1)
    lo, hi = g.uniform(0.01, 0.1, (4, 5)), g.uniform(0.3, 1.0, (4, 5))
    i0, i1 = (lo, hi) if polarity > 0 else (hi, lo)
    params = IdealParams(contrast_pos=0.15, contrast_neg=0.25, threshold_sigma=0.0)
    t0, t1 = 1000.0, 1_000_003.0
    ev = simulate_ideal_events(np.stack([i0, i1]), [t0, t1], params, workers=2)
    c = params.contrast_pos if polarity > 0 else params.contrast_neg
    t, x, y = expected_ramp(i0, i1, t0, t1, c, polarity)
    assert ev.sensor_size == (5, 4)
    assert len(ev) == len(t) > 20 * 5
    np.testing.assert_array_equal(ev.t, t)
    np.testing.assert_array_equal(ev.x, x)
    np.testing.assert_array_equal(ev.y, y)
    assert np.all(ev.p == polarity)


def test_polarity_convention_brighter_is_on():
    frames = np.array([[[0.1, 0.5]], [[0.5, 0.1]]])  # pixel 0 brightens, pixel 1 darkens
    ev = simulate_ideal_events(frames, [0, 1000], IdealParams(threshold_sigma=0.0))
    assert len(ev) > 0
    assert set(ev.p[ev.x == 0].tolist()) == {1}
    assert set(ev.p[ev.x == 1].tolist()) == {-1}


# 2 ----------------------------------------------------------------------------------------------------------------
def test_up_then_down_over_several_frames():
    g = np.random.default_rng(2)
    h, w = 6, 7
    base = g.uniform(0.02, 0.1, (h, w))
    peak = g.uniform(0.4, 1.0, (h, w))
    end = g.uniform(0.01, 0.3, (h, w))
    s = np.linspace(0, 1, 4)[:, None, None]
    frames = np.concatenate([base + s * (peak - base), peak + s[1:] * (end - peak)])  # 7 frames, up then down
    times = np.cumsum(g.uniform(500, 3000, len(frames))).round()
    c = 0.2
    ev = simulate_ideal_events(frames, times, IdealParams(c, c, threshold_sigma=0.0), chunk_frames=3)
    # the reference moves on the lattice L0 + kC: up to L0 + n_on·C at the peak, then down by n_off·C
    l0, lp, le = log_i(base), log_i(peak), log_i(end)
    n_on = np.floor((lp - l0) / c).astype(int)
    n_off = np.floor((l0 + n_on * c - le) / c).astype(int)
    events = per_pixel(ev)
    for y in range(h):
        for x in range(w):
            t, p = events.get((x, y), (np.array([]), np.array([])))
            assert p.tolist() == [1] * n_on[y, x] + [-1] * n_off[y, x]
            assert np.all(np.diff(t) >= 0)
            assert np.all(t[p > 0] <= times[3]) and np.all(t[p < 0] >= times[3])
    assert len(ev) == n_on.sum() + n_off.sum()


def test_chunking_does_not_change_the_events():
    g = np.random.default_rng(3)
    frames = np.clip(g.uniform(0, 1, (12, 9, 11)), 0, 1)
    times = np.cumsum(g.integers(200, 2000, 12)).astype(float)
    params = IdealParams(threshold_sigma=0.05, refractory_us=300, leak_rate_hz=50, shot_noise_rate_hz=200)
    whole = simulate_ideal_events(frames, times, params, seed=5, chunk_frames=100, workers=2)
    sim = IdealEventSimulator((11, 9), params, seed=5, workers=3)
    single = Events.concatenate([sim.feed(frames[i:i + 1], times[i:i + 1]) for i in range(len(frames))])
    chunked = simulate_ideal_events(frames, times, params, seed=5, chunk_frames=5, workers=1)
    assert len(whole) > 500
    assert np.count_nonzero(whole.p > 0) > 100 and np.count_nonzero(whole.p < 0) > 100
    assert single == whole
    assert chunked == whole


# 3 ----------------------------------------------------------------------------------------------------------------
def estimated_thresholds(ev, n_pixels, dl, dt, polarity):
    """Per-pixel threshold from the event spacing on a ramp that is linear in L: (t_n − t_1)/(n − 1)·ΔL/Δt."""
    sel = ev.filter(ev.p == polarity)
    counts, pix, t, _ = pixel_groups(sel)
    assert counts.min() >= 3
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    first, last = t[starts].astype(float), t[starts + counts - 1].astype(float)
    return (last - first) / (counts - 1) * dl / dt, counts


def test_threshold_mismatch_statistics():
    h, w = 64, 64
    lo, hi = 0.002, 1.0
    frames = np.stack([np.full((h, w), lo), np.full((h, w), hi), np.full((h, w), lo)])
    dt = 10_000_000.0
    params = IdealParams(contrast_pos=0.2, contrast_neg=0.25, threshold_sigma=0.03)
    sim = IdealEventSimulator((w, h), params, seed=11)
    ev = sim.feed(frames, [0.0, dt, 2 * dt])
    dl = float(log_i(hi) - log_i(lo))
    c_on, n_on = estimated_thresholds(ev, h * w, dl, dt, 1)
    c_off, _ = estimated_thresholds(ev, h * w, dl, dt, -1)
    # the counts are those of the recovered thresholds, which are the simulator's own
    np.testing.assert_array_equal(n_on, np.floor(dl / c_on))
    cpos, cneg = sim.thresholds
    np.testing.assert_allclose(c_on, cpos.ravel(), atol=1e-6)
    np.testing.assert_allclose(c_off, cneg.ravel(), atol=1e-6)
    n = h * w
    for c, nominal in ((c_on, 0.2), (c_off, 0.25)):
        assert abs(c.mean() - nominal) < 4 * 0.03 / math.sqrt(n)
        assert abs(c.std() - 0.03) < 4 * 0.03 / math.sqrt(2 * n)
        assert stats.normaltest(c).pvalue > 1e-3
    assert abs(np.corrcoef(c_on, c_off)[0, 1]) < 4 / math.sqrt(n)
    # no mismatch: every pixel has the nominal thresholds
    ev0 = simulate_ideal_events(frames[:2], [0.0, dt], IdealParams(0.2, 0.25, threshold_sigma=0.0))
    counts0 = pixel_groups(ev0)[0]
    assert np.all(counts0 == math.floor(dl / 0.2))


def test_thresholds_are_clamped():
    h, w = 48, 48
    lo, hi = 0.002, 1.0
    dt = 1_000_000.0
    params = IdealParams(contrast_pos=0.05, threshold_sigma=0.1, min_threshold=0.03)
    frames = np.stack([np.full((h, w), lo), np.full((h, w), hi)])
    ev = simulate_ideal_events(frames, [0.0, dt], params, seed=2)
    c, _ = estimated_thresholds(ev, h * w, float(log_i(hi) - log_i(lo)), dt, 1)
    assert c.min() > 0.03 - 1e-5
    clamped = np.mean(np.abs(c - 0.03) < 1e-5)
    expected = stats.norm.cdf((0.03 - 0.05) / 0.1)
    assert abs(clamped - expected) < 4 * math.sqrt(expected * (1 - expected) / (h * w))


# 4 ----------------------------------------------------------------------------------------------------------------
def test_refractory_period_drops_events_but_moves_the_reference():
    g = np.random.default_rng(4)
    h, w = 6, 6
    low = g.uniform(0.02, 0.06, (h, w))
    high = g.uniform(0.6, 1.0, (h, w))
    # fast rise (crossings ~100-200 µs apart) over 4 frames linear in log intensity, so that the refractory window
    # spans frames; hold; slow fall (crossings milliseconds apart)
    s = np.linspace(0, 1, 5)[:, None, None]
    rise_frames = np.exp((1 - s) * log_i(low) + s * log_i(high)) - EPS
    frames = np.concatenate([rise_frames, [high, low]])
    times = np.array([0.0, 500.0, 1000.0, 1500.0, 2000.0, 100_000.0, 200_000.0])
    refr = 500
    base = IdealParams(threshold_sigma=0.0)
    free = simulate_ideal_events(frames, times, base)
    held = simulate_ideal_events(frames, times, dataclasses.replace(base, refractory_us=refr))
    assert len(held) < len(free)
    free_px, held_px = per_pixel(free), per_pixel(held)
    assert free_px.keys() == held_px.keys()
    dl = log_i(high) - log_i(low)
    for (x, y), (t_free, p_free) in free_px.items():
        t_held, p_held = held_px[(x, y)]
        assert np.all(np.diff(t_held) >= refr)
        # the rise: a greedy choice, on the exact crossing times, of those >= refr after the last emitted one
        rise = times[0] + np.arange(1, math.floor(dl[y, x] / 0.2) + 1) * 0.2 / dl[y, x] * (times[4] - times[0])
        np.testing.assert_array_equal(t_free[p_free > 0], np.rint(rise))
        kept = [rise[0]]
        for t in rise[1:]:
            assert abs(t - kept[-1] - refr) > 1e-6
            if t - kept[-1] >= refr:
                kept.append(t)
        np.testing.assert_array_equal(t_held[p_held > 0], np.rint(kept))
        assert len(kept) < len(rise)
        # the fall starts far beyond the refractory window: every crossing is emitted, from the moved reference
        np.testing.assert_array_equal(t_held[p_held < 0], t_free[p_free < 0])
        assert np.all(np.diff(t_free[p_free < 0]) > refr)


# 5 ----------------------------------------------------------------------------------------------------------------
def test_leak_rate_of_a_static_scene():
    g = np.random.default_rng(5)
    h, w = 40, 50
    scene = g.uniform(0.05, 1.0, (h, w))
    times = np.arange(21) * 1_000_000.0  # 20 s
    rate = 2.0
    ev = simulate_ideal_events(np.repeat(scene[None], len(times), 0), times, IdealParams(leak_rate_hz=rate),
                               chunk_frames=4)
    assert np.all(ev.p == 1)
    counts, _, t, _ = pixel_groups(ev)
    measured = counts / 20.0
    assert abs(measured.mean() - rate) < 0.05 * rate
    assert np.all(np.abs(measured - rate) <= 1 / 20.0)
    # the pixels start at random phases: their first events are spread over one leak period
    first = t[np.concatenate([[0], np.cumsum(counts)[:-1]])] / 1e6
    assert first.max() < 1 / rate + 1e-6 and first.std() > 0.25 / rate


# 6 ----------------------------------------------------------------------------------------------------------------
def test_shot_noise_is_poisson():
    g = np.random.default_rng(6)
    h, w = 60, 60
    scene = g.uniform(0.05, 1.0, (h, w))
    times = np.arange(21) * 1_000_000.0  # 20 s in 1 s frames, fed in chunks of 4
    rate = 5.0
    ev = simulate_ideal_events(np.repeat(scene[None], len(times), 0), times, IdealParams(shot_noise_rate_hz=rate),
                               seed=3, chunk_frames=4)
    n = len(ev)
    assert abs(n / (h * w * 20.0) - rate) < 0.02 * rate
    on = np.count_nonzero(ev.p > 0) / n
    assert abs(on - 0.5) < 4 * 0.5 / math.sqrt(n)
    counts, pix, t, _ = pixel_groups(ev)
    assert abs(counts.var() / counts.mean() - 1) < 0.1  # Poisson counts: variance = mean
    # the first k arrivals of each pixel (all well inside the 20 s window, about 100 per pixel, so the window
    # does not censor the long gaps): their gaps, the first measured from t = 0, are i.i.d. exponential
    k = 50
    assert counts.min() > k
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    arrivals = t[starts[:, None] + np.arange(k)].astype(float)
    gaps = np.diff(arrivals, axis=1, prepend=0.0).ravel()
    assert stats.kstest(gaps, "expon", args=(0, 1e6 / rate)).pvalue > 0.01
    assert stats.kstest(gaps, "expon", args=(0, 1e6 / (2 * rate))).pvalue < 1e-6


# 8 ----------------------------------------------------------------------------------------------------------------
def test_determinism_and_thread_invariance():
    g = np.random.default_rng(8)
    frames = g.uniform(0, 1, (6, 20, 24))
    times = np.arange(6) * 3000.0
    params = IdealParams(threshold_sigma=0.05, shot_noise_rate_hz=100, leak_rate_hz=10, refractory_us=100)
    a = simulate_ideal_events(frames, times, params, seed=1, workers=1)
    assert len(a) > 1000
    assert simulate_ideal_events(frames, times, params, seed=1, workers=1) == a
    assert simulate_ideal_events(frames, times, params, seed=1, workers=2) == a
    assert simulate_ideal_events(frames, times, params, seed=1, workers=5) == a
    assert simulate_ideal_events(frames, times, params, seed=2, workers=2) != a
    # frames 1 µs apart: many events of different frame intervals share a rounded time, and their order must
    # still not depend on the threads or the chunks
    fast = np.arange(6) * 1.0
    no_refractory = IdealParams(threshold_sigma=0.05)
    b = simulate_ideal_events(frames, fast, no_refractory, seed=1, workers=1)
    assert len(b) > 1000 and len(np.unique(b.t)) <= 6
    assert simulate_ideal_events(frames, fast, no_refractory, seed=1, workers=4, chunk_frames=2) == b
    assert (simulate_ideal_events(frames, times, no_refractory, seed=1)
            != simulate_ideal_events(frames, times, no_refractory, seed=2))


def test_first_frame_only_initialises():
    sim = IdealEventSimulator((3, 2), IdealParams(threshold_sigma=0.0))
    assert len(sim.feed(np.zeros((0, 2, 3)), [])) == 0
    assert len(sim.feed(np.full((1, 2, 3), 0.1), [10])) == 0
    ev = sim.feed(np.full((1, 2, 3), 0.9), [20])
    assert len(ev) == 6 * math.floor((log_i(0.9) - log_i(0.1)) / 0.2)
    assert ev.t.min() > 10 and ev.t.max() <= 20


# 9 ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("frames, times, match", [
    (np.zeros((2, 3, 5)), [0, 1], "shape"),
    (np.zeros((2, 4)), [0, 1], "shape"),
    (np.zeros((2, 4, 5)), [0, 0], "increasing"),
    (np.zeros((3, 4, 5)), [0, 2, 1], "increasing"),
    (np.zeros((2, 4, 5)), [0, 1, 2], "timestamps"),
    (np.full((2, 4, 5), np.nan), [0, 1], "NaN"),
    (np.full((2, 4, 5), 1.5), [0, 1], r"\[0, 1\]"),
    (np.full((2, 4, 5), -0.1), [0, 1], r"\[0, 1\]"),
])
def test_bad_frames(frames, times, match):
    with pytest.raises(NeurofocusError, match=match):
        IdealEventSimulator((5, 4)).feed(frames, times)


def test_bad_input_elsewhere():
    sim = IdealEventSimulator((5, 4))
    sim.feed(np.zeros((2, 4, 5)), [0, 10])
    with pytest.raises(NeurofocusError, match="increasing"):
        sim.feed(np.zeros((1, 4, 5)), [10])
    with pytest.raises(NeurofocusError, match="shape"):
        simulate_ideal_events(np.zeros((4, 5)), [0, 1])
    with pytest.raises(NeurofocusError, match="chunk_frames"):
        simulate_ideal_events(np.zeros((2, 4, 5)), [0, 1], chunk_frames=0)
    with pytest.raises(NeurofocusError, match="workers"):
        IdealEventSimulator((5, 4), workers=0)
    with pytest.raises(NeurofocusError, match="seed"):
        IdealEventSimulator((5, 4), seed=-1)


@pytest.mark.parametrize("field, value", [
    ("contrast_pos", 0.0), ("contrast_neg", -0.1), ("threshold_sigma", -0.01), ("min_threshold", 0.0),
    ("refractory_us", -1.0), ("log_eps", 0.0), ("leak_rate_hz", -1.0), ("shot_noise_rate_hz", -2.0),
    ("contrast_pos", float("nan")), ("leak_rate_hz", float("inf")),
])
def test_bad_params_name_the_field(field, value):
    with pytest.raises(NeurofocusError, match=field):
        IdealParams(**{field: value})
