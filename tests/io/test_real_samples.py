"""Every reader against the real third-party recordings in ../shared/data (figures from their READMEs)."""

import numpy as np
import pytest

from neurofocus.io import detect_format, load_events, load_spikes
from neurofocus.represent import tfp

from ..conftest import shared


def test_evt3_sample_matches_reference_and_has_sane_times():
    ev = load_events(shared("events/prophesee/evt3_sample.raw"))
    ref = np.load(shared("events/prophesee/evt3_sample.npy"))
    assert ev.sensor_size == (1280, 720)  # from the Gen4.1 plugin name: the header has no geometry line
    assert len(ev) == len(ref) == 219_596
    assert np.array_equal(ev.x, ref["x"]) and np.array_equal(ev.y, ref["y"])
    assert np.array_equal(ev.p, np.where(ref["p"] > 0, 1, -1))
    # the reference decoder has a known EVT3 time-wrap bug: its times are off by whole TIME_HIGH steps (4096 µs)
    assert np.all((ev.t - ref["t"]) % 4096 == 0)
    # the file's TIME_HIGH words only take the values 2861..2863, so the recording fits in those 12.3 ms
    assert np.all(np.diff(ev.t) >= 0)
    assert ev.t[0] >= 2861 << 12 and ev.t[-1] < 2864 << 12
    assert (ev.x.min(), ev.x.max(), ev.y.min(), ev.y.max()) == (0, 1279, 0, 719)


def test_evt2_sample_figures():
    ev = load_events(shared("events/prophesee/evt2_sample.raw"))
    assert detect_format(shared("events/prophesee/evt2_sample.raw")) == "evt2"
    assert ev.sensor_size == (640, 480)
    assert len(ev) == 539_481
    assert (ev.x.min(), ev.x.max(), ev.y.min(), ev.y.max()) == (60, 599, 18, 475)
    assert ev.polarity_stats().on_fraction == pytest.approx(0.68, abs=0.005)
    assert ev.duration_us == pytest.approx(50_000, abs=100)


def test_aedat4_sample_figures():
    ev = load_events(shared("events/aedat4/sample.aedat4"))
    assert ev.sensor_size == (320, 240)
    assert len(ev) == 111_954
    assert ev.duration_us == pytest.approx(590_000, rel=0.01)
    assert ev.x.max() < 320 and ev.y.max() < 240
    assert 0.4 < ev.polarity_stats().on_fraction < 0.6


@pytest.mark.parametrize("name, count, duration_ms, size", [
    ("keyboard", 24_988, 6.0, (346, 260)), ("toy", 27_594, 6.0, (346, 260)),
    ("text_cambridge", 116_148, 14.0, (346, 260)), ("badminton", 11_574, 20.0, (346, 260)),
    ("low_light_model1", 14_854, 2.0, (346, 260)), ("low_light_model2", 47_356, 6.0, (346, 260)),
    ("night_run", 2_965, 4.0, (240, 180)),
])
def test_davis_mat_samples(name, count, duration_ms, size):
    with pytest.warns(UserWarning, match="stores no sensor size"):
        ev = load_events(shared(f"events/davis346-motionblur/{name}.mat"))
    assert len(ev) == count
    assert ev.duration_us / 1e3 == pytest.approx(duration_ms, abs=0.05)
    assert ev.sensor_size == size
    assert np.all(np.diff(ev.t) >= 0)


def test_uhsr_spikes_sample():
    sp = load_spikes(shared("spikes/uhsr/uhsr.npz"))
    assert sp.shape == (200, 250, 250)
    assert sp.firing_rate == pytest.approx(0.031, abs=0.001)
    image = tfp(sp, 100, 50)
    assert image.shape == (250, 250) and 0 < image.mean() < 0.1
