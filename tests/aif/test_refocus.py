"""Refocusing with events (Eq. 8) and spikes (Eq. 9)."""

import numpy as np
import pytest

from neurofocus.aif.refocus import (EventRefocuser, SpikeRefocuser, colour_line_slope, leak_rate_by_luminance,
                                    patch_regions, recolour, spike_half_window, upsample_grid)
from neurofocus.color import LUMINANCE_WEIGHTS, linear_to_srgb, srgb_to_linear
from neurofocus.represent import PolarityTable
from neurofocus.types import Events, Spikes


def test_event_refocus_applies_exp_c_times_net_in_linear_light_forwards_and_backwards():
    rng = np.random.default_rng(0)
    image = rng.uniform(0.2, 0.8, (4, 5, 3)).astype(np.float32)
    # pixel (1, 2): 3 ON events after the image time (t = 100), 2 OFF before it
    events = Events.from_arrays([20, 40, 150, 160, 170], [2] * 5, [1] * 5, [0, 0, 1, 1, 1], (5, 4))
    r = EventRefocuser(image, 100, PolarityTable(events), 0.25, smoothing_px=0, colour="keep")
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


def test_leak_is_estimated_by_luminance_so_that_the_signal_of_a_few_pixels_survives():
    # 10x10 pixels, left half dark, right half bright; leak: 2 ON events per sweep on the dark half, 6 on the bright
    # half; pixel (2, 2) (dark) also brightens by 3 ON events at 800 ms as it comes into focus
    image = np.full((10, 10, 3), 0.2, np.float32)
    image[:, 5:] = 0.6
    t, x, y, p = [], [], [], []
    for yy in range(10):
        for xx in range(10):
            n = 2 if xx < 5 else 6
            times = list(np.linspace(50_000, 950_000, n).astype(int) + 100 * (yy * 10 + xx))
            if (yy, xx) == (2, 2):
                times += [800_000, 801_000, 802_000]
            t += times
            x += [xx] * len(times)
            y += [yy] * len(times)
            p += [1] * len(times)
    order = np.argsort(t, kind="stable")
    events = Events.from_arrays(*(np.asarray(a)[order] for a in (t, x, y, p)), (10, 10))
    r = EventRefocuser(image, 500_000, PolarityTable(events), 0.2, sweep_us=(0, 1_000_000), smoothing_px=0,
                       colour="keep")
    leak = r.drift_rate * 1e6  # events per sweep
    assert np.allclose(leak[:, :5], 2) and np.allclose(leak[:, 5:], 6)  # by luminance: (2, 2)'s signal is not leak
    gain = r.log_gain(900_000)
    assert gain[2, 2] == pytest.approx(0.2 * (3 - 2 * 0.4), abs=0.05)  # 3 signal events kept (leak ramp removed)
    assert np.abs(np.delete(gain.ravel(), 22)).max() < 0.2 * 1.0  # elsewhere leak only: less than one step left
    # the estimator itself: medians per luminance bin, robust to a minority of signal pixels
    rate = np.where(np.arange(100).reshape(10, 10) % 7 == 0, 50.0, 1.0 + (image[..., 0] > 0.3))
    assert np.allclose(leak_rate_by_luminance(rate, image[..., 0]), 1.0 + (image[..., 0] > 0.3))


def test_colour_line_recovers_the_colours_of_a_blurred_two_colour_edge():
    from scipy import ndimage

    sharp = np.zeros((12, 40, 3), np.float32)
    sharp[:, :20] = [0.7, 0.08, 0.05]   # red, luminance 0.21
    sharp[:, 20:] = [0.03, 0.06, 0.35]  # blue, luminance 0.07
    blurred = ndimage.uniform_filter1d(sharp, 9, axis=1, mode="nearest")
    y_blurred, y_sharp = blurred @ LUMINANCE_WEIGHTS, sharp @ LUMINANCE_WEIGHTS
    line = recolour(blurred, y_blurred, y_sharp, colour_line_slope(blurred, y_blurred))
    keep = recolour(blurred, y_blurred, y_sharp, None)
    edge = slice(15, 25)
    assert np.allclose(line @ LUMINANCE_WEIGHTS, y_sharp, atol=1e-5)  # the luminance is the one asked for
    line_error, keep_error = np.abs(line - sharp)[:, edge].max(), np.abs(keep - sharp)[:, edge].max()
    assert line_error < 0.03 and keep_error > 0.1  # keeping the chromaticity leaves the mixed colour
    # no luminance contrast (flat) or colours off any line (random texture): the slope is the chromaticity
    rng = np.random.default_rng(1)
    texture = rng.uniform(0.05, 0.9, (30, 30, 3)).astype(np.float32)
    for image in (np.full((9, 9, 3), [0.5, 0.2, 0.1], np.float32), texture):
        y = image @ LUMINANCE_WEIGHTS
        slope = colour_line_slope(image, y)
        chroma = image / y[..., None]
        assert np.median(np.abs(slope - chroma) / chroma) < (1e-4 if image.shape[0] == 9 else 0.25)


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


def test_spike_window_is_sized_by_the_firing_rate():
    def stream(period):  # every pixel fires once every `period` ticks, 4000 ticks of 50 µs
        return Spikes.from_frames(np.arange(4000)[:, None, None] % period == np.zeros((1, 3, 3), int), tick_us=50.0)

    sweep = (0, 4000 * 50)
    assert spike_half_window(stream(4), sweep) == 60   # 0.25 spikes per tick: 30 spikes in 2 × 60 ticks
    assert spike_half_window(stream(20), sweep) == 240  # dark: 300 ticks wanted, at most 6 % of the sweep
    assert spike_half_window(stream(1), sweep) == 40   # bright: 15 ticks wanted, at least 1 % of the sweep


def test_patch_helpers():
    regions = patch_regions((10, 13), 3)
    assert len(regions) == 9 and regions[0][:2] == (0, 3) and regions[-1] == (7, 10, 9, 13)
    grid = np.arange(9, dtype=float).reshape(3, 3)
    up = upsample_grid(grid, (30, 30))
    assert up[0, 0] == 0 and up[-1, -1] == 8 and up[15, 15] == pytest.approx(4, abs=0.25)  # centres: 4.5, 14.5, 24.5


def test_contrast_estimate_needs_events_and_an_interior_minimum(ideal_sweep):
    """A sparse stream (a scene that barely changes focus: about one event in twenty pixels) must not pass for a
    large threshold: its patches do not vote, and the estimate falls back to the default."""
    sweep = ideal_sweep
    keep = np.abs(sweep.events.t.astype(np.int64) - sweep.image_time_us) < 1500
    sparse = Events.from_arrays(*(getattr(sweep.events, k)[keep] for k in "txyp"), sweep.events.sensor_size)
    r = EventRefocuser(sweep.image, sweep.image_time_us, PolarityTable(sparse),
                       sweep_us=(sweep.sweep_start_us, sweep.sweep_end_us))
    assert 0 < len(sparse) < 0.05 * r.luminance.size
    every_patch = r.estimate_contrast(sweep.sweep_start_us, sweep.sweep_end_us, min_events=0)
    assert np.median(every_patch) > 0.5  # votes of a few events each: far above the simulator's C = 0.2
    assert np.allclose(r.estimate_contrast(sweep.sweep_start_us, sweep.sweep_end_us), 0.2)
