import math

import numba
import numpy as np
import pytest

from neurofocus.errors import NeurofocusError
from neurofocus.represent import tfp
from neurofocus.simulate import rng
from neurofocus.simulate.rng import normal as _normal
from neurofocus.simulate.spikes import SpikeParams, SpikeSimulator, simulate_spikes
from neurofocus.types import Spikes

TICK = 50.0


def constant(intensity, n_ticks, height=4, width=13):
    """Two frames holding ``intensity`` (scalar or per column) over n_ticks ticks from t = 0."""
    image = np.broadcast_to(np.asarray(intensity, np.float64), (height, width))
    return np.stack([image, image]), np.array([0.0, n_ticks * TICK])


def zigzag(height=3, width=11, seed=5, n_frames=60):
    """Frames alternating dark and bright at irregular times (gaps 15..140 µs, so some ticks straddle several frames,
    others lie inside one segment); a different brightness per column. The last frame ends a tick."""
    r = np.random.default_rng(seed)
    gaps = r.uniform(15, 140, n_frames - 1)
    times = np.concatenate([[0.0], np.cumsum(gaps)])
    times[-1] = math.floor(times[-1] / TICK) * TICK
    assert np.all(np.diff(times) > 0)
    level = np.where(np.arange(n_frames) % 2, 1.0, 0.1) * r.uniform(0.3, 1.0, n_frames)
    frames = level[:, None, None] * np.linspace(0.2, 1.0, width)[None, None, :] * np.ones((1, height, 1))
    return frames, times


def integral(frames, times, t0, t1):
    """Exact integral of the piecewise-linear intensity over [t0, t1] (µs · intensity), per pixel."""
    grid = np.union1d(times, [t0, t1])
    grid = grid[(grid >= t0) & (grid <= t1)]
    flat = frames.reshape(len(frames), -1)
    values = np.stack([np.interp(grid, times, flat[:, i]) for i in range(flat.shape[1])], axis=1)
    area = ((values[1:] + values[:-1]) / 2 * np.diff(grid)[:, None]).sum(axis=0)
    return area.reshape(frames.shape[1:])


# 1. rate vs intensity ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("params, intensities", [
    (SpikeParams(), [0.0, 0.1, 0.3, 0.5, 0.77, 1.0]),
    (SpikeParams(max_rate=0.9, dark_rate=0.05), [0.0, 0.2, 0.6, 1.0]),  # 0.95 at I = 1
    (SpikeParams(max_rate=1.0, dark_rate=0.2), [0.0, 0.5, 0.8, 0.85, 1.0]),  # saturates from I = 0.8
])
def test_rate_follows_intensity_and_saturates(params, intensities):
    n = 1500
    levels = np.resize(np.asarray(intensities), 13)
    sp = simulate_spikes(*constant(levels, n), params, seed=3)
    assert sp.shape == (n, 4, 13) and sp.tick_us == TICK and sp.start_us == 0.0
    rate = np.minimum(1.0, params.max_rate * levels + params.dark_rate)
    counts = sp.count()
    assert np.all(np.abs(counts - n * rate) <= 1), (counts[0], n * rate)
    saturated = rate == 1.0
    assert np.all(counts[:, saturated] == n)  # exactly one spike every tick, never more
    if params.dark_rate == 0:
        assert not counts[:, levels == 0].any()


def test_saturated_pixel_does_not_bank_charge():
    # increment 1.5 per tick for 1000 ticks, then 0.5: the excess carried over is at most one spike's worth
    frames = np.stack([np.ones((2, 9)), np.ones((2, 9)), np.zeros((2, 9)), np.zeros((2, 9))])
    times = np.array([0.0, 1000 * TICK, 1001 * TICK, 1101 * TICK])
    sp = simulate_spikes(frames, times, SpikeParams(max_rate=1.0, dark_rate=0.5))
    assert sp.num_ticks == 1101 and np.all(sp.count(0, 1001) == 1001)
    assert np.all(np.abs(sp.count(1001) - 0.5 * 100) <= 1)


