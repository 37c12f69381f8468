"""DVS-Voltmeter: deterministic limits, statistics against the model's formulas, agreement with the literal
transcription of the published algorithm, the C kernel's events against those of the numba kernel it replaced."""

import hashlib
import platform
import sys

import numpy as np
import pytest
from scipy import stats

from neurofocus.errors import NeurofocusError
from neurofocus.simulate.dvs_voltmeter import (DvsVoltmeter, VoltmeterParams, _event_buffers, _simulate_rows, gray8,
                                               reference_dvs_voltmeter, simulate_dvs_voltmeter)
from neurofocus.simulate.streaming import stream_states

DVS346 = VoltmeterParams.preset("DVS346")


def constant_frames(values, shape=(10, 20)):
    return np.stack([np.full(shape, v, np.float64) for v in values])


def per_pixel_counts(ev):
    return np.bincount(ev.y.astype(np.int64) * ev.width + ev.x, minlength=ev.width * ev.height)


def test_step_gives_one_on_event_at_the_deterministic_time():
    ev = simulate_dvs_voltmeter(constant_frames([100, 150]), [0, 1000], DVS346, seed=1)
    mu = 5.265 * (50 / 1000) / (125 + 20) + 1e-7 + 5e-9 * 125
    assert len(ev) == 200 and np.all(ev.p == 1)  # brightening: +1 everywhere
    assert np.all(np.abs(ev.t - 1 / mu) <= 1)  # 550.8 µs


def test_ramp_gives_the_predicted_event_count():
    frames = constant_frames(np.linspace(50, 200, 11))
    ev = simulate_dvs_voltmeter(frames, np.arange(11) * 1000, DVS346, seed=2)
    assert np.all(per_pixel_counts(ev) == 6) and np.all(ev.p == 1)
    down = simulate_dvs_voltmeter(frames[::-1], np.arange(11) * 1000, DVS346, seed=2)
    assert len(down) and np.all(down.p == -1)


def test_static_pixel_leaks_on_events_at_k4_plus_k5_l():
    frames = constant_frames([200] * 101)
    ev = simulate_dvs_voltmeter(frames, np.arange(101) * 1_000_000, DVS346, seed=3)  # 100 s
    expected = (1e-7 + 5e-9 * 200) * 100e6  # 110 events
    counts = per_pixel_counts(ev)
    assert np.all(ev.p == 1)
    assert counts.mean() == pytest.approx(expected, abs=1.0)


# a stochastic regime: constant light, μ = k5·L = 3e-3 /µs, σ = k3·√L/(L + k2) = 0.1 /√µs
STOCHASTIC = VoltmeterParams(k1=5.0, k2=20.0, k3=1.2, k4=0.0, k5=3e-5, k6=1e-9)
MU, SIGMA = 3e-3, 0.1 + 1e-9


def first_event_times(ev):
    """Time and polarity of each pixel's first event."""
    pix = ev.y.astype(np.int64) * ev.width + ev.x
    order = np.lexsort((ev.t, pix))
    first = np.concatenate([[True], pix[order][1:] != pix[order][:-1]])
    return ev.t[order][first].astype(float), ev.p[order][first]


@pytest.fixture(scope="module")
def stochastic_first_events():
    # one interval of constant light; the first event of each pixel starts from r = 0 (A = B = 1). (Later events of
    # an interval are biased: the draw that overshoots the interval's end is not emitted, and long draws are more
    # often ON, so only first events are compared with the single-draw formulas.)
    ev = simulate_dvs_voltmeter(constant_frames([100, 100], (150, 150)), [0, 5000], STOCHASTIC, seed=4)
    return first_event_times(ev)


