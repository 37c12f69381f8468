"""``neurofocus evfocus``: frames from an event stream with a recurrent network (weights from a file)."""

import json

import numpy as np
import pytest

from neurofocus.images import read_image
from neurofocus.io import save_events

from .conftest import random_events, run_cli as run

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def e2vid_weights(tmp_path_factory):
    from neurofocus.models import create_model, save_weights

    path = tmp_path_factory.mktemp("w") / "e2vid.safetensors"
    save_weights(create_model("e2vid", seed=0, width=0.125), path)
    return path


def test_frames_cover_the_stream(capsys, tmp_path, e2vid_weights):
    events = random_events(2500, sensor_size=(37, 29), seed=3)
    save_events(tmp_path / "ev.h5", events)
    code, out, err = run(capsys, "evfocus", "--events", tmp_path / "ev.h5", "--method", "e2vid", "--weights",
                         e2vid_weights, "--window-events", 1000, "--out", tmp_path / "o")
    assert code == 0, err
    result = json.loads((tmp_path / "o" / "result.json").read_text())
    assert result["num_frames"] == 3 and result["frame_times_us"][-1] == int(events.t[-1])  # 1000+1000+500
    frames = [read_image(tmp_path / "o" / "frames" / name) for name in result["frames"]]
    assert all(f.shape == (29, 37, 3) for f in frames) and all(np.isfinite(f).all() for f in frames)


def test_weights_are_required_and_must_match_the_method(capsys, tmp_path, e2vid_weights, monkeypatch):
    from neurofocus.cli import evfocus

    save_events(tmp_path / "ev.h5", random_events(100, sensor_size=(16, 12)))
    monkeypatch.setattr(evfocus, "_shipped_weights", lambda method: None)  # a version that ships none
    code, _, err = run(capsys, "evfocus", "--events", tmp_path / "ev.h5", "--out", tmp_path / "o")
    assert code == 2 and "give --weights" in err and "--method integrate" in err
    code, _, err = run(capsys, "evfocus", "--events", tmp_path / "ev.h5", "--weights", e2vid_weights,
                       "--out", tmp_path / "o")
    assert code == 2 and "holds a 'e2vid' model, not 'evfocus'" in err and str(e2vid_weights) in err


def test_integrate_needs_no_network_and_a_short_recording_gives_a_sequence(capsys, tmp_path):
    # 3,000 events on a 64x48 sensor: half the pixel count (1,536 events) per frame would give two frames
    events = random_events(3000, sensor_size=(64, 48), seed=5)
    save_events(tmp_path / "ev.h5", events)
    code, out, err = run(capsys, "evfocus", "--events", tmp_path / "ev.h5", "--method", "integrate",
                         "--out", tmp_path / "o")
    assert code == 0, err
    result = json.loads((tmp_path / "o" / "result.json").read_text())
    assert result["num_frames"] == 30 and result["window_events"] == 100 and result["weights"] is None
    assert result["frame_times_us"] == sorted(result["frame_times_us"]) and "wrote 30 frames" in out
    first, last = (read_image(tmp_path / "o" / "frames" / result["frames"][i]) for i in (0, -1))
    assert first.shape == (48, 64, 3) and not np.array_equal(first, last)
    code, _, err = run(capsys, "evfocus", "--events", tmp_path / "ev.h5", "--method", "integrate", "--weights",
                       tmp_path / "w.safetensors", "--out", tmp_path / "o2")
    assert code == 2 and "--weights is for --method evfocus or e2vid" in err