def test_tfp_is_proportional_to_intensity():
    levels = np.linspace(0.0, 1.0, 13)
    sp = simulate_spikes(*constant(levels, 1001), seed=1)
    h = 400
    image = tfp(sp, 500, h)
    assert np.allclose(image, 0.5 * levels, atol=1.0 / (2 * h + 1) + 1e-6)
    slope = (image * levels).sum() / (levels * levels).sum() / image.shape[0]
    assert slope == pytest.approx(0.5, rel=0.01)


# 2. reset ----------------------------------------------------------------------------------------------------------
def test_reset_to_zero_fires_every_ceil_inverse_rate_ticks():
    n, rate = 600, 0.375  # 0.5 · 0.75, exact in binary; 1 / rate = 2.67 ticks
    frames, times = constant(0.75, n)
    subtract = SpikeSimulator((13, 4), SpikeParams(), seed=9)
    zero = SpikeSimulator((13, 4), SpikeParams(reset="zero"), seed=9)
    p0 = zero.potential
    assert np.array_equal(p0, subtract.potential) and np.all((p0 >= 0) & (p0 < 1)) and np.unique(p0).size == p0.size
    sp_sub, sp_zero = subtract.feed(frames, times), zero.feed(frames, times)
    # subtraction: floor(p0 + n·rate) spikes, mean rate 0.375
    assert np.array_equal(sp_sub.count(), np.floor(p0 + n * rate).astype(int))
    # reset to zero: first spike at the first tick k with p0 + (k + 1)·rate >= 1, then every ceil(1/rate) = 3 ticks
    first = np.ceil((1 - p0) / rate).astype(int) - 1
    expected = np.zeros((n, 4, 13), bool)
    for y in range(4):
        for x in range(13):
            expected[first[y, x]::3, y, x] = True
    assert np.array_equal(sp_zero.frames(), expected)
    assert sp_zero.count().sum() < sp_sub.count().sum()
    assert sp_zero.firing_rate == pytest.approx(1 / 3, abs=1 / n)


