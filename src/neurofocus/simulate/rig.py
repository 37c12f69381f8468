"""A simulated hybrid rig: an RGB camera and a neuromorphic sensor that do not share a pixel grid.

Behind a beam splitter the two cameras share an optical centre but differ in resolution, focal length, principal
point and lens distortion, and are rotated slightly against each other (:mod:`neurofocus.calib.geometry`). This
module makes such a rig (:func:`default_rig`), shows the
RGB camera's view of an image simulated on the sensor's grid (:func:`rgb_camera_view`) and records what a user
records to calibrate the rig (:func:`write_calibration_set`): per view of a checkerboard, an RGB photo and the
neuromorphic recording of the board shown on a screen that is switched on and off (events) or shown still (spikes).

Frames: the *sensor frame* is the sensor camera's coordinate system (x right, y down, z forward, metres, origin at
the shared optical centre). Board poses are given in it. A camera whose rays are rotated against the sensor's (the
RGB camera) is described by the rotation taking its ray directions into the sensor frame (:func:`rig_rotation`).

Board layout: ``board = (cols, rows)`` inner corners (OpenCV's pattern size), so (cols + 1) × (rows + 1) squares of
``square_mm``, the top-left square black, inside a white margin one square wide (the quiet zone detectors need).
Board coordinates (u, v) are metres from the first inner corner along the rows and columns, as OpenCV's object
points. Intensities are linear: white :data:`WHITE`, black :data:`BLACK`, the static surroundings
:data:`BACKGROUND`; a screen that is off shows :data:`BLACK` over the whole board.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import cv2
import numpy as np

from ..atomic import write_text_atomic
from ..config_dicts import check_positive
from ..calib.boards import Board
from ..calib.geometry import CameraModel, RigGeometry, rotation_matrix
from ..color import linear_to_srgb
from ..errors import NeurofocusError
from ..images import write_image
from ..io import save_events, save_spikes
from ..types import Events, Spikes
from .dvs_voltmeter import DvsVoltmeter, VoltmeterParams, gray8
from .focal_sweep import SensorSetup

#: Linear intensities of the board's white and black squares and of the static background around the board.
WHITE, BLACK, BACKGROUND = 0.8, 0.05, 0.3
#: Width of the white margin around the checker pattern, in squares.
MARGIN_SQUARES = 1.0


# --- the rig ----------------------------------------------------------------------------------------------------------

def default_rig(sensor_size: tuple[int, int], rgb_scale: float = 1.5, seed: int = 0) -> RigGeometry:
    """A rig typical of a real beam-splitter setup around a sensor of ``sensor_size`` pixels.

    The sensor gets a 40–50° horizontal field of view, a principal point up to 1.5 % of the image size off-centre
    and barrel distortion (k1 ≈ −0.15, k2 ≈ 0.05). The RGB camera is rotated by 1–2° of yaw and pitch and 0.5–1.5°
    of roll, has ``rgb_scale`` (±3 %) times the sensor's pixels per radian, milder distortion (k1 ≈ −0.08,
    k2 ≈ 0.02), and is sized so that its view covers the sensor's whole view with a margin of 4–8 % on every side
    (its principal point is therefore off-centre too).

    Parameters
    ----------
    sensor_size : (int, int)
        (width, height) of the neuromorphic sensor in pixels (>= 16 each).
    rgb_scale : float
        Resolution of the RGB camera relative to the sensor (> 0).
    seed : int
        Seed of the random draws within the ranges above.

    Returns
    -------
    RigGeometry
    """
    width, height = (int(v) for v in sensor_size)
    if width < 16 or height < 16:
        raise NeurofocusError(f"the sensor must be at least 16x16 pixels for a rig, got {width}x{height}")
    check_positive(rgb_scale, "rgb_scale")
    rng = np.random.default_rng([seed, 71])
    f_sensor = float(width / 2 / np.tan(np.deg2rad(rng.uniform(40, 50)) / 2))
    cx, cy = (np.array([width - 1, height - 1]) / 2 + rng.uniform(-0.015, 0.015, 2) * (width, height)).tolist()
    sensor = CameraModel(width, height, f_sensor, f_sensor, cx, cy, -0.15 + float(rng.uniform(-0.01, 0.01)),
                         0.05 + float(rng.uniform(-0.005, 0.005)))
    signs = rng.choice([-1.0, 1.0], 3)
    rotation = rotation_matrix(*(signs * rng.uniform([1.0, 1.0, 0.5], [2.0, 2.0, 1.5])))
    k1, k2 = -0.08 + float(rng.uniform(-0.01, 0.01)), 0.02 + float(rng.uniform(-0.005, 0.005))
    f_rgb = rgb_scale * f_sensor * float(rng.uniform(0.97, 1.03))
    # the sensor's image border as seen by the RGB camera, in distorted normalised RGB coordinates
    rays = _rays(sensor, sensor.undistort(_outline(0, 0, width - 1, height - 1))) @ rotation
    seen = CameraModel(1, 1, 1.0, 1.0, 0.0, 0.0, k1, k2).distort(rays[:, :2] / rays[:, 2:])
    lo, hi = seen.min(axis=0) * f_rgb, seen.max(axis=0) * f_rgb
    margin_lo, margin_hi = rng.uniform(0.04, 0.08, (2, 2)) * (hi - lo)
    size = np.ceil(hi - lo + margin_lo + margin_hi).astype(int)
    cx, cy = (margin_lo - lo).tolist()
    rgb = CameraModel(int(size[0]), int(size[1]), f_rgb, f_rgb, cx, cy, k1, k2)
    return RigGeometry.from_rotation(rgb, sensor, rotation)


def rig_rotation(rig: RigGeometry) -> np.ndarray:
    """The rotation (float64 (3, 3), det 1) taking RGB ray directions into the sensor frame.

    Recovered from the homography as ``R ∝ K_sensor⁻¹ · H · K_rgb``, rescaled to det 1 and, for a homography that is
    not exactly a rotation (an estimated one), replaced by the nearest rotation.
    """
    m = np.linalg.inv(rig.sensor.matrix) @ rig.homography @ rig.rgb.matrix
    m = m / np.cbrt(np.linalg.det(m))
    u, _, vt = np.linalg.svd(m)
    return u @ vt


# --- camera geometry helpers ------------------------------------------------------------------------------------------

def _outline(x0: float, y0: float, x1: float, y1: float, per_side: int = 64) -> np.ndarray:
    """Points along the edges of the rectangle [x0, x1] × [y0, y1], float64 (4·per_side, 2)."""
    xs, ys = np.linspace(x0, x1, per_side), np.linspace(y0, y1, per_side)
    return np.concatenate([np.stack([xs, np.full_like(xs, y0)], -1), np.stack([xs, np.full_like(xs, y1)], -1),
                           np.stack([np.full_like(ys, x0), ys], -1), np.stack([np.full_like(ys, x1), ys], -1)])


def _rays(camera: CameraModel, undistorted: np.ndarray) -> np.ndarray:
    """Ray directions (..., 3) with z = 1, in the camera's frame, of undistorted pixel coordinates (..., 2)."""
    x = (undistorted[..., 0] - camera.cx) / camera.fx
    y = (undistorted[..., 1] - camera.cy) / camera.fy
    return np.stack([x, y, np.ones_like(x)], axis=-1)


