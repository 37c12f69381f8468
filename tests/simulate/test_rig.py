"""The simulated hybrid rig: geometry, checkerboard renderings and recordings, the RGB view, rig files, the CLI."""

import json

import cv2
import numpy as np
import pytest
from scipy import ndimage

from neurofocus.calib.estimate import load_calibration
from neurofocus.calib.geometry import RigGeometry, rotation_matrix
from neurofocus.cli import main
from neurofocus.color import linear_to_srgb, to_uint8
from neurofocus.errors import NeurofocusError
from neurofocus.images import read_image
from neurofocus.io import load_events, load_spikes
from neurofocus.simulate.dvs_voltmeter import VoltmeterParams
from neurofocus.simulate.focal_sweep import SensorSetup
from neurofocus.simulate.ideal_events import IdealParams
from neurofocus.simulate.rig import (BACKGROUND, BLACK, MARGIN_SQUARES, WHITE, board_points, board_views,
                                     default_rig, flashing_board_events, project, render_board, rgb_camera_view,
                                     rig_rotation, static_board_spikes, write_calibration_set)
from neurofocus.simulate.spikes import SpikeParams

BOARD, SQUARE_MM = (9, 6), 20.0


@pytest.fixture(scope="module")
def rig():
    return default_rig((240, 180), seed=1)


@pytest.fixture(scope="module")
def poses(rig):
    return board_views(rig, BOARD, SQUARE_MM, 3, seed=5)


def _match(found, expected):
    """Distance from each found corner (N, 2) to its nearest expected one, checking the matching is one-to-one."""
    d = np.linalg.norm(found.reshape(-1, 1, 2) - expected[None], axis=-1)
    assert len(set(d.argmin(axis=1))) == len(expected)
    return d.min(axis=1)


def _to8(linear):
    return to_uint8(linear_to_srgb(linear))


def _outer_corners(pose):
    lo, s = -1 - MARGIN_SQUARES, SQUARE_MM * 1e-3
    u = np.array([lo, BOARD[0] + MARGIN_SQUARES]) * s
    v = np.array([lo, BOARD[1] + MARGIN_SQUARES]) * s
    return pose.to_sensor_frame(np.array([[a, b, 0.0] for a in u for b in v]))


def test_default_rig_is_mismatched_and_reproducible(rig):
    rgb, sensor = rig.rgb, rig.sensor
    assert (sensor.width, sensor.height) == (240, 180)
    assert 1.4 < rgb.fx / sensor.fx < 1.6 and rgb.width > 1.5 * sensor.width and rgb.height > 1.5 * sensor.height
    assert 40 <= np.rad2deg(2 * np.arctan(sensor.width / 2 / sensor.fx)) <= 50
    assert rgb.k1 < 0 and sensor.k1 < rgb.k1 and abs(sensor.cx - (sensor.width - 1) / 2) > 0
    rotation = rig_rotation(rig)
    angle = np.rad2deg(np.arccos((np.trace(rotation) - 1) / 2))
    assert 1.0 < angle < 3.5
    # the RGB camera sees the sensor's whole view, with a margin on every side
    h, w = sensor.height, sensor.width
    border = np.concatenate([np.stack([np.arange(w), np.zeros(w)], -1), np.stack([np.arange(w), np.full(w, h - 1)], -1),
                             np.stack([np.zeros(h), np.arange(h)], -1), np.stack([np.full(h, w - 1), np.arange(h)], -1)])
    seen = rig.sensor_to_rgb(border)
    margin = 0.03 * np.array([rgb.width, rgb.height])
    assert np.all(seen >= margin) and np.all(seen <= np.array([rgb.width, rgb.height]) - 1 - margin)
    again, other = default_rig((240, 180), seed=1), default_rig((240, 180), seed=2)
    assert again.rgb == rgb and np.array_equal(again.homography, rig.homography) and other.rgb != rgb


def test_geometry_round_trips(rig):
    for camera in (rig.rgb, rig.sensor):
        grid = camera.pixel_grid()
        assert np.abs(camera.distort(camera.undistort(grid)) - grid).max() < 1e-6
    grid = rig.sensor.pixel_grid()
    assert np.abs(rig.rgb_to_sensor(rig.sensor_to_rgb(grid)) - grid).max() < 1e-6
    rotation = rig_rotation(rig)
    assert np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
    assert np.allclose(RigGeometry.from_rotation(rig.rgb, rig.sensor, rotation).homography, rig.homography)
    # a 3-D point projects into the two cameras at pixels that the rig maps onto each other
    points = np.random.default_rng(0).uniform([-0.3, -0.2, 0.8], [0.3, 0.2, 2.0], (50, 3))
    assert np.abs(rig.rgb_to_sensor(project(rig.rgb, points, rotation)) - project(rig.sensor, points)).max() < 1e-6