# 3. ticks straddling frames, chunking ------------------------------------------------------------------------------
@pytest.mark.parametrize("start_us", [None, 30.0])
def test_piecewise_linear_intensity_is_integrated_exactly(start_us):
    frames, times = zigzag()
    params = SpikeParams(max_rate=0.8)
    sim = SpikeSimulator((11, 3), params, start_us=start_us, seed=2)
    p0 = sim.potential
    sp = sim.feed(frames, times)
    t0 = 0.0 if start_us is None else start_us
    n = int((times[-1] - t0) // TICK)
    assert sp.num_ticks == n == sim.num_ticks and sp.start_us == t0
    charge = params.max_rate * integral(frames, times, t0, t0 + n * TICK) / TICK
    counts = sp.count()
    assert np.all(np.abs(counts - charge) <= 1)
    # the exact book-keeping: what came in = what was fired + what is left
    assert np.allclose(sim.potential + counts - p0, charge, rtol=0, atol=1e-9)


def test_chunked_feeding_equals_feeding_at_once():
    frames, times = zigzag(n_frames=80)
    params = SpikeParams(gain_sigma=0.1, noise_sigma=0.1, hot_pixel_fraction=0.2, hot_pixel_rate=0.05)
    whole = SpikeSimulator((11, 3), params, seed=4).feed(frames, times)
    sim = SpikeSimulator((11, 3), params, seed=4)
    parts = [sim.feed(frames[i:i + 1], times[i:i + 1]) for i in range(len(frames))]
    assert parts[0].num_ticks == 0  # one frame spans no time
    assert any(p.num_ticks == 0 for p in parts[1:]) and any(p.num_ticks > 1 for p in parts)
    done = 0
    for p in parts:
        assert p.start_us == done * TICK and p.tick_us == TICK
        done += p.num_ticks
    assert Spikes.concatenate(parts) == whole
    assert simulate_spikes(frames, times, params, seed=4, chunk_frames=7) == whole


# 4. fixed-pattern non-uniformity ----------------------------------------------------------------------------------
def test_gain_non_uniformity_spreads_rates():
    n, sigma = 2000, 0.1
    frames, times = constant(0.5, n, 64, 64)
    rates = simulate_spikes(frames, times, SpikeParams(gain_sigma=sigma), seed=11).count() / n
    assert rates.mean() == pytest.approx(0.25, rel=0.01)
    assert rates.std() == pytest.approx(sigma * 0.25, rel=0.06)
    uniform = simulate_spikes(frames, times, seed=11).count() / n
    assert np.abs(uniform - 0.25).max() <= 1 / n


# 5. temporal noise and hot pixels --------------------------------------------------------------------------------
def test_ziggurat_normal_sampler():
    @numba.njit
    def draw(n):
        out = np.empty(n)
        s = rng.stream_state(123, 7)
        for i in range(n):
            out[i], s = _normal(s)
        return out

    z = draw(1_000_000)
    assert abs(z.mean()) < 0.004 and z.std() == pytest.approx(1, abs=0.003)
    for a, p in ((1.0, 0.31731), (2.0, 0.0455), (3.0, 0.0027), (3.6541528853610088, 2.5803e-4)):
        assert (np.abs(z) > a).mean() == pytest.approx(p, rel=5 * math.sqrt((1 - p) / (p * len(z))))
    hist = np.histogram(z, bins=np.linspace(-4, 4, 81))[0] / len(z)
    expected = np.diff([0.5 * math.erfc(-b / math.sqrt(2)) for b in np.linspace(-4, 4, 81)])
    assert np.abs(hist - expected).max() < 6e-4
    assert (z < 0).mean() == pytest.approx(0.5, abs=0.002)


@numba.njit
def _replay_noisy_pixel(seed, index, n, increment, sigma):
    """(potential, spikes) of one pixel after n ticks of a constant increment with noise, from its stream: initial
    potential (uniform), gain (normal), hot flag (uniform), then one ziggurat normal per tick."""
    state = rng.stream_state(seed, index)
    p, state = rng.uniform(state)
    _, state = rng.normal(state)
    _, state = rng.uniform(state)
    fired = 0
    for _ in range(n):
        z, state = _normal(state)
        p += max(0.0, increment + sigma * math.sqrt(increment) * z)
        if p >= 1:
            p = min(p - 1, 1.0)
            fired += 1
    return p, fired


def test_noise_draws_follow_the_pixel_streams():
    n, sigma, seed, width = 40, 0.7, 21, 19
    frames, times = constant(0.6, n, 2, width)
    sim = SpikeSimulator((width, 2), SpikeParams(noise_sigma=sigma), seed=seed)
    counts = sim.feed(frames, times).count()
    for y in range(2):
        for x in range(width):
            p, fired = _replay_noisy_pixel(seed, y * width + x, n, 0.3, sigma)
            assert sim.potential[y, x] == pytest.approx(p, abs=1e-9) and counts[y, x] == fired


def test_temporal_noise_keeps_the_mean_rate():
    n, sigma = 2000, 0.2
    frames, times = constant(0.5, n, 64, 64)
    counts = simulate_spikes(frames, times, SpikeParams(noise_sigma=sigma), seed=5).count()
    assert counts.mean() / n == pytest.approx(0.25, rel=0.02)
    # the potential random-walks: count variance = n·σ²·Δ (+ 2/12 from the uniform start and end potentials)
    assert counts.std() == pytest.approx(math.sqrt(n * sigma ** 2 * 0.25 + 2 / 12), rel=0.1)


@pytest.mark.parametrize("intensity", [0.0, 0.4])
def test_hot_pixels(intensity):
    n, fraction, hot_rate = 2000, 0.05, 0.02
    frames, times = constant(intensity, n, 64, 64)
    params = SpikeParams(hot_pixel_fraction=fraction, hot_pixel_rate=hot_rate)
    base = 0.5 * intensity
    excess = simulate_spikes(frames, times, params, seed=6).count() - n * base
    hot = excess > 10  # a normal pixel is within ±1; a hot one gets hot_rate·(1 − base)·n = 40 or 32 extra spikes
    assert np.all(np.abs(excess[~hot]) <= 1)
    assert hot.mean() == pytest.approx(fraction, abs=0.015)
    assert excess[hot].mean() / n == pytest.approx(hot_rate * (1 - base), rel=0.1)


# 6. determinism -------------------------------------------------------------------------------------------------
def test_deterministic_for_a_seed_whatever_the_threads():
    r = np.random.default_rng(0)
    frames = r.uniform(0, 1, (5, 37, 21))
    times = np.array([0.0, 400, 1000, 1300, 2000])
    params = SpikeParams(gain_sigma=0.05, noise_sigma=0.3, hot_pixel_fraction=0.1, dark_rate=0.01)
    a = simulate_spikes(frames, times, params, seed=7, workers=1)
    assert a.num_ticks == 40 and a.num_spikes > 0
    assert simulate_spikes(frames, times, params, seed=7, workers=1) == a
    assert simulate_spikes(frames, times, params, seed=7, workers=2, chunk_frames=2) == a
    assert simulate_spikes(frames, times, params, seed=7, workers=5) == a
    assert simulate_spikes(frames, times, params, seed=8, workers=2) != a


# 7. bad input ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("field, value", [
    ("max_rate", 0.0), ("max_rate", 1.5), ("dark_rate", -0.1), ("gain_sigma", -1.0), ("noise_sigma", float("nan")),
    ("hot_pixel_fraction", 1.5), ("hot_pixel_rate", -0.01), ("max_rate", "0.5"), ("reset", "hard"),
])
def test_bad_params(field, value):
    with pytest.raises(NeurofocusError, match=field):
        SpikeParams(**{field: value})