def project(camera: CameraModel, points: np.ndarray, rotation: np.ndarray | None = None) -> np.ndarray:
    """Imaged (distorted) pixel coordinates of 3-D points.

    Parameters
    ----------
    camera : CameraModel
    points : ndarray (..., 3)
        Points in the sensor frame (metres); they must lie in front of the camera.
    rotation : ndarray (3, 3), optional
        Rotation taking the camera's ray directions into the sensor frame (:func:`rig_rotation` for the RGB
        camera); None for the sensor.

    Returns
    -------
    ndarray, float64 (..., 2); NaN for points behind the camera.
    """
    points = np.asarray(points, np.float64)
    if rotation is not None:
        points = points @ np.asarray(rotation, np.float64)  # Rᵀ·X for row vectors
    return camera.project(np.where((points[..., 2] > 0)[..., None], points, np.nan))


# --- the RGB camera's view of a simulated image -----------------------------------------------------------------------

def rgb_camera_view(image_linear: np.ndarray, rig: RigGeometry, noise_sigma: float = 0.0,
                    rng: np.random.Generator | None = None) -> np.ndarray:
    """What the rig's RGB camera sees of an image simulated on the sensor's pixel grid.

    Every RGB pixel is mapped to the sensor's imaged grid (:meth:`RigGeometry.rgb_to_sensor`) and the image is
    sampled there (bicubic, in linear light). Where the RGB camera sees beyond the sensor's view, the sensor-grid
    image is mirrored at its border (OpenCV's ``BORDER_REFLECT_101``): synthetic content that the sensor never sees,
    so a registration's valid region must exclude it. The RGB camera's Gaussian read noise is then added and the
    result clipped to [0, 1].

    Parameters
    ----------
    image_linear : ndarray, float (H, W, C) or (H, W)
        Linear-light image on the sensor's grid (H, W = sensor height, width).
    rig : RigGeometry
    noise_sigma : float
        Standard deviation of the read noise (linear light); 0 for none.
    rng : numpy.random.Generator, optional
        Source of the noise (required when ``noise_sigma`` > 0).

    Returns
    -------
    ndarray, float32 (H_rgb, W_rgb, C) or (H_rgb, W_rgb), linear light in [0, 1].
    """
    image = np.asarray(image_linear, np.float32)
    if image.shape[:2] != (rig.sensor.height, rig.sensor.width) or image.ndim not in (2, 3):
        raise NeurofocusError(f"the image must be {rig.sensor.width}x{rig.sensor.height} (the rig's sensor), got "
                              f"shape {image.shape}")
    if noise_sigma < 0 or (noise_sigma > 0 and rng is None):
        raise NeurofocusError("noise_sigma must be >= 0, and read noise needs an rng")
    where = rig.rgb_to_sensor(rig.rgb.pixel_grid()).astype(np.float32)
    view = cv2.remap(image, where[..., 0], where[..., 1], cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)
    view = view.reshape((rig.rgb.height, rig.rgb.width) + image.shape[2:])  # remap drops a single channel axis
    if noise_sigma > 0:
        view = view + rng.normal(0.0, noise_sigma, view.shape)
    return np.clip(view, 0.0, 1.0).astype(np.float32)


