"""Bring an RGB image onto the neuromorphic sensor's pixel grid, and the results back onto an output grid.

The all-in-focus pipeline needs the RGB image and the events/spikes on one pixel grid. Events cannot be resampled
without losing or duplicating them, so the RGB image is resampled onto the sensor's *imaged* (distorted) grid, the
pipeline runs there, and its outputs are then resampled onto the grid the user asks for:

* ``"undistorted"`` (default): the sensor's undistorted grid at the sensor's resolution (same intrinsics, no lens
  distortion: straight lines are straight);
* ``"sensor"``: the sensor's own pixels, as the events were recorded;
* ``"rgb"``: the RGB camera's pixels: the refocusing *residual* (all-in-focus − aligned input) is mapped back and added
  to the original RGB image, which keeps the RGB camera's resolution where the sensor adds nothing.

Pixels that only one camera sees are reported in a valid mask and are not invented: on the sensor grids they are 0
(black); on the RGB grid they keep the original RGB image (not refocused).

Resampling is done in linear light with bicubic interpolation after an anti-alias Gaussian when the source is finer
than the target.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import ndimage

from ..color import linear_to_srgb, srgb_to_linear
from ..errors import NeurofocusError
from .geometry import RigGeometry

OUTPUT_GRIDS = ("undistorted", "sensor", "rgb")


def _sample(image: np.ndarray, coords: np.ndarray, source_px_per_target_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``image`` (H, W[, C]) float at pixel coordinates ``coords`` (h, w, 2) → (values, inside mask).

    Linear-light values outside the image (beyond half a pixel from the border) are 0 and flagged False in the mask.
    """
    import cv2

    image = np.asarray(image, np.float32)
    if source_px_per_target_px > 1.0:
        sigma = 0.5 * np.sqrt(source_px_per_target_px ** 2 - 1.0)
        image = ndimage.gaussian_filter(image, (sigma, sigma) + (0,) * (image.ndim - 2), mode="nearest")
    map_x = coords[..., 0].astype(np.float32)
    map_y = coords[..., 1].astype(np.float32)
    values = cv2.remap(image, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    height, width = image.shape[:2]
    inside = (map_x >= -0.5) & (map_x <= width - 0.5) & (map_y >= -0.5) & (map_y <= height - 0.5)
    return np.where(inside[..., None] if values.ndim == 3 else inside, values, 0.0).astype(np.float32), inside


def _scale(source_coords: np.ndarray) -> float:
    """Source pixels per target pixel: the median length of the mapped target-pixel steps."""
    dx = np.linalg.norm(np.diff(source_coords, axis=1), axis=-1)
    dy = np.linalg.norm(np.diff(source_coords, axis=0), axis=-1)
    return float(np.sqrt(np.median(dx) * np.median(dy)))


def _check_rgb_size(image: np.ndarray, camera) -> None:
    if image.shape[:2] != (camera.height, camera.width):
        raise NeurofocusError(f"the RGB image is {image.shape[1]}x{image.shape[0]} but the calibration's RGB camera "
                              f"is {camera.width}x{camera.height}")


@dataclasses.dataclass(frozen=True)
class AlignedImage:
    """An RGB image on the sensor's imaged grid.

    Attributes
    ----------
    image : ndarray, float32 (H_s, W_s, 3)
        sRGB in [0, 1]; 0 where the RGB camera does not see.
    valid : ndarray, bool (H_s, W_s)
        Sensor pixels that the RGB camera sees.
    """

    image: np.ndarray
    valid: np.ndarray


def align_rgb_to_sensor(image: np.ndarray, geometry: RigGeometry) -> AlignedImage:
    """Resample an RGB image (H_rgb, W_rgb, 3) sRGB [0, 1] onto the sensor's imaged (distorted) grid."""
    _check_rgb_size(image, geometry.rgb)
    coords = geometry.sensor_to_rgb(geometry.sensor.pixel_grid())
    linear, inside = _sample(srgb_to_linear(image), coords, _scale(coords))
    return AlignedImage(np.clip(linear_to_srgb(np.clip(linear, 0, 1)), 0, 1).astype(np.float32), inside)


class OutputGrid:
    """Resampling from the sensor's imaged grid onto one output grid; the coordinate maps and the output's valid
    mask are computed once, so a whole stack of results costs one remap each.

    Parameters
    ----------
    geometry : RigGeometry
    grid : {"undistorted", "sensor", "rgb"}
        See the module docstring.
    valid : ndarray, bool (H_s, W_s)
        Where results on the sensor grid hold content (from :func:`align_rgb_to_sensor`).

    Attributes
    ----------
    valid : ndarray, bool
        The covered pixels of the output grid.
    """

    def __init__(self, geometry: RigGeometry, grid: str, valid: np.ndarray):
        if grid not in OUTPUT_GRIDS:
            raise NeurofocusError(f"output grid must be one of {OUTPUT_GRIDS}, got {grid!r}")
        self.geometry, self.grid = geometry, grid
        if grid == "sensor":
            self._coords, self.valid = None, valid
            return
        if grid == "undistorted":
            self._coords = geometry.sensor.distort(geometry.sensor.pixel_grid())
        else:
            self._coords = geometry.rgb_to_sensor(geometry.rgb.pixel_grid())
        covered, inside = _sample(valid.astype(np.float32), self._coords, 1.0)
        self.valid = inside & (covered > 0.999)

    def resample(self, image: np.ndarray, *, aligned_input: np.ndarray | None = None,
                 rgb_image: np.ndarray | None = None) -> np.ndarray:
        """``image`` (H_s, W_s[, 3]) on the output grid, float32; 0 outside :attr:`valid` — except on the RGB grid
        with ``aligned_input`` and ``rgb_image`` given, where the residual ``image - aligned_input`` is added to
        ``rgb_image`` and the uncovered pixels keep ``rgb_image`` (see :func:`to_output_grid`)."""
        if self._coords is None:
            return np.asarray(image, np.float32)
        keep = self.valid
        if self.grid == "rgb" and aligned_input is not None and rgb_image is not None:
            _check_rgb_size(rgb_image, self.geometry.rgb)
            residual, _ = _sample(np.asarray(image, np.float32) - aligned_input, self._coords, 1.0)
            return np.where(keep[..., None], np.clip(rgb_image + residual, 0, 1), rgb_image).astype(np.float32)
        out, _ = _sample(image, self._coords, 1.0)
        return np.where(keep[..., None] if out.ndim == 3 else keep, out, 0).astype(np.float32)


def to_output_grid(image: np.ndarray, valid: np.ndarray, geometry: RigGeometry, grid: str, *,
                   aligned_input: np.ndarray | None = None, rgb_image: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Resample a result on the sensor's imaged grid onto an output grid.

    Parameters
    ----------
    image : ndarray, float32 (H_s, W_s[, 3])
        sRGB image, or a map (e.g. in-focus time), on the sensor's imaged grid.
    valid : ndarray, bool (H_s, W_s)
        Where ``image`` holds content (from :func:`align_rgb_to_sensor`).
    grid : {"undistorted", "sensor", "rgb"}
        See the module docstring.
    aligned_input, rgb_image : ndarray, optional
        For ``grid="rgb"`` and an sRGB ``image``: the aligned input image on the sensor grid and the original RGB
        image; the residual ``image - aligned_input`` is mapped back and added to ``rgb_image``. Without them (maps),
        the values themselves are resampled and pixels outside the sensor's view are 0.

    Returns
    -------
    image : ndarray, float32, on the output grid
    valid : ndarray, bool, on the output grid
    """
    output = OutputGrid(geometry, grid, valid)
    return output.resample(image, aligned_input=aligned_input, rgb_image=rgb_image), output.valid
