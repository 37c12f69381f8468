"""Camera and rig geometry of a hybrid RGB + neuromorphic rig.

Each camera is a pinhole with radial lens distortion (OpenCV's model with k1, k2; no tangential terms): a point at
normalised undistorted coordinates (x, y), r² = x² + y², is imaged at
``(x, y)·(1 + k1·r² + k2·r⁴)`` (normalised), i.e. pixel ``(fx·x_d + cx, fy·y_d + cy)``.

Behind a beam splitter both cameras share (nearly) one optical centre, so their *undistorted* views are related by a
homography for any scene: ``H = K_sensor · R · K_rgb⁻¹`` maps undistorted RGB pixels to undistorted sensor pixels.

Pixel coordinates are (x, y) = (column, row) with the centre of the top-left pixel at (0, 0), as in OpenCV.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os

import numpy as np

from ..errors import NeurofocusError

#: Version of the JSON layout of a rig (:func:`rig_to_dict`), shared by calibration files.
FILE_VERSION = 1


@dataclasses.dataclass(frozen=True)
class CameraModel:
    """One camera: image size in pixels, intrinsics in pixels and radial distortion (dimensionless).

    Attributes
    ----------
    width, height : int
        Image size (pixels).
    fx, fy, cx, cy : float
        Focal lengths and principal point (pixels).
    k1, k2 : float
        Radial distortion coefficients (OpenCV convention; k1 < 0 is barrel distortion).
    """

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    k1: float = 0.0
    k2: float = 0.0

    def __post_init__(self):
        if self.width < 1 or self.height < 1:
            raise NeurofocusError(f"camera size must be positive, got {self.width}x{self.height}")
        if not all(np.isfinite([self.fx, self.fy, self.cx, self.cy, self.k1, self.k2])) or self.fx <= 0 or self.fy <= 0:
            raise NeurofocusError(f"camera intrinsics must be finite with positive focal lengths, got {self}")

    @classmethod
    def centred(cls, width: int, height: int, focal_px: float, k1: float = 0.0, k2: float = 0.0) -> "CameraModel":
        """A camera with square pixels and the principal point at the image centre."""
        return cls(width, height, focal_px, focal_px, (width - 1) / 2, (height - 1) / 2, k1, k2)

    @property
    def matrix(self) -> np.ndarray:
        """The 3×3 intrinsic matrix K (float64)."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def dist_coeffs(self) -> np.ndarray:
        """OpenCV distortion vector (k1, k2, p1, p2, k3) = (k1, k2, 0, 0, 0)."""
        return np.array([self.k1, self.k2, 0.0, 0.0, 0.0])

    def distort(self, points: np.ndarray) -> np.ndarray:
        """Undistorted pixel coordinates (..., 2) → distorted (as imaged) pixel coordinates (..., 2), float64."""
        x, y = self._normalise(points)
        r2 = x * x + y * y
        scale = 1 + self.k1 * r2 + self.k2 * r2 * r2
        return self._pixels(x * scale, y * scale)

    def undistort(self, points: np.ndarray, iterations: int = 50) -> np.ndarray:
        """Distorted (imaged) pixel coordinates (..., 2) → undistorted pixel coordinates (..., 2), float64.

        Solved by fixed-point iteration (exact to ~1e-9 px for the distortion of real lenses, |k1|·r² < 0.3).
        """
        xd, yd = self._normalise(points)
        x, y = xd.copy(), yd.copy()
        for _ in range(iterations):
            r2 = x * x + y * y
            scale = 1 + self.k1 * r2 + self.k2 * r2 * r2
            x_new, y_new = xd / scale, yd / scale
            change = max(float(np.max(np.abs(x_new - x), initial=0)), float(np.max(np.abs(y_new - y), initial=0)))
            x, y = x_new, y_new
            if change < 1e-12:
                break
        return self._pixels(x, y)

    def project(self, points_xyz: np.ndarray) -> np.ndarray:
        """3-D points (..., 3) in the camera frame (z forward, any unit) → imaged (distorted) pixels (..., 2)."""
        points_xyz = np.asarray(points_xyz, np.float64)
        z = points_xyz[..., 2]
        return self.distort(self._pixels(points_xyz[..., 0] / z, points_xyz[..., 1] / z))

    def pixel_grid(self) -> np.ndarray:
        """Coordinates of every pixel, float64 (height, width, 2)."""
        xs, ys = np.meshgrid(np.arange(self.width, dtype=np.float64), np.arange(self.height, dtype=np.float64))
        return np.stack([xs, ys], axis=-1)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def _normalise(self, points):
        points = np.asarray(points, np.float64)
        return (points[..., 0] - self.cx) / self.fx, (points[..., 1] - self.cy) / self.fy

    def _pixels(self, x, y):
        return np.stack([x * self.fx + self.cx, y * self.fy + self.cy], axis=-1)