# --- checkerboard views -----------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class BoardPose:
    """Where a board is: a board point (u, v, 0) (metres) lies at ``rotation @ (u, v, 0) + translation`` in the
    sensor frame.

    Attributes
    ----------
    rotation : ndarray, float64 (3, 3)
        Board frame → sensor frame.
    translation : ndarray, float64 (3,)
        Position of the board's first inner corner in the sensor frame (metres).
    """

    rotation: np.ndarray
    translation: np.ndarray

    def to_sensor_frame(self, points: np.ndarray) -> np.ndarray:
        """Board-frame points (..., 3) (metres) in the sensor frame, float64 (..., 3)."""
        return np.asarray(points, np.float64) @ self.rotation.T + self.translation


def board_points(board: tuple[int, int], square_mm: float) -> np.ndarray:
    """The inner corners in the board frame, float64 (rows·cols, 3) metres, row by row (OpenCV's object points)."""
    return Board(*board, square_mm).object_points().astype(np.float64) * 1e-3


def _board_outline(board: tuple[int, int], square_mm: float, per_side: int = 32) -> np.ndarray:
    """Points along the board's outer edge (white margin included), float64 (4·per_side, 3), board frame."""
    cols, rows = board
    lo = -1 - MARGIN_SQUARES
    uv = _outline(lo, lo, cols + MARGIN_SQUARES, rows + MARGIN_SQUARES, per_side) * square_mm * 1e-3
    return np.concatenate([uv, np.zeros((len(uv), 1))], axis=-1)


def _check_board(board, square_mm) -> tuple[tuple[int, int], float]:
    try:
        checked = Board(*(int(v) for v in board), float(square_mm))
    except (TypeError, ValueError):
        raise NeurofocusError(f"board must be (cols, rows) inner corners, got {board!r}") from None
    return (checked.cols, checked.rows), checked.square_mm


