"""A mismatched rig as a user meets it: simulate it, calibrate it from checkerboard files, run ``aif --calib``."""

import json

import numpy as np
import pytest

from neurofocus.calib.estimate import load_calibration
from neurofocus.cli import main
from neurofocus.images import read_image

from .conftest import run_cli as run


@pytest.fixture(scope="module")
def rig_sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("rig")
    code = main(["simulate", "--out", str(out), "--size", "200x150", "--frames", "48", "--frame-rate", "240",
                 "--max-blur-px", "12", "--event-model", "ideal", "--with-spikes", "--image-frame", "8",
                 "--rig", "default", "--rig-views", "6", "--seed", "2"])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def calibration(rig_sample, tmp_path_factory):
    views = rig_sample / "calibration"
    path = tmp_path_factory.mktemp("calib") / "calib.json"
    code = main(["calibrate", "--rgb", *map(str, sorted(views.glob("rgb_*.png"))),
                 "--events", *map(str, sorted(views.glob("events_*.raw"))), "--board", "9x6", "--square", "20",
                 "--out", str(path)])
    assert code == 0
    return path


def test_calibration_recovers_the_simulated_rig(calibration, rig_sample):
    estimated, truth = load_calibration(calibration), load_calibration(rig_sample / "rig_truth.json").geometry
    assert len(estimated.views) == 6 and estimated.summary()["homography_px"] < 0.5
    grid = truth.sensor.pixel_grid()[5:-5:4, 5:-5:4]
    error = np.linalg.norm(estimated.geometry.sensor_to_rgb(grid) - truth.sensor_to_rgb(grid), axis=-1)
    assert error.mean() < 0.5, error.mean()
    # distortion: the displacement it causes, compared over the sensor's view
    moved = [np.linalg.norm(c.distort(grid) - grid, axis=-1) for c in (estimated.geometry.sensor, truth.sensor)]
    assert np.abs(moved[0] - moved[1]).mean() < 0.5


def test_spike_views_calibrate_too(capsys, rig_sample, tmp_path):
    views = rig_sample / "calibration"
    code, out, err = run(capsys, "calibrate", "--rgb", *sorted(views.glob("rgb_*.png")), "--spikes",
                         *sorted(views.glob("spikes_*.dat")), "--board", "9x6", "--square", "20",
                         "--out", tmp_path / "calib.json")
    assert code == 0, err
    assert load_calibration(tmp_path / "calib.json").summary()["homography_px"] < 0.5


def test_aif_needs_the_calibration_and_uses_it(capsys, rig_sample, calibration, tmp_path):
    image, events = rig_sample / "image.png", rig_sample / "events.raw"
    code, _, err = run(capsys, "aif", "--image", image, "--events", events, "--out", tmp_path / "none")
    assert code == 2 and "do not share a pixel grid; give --calib" in err and str(image) in err

    code, _, err = run(capsys, "aif", "--image", rig_sample / "image_sensor_grid.png", "--events", events,
                       "--out", tmp_path / "shared")
    assert code == 0, err
    gt = read_image(rig_sample / "aif.png")
    shared = read_image(tmp_path / "shared" / "aif.png")
    for grid in ("sensor", "undistorted", "rgb"):
        code, _, err = run(capsys, "aif", "--image", image, "--events", events, "--calib", calibration,
                           "--output-grid", grid, "--out", tmp_path / grid)
        assert code == 0, err
        result = json.loads((tmp_path / grid / "result.json").read_text())
        assert result["calibration"]["output_grid"] == grid
        assert result["calibration"]["valid_fraction"] > (0.6 if grid == "rgb" else 0.9)  # the RGB view is wider
        out = read_image(tmp_path / grid / "aif.png")
        assert out.shape == (read_image(image).shape if grid == "rgb" else gt.shape)
    # On the sensor's own grid the result is nearly as good as with a shared pixel grid: the RGB image resampled
    # onto the sensor's grid (bilinear) loses some of the photo textures' finest detail (0.9 dB here; a registration
    # off by a pixel costs several dB).
    valid = read_image(tmp_path / "sensor" / "valid.png")[..., 0] > 0.5
    psnr = [10 * np.log10(1 / np.mean((read_image(p) - gt)[valid] ** 2))
            for p in (tmp_path / "sensor" / "aif.png", tmp_path / "shared" / "aif.png")]
    assert psnr[0] > psnr[1] - 1.0, psnr
    assert 10 * np.log10(1 / np.mean((shared - gt)[valid] ** 2)) == pytest.approx(psnr[1])


def test_calibrate_says_where_the_board_is_missing(capsys, rig_sample, tmp_path):
    views = rig_sample / "calibration"
    rgb, events = sorted(views.glob("rgb_*.png")), sorted(views.glob("events_*.raw"))
    # two views are enough to show the message (a board search that finds nothing is the slow part)
    code, _, err = run(capsys, "calibrate", "--rgb", *rgb[:2], "--events", *events[:2], "--board", "8x6",
                       "--square", "20", "--out", tmp_path / "c.json")
    assert code == 2 and "no 8x6 checkerboard found in" in err
    assert all(str(path) in err for path in (*rgb[:2], *events[:2]))
    code, _, err = run(capsys, "calibrate", "--rgb", *rgb[:2], "--events", *events[:3], "--board", "9x6",
                       "--square", "20", "--out", tmp_path / "c.json")
    assert code == 2 and "2 RGB images but 3 neuromorphic files" in err
    assert not (tmp_path / "c.json").exists()