def apply_homography(homography: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map pixel coordinates (..., 2) by a 3×3 homography; float64 (..., 2)."""
    points = np.asarray(points, np.float64)
    h = np.asarray(homography, np.float64)
    x = h[0, 0] * points[..., 0] + h[0, 1] * points[..., 1] + h[0, 2]
    y = h[1, 0] * points[..., 0] + h[1, 1] * points[..., 1] + h[1, 2]
    w = h[2, 0] * points[..., 0] + h[2, 1] * points[..., 1] + h[2, 2]
    return np.stack([x / w, y / w], axis=-1)


def rotation_matrix(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """A 3×3 rotation from angles about the y (yaw), x (pitch) and z (roll) axes, in degrees: Rz·Rx·Ry."""
    a, b, c = np.deg2rad([yaw_deg, pitch_deg, roll_deg])
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rz @ rx @ ry


@dataclasses.dataclass(frozen=True)
class RigGeometry:
    """Two cameras sharing an optical centre and the homography between their undistorted views.

    Attributes
    ----------
    rgb, sensor : CameraModel
        The RGB camera and the neuromorphic sensor.
    homography : ndarray, float64 (3, 3)
        Undistorted RGB pixel → undistorted sensor pixel (normalised so that ``homography[2, 2] == 1``).
    """

    rgb: CameraModel
    sensor: CameraModel
    homography: np.ndarray

    def __post_init__(self):
        h = np.asarray(self.homography, np.float64)
        if h.shape != (3, 3) or not np.all(np.isfinite(h)) or abs(np.linalg.det(h)) < 1e-12:
            raise NeurofocusError(f"the rig homography must be a finite invertible 3x3 matrix, got {h.tolist()}")
        object.__setattr__(self, "homography", h / h[2, 2])

    @classmethod
    def from_rotation(cls, rgb: CameraModel, sensor: CameraModel, rotation: np.ndarray) -> "RigGeometry":
        """The rig whose RGB camera is rotated by ``rotation`` (3×3, RGB frame → sensor frame) about the shared centre."""
        return cls(rgb, sensor, sensor.matrix @ np.asarray(rotation, np.float64) @ np.linalg.inv(rgb.matrix))

    def rgb_to_sensor(self, rgb_pixels: np.ndarray) -> np.ndarray:
        """Imaged RGB pixel coordinates (..., 2) → imaged (distorted) sensor pixel coordinates (..., 2)."""
        return self.sensor.distort(apply_homography(self.homography, self.rgb.undistort(rgb_pixels)))

    def sensor_to_rgb(self, sensor_pixels: np.ndarray) -> np.ndarray:
        """Imaged sensor pixel coordinates (..., 2) → imaged (distorted) RGB pixel coordinates (..., 2)."""
        return self.rgb.distort(apply_homography(np.linalg.inv(self.homography), self.sensor.undistort(sensor_pixels)))


def rig_to_dict(rig: RigGeometry) -> dict:
    """The rig as a JSON-ready dict ``{"version", "rgb", "sensor", "homography"}``."""
    return {"version": FILE_VERSION, "rgb": rig.rgb.to_dict(), "sensor": rig.sensor.to_dict(),
            "homography": rig.homography.tolist()}


def rig_from_dict(data, path: str | os.PathLike | None = None) -> RigGeometry:
    """A rig from the dict :func:`rig_to_dict` makes (other keys are ignored); errors name ``path``."""
    if not isinstance(data, dict):
        raise NeurofocusError("a rig file holds a JSON object", path)
    missing = [key for key in ("version", "rgb", "sensor", "homography") if key not in data]
    if missing:
        raise NeurofocusError(f"not a rig file: missing {', '.join(repr(k) for k in missing)}", path)
    if data["version"] != FILE_VERSION:
        raise NeurofocusError(f"unsupported rig file version {data['version']!r} (this is version {FILE_VERSION})",
                              path)
    cameras = [_camera_from_dict(data[key], key, path) for key in ("rgb", "sensor")]
    homography = _numbers(data["homography"], "homography", path)
    if not (isinstance(homography, list) and len(homography) == 3
            and all(isinstance(row, list) and len(row) == 3 for row in homography)):
        raise NeurofocusError(f"homography must be a 3x3 list of lists, got {json.dumps(homography)}", path)
    try:
        return RigGeometry(*cameras, homography)
    except NeurofocusError as exc:
        raise NeurofocusError(exc.problem, path) from None


def _camera_from_dict(data, key: str, path) -> CameraModel:
    if not isinstance(data, dict):
        raise NeurofocusError(f"{key!r} must be a camera object, got {type(data).__name__}", path)
    values = {}
    for field in dataclasses.fields(CameraModel):
        if field.name not in data:
            raise NeurofocusError(f"camera {key!r} lacks {field.name!r}", path)
        values[field.name] = _numbers(data[field.name], f"{key}.{field.name}", path)
    for name in ("width", "height"):
        if values[name] != int(values[name]):
            raise NeurofocusError(f"{key}.{name} must be a whole number of pixels, got {values[name]}", path)
        values[name] = int(values[name])
    try:
        return CameraModel(**values)
    except NeurofocusError as exc:
        raise NeurofocusError(f"camera {key!r}: {exc.problem}", path) from None


def _numbers(value, name: str, path):
    """``value`` (a JSON number, or a list of lists of them), checked; else a NeurofocusError naming ``name``."""
    rows = value if isinstance(value, list) else [value]
    flat = [v for row in rows for v in (row if isinstance(row, list) else [row])]
    if not flat or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in flat):
        raise NeurofocusError(f"{name} must be finite numbers, got {json.dumps(value)}", path)
    return value