def board_views(rig: RigGeometry, board: tuple[int, int] = (9, 6), square_mm: float = 20.0, num_views: int = 10,
                seed: int = 0, *, max_tilt_deg: float = 35.0, edge_px: float = 4.0) -> list[BoardPose]:
    """Board poses for calibrating ``rig``: varied positions, sizes and tilts, each fully visible in both cameras.

    Each view tilts the board by up to ``max_tilt_deg`` about the x and y axes (uniform) and up to 10° in plane,
    scales it to span 45–80 % of the sensor's width and centres it on a uniformly drawn point of the sensor's middle
    half; a pose is kept when the board's whole outline (white margin included) images at least ``edge_px`` pixels
    inside both images, and redrawn otherwise.

    Returns
    -------
    list of BoardPose, ``num_views`` long.
    """
    board, square_mm = _check_board(board, square_mm)
    check_positive(num_views, "num_views")
    rng = np.random.default_rng([seed, 73])
    sensor, rgb_rotation = rig.sensor, rig_rotation(rig)
    outline = _board_outline(board, square_mm)
    size_m = (np.array(board) + 1 + 2 * MARGIN_SQUARES) * square_mm * 1e-3
    centre = np.array([(board[0] - 1) / 2, (board[1] - 1) / 2, 0.0]) * square_mm * 1e-3
    poses = []
    for _ in range(200 * num_views):
        tilt_x, tilt_y = rng.uniform(-max_tilt_deg, max_tilt_deg, 2)
        rotation = rotation_matrix(tilt_y, tilt_x, rng.uniform(-10, 10))
        depth = size_m[0] * sensor.fx / (rng.uniform(0.45, 0.8) * sensor.width)
        aim = rng.uniform(0.25, 0.75, 2) * (sensor.width - 1, sensor.height - 1)
        target = depth * _rays(sensor, sensor.undistort(aim))
        pose = BoardPose(rotation, target - rotation @ centre)
        if all(_inside(camera, project(camera, pose.to_sensor_frame(outline), r), edge_px)
               for camera, r in ((sensor, None), (rig.rgb, rgb_rotation))):
            poses.append(pose)
            if len(poses) == num_views:
                return poses
    raise NeurofocusError(f"could not place {num_views} views of a {board[0]}x{board[1]} board fully inside both "
                          f"cameras (sensor {sensor.width}x{sensor.height}, RGB {rig.rgb.width}x{rig.rgb.height})")


def _inside(camera: CameraModel, pixels: np.ndarray, edge_px: float) -> bool:
    x, y = pixels[..., 0], pixels[..., 1]
    return bool(np.all((x >= edge_px) & (x <= camera.width - 1 - edge_px) &
                       (y >= edge_px) & (y <= camera.height - 1 - edge_px)))


class _PixelRays:
    """Rays through supersample × supersample points spread evenly over each pixel of a camera, kept to render many
    board poses: normalised undistorted coordinates, float32 (H, W, S, S, 2), undistorted a block of rows at a time.
    """

    def __init__(self, camera: CameraModel, rotation: np.ndarray | None, supersample: int, block_rows: int = 32):
        check_positive(supersample, "supersample")
        self.rotation = np.eye(3) if rotation is None else np.asarray(rotation, np.float64)
        self.block_rows = block_rows
        offsets = (np.arange(supersample) + 0.5) / supersample - 0.5
        self.xy = np.empty((camera.height, camera.width, supersample, supersample, 2), np.float32)
        for row in range(0, camera.height, block_rows):
            y = np.arange(row, min(row + block_rows, camera.height))[:, None, None, None] + offsets[:, None]
            x = np.arange(camera.width)[None, :, None, None] + offsets[None, None, None, :]
            x, y = np.broadcast_arrays(x, y)
            self.xy[row:row + len(y)] = _rays(camera, camera.undistort(np.stack([x, y], axis=-1)))[..., :2]

    def coverage(self, pose: BoardPose, board: tuple[int, int], square_mm: float) -> tuple[np.ndarray, np.ndarray]:
        """Per pixel, the share of its rays that hit the board and the share that hit white: two float32 (H, W)."""
        out = np.empty((2,) + self.xy.shape[:2], np.float32)
        for row in range(0, len(self.xy), self.block_rows):
            xy = self.xy[row:row + self.block_rows].astype(np.float64)
            rays = np.concatenate([xy, np.ones(xy.shape[:-1] + (1,))], axis=-1) @ self.rotation.T
            out[:, row:row + len(xy)] = _hits(rays, pose, board, square_mm)
        return out[0], out[1]


