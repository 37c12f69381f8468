"""Refocusing with events (Eq. 8) and spikes (Eq. 9)."""

import numpy as np
import pytest

from neurofocus.aif.refocus import EventRefocuser, SpikeRefocuser, patch_regions, spike_half_window, upsample_grid
from neurofocus.color import LUMINANCE_WEIGHTS, linear_to_srgb, srgb_to_linear
from neurofocus.represent import PolarityTable
from neurofocus.types import Events, Spikes


def test_event_refocus_applies_exp_c_times_net_in_linear_light_forwards_and_backwards():
    rng = np.random.default_rng(0)
    image = rng.uniform(0.2, 0.8, (4, 5, 3)).astype(np.float32)
    # pixel (1, 2): 3 ON events after the image time (t = 100), 2 OFF before it
    events = Events.from_arrays([20, 40, 150, 160, 170], [2] * 5, [1] * 5, [0, 0, 1, 1, 1], (5, 4))
    r = EventRefocuser(image, 100, PolarityTable(events), 0.25, smoothing_px=0)
    linear = srgb_to_linear(image)
    forward = srgb_to_linear(r.refocus(200))
    assert np.allclose(forward[1, 2], linear[1, 2] * np.exp(0.25 * 3), atol=1e-5)
    backward = srgb_to_linear(r.refocus(0))
    assert np.allclose(backward[1, 2], linear[1, 2] * np.exp(0.25 * 2), atol=1e-5)  # undoing two darkenings
    untouched = np.ones((4, 5), bool)
    untouched[1, 2] = False
    assert np.allclose(forward[untouched], linear[untouched], atol=1e-6)
    # chromaticity (channel ratios) is the image's
    assert np.allclose(forward[1, 2] / forward[1, 2].sum(), linear[1, 2] / linear[1, 2].sum(), atol=1e-5)


def test_leak_detrending_removes_a_steady_on_stream():
    image = np.full((2, 2, 3), 0.5, np.float32)
    t = np.arange(0, 1_000_000, 10_000)  # one ON event every 10 ms at every pixel: pure leak
    n = len(t)
    events = Events.from_arrays(np.repeat(t, 4), np.tile([0, 1, 0, 1], n), np.tile([0, 0, 1, 1], n),
                                np.ones(4 * n), (2, 2))
    table = PolarityTable(events)
    plain = EventRefocuser(image, 500_000, table, 0.2, sweep_us=(0, 1_000_000), detrend="off", smoothing_px=0)
    auto = EventRefocuser(image, 500_000, table, 0.2, sweep_us=(0, 1_000_000), smoothing_px=0)
    assert plain.refocus(900_000).mean() > 0.9  # 40 ON events: saturated
    assert abs(auto.refocus(900_000).mean() - 0.5) < 0.02  # detrended: unchanged


def test_contrast_estimate_recovers_the_simulated_threshold(ideal_sweep):
    sweep = ideal_sweep
    r = EventRefocuser(sweep.image, sweep.image_time_us, PolarityTable(sweep.events),
                       sweep_us=(sweep.sweep_start_us, sweep.sweep_end_us))
    contrast = r.estimate_contrast(sweep.sweep_start_us, sweep.sweep_end_us)
    assert contrast.shape == r.luminance.shape
    assert 0.12 <= float(np.median(contrast)) <= 0.3  # the simulator's C = 0.2 ± 0.03


def test_spike_refocus_follows_the_change_of_rate():
    frames = np.zeros((400, 6, 8), bool)
    frames[:200, :, :4] = np.arange(200)[:, None, None] % 4 == 0   # left half: rate 0.25, then 0.5
    frames[200:, :, :4] = np.arange(200)[:, None, None] % 2 == 0
    frames[:, :, 4:] = np.arange(400)[:, None, None] % 4 == 0      # right half: constant 0.25
    spikes = Spikes.from_frames(frames, tick_us=50.0)
    image = linear_to_srgb(np.full((6, 8, 3), 0.25, np.float32))
    r = SpikeRefocuser(image, 100 * 50, spikes, half_window=40, gain_sigma_px=0.5)
    at_image = srgb_to_linear(r.refocus(100 * 50)) @ LUMINANCE_WEIGHTS
    later = srgb_to_linear(r.refocus(300 * 50)) @ LUMINANCE_WEIGHTS
    assert np.allclose(at_image, 0.25, atol=0.01)  # at the image time: the image itself
    assert np.allclose(later[:, 4:], 0.25, atol=0.01)  # no change of rate: no change
    assert np.all(later[:, :2] > 0.4)  # the rate doubled: about twice as bright
    assert spike_half_window(spikes, (0, 1_000_000), 0.015) == 300


def test_patch_helpers():
    regions = patch_regions((10, 13), 3)
    assert len(regions) == 9 and regions[0][:2] == (0, 3) and regions[-1] == (7, 10, 9, 13)
    grid = np.arange(9, dtype=float).reshape(3, 3)
    up = upsample_grid(grid, (30, 30))
    assert up[0, 0] == 0 and up[-1, -1] == 8 and up[15, 15] == pytest.approx(4, abs=0.25)  # centres: 4.5, 14.5, 24.5
