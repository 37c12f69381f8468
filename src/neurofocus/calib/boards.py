"""Checkerboard views: images of a calibration board made from RGB files and neuromorphic recordings, and detection.

A neuromorphic sensor has no frames, so the board image is made from the recording:

* ``flash``: the board is shown on a screen that flashes (pattern ↔ dark) while the rig is still; white squares and
  the white margin fire events at every flash, black squares do not. Image = events per pixel (both polarities).
* ``integrate``: the board moves into a still view and stops; image = exp(Σ polarity) per pixel over the whole
  recording (the log-intensity change since the start, which shows the board if the view was board-free at first).
* ``aps``: the median of an AEDAT 4 file's APS frames (DAVIS cameras), when it has them.
* spikes: the mean firing rate over the recording (TFP over all ticks), proportional to intensity.

Corners are detected with OpenCV's sector-based detector (``findChessboardCornersSB``, sub-pixel accurate), falling
back to the classic detector + ``cornerSubPix``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import NeurofocusError
from ..types import Events, Spikes

SENSOR_IMAGE_KINDS = ("flash", "integrate", "aps")


@dataclasses.dataclass(frozen=True)
class Board:
    """A planar checkerboard: ``cols`` × ``rows`` inner corners, squares of ``square_mm`` millimetres."""

    cols: int
    rows: int
    square_mm: float

    def __post_init__(self):
        if self.cols < 2 or self.rows < 2:
            raise NeurofocusError(f"a board needs at least 2x2 inner corners, got {self.cols}x{self.rows}")
        if not self.square_mm > 0:
            raise NeurofocusError(f"the square size must be positive, got {self.square_mm} mm")

    def object_points(self) -> np.ndarray:
        """Inner-corner positions on the board plane, float32 (cols·rows, 3) in mm, row by row (OpenCV order)."""
        xs, ys = np.meshgrid(np.arange(self.cols), np.arange(self.rows))
        grid = np.stack([xs.ravel(), ys.ravel(), np.zeros(xs.size)], axis=1)
        return (grid * self.square_mm).astype(np.float32)


def to_gray8(image: np.ndarray) -> np.ndarray:
    """An image (H, W) or (H, W, 3) of any range → uint8 gray stretched between its 0.5 and 99.5 percentiles."""
    image = np.asarray(image, np.float64)
    if image.ndim == 3:
        image = image @ np.array([0.299, 0.587, 0.114])
    if not np.all(np.isfinite(image)):
        raise NeurofocusError("the board image contains NaN or infinite values")
    lo, hi = np.percentile(image, [0.5, 99.5])
    if hi <= lo:
        raise NeurofocusError("the board image is uniform (no board, or no events/spikes)")
    return np.clip((image - lo) / (hi - lo) * 255 + 0.5, 0, 255).astype(np.uint8)


def event_board_image(events: Events, kind: str = "flash") -> np.ndarray:
    """A board image (H, W) float64 from the events of a calibration recording (see the module docstring)."""
    if len(events) == 0:
        raise NeurofocusError("the recording has no events")
    x, y = events.x.astype(np.int64), events.y.astype(np.int64)
    if kind == "flash":
        counts = np.bincount(y * events.width + x, minlength=events.width * events.height)
        return counts.reshape(events.height, events.width).astype(np.float64)
    if kind == "integrate":
        net = np.bincount(y * events.width + x, weights=events.p.astype(np.float64),
                          minlength=events.width * events.height)
        return np.exp(0.2 * net.reshape(events.height, events.width))
    raise NeurofocusError(f"event board image must be one of {SENSOR_IMAGE_KINDS[:2]}, got {kind!r}")


def aps_board_image(frames) -> np.ndarray:
    """The median of APS frames (a list of ``ApsFrame``), float64 (H, W)."""
    if not frames:
        raise NeurofocusError("the file has no APS frames")
    pixels = np.stack([np.asarray(f.image, np.float64) for f in frames])
    if pixels.ndim == 4:
        pixels = pixels.mean(axis=3)
    return np.median(pixels, axis=0)


def spike_board_image(spikes: Spikes) -> np.ndarray:
    """The mean firing rate (spikes per tick) over the recording, float64 (H, W)."""
    if spikes.num_ticks == 0:
        raise NeurofocusError("the recording has no ticks")
    return spikes.count(0, spikes.num_ticks).astype(np.float64) / spikes.num_ticks


def find_corners(gray8: np.ndarray, board: Board) -> np.ndarray | None:
    """Inner corners of ``board`` in a uint8 (H, W) image: float64 (cols·rows, 2) pixel coordinates, or None."""
    import cv2

    pattern = (board.cols, board.rows)
    found, corners = cv2.findChessboardCornersSB(gray8, pattern, flags=cv2.CALIB_CB_EXHAUSTIVE | cv2.CALIB_CB_ACCURACY)
    if not found:
        found, corners = cv2.findChessboardCorners(gray8, pattern,
                                                   flags=cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE)
        if not found:
            return None
        criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_MAX_ITER, 50, 1e-3)
        corners = cv2.cornerSubPix(gray8, corners, (5, 5), (-1, -1), criteria)
    return np.asarray(corners, np.float64).reshape(-1, 2)


def grid_orderings(corners: np.ndarray, board: Board) -> list[np.ndarray]:
    """The detected corners in the four orders a grid can be listed in (as found, 180°, mirrored in x, in y).

    Two cameras may list the same board in different orders (a detector's start corner is ambiguous, and a beam
    splitter mirrors one view); the registration picks the order that fits.
    """
    grid = corners.reshape(board.rows, board.cols, 2)
    return [g.reshape(-1, 2) for g in (grid, grid[::-1, ::-1], grid[:, ::-1], grid[::-1, :])]
