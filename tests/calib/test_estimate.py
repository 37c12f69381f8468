"""Rig calibration from board corners: recovery of known geometry, JSON round trip, bad files."""

import json

import numpy as np
import pytest

from neurofocus.calib.boards import Board
from neurofocus.calib.estimate import RigCalibration, calibrate_rig, load_calibration, save_calibration
from neurofocus.calib.geometry import CameraModel, RigGeometry, rotation_matrix
from neurofocus.errors import NeurofocusError

BOARD = Board(9, 6, 20.0)
RGB = CameraModel(520, 400, 470.0, 470.0, 262.0, 197.0, -0.08, 0.02)
SENSOR = CameraModel.centred(346, 260, 320.0, -0.15, 0.05)
ROTATION = rotation_matrix(1.5, -1.0, 0.8)  # RGB frame → sensor frame


def board_poses(rng, count):
    """Board-to-sensor-frame poses (R, t in mm) that keep the whole board in both views."""
    centre = BOARD.object_points().mean(axis=0)
    poses = []
    while len(poses) < count:
        r = rotation_matrix(*rng.uniform([-35, -35, -15], [35, 35, 15]))
        t = np.array([rng.uniform(-90, 90), rng.uniform(-70, 70), rng.uniform(230, 330)]) - r @ centre
        sensor_px, rgb_px = project(r, t)
        if all(((p > 10) & (p < np.array([c.width - 10, c.height - 10]))).all() for p, c in ((sensor_px, SENSOR),
                                                                                          (rgb_px, RGB))):
            poses.append((r, t))
    return poses


def project(r, t):
    xyz = BOARD.object_points() @ r.T + t
    return SENSOR.project(xyz), RGB.project(xyz @ ROTATION)  # row vectors: x_rgb = Rᵀ x_sensor


def test_known_rig_is_recovered_from_noisy_corners():
    rng = np.random.default_rng(3)
    rgb_corners, sensor_corners = [], []
    for i, (r, t) in enumerate(board_poses(rng, 10)):
        sensor_px, rgb_px = project(r, t)
        if i % 3 == 1:  # a detector may list a view from the other end: the fit must not care
            sensor_px = sensor_px[::-1]
        rgb_corners.append(rgb_px + rng.normal(0, 0.08, rgb_px.shape))
        sensor_corners.append(sensor_px + rng.normal(0, 0.08, sensor_px.shape))
    cal = calibrate_rig(rgb_corners, sensor_corners, BOARD, (RGB.width, RGB.height), (SENSOR.width, SENSOR.height))
    g = cal.geometry
    assert abs(g.sensor.k1 - SENSOR.k1) < 0.02 and abs(g.sensor.k2 - SENSOR.k2) < 0.05
    assert abs(g.rgb.k1 - RGB.k1) < 0.02 and abs(g.rgb.k2 - RGB.k2) < 0.05
    assert abs(g.sensor.fx - SENSOR.fx) / SENSOR.fx < 0.02 and abs(g.rgb.fx - RGB.fx) / RGB.fx < 0.02
    mean = cal.summary()
    assert mean["rgb_px"] < 0.2 and mean["sensor_px"] < 0.2 and mean["homography_px"] < 0.5
    # The estimated mapping agrees with the true one over the sensor's view, not only at the corners.
    truth = RigGeometry.from_rotation(RGB, SENSOR, ROTATION)
    grid = SENSOR.pixel_grid()[10:-10:8, 10:-10:8]
    error = np.linalg.norm(g.sensor_to_rgb(grid) - truth.sensor_to_rgb(grid), axis=-1)
    assert error.mean() < 0.5, error.mean()


def test_calibration_json_round_trip(tmp_path):
    rng = np.random.default_rng(4)
    corners = [project(r, t) for r, t in board_poses(rng, 4)]
    cal = calibrate_rig([c[1] for c in corners], [c[0] for c in corners], BOARD, (RGB.width, RGB.height),
                        (SENSOR.width, SENSOR.height))
    save_calibration(tmp_path / "calib.json", cal)
    back = load_calibration(tmp_path / "calib.json")
    assert back.geometry.rgb == cal.geometry.rgb and back.geometry.sensor == cal.geometry.sensor
    np.testing.assert_allclose(back.geometry.homography, cal.geometry.homography)
    assert back.views == cal.views and back.board == BOARD


def test_a_rig_without_fit_errors_loads(tmp_path):
    save_calibration(tmp_path / "rig.json", RigCalibration(RigGeometry.from_rotation(RGB, SENSOR, ROTATION)))
    data = json.loads((tmp_path / "rig.json").read_text())
    assert set(data) == {"version", "rgb", "sensor", "homography"} and data["version"] == 1
    back = load_calibration(tmp_path / "rig.json")
    assert back.views == () and back.board is None and back.geometry.rgb == RGB


@pytest.mark.parametrize("edit, problem", [
    (lambda d: d.pop("homography"), "missing 'homography'"),
    (lambda d: d.update(version=2), "version 2"),
    (lambda d: d["rgb"].pop("fx"), "lacks 'fx'"),
    (lambda d: d["sensor"].update(k1="a lot"), "sensor.k1 must be finite numbers"),
    (lambda d: d["sensor"].update(width=10.5), "whole number"),
    (lambda d: d["rgb"].update(fx=-3.0), "positive focal lengths"),
    (lambda d: d.update(homography=[[1, 0], [0, 1]]), "3x3"),
    (lambda d: d.update(homography=[[0, 0, 0]] * 3), "invertible"),
    (lambda d: d.update(board={"cols": 9}), "malformed board"),
])
def test_bad_calibration_files_name_the_file(tmp_path, edit, problem):
    path = tmp_path / "bad.json"
    save_calibration(path, RigCalibration(RigGeometry.from_rotation(RGB, SENSOR, ROTATION), board=BOARD))
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    with pytest.raises(NeurofocusError, match=problem) as info:
        load_calibration(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_unreadable_calibration_names_the_file(tmp_path):
    path = tmp_path / "calib.json"
    path.write_text("{not json")
    for target, problem in ((path, "not a readable JSON"), (tmp_path / "none.json", "no such file")):
        with pytest.raises(NeurofocusError, match=problem) as info:
            load_calibration(target)
        assert str(target) in str(info.value)


def test_too_few_views_is_an_error():
    with pytest.raises(NeurofocusError, match="at least 3"):
        calibrate_rig([np.zeros((54, 2))] * 2, [np.zeros((54, 2))] * 2, BOARD, (10, 10), (10, 10))
