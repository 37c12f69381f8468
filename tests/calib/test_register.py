"""Registration: the RGB image on the sensor's grid and results back onto the output grids."""

import numpy as np
import pytest
from scipy import ndimage

from neurofocus.calib.geometry import CameraModel, RigGeometry, rotation_matrix
from neurofocus.calib.register import align_rgb_to_sensor, to_output_grid
from neurofocus.color import linear_to_srgb
from neurofocus.errors import NeurofocusError

SENSOR = CameraModel.centred(160, 120, 150.0, -0.15, 0.05)
RGB = CameraModel(260, 190, 238.0, 238.0, 131.0, 93.0, -0.08, 0.02)
RIG = RigGeometry.from_rotation(RGB, SENSOR, rotation_matrix(1.5, -1.0, 0.8))


def smooth_scene(u, v):
    """A smooth colour pattern at (undistorted sensor) pixel coordinates u, v."""
    return np.stack([0.5 + 0.3 * np.sin(u / 9.0) * np.cos(v / 7.0), 0.4 + 0.3 * np.cos((u + v) / 11.0),
                     0.5 + 0.25 * np.sin(v / 6.0)], axis=-1)


def rgb_view():
    """What the RGB camera images of the smooth scene (sRGB), and the scene on the sensor's imaged grid."""
    rgb_in_sensor = RIG.sensor.undistort(RIG.rgb_to_sensor(RGB.pixel_grid()))
    sensor_u = SENSOR.undistort(SENSOR.pixel_grid())
    return (linear_to_srgb(smooth_scene(*np.moveaxis(rgb_in_sensor, -1, 0))).astype(np.float32),
            linear_to_srgb(smooth_scene(*np.moveaxis(sensor_u, -1, 0))).astype(np.float32))


def test_rgb_image_lands_on_the_sensor_grid():
    rgb, expected = rgb_view()
    aligned = align_rgb_to_sensor(rgb, RIG)
    assert aligned.image.shape == (SENSOR.height, SENSOR.width, 3)
    inner = ndimage.binary_erosion(aligned.valid, iterations=3)
    assert inner.mean() > 0.8
    error = np.abs(aligned.image - expected)[inner]
    assert error.mean() < 2e-3 and error.max() < 0.03
    # Where the RGB camera does not see, nothing is invented.
    coords = RIG.sensor_to_rgb(SENSOR.pixel_grid())
    outside = (coords[..., 0] < -1) | (coords[..., 0] > RGB.width) | (coords[..., 1] < -1) | (coords[..., 1] > RGB.height)
    assert not aligned.valid[outside].any() and np.all(aligned.image[outside] == 0)


def test_undistorted_output_straightens_the_sensor_image():
    _, on_sensor = rgb_view()
    valid = np.ones(on_sensor.shape[:2], bool)
    out, keep = to_output_grid(on_sensor, valid, RIG, "undistorted")
    grid = SENSOR.pixel_grid()
    expected = linear_to_srgb(smooth_scene(grid[..., 0], grid[..., 1]))
    inner = ndimage.binary_erosion(keep, iterations=2)
    assert inner.mean() > 0.75 and np.abs(out - expected)[inner].mean() < 2e-3
    assert np.all(out[~keep] == 0)


def test_rgb_output_keeps_the_rgb_image_when_nothing_is_refocused():
    rgb, _ = rgb_view()
    aligned = align_rgb_to_sensor(rgb, RIG)
    out, keep = to_output_grid(aligned.image, aligned.valid, RIG, "rgb", aligned_input=aligned.image, rgb_image=rgb)
    assert out.shape == rgb.shape and 0.5 < keep.mean() < 1.0
    np.testing.assert_allclose(out, rgb, atol=1e-6)
    brighter, _ = to_output_grid(np.clip(aligned.image + 0.1, 0, 1), aligned.valid, RIG, "rgb",
                                 aligned_input=aligned.image, rgb_image=rgb)
    inner = ndimage.binary_erosion(keep, iterations=3)
    assert np.abs(brighter - np.clip(rgb + 0.1, 0, 1))[inner].mean() < 0.01
    np.testing.assert_array_equal(brighter[~keep], rgb[~keep])


def test_wrong_rgb_size_is_an_error():
    with pytest.raises(NeurofocusError, match="is 100x80 but the calibration's RGB camera is 260x190"):
        align_rgb_to_sensor(np.zeros((80, 100, 3), np.float32), RIG)