def _hits(rays: np.ndarray, pose: BoardPose, board: tuple[int, int], square_mm: float) -> np.ndarray:
    """Shares of each pixel's rays (..., S, S, 3) (sensor frame) that hit the board and white: float32 (2, ...)."""
    normal = pose.rotation[:, 2]
    along = rays @ normal
    scale = np.divide(normal @ pose.translation, along, out=np.full(along.shape, -1.0), where=along != 0)
    uv = ((scale[..., None] * rays - pose.translation) @ pose.rotation[:, :2]) / (square_mm * 1e-3)
    u, v = uv[..., 0], uv[..., 1]
    cols, rows = board
    lo = -1 - MARGIN_SQUARES
    on_board = (scale > 0) & (u >= lo) & (u <= cols + MARGIN_SQUARES) & (v >= lo) & (v <= rows + MARGIN_SQUARES)
    in_pattern = (u >= -1) & (u < cols) & (v >= -1) & (v < rows)
    black = in_pattern & ((np.floor(u) + np.floor(v)) % 2 == 0)
    white = on_board & ~black
    return np.stack([on_board.mean(axis=(-2, -1)), white.mean(axis=(-2, -1))]).astype(np.float32)


def _shade(coverage: tuple[np.ndarray, np.ndarray], screen_on: bool) -> np.ndarray:
    board, white = coverage
    lit = WHITE * white + BLACK * (board - white) if screen_on else BLACK * board
    return (BACKGROUND * (1 - board) + lit).astype(np.float32)


def render_board(camera: CameraModel, pose: BoardPose, board: tuple[int, int] = (9, 6), square_mm: float = 20.0,
                 rotation: np.ndarray | None = None, *, supersample: int = 4, screen_on: bool = True) -> np.ndarray:
    """Ray-cast image of a checkerboard, in linear light.

    Each pixel averages supersample × supersample rays spread evenly over its area (antialiasing): a ray through
    an imaged position is undistorted, rotated into the sensor frame and intersected with the board's plane; it
    sees :data:`WHITE` or :data:`BLACK` on the board and :data:`BACKGROUND` beside it (or behind the camera).

    Parameters
    ----------
    camera : CameraModel
    pose : BoardPose
        The board, in the sensor frame.
    board : (int, int)
        Inner corners (cols, rows).
    square_mm : float
        Square size in mm.
    rotation : ndarray (3, 3), optional
        Rotation taking the camera's ray directions into the sensor frame (:func:`rig_rotation` for the RGB
        camera); None for the sensor.
    supersample : int
        Rays per pixel along each axis.
    screen_on : bool
        False renders the board switched off (all :data:`BLACK`).

    Returns
    -------
    ndarray, float32 (H, W), linear intensity in [0, 1].
    """
    board, square_mm = _check_board(board, square_mm)
    return _shade(_PixelRays(camera, rotation, supersample).coverage(pose, board, square_mm), screen_on)


# --- neuromorphic recordings of the board -----------------------------------------------------------------------------

def flashing_board_events(screen_on: np.ndarray, screen_off: np.ndarray, sensors: SensorSetup, *, seed: int = 0,
                          cycles: int = 4, rate_hz: float = 20.0, frame_us: float = 1000.0,
                          workers: int | None = None) -> Events:
    """Events of a board whose screen is switched off and on ``cycles`` times at ``rate_hz``.

    The screen shows the pattern from t = 0 (µs), goes dark for the second half of each period and ends showing it
    again. Frames are ``frame_us`` apart, so each switch is a linear ramp over one frame; the background is static
    and fires only the event model's noise.

    Parameters
    ----------
    screen_on, screen_off : ndarray, float (H, W)
        The sensor's image (linear intensity in [0, 1]) with the screen on and off (:func:`render_board`).
    sensors : SensorSetup
        Its ``voltmeter`` (DVS-Voltmeter on 8-bit gray, preferred) or ``ideal`` event model.
    seed : int
        Seed of the event simulator.

    Returns
    -------
    Events, times in µs from 0 to ``cycles / rate_hz`` s.
    """
    on, off = np.asarray(screen_on, np.float32), np.asarray(screen_off, np.float32)
    size = (on.shape[1], on.shape[0])
    if sensors.voltmeter is not None:
        sim = DvsVoltmeter(size, sensors.voltmeter, seed=seed, workers=workers)
        on, off = (gray8(np.repeat(linear_to_srgb(image)[..., None], 3, axis=-1)) for image in (on, off))
    elif sensors.ideal is not None:
        from .ideal_events import IdealEventSimulator

        sim = IdealEventSimulator(size, sensors.ideal, seed=seed, workers=workers)
    else:
        raise NeurofocusError("flashing_board_events needs an event model (voltmeter or ideal)")
    half_period_us = 5e5 / rate_hz
    times = np.arange(0.0, 2 * cycles * half_period_us + frame_us / 2, frame_us)
    lit = (np.floor(times / half_period_us + 1e-9) % 2 == 0)
    parts = [sim.feed(np.where(lit[i:i + 32, None, None], on, off), times[i:i + 32]) for i in range(0, len(times), 32)]
    return Events.concatenate(parts)