def test_bad_input():
    frames, times = constant(0.5, 10)
    sim = SpikeSimulator((13, 4))
    with pytest.raises(NeurofocusError, match="shape"):
        sim.feed(frames[:, :, :12], times)
    with pytest.raises(NeurofocusError, match="timestamps"):
        sim.feed(frames, times[:1])
    with pytest.raises(NeurofocusError, match="increasing"):
        sim.feed(frames, times[::-1])
    bad = frames.copy()
    bad[1, 2, 3] = np.nan
    with pytest.raises(NeurofocusError, match="NaN"):
        sim.feed(bad, times)
    with pytest.raises(NeurofocusError, match=r"\[0, 1\]"):
        sim.feed(frames * 3, times)
    with pytest.raises(NeurofocusError, match=r"\[0, 1\]"):
        sim.feed(frames - 0.6, times)
    assert sim.num_ticks == 0  # rejected input changes nothing
    sim.feed(frames, times)
    with pytest.raises(NeurofocusError, match="increasing"):  # must come after the previous chunk
        sim.feed(frames[:1], times[-1:])
    with pytest.raises(NeurofocusError, match="start_us"):
        SpikeSimulator((13, 4), start_us=-10.0).feed(frames, times)
    with pytest.raises(NeurofocusError, match="shape"):
        simulate_spikes(frames[0], times)
    with pytest.raises(NeurofocusError, match="timestamps"):
        simulate_spikes(frames, np.arange(3.0))
    for kwargs, name in (({"tick_us": 0}, "tick_us"), ({"seed": -1}, "seed"), ({"workers": 0}, "workers"),
                         ({"chunk_frames": 0}, "chunk_frames")):
        with pytest.raises(NeurofocusError, match=name):
            simulate_spikes(frames, times, **kwargs)
    with pytest.raises(NeurofocusError, match="sensor size"):
        SpikeSimulator((0, 4))
