"""Leaky event integration (the classical reconstruction baseline): physics of the high-pass filter."""

import math

import numpy as np
import pytest

from neurofocus.errors import NeurofocusError
from neurofocus.represent.leaky_integration import LeakyIntegrator
from neurofocus.types import Events


def _events(t, x, y, p, size=(4, 3)):
    return Events.from_arrays(t=np.asarray(t), x=np.asarray(x), y=np.asarray(y), p=np.asarray(p), sensor_size=size)


def test_log_intensity_is_the_decayed_sum_of_contrast_steps():
    times = [1_000, 21_000, 41_000, 61_000, 81_000]  # five ON steps at pixel (1, 2), then one OFF at (3, 0)
    ev = _events(times + [90_000], [1] * 5 + [3], [2] * 5 + [0], [1] * 5 + [-1])
    integ = LeakyIntegrator(4, 3, contrast=0.2, cutoff_hz=2.0)
    integ.update(ev)
    omega = 2 * math.pi * 2.0 * 1e-6
    t_end = 100_000
    expected_on = sum(0.2 * math.exp(-omega * (t_end - t)) for t in times)
    log = integ.log_intensity(t_end)
    assert log[2, 1] == pytest.approx(expected_on, rel=1e-9)
    assert log[0, 3] == pytest.approx(-0.2 * math.exp(-omega * 10_000), rel=1e-9)  # darkening: negative
    assert np.count_nonzero(log) == 2  # pixels without events stay at 0 (no change seen)
    # the filter forgets: one time constant 1/ω later, the estimate has fallen by a factor e
    later = integ.log_intensity(t_end + round(1 / omega))
    assert later[2, 1] == pytest.approx(expected_on / math.e, rel=1e-4)


def test_streaming_in_windows_equals_one_pass():
    rng = np.random.default_rng(0)
    n = 5_000
    ev = _events(np.sort(rng.integers(0, 1_000_000, n)), rng.integers(0, 16, n), rng.integers(0, 12, n),
                 rng.choice([-1, 1], n), size=(16, 12))
    whole = LeakyIntegrator(16, 12)
    whole.update(ev)
    parts = LeakyIntegrator(16, 12)
    for start in range(0, n, 777):
        parts.update(ev[start:start + 777])
    np.testing.assert_allclose(parts.log_intensity(1_000_000), whole.log_intensity(1_000_000), rtol=1e-12)
    image = whole.image(1_000_000)
    assert image.dtype == np.float32 and image.min() >= 0 and image.max() <= 1 and image.std() > 0.05


def test_settings_must_be_positive():
    with pytest.raises(NeurofocusError, match="cutoff_hz"):
        LeakyIntegrator(4, 3, cutoff_hz=0)
    with pytest.raises(NeurofocusError, match="contrast"):
        LeakyIntegrator(4, 3, contrast=float("nan"))