def static_board_spikes(image: np.ndarray, sensors: SensorSetup, *, ticks: int = 100, seed: int = 0,
                        workers: int | None = None) -> Spikes:
    """``ticks`` spike-camera readouts (of ``sensors.tick_us`` µs, from t = 0) of a still image.

    Parameters
    ----------
    image : ndarray, float (H, W)
        Linear intensity in [0, 1].
    sensors : SensorSetup
        Its ``spikes`` (SpikeParams) and ``tick_us``.
    """
    from .spikes import SpikeSimulator

    if sensors.spikes is None:
        raise NeurofocusError("static_board_spikes needs spike parameters")
    image = np.clip(np.asarray(image, np.float64), 0, 1)
    sim = SpikeSimulator((image.shape[1], image.shape[0]), sensors.spikes, tick_us=sensors.tick_us, start_us=0.0,
                         seed=seed, workers=workers)
    return sim.feed(np.stack([image, image]), [0.0, ticks * sensors.tick_us])


def write_calibration_set(out_dir: str | os.PathLike, rig: RigGeometry,
                          sensors: SensorSetup = SensorSetup(voltmeter=VoltmeterParams.preset("DVS346")), *,
                          num_views: int = 10, board: tuple[int, int] = (9, 6), square_mm: float = 20.0,
                          rgb_noise: float = 0.002, seed: int = 0, workers: int | None = None) -> dict:
    """Write the checkerboard recordings a user would make to calibrate ``rig``.

    For view i (poses from :func:`board_views`): ``rgb_<i>.png``, the RGB camera's 8-bit sRGB photo of the board
    (read noise ``rgb_noise`` in linear light); ``events_<i>.raw`` (EVT3), the flashing board
    (:func:`flashing_board_events`), when ``sensors`` has an event model; ``spikes_<i>.dat`` (or ``.h5`` when the
    sensor's pixel count is not a multiple of 8), 100 ticks of the still board (:func:`static_board_spikes`), when it
    has spike parameters. ``board.json`` holds ``{"cols", "rows", "square_mm"}``. Every file is written atomically.

    Returns
    -------
    dict
        ``{"num_views", "board", "rgb", "events", "spikes"}``: the board and the file names written (lists).
    """
    out_dir = Path(out_dir)
    board, square_mm = _check_board(board, square_mm)
    poses = board_views(rig, board, square_mm, num_views, seed)
    rgb_rays, sensor_rays = _PixelRays(rig.rgb, rig_rotation(rig), 4), _PixelRays(rig.sensor, None, 4)
    spike_ext = ".dat" if (rig.sensor.width * rig.sensor.height) % 8 == 0 else ".h5"
    has_events = sensors.voltmeter is not None or sensors.ideal is not None
    written = {"num_views": num_views, "board": {"cols": board[0], "rows": board[1], "square_mm": square_mm},
               "rgb": [], "events": [], "spikes": []}
    for i, pose in enumerate(poses):
        stream = np.random.default_rng([seed, 79, i])
        photo = np.repeat(_shade(rgb_rays.coverage(pose, board, square_mm), True)[..., None], 3, axis=-1)
        photo = np.clip(photo + stream.normal(0.0, rgb_noise, photo.shape), 0, 1) if rgb_noise > 0 else photo
        written["rgb"].append(f"rgb_{i:02d}.png")
        write_image(out_dir / written["rgb"][-1], linear_to_srgb(photo))
        coverage = sensor_rays.coverage(pose, board, square_mm)
        sim_seed = int(stream.integers(2 ** 62))
        if has_events:
            written["events"].append(f"events_{i:02d}.raw")
            events = flashing_board_events(_shade(coverage, True), _shade(coverage, False), sensors, seed=sim_seed,
                                           workers=workers)
            save_events(out_dir / written["events"][-1], events, format="evt3")
        if sensors.spikes is not None:
            written["spikes"].append(f"spikes_{i:02d}{spike_ext}")
            save_spikes(out_dir / written["spikes"][-1],
                        static_board_spikes(_shade(coverage, True), sensors, seed=sim_seed + 1, workers=workers))
    write_text_atomic(out_dir / "board.json", json.dumps(written["board"], indent=2) + "\n")
    return written
