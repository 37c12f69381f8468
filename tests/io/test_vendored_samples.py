"""Every reader of a real recording against the cut-down samples vendored in tests/data/samples (they run in a clean
clone). The expected figures were decoded by independent peer libraries, not by neurofocus: see
``tools/cut_samples.py`` and tests/data/README.md."""

import hashlib

import numpy as np
import pytest

from neurofocus.io import detect_format, load_events, load_spikes

from ..conftest import TEST_DATA

SAMPLES = TEST_DATA / "samples"


def digest(ev) -> str:
    """sha256 of the int64 columns t, x, y, p (±1), stacked in that order (as ``tools/cut_samples.py`` computes it)."""
    columns = np.stack([np.asarray(c, dtype="<i8") for c in (ev.t, ev.x, ev.y, ev.p)])
    return hashlib.sha256(columns.tobytes()).hexdigest()


# name, format, sensor size, count, first (t, x, y, p), last (t, x, y, p), ON count, sha256 (decoded by: evlib,
# expelliarmus, dv-processing, scipy)
EVENT_SAMPLES = [
    ("evt3_cut.raw", "evt3", (1280, 720), 42_787, (11_718_656, 874, 200, -1), (11_720_335, 971, 389, 1), 22_719,
     "77f4e5eb5e36f5bf37bcdc363e5a74c4eb593ed54c8d6a01c0130ab62e3fdd7f"),
    ("evt2_cut.raw", "evt2", (640, 480), 8_146, (1_317_888, 237, 121, 1), (1_318_620, 245, 101, 1), 5_563,
     "147315095176110b5260ec46a8dffd30c873c0e63ae76af8089ae16ea8f40d5e"),
    ("aedat4_cut.aedat4", "aedat4", (320, 240), 2_922, (1_605_537_493_718_345, 154, 204, -1),
     (1_605_537_493_748_335, 149, 156, -1), 1_552, "b1d680dd1d16e160a540248d40cdebb58beab7c805a820ef8e33a0de7ac7ab34"),
    ("night_run.mat", "mat", (240, 180), 2_965, (1_781_199, 22, 0, 1), (1_785_193, 154, 71, 1), 1_808,
     "a8c354d369095a4ee8d25a0ef36ec3c9eff269d69f912af3f8a2b5742402304a"),
]


@pytest.mark.parametrize("name, fmt, size, count, first, last, on, sha256", EVENT_SAMPLES,
                         ids=[s[0] for s in EVENT_SAMPLES])
def test_event_sample_decodes_as_the_peer_library_does(name, fmt, size, count, first, last, on, sha256):
    path = SAMPLES / name
    assert detect_format(path) == fmt
    if fmt == "mat":
        with pytest.warns(UserWarning, match="stores no sensor size; assuming 240x180"):
            ev = load_events(path)
    else:
        ev = load_events(path)
    assert ev.sensor_size == size
    assert len(ev) == count
    assert (int(ev.t[0]), int(ev.x[0]), int(ev.y[0]), int(ev.p[0])) == first
    assert (int(ev.t[-1]), int(ev.x[-1]), int(ev.y[-1]), int(ev.p[-1])) == last
    assert int(np.count_nonzero(ev.p > 0)) == on
    assert np.all(np.diff(ev.t) >= 0)
    assert digest(ev) == sha256


def test_uhsr_spike_sample_decodes_as_numpy_does():
    sp = load_spikes(SAMPLES / "uhsr_cut.npz")
    assert sp.shape == (20, 250, 250)
    assert sp.num_spikes == 39_481
    frames = sp.frames().astype(np.uint8)
    assert hashlib.sha256(frames.tobytes()).hexdigest() == \
        "f35801b486a8b6c58744b6ac9ae9ed13661751901afc37aea2a04666428341de"


def test_the_samples_stay_small():
    sizes = {p.name: p.stat().st_size for p in SAMPLES.iterdir()}
    assert set(sizes) == {s[0] for s in EVENT_SAMPLES} | {"uhsr_cut.npz"}
    assert sum(sizes.values()) < 400_000
