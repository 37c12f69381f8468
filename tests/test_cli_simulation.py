"""The simulation commands, as a user runs them."""

import json
import subprocess
import sys

import numpy as np
import pytest

from neurofocus.images import write_image
from neurofocus.io import load_events, load_spikes
from neurofocus.datasets import load_sample
from neurofocus.simulate.dvs_voltmeter import VoltmeterParams, gray8, simulate_dvs_voltmeter

from .conftest import run_cli as run, shared


def test_simulate_writes_rig_files_and_truth(capsys, tmp_path):
    out = tmp_path / "sim"
    code, text, err = run(capsys, "simulate", "--out", out, "--size", "64x48", "--frames", 24, "--frame-rate", 240,
                          "--max-blur-px", 10, "--with-spikes", "--tick-us", 500, "--speed", "hand", "--image-frame", 5)
    assert code == 0, err
    for name in ("image.png", "aif.png", "events.raw", "spikes.dat", "spikes.dat.json", "truth.npz", "sample.json",
                 "stack_sheet.png", "infocus_time.png", "depth.png"):
        assert (out / name).is_file(), name
    events = load_events(out / "events.raw")
    spikes = load_spikes(out / "spikes.dat")  # size and tick from the sidecar
    sample = load_sample(out)
    assert events == sample.sweep.events and spikes.tick_us == 500 and spikes.shape[1:] == (48, 64)
    assert sample.sweep.image_time_us == sample.frame_times_us[5]
    (out / "notes.txt").write_text("mine")
    code, _, err = run(capsys, "simulate", "--out", out, "--size", "64x48", "--frames", 24, "--frame-rate", 240,
                       "--max-blur-px", 10, "--events-format", "prophesee-hdf5")
    assert code == 0, err
    assert not (out / "events.raw").exists() and not (out / "spikes.dat").exists()  # the first run's, replaced
    assert not (out / "spikes.dat.json").exists() and (out / "notes.txt").is_file()
    event_file = json.loads((out / "sample.json").read_text())["event_file"]
    assert load_sample(out).sweep.events == load_events(out / event_file)


def test_simulate_from_image_and_depth(capsys, tmp_path):
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 1, (40, 50, 3)).astype(np.float32)
    depth = np.where(np.arange(50)[None, :] < 25, 1.9, 2.1) * np.ones((40, 1))
    write_image(tmp_path / "img.png", image)
    np.save(tmp_path / "depth.npy", depth)
    code, _, err = run(capsys, "simulate", "--out", tmp_path / "sim", "--image", tmp_path / "img.png", "--depth",
                       tmp_path / "depth.npy", "--frames", 16, "--event-model", "ideal")
    assert code == 0, err
    sample = load_sample(tmp_path / "sim")
    infocus = sample.sweep.ground_truth.infocus_time_us
    assert infocus[:, :25].mean() < infocus[:, 25:].mean()  # near half in focus first (near -> far)
    code, _, err = run(capsys, "simulate", "--out", tmp_path / "bad", "--image", tmp_path / "img.png", "--depth",
                       tmp_path / "img.png")  # gray values as metres: closer than the focal length
    assert code == 2 and "focal length" in err


def test_simulate_light_field(capsys, tmp_path):
    folder = shared("lightfield/hci-backgammon")
    code, _, err = run(capsys, "simulate", "--out", tmp_path / "lf", "--light-field", folder, "--frames", 6,
                       "--event-model", "ideal")
    assert code == 0, err
    sample = load_sample(tmp_path / "lf")
    assert sample.sweep.image.shape == (512, 512, 3) and sample.sweep.ground_truth.depth_m is None


def make_frames(folder, n=8, shape=(30, 40)):
    rng = np.random.default_rng(3)
    base = rng.uniform(0.05, 0.95, shape + (3,))
    frames = [np.clip(base * (0.6 + 0.05 * k), 0, 1) for k in range(n)]
    folder.mkdir()
    for k, f in enumerate(frames):
        write_image(folder / f"frame_{k:03d}.png", f)
    return frames


def test_simulate_events_and_spikes_from_frames(capsys, tmp_path):
    frames = make_frames(tmp_path / "frames")
    code, _, err = run(capsys, "simulate-events", "--input", tmp_path / "frames", "--fps", 1000, "--event-model",
                       "dvs-voltmeter", "--preset", "DVS240", "--seed", 3, "--out", tmp_path / "ev.txt")
    assert code == 0, err
    got = load_events(tmp_path / "ev.txt")
    gray = gray8(np.stack([np.rint(f * 255) / 255 for f in frames]))
    expected = simulate_dvs_voltmeter(gray, np.arange(8) * 1000.0, VoltmeterParams.preset("DVS240"), seed=3)
    assert got == expected and len(got) > 0 and np.all(got.p == 1)  # brightening frames: ON events
    (tmp_path / "times.txt").write_text("\n".join(str(1000 * k * k) for k in range(1, 9)))
    code, _, err = run(capsys, "simulate-events", "--input", tmp_path / "frames", "--timestamps",
                       tmp_path / "times.txt", "--event-model", "ideal", "--out", tmp_path / "ev.npy")
    assert code == 0, err
    assert load_events(tmp_path / "ev.npy").t.max() <= 64000
    code, _, err = run(capsys, "simulate-spikes", "--input", tmp_path / "frames", "--fps", 100, "--tick-us", 100,
                       "--out", tmp_path / "sp.h5")
    assert code == 0, err
    spikes = load_spikes(tmp_path / "sp.h5")
    assert spikes.shape == (700, 30, 40) and spikes.num_spikes > 0