def test_board_views_are_varied_and_visible_in_both_cameras(rig):
    poses = board_views(rig, BOARD, SQUARE_MM, 8, seed=3)
    rotation = rig_rotation(rig)
    for pose in poses:
        for camera, r in ((rig.sensor, None), (rig.rgb, rotation)):
            corners = project(camera, _outer_corners(pose), r)
            assert np.all(corners >= 4) and np.all(corners <= np.array([camera.width, camera.height]) - 5)
    tilts = np.rad2deg(np.arccos([pose.rotation[2, 2] for pose in poses]))
    assert tilts.max() > 15 and tilts.max() < 50 and np.ptp(tilts) > 5
    depths = [pose.translation[2] for pose in poses]
    assert np.ptp(depths) > 0.05 * np.mean(depths)
    repeat = board_views(rig, BOARD, SQUARE_MM, 8, seed=3)
    assert all(np.array_equal(a.translation, b.translation) for a, b in zip(poses, repeat))
    askew = RigGeometry.from_rotation(rig.rgb, rig.sensor, rotation_matrix(40, 0, 0))  # the views barely overlap
    with pytest.raises(NeurofocusError, match="could not place"):
        board_views(askew, BOARD, SQUARE_MM, 1)


@pytest.mark.parametrize("camera_name", ["rgb", "sensor"])
def test_rendered_board_corners_match_projection(rig, poses, camera_name):
    camera = getattr(rig, camera_name)
    rotation = rig_rotation(rig) if camera_name == "rgb" else None
    for pose in poses[:2]:
        image = render_board(camera, pose, BOARD, SQUARE_MM, rotation)
        assert image.shape == (camera.height, camera.width) and image.dtype == np.float32
        assert np.isclose(image.max(), WHITE) and np.isclose(image.min(), BLACK) and np.isclose(image[0, 0], BACKGROUND)
        found, corners = cv2.findChessboardCornersSB(_to8(image), BOARD)
        assert found and len(corners) == BOARD[0] * BOARD[1]
        expected = project(camera, pose.to_sensor_frame(board_points(BOARD, SQUARE_MM)), rotation)
        assert _match(corners, expected).mean() < 0.3


@pytest.mark.parametrize("model", ["dvs-voltmeter", "ideal"])
def test_flashing_board_events_show_the_board(rig, poses, model):
    sensors = SensorSetup(voltmeter=VoltmeterParams.preset("DVS346")) if model == "dvs-voltmeter" else \
        SensorSetup(ideal=IdealParams(shot_noise_rate_hz=1.0))
    pose = poses[0]
    on = render_board(rig.sensor, pose, BOARD, SQUARE_MM)
    off = render_board(rig.sensor, pose, BOARD, SQUARE_MM, screen_on=False)
    events = flashing_board_events(on, off, sensors, seed=4)
    assert events.sensor_size == (240, 180) and events.t[0] >= 0 and events.t[-1] <= 200_000
    ons = events.p > 0
    count = np.zeros((180, 240))
    np.add.at(count, (events.y[ons], events.x[ons]), 1)
    white, black = on == np.float32(WHITE), (on == np.float32(BLACK)) & (off == np.float32(BLACK))
    background = on == np.float32(BACKGROUND)
    assert count[white].mean() >= 8  # four switches on, a few events each
    noise = 0.5 * 1.0 * 0.2 if model == "ideal" else 0.0  # ON shot-noise events per pixel in 0.2 s
    assert count[black].mean() < noise + 0.05 and count[background].mean() < noise + 0.05  # static: noise only
    assert abs(np.sum(events.p < 0) - ons.sum()) < 0.1 * ons.sum()  # as many switches off as on
    picture = to_uint8(count / np.percentile(count, 99))
    found, corners = cv2.findChessboardCornersSB(picture, BOARD)
    assert found
    assert _match(corners, project(rig.sensor, pose.to_sensor_frame(board_points(BOARD, SQUARE_MM)))).mean() < 0.5


def test_static_board_spikes(rig, poses):
    image = render_board(rig.sensor, poses[0], BOARD, SQUARE_MM)
    spikes = static_board_spikes(image, SensorSetup(spikes=SpikeParams(max_rate=0.5), tick_us=100.0), seed=2)
    assert spikes.num_ticks == 100 and spikes.tick_us == 100.0
    rate = spikes.count() / spikes.num_ticks
    assert abs(rate[image == np.float32(WHITE)].mean() - 0.5 * WHITE) < 0.02
    assert abs(rate[image == np.float32(BLACK)].mean() - 0.5 * BLACK) < 0.02


