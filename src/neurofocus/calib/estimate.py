"""Rig calibration from paired checkerboard views: each camera's intrinsics and radial distortion, then the
homography between the undistorted views; and the versioned JSON file that holds the result.

Each camera is calibrated on its own (Zhang's method, ``cv2.calibrateCamera`` with k1, k2 only: tangential terms and
k3 fixed at 0). The homography is fitted to all corner pairs after undistortion (least squares, then
Levenberg–Marquardt refinement of the transfer error in sensor pixels).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from ..atomic import write_text_atomic
from ..errors import NeurofocusError
from .boards import Board, grid_orderings
from .geometry import CameraModel, RigGeometry, apply_homography, rig_from_dict, rig_to_dict

MIN_VIEWS = 3


@dataclasses.dataclass(frozen=True)
class ViewError:
    """Fit errors of one board view, mean Euclidean distance in pixels.

    Attributes
    ----------
    rgb_px, sensor_px : float
        Reprojection error of each camera's calibration (its own pixels).
    homography_px : float
        Transfer error of the rig homography (undistorted RGB corners mapped to the sensor, sensor pixels).
    """

    name: str
    rgb_px: float
    sensor_px: float
    homography_px: float


@dataclasses.dataclass(frozen=True)
class RigCalibration:
    """A calibrated rig and how well it fits.

    Attributes
    ----------
    geometry : RigGeometry
        Cameras and the undistorted-RGB → undistorted-sensor homography.
    views : tuple of ViewError
        Per-view errors (empty for a rig written by hand or by the simulator).
    board : Board or None
        The board used.
    """

    geometry: RigGeometry
    views: tuple[ViewError, ...] = ()
    board: Board | None = None

    def summary(self) -> dict:
        """Mean errors over the views (pixels)."""
        if not self.views:
            return {}
        return {k: float(np.mean([getattr(v, k) for v in self.views])) for k in ("rgb_px", "sensor_px", "homography_px")}

    def to_dict(self) -> dict:
        data = rig_to_dict(self.geometry)
        if self.board is not None:
            data["board"] = dataclasses.asdict(self.board)
        if self.views:
            data["mean_error_px"] = self.summary()
            data["views"] = [dataclasses.asdict(v) for v in self.views]
        return data


def save_calibration(path: str | os.PathLike, calibration: RigCalibration) -> None:
    """Write ``calibration`` as versioned JSON, atomically."""
    write_text_atomic(path, json.dumps(calibration.to_dict(), indent=2) + "\n")


def load_calibration(path: str | os.PathLike) -> RigCalibration:
    """Read a calibration JSON (from ``neurofocus calibrate``, or a simulated rig's ``rig_truth.json``)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NeurofocusError("no such file", path) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise NeurofocusError(f"not a readable JSON calibration ({' '.join(str(exc).split())})", path) from None
    geometry = rig_from_dict(data, path)
    try:
        board = Board(**data["board"]) if "board" in data else None
        views = tuple(ViewError(**v) for v in data.get("views", []))
    except NeurofocusError as exc:
        raise exc.with_path(path) from None
    except TypeError as exc:
        raise NeurofocusError(f"malformed board or views ({exc})", path) from None
    return RigCalibration(geometry, views, board)


def calibrate_camera(corners: list[np.ndarray], board: Board, size: tuple[int, int]) -> tuple[CameraModel, np.ndarray]:
    """Intrinsics and radial distortion of one camera from board views.

    Parameters
    ----------
    corners : list of ndarray, float64 (cols·rows, 2)
        Detected corners per view (pixels).
    size : (width, height)
        Image size.

    Returns
    -------
    camera : CameraModel
    view_errors : ndarray, float64 (V,)
        Mean reprojection error per view (pixels).
    """
    import cv2

    if len(corners) < MIN_VIEWS:
        raise NeurofocusError(f"calibration needs at least {MIN_VIEWS} board views, got {len(corners)}")
    objects = [board.object_points() for _ in corners]
    images = [c.astype(np.float32).reshape(-1, 1, 2) for c in corners]
    flags = cv2.CALIB_ZERO_TANGENT_DIST | cv2.CALIB_FIX_K3
    _, k, dist, rvecs, tvecs = cv2.calibrateCamera(objects, images, tuple(size), None, None, flags=flags)
    dist = np.ravel(dist)
    camera = CameraModel(int(size[0]), int(size[1]), float(k[0, 0]), float(k[1, 1]), float(k[0, 2]), float(k[1, 2]),
                         float(dist[0]), float(dist[1]))
    errors = []
    for obj, img, r, t in zip(objects, corners, rvecs, tvecs):
        projected, _ = cv2.projectPoints(obj, r, t, k, dist)
        errors.append(float(np.mean(np.linalg.norm(projected.reshape(-1, 2) - img, axis=1))))
    return camera, np.asarray(errors)


def fit_homography(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 3×3 homography mapping ``source`` (N, 2) to ``target`` (N, 2) pixels, least squares + LM refinement."""
    import cv2

    homography, _ = cv2.findHomography(source.astype(np.float64), target.astype(np.float64), 0)
    if homography is None:
        raise NeurofocusError("the board corners do not determine a homography (degenerate views)")
    return homography


def _transfer_errors(homography: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    return np.linalg.norm(apply_homography(homography, source) - target, axis=-1)


def _consistent_order(rgb_u: list[np.ndarray], sensor_u: list[np.ndarray], board: Board):
    """List every sensor view's corners in the order of its RGB view, and fit the homography.

    The four grid orders of one view are related by affine maps of the grid onto itself, so one view alone cannot
    tell them apart; one homography must fit all views at once, which only the true correspondence allows. Each
    order of the first view proposes a homography, every other view takes the order that fits it best, and the
    proposal with the smallest refitted error wins.
    """
    best = None
    for first in grid_orderings(sensor_u[0], board):
        proposal = fit_homography(rgb_u[0], first)
        ordered = [first] + [min(grid_orderings(s, board), key=lambda c: _transfer_errors(proposal, r, c).mean())
                             for r, s in zip(rgb_u[1:], sensor_u[1:])]
        homography = fit_homography(np.concatenate(rgb_u), np.concatenate(ordered))
        error = _transfer_errors(homography, np.concatenate(rgb_u), np.concatenate(ordered)).mean()
        if best is None or error < best[0]:
            best = (error, ordered, homography)
    return best[1], best[2]


def calibrate_rig(rgb_corners: list[np.ndarray], sensor_corners: list[np.ndarray], board: Board,
                  rgb_size: tuple[int, int], sensor_size: tuple[int, int],
                  names: list[str] | None = None) -> RigCalibration:
    """Calibrate a rig from board corners seen by both cameras at the same poses.

    Parameters
    ----------
    rgb_corners, sensor_corners : list of ndarray, float64 (cols·rows, 2)
        Corners of view i in the RGB image and in the sensor image (pixels; any of the four grid orders).
    rgb_size, sensor_size : (width, height)
    names : list of str, optional
        A name per view for the report (default: the view index).
    """
    if len(rgb_corners) != len(sensor_corners):
        raise NeurofocusError(f"{len(rgb_corners)} RGB views but {len(sensor_corners)} sensor views")
    names = names or [str(i) for i in range(len(rgb_corners))]
    rgb, rgb_errors = calibrate_camera(rgb_corners, board, rgb_size)
    sensor, sensor_errors = calibrate_camera(sensor_corners, board, sensor_size)
    rgb_u = [rgb.undistort(c) for c in rgb_corners]
    sensor_u = [sensor.undistort(c) for c in sensor_corners]
    ordered, homography = _consistent_order(rgb_u, sensor_u, board)
    views = tuple(ViewError(name, float(er), float(es), float(_transfer_errors(homography, r, s).mean()))
                  for name, er, es, r, s in zip(names, rgb_errors, sensor_errors, rgb_u, ordered))
    return RigCalibration(RigGeometry(rgb, sensor, homography), views, board)