@pytest.mark.parametrize("encoding", ["evt3", "evt21"])
def test_dvs_voltmeter_into_evt_imports_neither_numba_nor_scipy(tmp_path, encoding):
    """simulate-events with DVS-Voltmeter into an EVT file runs compiled C only (the model, the stream states, the
    event sort, the encoder): its process never imports numba (~1 s of start-up), llvmlite or scipy."""
    frames = make_frames(tmp_path / "frames")
    unused = ("numba", "llvmlite", "scipy")
    script = ("import sys\nfrom neurofocus.cli import main\ncode = main(sys.argv[1:])\n"
              f"print(code, sorted(m for m in sys.modules if m.startswith({unused})))")
    command = ["--quiet", "simulate-events", "--input", str(tmp_path / "frames"), "--fps", "1000", "--event-model",
               "dvs-voltmeter", "--seed", "3", "--to", encoding, "--out", str(tmp_path / "ev.raw")]
    done = subprocess.run([sys.executable, "-c", script, *command], capture_output=True, text=True, timeout=300)
    assert done.stdout.split("\n")[-2] == "0 []", done.stderr
    gray = gray8(np.stack([np.rint(f * 255) / 255 for f in frames]))
    expected = simulate_dvs_voltmeter(gray, np.arange(8) * 1000.0, VoltmeterParams.preset("DVS346"), seed=3)
    assert load_events(tmp_path / "ev.raw") == expected and len(expected) > 0


def test_frame_errors(capsys, tmp_path):
    make_frames(tmp_path / "frames", n=3)
    code, _, err = run(capsys, "simulate-events", "--input", tmp_path / "frames", "--event-model", "ideal", "--out",
                       tmp_path / "e.npz")
    assert code == 2 and "--fps" in err
    (tmp_path / "t.txt").write_text("1\n2\n")
    code, _, err = run(capsys, "simulate-events", "--input", tmp_path / "frames", "--timestamps", tmp_path / "t.txt",
                       "--event-model", "ideal", "--out", tmp_path / "e.npz")
    assert code == 2 and "3 frames but 2 timestamps" in err
    code, _, err = run(capsys, "simulate-events", "--input", tmp_path / "nothing", "--fps", 10,
                       "--event-model", "ideal", "--out", tmp_path / "e.npz")
    assert code == 2 and "no such file" in err


def test_synth_command(capsys, tmp_path):
    code, text, err = run(capsys, "synth", "--scenes", 2, "--out", tmp_path / "ds", "--seed", 1, "--size", "48x32",
                          "--frames", 12, "--max-blur", "6,8", "--workers", 1)
    assert code == 0, err
    assert "2 of 2 scenes complete" in text
    assert load_sample(tmp_path / "ds" / "scene_00001").sweep.events is not None


def test_simulate_from_a_scene_description(capsys, tmp_path):
    import json

    description = {"size": [80, 60], "background": {"texture": "brick", "depth_m": 2.4},
                   "objects": [{"shape": "ellipse", "center": [25, 30], "size": [30, 20], "depth_m": 1.9,
                                "texture": "astronaut"},
                               {"shape": "rectangle", "center": [60, 30], "size": [24, 24], "depth_m": 2.1,
                                "texture": [0.9, 0.2, 0.2], "tilt": [0.0004, 0.0]}]}
    (tmp_path / "scene.json").write_text(json.dumps(description))
    code, _, err = run(capsys, "simulate", "--out", tmp_path / "sim", "--scene", tmp_path / "scene.json",
                       "--frames", 20, "--event-model", "ideal")
    assert code == 0, err
    truth = load_sample(tmp_path / "sim").sweep.ground_truth
    assert truth.depth_m[30, 25] == np.float32(1.9) and truth.depth_m[5, 5] == np.float32(2.4)
    tilted = truth.infocus_time_us[30, 52:68]
    assert np.all(np.diff(tilted) <= 0) and tilted[0] > tilted[-1]  # nearer (in focus earlier) to the right
    (tmp_path / "bad.json").write_text(json.dumps({"size": [10, 10], "objects": []}))
    code, _, err = run(capsys, "simulate", "--out", tmp_path / "bad", "--scene", tmp_path / "bad.json")
    assert code == 2 and "incomplete scene description" in err


def test_simulate_events_from_a_video(capsys, tmp_path):
    iio = pytest.importorskip("imageio.v3")
    pytest.importorskip("imageio_ffmpeg")
    frames = (np.random.default_rng(0).random((10, 32, 48, 3)) * np.linspace(0.3, 1, 10)[:, None, None, None] * 255)
    iio.imwrite(tmp_path / "clip.mp4", frames.astype(np.uint8), fps=25)
    code, _, err = run(capsys, "simulate-events", "--input", tmp_path / "clip.mp4", "--fps", 25,
                       "--event-model", "ideal", "--out", tmp_path / "ev.npz")
    assert code == 0, err
    events = load_events(tmp_path / "ev.npz")
    assert events.sensor_size == (48, 32) and events.polarity_stats().on_fraction > 0.5  # the clip brightens


def test_frames_with_nan_values_are_rejected(capsys, tmp_path):
    from PIL import Image

    make_frames(tmp_path / "frames", n=3)
    Image.fromarray(np.full((30, 40), np.nan, np.float32), mode="F").save(tmp_path / "frames" / "frame_001b.tif")
    for command, extra in (("simulate-events", ["--event-model", "ideal"]), ("simulate-spikes", [])):
        code, _, err = run(capsys, command, "--input", tmp_path / "frames", "--fps", 100, *extra, "--out",
                           tmp_path / "out.npz")
        assert code == 2 and len(err.splitlines()) == 1 and "NaN or infinite" in err, err