def test_polarity_frequency_matches_the_two_barrier_formula(stochastic_first_events):
    _, p = stochastic_first_events
    p_on = 1 / (1 + np.exp(-2 * MU / SIGMA**2))
    on = int(np.count_nonzero(p > 0))
    assert stats.binomtest(on, len(p), p_on).pvalue > 0.01
    # the same check rejects a model whose drift is half as large
    wrong = 1 / (1 + np.exp(-MU / SIGMA**2))
    assert stats.binomtest(on, len(p), wrong).pvalue < 1e-6


def test_first_passage_times_follow_the_inverse_gaussian(stochastic_first_events):
    t, p = stochastic_first_events
    t_on = t[p > 0]
    mean, shape = 1 / MU, (1 / SIGMA) ** 2
    assert stats.kstest(t_on, stats.invgauss(mean / shape, scale=shape).cdf).pvalue > 0.01
    wrong = 1.2 * mean  # a model whose drift is 1/6 too weak (mean passage time 20 % longer) is detected
    assert stats.kstest(t_on, stats.invgauss(wrong / shape, scale=shape).cdf).pvalue < 1e-6


def test_agrees_with_the_transcription_of_the_published_algorithm():
    rng = np.random.default_rng(0)
    # a textured scene sliding sideways, with extra diffusion so that the comparison is statistical
    base = rng.uniform(20, 230, (30, 80))
    frames = np.stack([np.roll(base, k, axis=1) for k in range(0, 40, 2)])[:, :, :40]
    times = np.cumsum(rng.integers(800, 1200, len(frames)))
    params = VoltmeterParams(4.8, 21.0, 2.5e-3, 1e-7, 2e-8, 1e-5)
    ours = simulate_dvs_voltmeter(frames, times, params, seed=6)
    ref = reference_dvs_voltmeter(frames, times, params, np.random.default_rng(7))
    assert len(ours) == pytest.approx(len(ref), rel=0.03)
    assert ours.polarity_stats().on_fraction == pytest.approx(ref.polarity_stats().on_fraction, abs=0.01)
    assert np.abs(per_pixel_counts(ours).mean() - per_pixel_counts(ref).mean()) < 0.03 * per_pixel_counts(ref).mean()
    # timing within the frame interval
    phase = lambda ev: (ev.t - times[np.searchsorted(times, ev.t, side="right") - 1]).astype(float)
    assert stats.ks_2samp(phase(ours), phase(ref)).pvalue > 0.001


def test_deterministic_for_a_seed_and_independent_of_threads_and_chunks():
    rng = np.random.default_rng(1)
    frames = rng.uniform(0, 255, (12, 16, 24))
    times = np.arange(12) * 1000
    params = VoltmeterParams(4.8, 21.0, 2e-3, 1e-7, 2e-8, 1e-5)
    a = simulate_dvs_voltmeter(frames, times, params, seed=9, workers=1)
    b = simulate_dvs_voltmeter(frames, times, params, seed=9, workers=2, chunk_frames=5)
    sim = DvsVoltmeter((24, 16), params, seed=9)
    from neurofocus.types import Events
    c = Events.concatenate([sim.feed(frames[i:i + 1], times[i:i + 1]) for i in range(12)])
    assert a == b == c
    assert simulate_dvs_voltmeter(frames, times, params, seed=10) != a


def fingerprint(ev):
    """(count, the first 16 hex digits of the SHA-256 of the t, x, y and p arrays)."""
    fields = b"".join(np.ascontiguousarray(getattr(ev, f)).tobytes() for f in "txyp")
    return len(ev), hashlib.sha256(fields).hexdigest()[:16]


def random_walk_frames():
    """12 frames 40×301 uint8 of a random walk (±30 per frame; 301 columns: beyond a 256-pixel span, not a multiple
    of 4) and their irregular times (µs)."""
    rng = np.random.default_rng(20)
    walk = np.cumsum(rng.integers(-30, 31, (12, 40, 301)), axis=0) + rng.integers(40, 200, (1, 40, 301))
    return np.clip(walk, 0, 255).astype(np.uint8), np.cumsum(rng.uniform(500, 1500, 12))