def test_rgb_camera_view_maps_back_to_the_sensor_grid(rig):
    rng = np.random.default_rng(0)
    h, w = rig.sensor.height, rig.sensor.width
    smooth = ndimage.gaussian_filter(rng.uniform(0, 1, (h, w, 3)), (3, 3, 0))
    image = (0.2 + 0.6 * (smooth - smooth.min()) / np.ptp(smooth)).astype(np.float32)
    view = rgb_camera_view(image, rig)
    assert view.shape == (rig.rgb.height, rig.rgb.width, 3) and view.dtype == np.float32
    where = rig.sensor_to_rgb(rig.sensor.pixel_grid()).astype(np.float32)
    back = cv2.remap(view, where[..., 0], where[..., 1], cv2.INTER_CUBIC)
    assert np.abs(back - image)[8:-8, 8:-8].max() < 0.01
    noisy = rgb_camera_view(image, rig, 0.01, np.random.default_rng(1))
    assert 0.009 < np.std(noisy - view) < 0.011
    # the view of a board rendered on the sensor's grid has its corners where the RGB camera images them
    pose = board_views(rig, BOARD, SQUARE_MM, 1, seed=8)[0]
    seen = rgb_camera_view(render_board(rig.sensor, pose, BOARD, SQUARE_MM), rig)
    found, corners = cv2.findChessboardCornersSB(_to8(seen), BOARD)
    assert found
    expected = project(rig.rgb, pose.to_sensor_frame(board_points(BOARD, SQUARE_MM)), rig_rotation(rig))
    assert _match(corners, expected).mean() < 0.3
    with pytest.raises(NeurofocusError, match="240x180"):
        rgb_camera_view(image[:10], rig)


def test_write_calibration_set(tmp_path):
    rig = default_rig((160, 120), seed=3)
    sensors = SensorSetup(ideal=IdealParams(), spikes=SpikeParams(), tick_us=100.0)
    written = write_calibration_set(tmp_path / "cal", rig, sensors, num_views=2, board=(7, 5), square_mm=25.0, seed=1)
    assert written["rgb"] == ["rgb_00.png", "rgb_01.png"] and written["spikes"] == ["spikes_00.dat", "spikes_01.dat"]
    assert json.loads((tmp_path / "cal" / "board.json").read_text()) == {"cols": 7, "rows": 5, "square_mm": 25.0}
    photo = read_image(tmp_path / "cal" / "rgb_01.png")
    assert photo.shape == (rig.rgb.height, rig.rgb.width, 3)
    assert cv2.findChessboardCornersSB(to_uint8(photo[..., 1]), (7, 5))[0]
    events = load_events(tmp_path / "cal" / "events_01.raw")
    assert events.sensor_size == (160, 120) and np.sum(events.p > 0) > 1000
    spikes = load_spikes(tmp_path / "cal" / "spikes_01.dat")
    assert spikes.num_ticks == 100 and spikes.shape[1:] == (120, 160)
    assert sorted(p.name for p in (tmp_path / "cal").iterdir() if not p.name.endswith(".json")) == sorted(
        written["rgb"] + written["events"] + written["spikes"])


def _cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_simulate_rig(capsys, tmp_path):
    common = ("--size", "96x72", "--frames", 24, "--frame-rate", 240, "--max-blur-px", 10, "--image-frame", 7)
    out = tmp_path / "rig"
    code, text, err = _cli(capsys, "simulate", "--out", out, *common, "--rig", "default", "--rig-views", 3)
    assert code == 0, err
    assert "calibration/" in text and "RGB camera" in text
    rig = load_calibration(out / "rig_truth.json").geometry
    image, on_grid = read_image(out / "image.png"), read_image(out / "image_sensor_grid.png")
    assert image.shape == (rig.rgb.height, rig.rgb.width, 3) != on_grid.shape == (72, 96, 3)
    info = json.loads((out / "sample.json").read_text())
    assert info["rig"]["rgb_size"] == [rig.rgb.width, rig.rgb.height] and info["rig"]["truth"] == "rig_truth.json"
    names = {p.name for p in (out / "calibration").iterdir()}
    assert {f"{kind}_{i:02d}.{ext}" for i in range(3) for kind, ext in (("rgb", "png"), ("events", "raw"))} | {
        "board.json"} == names
    # the RGB image, mapped back onto the sensor's grid, is the sensor-grid capture (up to noise and resampling)
    where = rig.sensor_to_rgb(rig.sensor.pixel_grid()).astype(np.float32)
    back = cv2.remap(image, where[..., 0], where[..., 1], cv2.INTER_LINEAR)
    assert np.abs(back - on_grid)[4:-4, 4:-4].mean() < 0.01
    # without --rig the same run writes the sensor-grid capture as image.png, and the same events
    code, _, err = _cli(capsys, "simulate", "--out", tmp_path / "plain", *common)
    assert code == 0, err
    assert np.array_equal(read_image(tmp_path / "plain" / "image.png"), on_grid)
    assert load_events(tmp_path / "plain" / "events.raw") == load_events(out / "events.raw")
    # a rig file whose sensor is not the simulated one is refused, naming the file
    code, _, err = _cli(capsys, "simulate", "--out", tmp_path / "bad", "--size", "64x48", "--frames", 8,
                        "--rig", out / "rig_truth.json")
    assert code == 2 and "rig_truth.json" in err and "96x72" in err
