"""Shared fixtures: paths to the real third-party samples and small generated streams."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from neurofocus.cli import main
from neurofocus.types import Events

#: One PyTorch intra-op thread (read when torch is imported, after this): on a small shared CPU its spinning thread
#: pool makes the tiny networks of the tests many times slower (a bench test: 114 s with the default, 26 s with one).
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"
#: cut-down real recordings, one per reader of a real format (tests/data/README.md, tools/cut_samples.py)
SAMPLES = TEST_DATA / "samples"


def shared(relative: str) -> Path:
    """Path of a file in ../shared/data; skips the test when the shared data is not beside the checkout, and fails it
    under CI (the ``CI`` environment variable set), where the data must be there."""
    path = SHARED_DATA / relative
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"shared sample {relative} missing from {SHARED_DATA} (required under CI)")
        pytest.skip(f"shared sample {relative} not available")
    return path


def random_events(n: int = 2000, sensor_size=(64, 48), seed: int = 0, t_max: int = 100_000) -> Events:
    """Random, time-sorted events with repeated timestamps."""
    rng = np.random.default_rng(seed)
    w, h = sensor_size
    t = np.sort(rng.integers(0, t_max, n))
    return Events.from_arrays(t, rng.integers(0, w, n), rng.integers(0, h, n), rng.integers(0, 2, n), sensor_size)


@pytest.fixture
def events_small() -> Events:
    return random_events()


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """Run ``neurofocus ARGV...`` (arguments str()-ed); returns (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="session")
def simulated(tmp_path_factory):
    """A small simulated sample folder (96x72, 60 frames, ideal events as EVT 3 and spikes)."""
    out = tmp_path_factory.mktemp("sim")
    code = main(["simulate", "--out", str(out), "--size", "96x72", "--frames", "60", "--frame-rate", "240",
                 "--max-blur-px", "14", "--event-model", "ideal", "--with-spikes", "--tick-us", "50",
                 "--image-frame", "10", "--events-format", "evt3"])
    assert code == 0
    return out


def fake_aedat4(monkeypatch, tmp_path, packets) -> Path:
    """An AEDAT 4 file whose decoding (``aedat.Decoder``, patched) yields ``packets`` (dicts as the package yields
    them), with one 8x4 event stream (id 0)."""
    import aedat

    class FakeDecoder:
        def __init__(self, path):
            pass

        def id_to_stream(self):
            return {0: {"type": "events", "width": 8, "height": 4}}

        def __iter__(self):
            yield from packets

    monkeypatch.setattr(aedat, "Decoder", FakeDecoder)
    path = tmp_path / "fake.aedat4"
    path.write_bytes(b"#!AER-DAT4.0\r\n")
    return path