# much diffusion: most draws need the polarity draw (|2μB/σ²| < 40) and many go against the drift
STRONG_NOISE = VoltmeterParams(k1=5.0, k2=20.0, k3=1.2, k4=0.0, k5=3e-5, k6=1e-9)


@pytest.mark.skipif(sys.platform != "linux" or platform.machine() != "x86_64", reason="fingerprints of glibc's libm")
def test_the_c_kernel_makes_the_events_of_the_numba_kernel_it_replaced():
    """Fingerprints of the numba kernel's events (neurofocus before the C port; glibc x86-64): 8-bit frames with the
    DVS346 preset, float frames with random parameters, and the strong-noise regime (polarity draws, truncated
    normal), in chunks of 5 frames."""
    frames, times = random_walk_frames()
    cases = ((VoltmeterParams.preset("DVS346"), frames, (48104, "0fa92d448aaf0911")),
             (VoltmeterParams.random(np.random.default_rng(7)), frames * 0.7, (32851, "fcbcf17263dc133c")),
             (STRONG_NOISE, frames[:, :6], (122640, "75fcaf9e95975bd5")))
    for params, chunk, expected in cases:
        assert fingerprint(simulate_dvs_voltmeter(chunk, times, params, seed=11, chunk_frames=5, workers=1)) == expected


@pytest.mark.parametrize("params", [DVS346, STRONG_NOISE], ids=["DVS346", "strong-noise"])
@pytest.mark.parametrize("dtype", [np.uint8, np.float64])
def test_the_vector_first_draws_change_nothing(params, dtype):
    """The kernel's AVX2 first draws (where the CPU has them) give the events, residuals and streams of the scalar
    ones."""
    frames, times = random_walk_frames()
    frames = frames.astype(dtype)
    results = []
    for vector in (False, True):
        resid, states, out = np.zeros(8 * 301), stream_states(5, 8 * 301), _event_buffers(1 << 20)
        n = _simulate_rows(frames, times, params.as_array(), 3, 11, resid, states, *out, vector=vector)
        assert n > 0
        results.append([resid, states] + [a[:n] for a in out])
    assert all(np.array_equal(a, b) for a, b in zip(*results))


def test_a_full_output_is_reported_not_overrun():
    frames, times = random_walk_frames()
    resid, states, room = np.zeros(40 * 301), stream_states(5, 40 * 301), _event_buffers(110)
    for a in room:
        a[100:] = 7
    assert _simulate_rows(frames, times, DVS346.as_array(), 0, 40, resid, states, *(a[:100] for a in room)) == -1
    assert all(np.all(a[100:] == 7) for a in room)


def test_gray8_matches_opencv_luma():
    colours = np.array([[[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.5]]])
    # OpenCV: (4899 R + 9617 G + 1868 B + 8192) >> 14 on 8-bit values
    assert gray8(colours).tolist() == [[255, 76, 150, 29, 128]]


def test_parameters_and_bad_input():
    assert VoltmeterParams.parse("DVS240") == VoltmeterParams.preset("dvs240")
    assert VoltmeterParams.parse("1,2,3,4,5,6").k6 == 6
    with pytest.raises(NeurofocusError):
        VoltmeterParams.parse("1,2,3")
    params = VoltmeterParams.random(np.random.default_rng(0))
    assert 4.0 <= params.k1 <= 5.5 and 3e-9 <= params.k5 <= 8e-8
    sim = DvsVoltmeter((4, 3), DVS346)
    with pytest.raises(NeurofocusError, match="shape"):
        sim.feed(np.zeros((2, 4, 3)), [0, 1])
    with pytest.raises(NeurofocusError, match="increasing"):
        sim.feed(np.zeros((2, 3, 4)), [5, 5])
    with pytest.raises(NeurofocusError, match="NaN"):
        sim.feed(np.full((2, 3, 4), np.nan), [0, 1])
