"""A defocused video's scene: textured layers moving in the image and in depth, seen through a thin lens whose focus may change."""

from __future__ import annotations

import dataclasses

import numpy as np

from ...errors import NeurofocusError
from ..optics import ThinLens

FOCUS_KINDS = ("constant", "drift", "sweep")
FOCUS_DISTANCE_M = (0.5, 1.5)  #: default range of the reference focus distance of random videos
FLOW_QUANTUM_PX = 2.0 ** -10  #: stored flow is rounded to this (float16's spacing at 1 px; halves the file size)


@dataclasses.dataclass(frozen=True)
class Trajectory:
    """Motion and depth of a layer, per frame.

    Attributes
    ----------
    center_px : ndarray, float64 (T, 2)
        Image position (x, y) of the layer's anchor point, pixels.
    angle_rad : ndarray, float64 (T,)
        Rotation (image x towards image y, i.e. clockwise on screen).
    scale : ndarray, float64 (T,)
        Size relative to the texture (> 0).
    depth_m : ndarray, float64 (T,)
        Distance from the lens (> the focal length).
    """

    center_px: np.ndarray
    angle_rad: np.ndarray
    scale: np.ndarray
    depth_m: np.ndarray

    def __post_init__(self):
        center = np.asarray(self.center_px, np.float64)
        n = len(center)
        if center.shape != (n, 2) or n < 1:
            raise NeurofocusError(f"center_px must be (T, 2), got shape {center.shape}")
        fields = {"center_px": center}
        for name in ("angle_rad", "scale", "depth_m"):
            value = np.asarray(getattr(self, name), np.float64)
            if value.shape != (n,):
                raise NeurofocusError(f"{name} must have shape ({n},) like center_px, got {value.shape}")
            fields[name] = value
        for name, value in fields.items():
            if not np.all(np.isfinite(value)):
                raise NeurofocusError(f"{name} must be finite")
        if np.any(fields["scale"] <= 0) or np.any(fields["depth_m"] <= 0):
            raise NeurofocusError("scale and depth_m must be positive")
        for name, value in fields.items():
            value.flags.writeable = False
            object.__setattr__(self, name, value)

    @classmethod
    def still(cls, center_px, depth_m: float, num_frames: int, *, angle_rad: float = 0.0,
              scale: float = 1.0) -> "Trajectory":
        """A layer that does not move."""
        return cls(np.tile(np.asarray(center_px, np.float64), (num_frames, 1)), np.full(num_frames, angle_rad),
                   np.full(num_frames, scale), np.full(num_frames, float(depth_m)))

    @property
    def num_frames(self) -> int:
        return len(self.center_px)

    def matrix(self, k: int, anchor: tuple[float, float]) -> np.ndarray:
        """Affine (2, 3) matrix from texture pixel coordinates to image coordinates at frame ``k``."""
        c, s = np.cos(self.angle_rad[k]), np.sin(self.angle_rad[k])
        linear = self.scale[k] * np.array([[c, -s], [s, c]])
        return np.concatenate([linear, (self.center_px[k] - linear @ np.asarray(anchor))[:, None]], axis=1)

    def step(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(A (2, 2), b (2,)): image point p at frame k moves to A·p + b at frame k + 1."""
        dtheta = self.angle_rad[k + 1] - self.angle_rad[k]
        c, s = np.cos(dtheta), np.sin(dtheta)
        a = self.scale[k + 1] / self.scale[k] * np.array([[c, -s], [s, c]])
        return a, self.center_px[k + 1] - a @ self.center_px[k]


@dataclasses.dataclass
class VideoLayer:
    """A textured, moving, fronto-parallel surface.

    Attributes
    ----------
    color : ndarray, float32 (h, w, 3)
        Linear-light texture.
    alpha : ndarray, float32 (h, w)
        Coverage in [0, 1] (anti-aliased shape).
    trajectory : Trajectory
    name : str
    tiled : bool
        Repeat the texture mirrored beyond its edges (backgrounds); otherwise nothing is outside it.
    anchor : (float, float) or None
        Texture point (x, y) that ``trajectory.center_px`` follows; default the texture centre.
    info : dict
        Free-form JSON-able description (shape, how the motion was drawn), written to ``sequence.json``.
    """

    color: np.ndarray
    alpha: np.ndarray
    trajectory: Trajectory
    name: str = "object"
    tiled: bool = False
    anchor: tuple[float, float] | None = None
    info: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self.color = np.asarray(self.color, np.float32)
        self.alpha = np.asarray(self.alpha, np.float32)
        h, w = self.alpha.shape
        if self.color.shape != (h, w, 3):
            raise NeurofocusError(f"layer {self.name!r}: colour {self.color.shape} and alpha {self.alpha.shape} "
                                  "do not match")
        if h < 2 or w < 2:
            raise NeurofocusError(f"layer {self.name!r}: the texture must be at least 2x2 pixels")
        if self.anchor is None:
            self.anchor = ((w - 1) / 2, (h - 1) / 2)


@dataclasses.dataclass
class DefocusVideo:
    """A moving layered scene seen through a thin lens whose focus may change.

    Attributes
    ----------
    width, height : int
        Image size.
    layers : list of VideoLayer
        Composited by depth at every frame (nearer in front); a background should cover the image.
    times_us : ndarray, int64 (T,)
        Frame times, strictly increasing.
    focus_m : ndarray, float64 (T,)
        Focus distance per frame.
    lens : ThinLens
    focus_kind : str
        How the focus moves ("constant", "drift", "sweep" or a description).
    focus_info : dict
        How the focus schedule was drawn (JSON-able, for ``sequence.json``).
    """

    width: int
    height: int
    layers: list[VideoLayer]
    times_us: np.ndarray
    focus_m: np.ndarray
    lens: ThinLens
    focus_kind: str = "constant"
    focus_info: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self.times_us = np.asarray(self.times_us, np.int64)
        self.focus_m = np.asarray(self.focus_m, np.float64)
        n = len(self.times_us)
        if self.width < 2 or self.height < 2:
            raise NeurofocusError(f"image size must be at least 2x2, got {self.width}x{self.height}")
        if n < 2 or self.times_us.shape != (n,) or np.any(np.diff(self.times_us) <= 0) or self.times_us[0] < 0:
            raise NeurofocusError("times_us must hold at least 2 strictly increasing times >= 0")
        if self.focus_m.shape != (n,):
            raise NeurofocusError(f"focus_m must have one value per frame ({n}), got shape {self.focus_m.shape}")
        if not self.layers:
            raise NeurofocusError("a video needs at least one layer")
        for layer in self.layers:
            if layer.trajectory.num_frames != n:
                raise NeurofocusError(f"layer {layer.name!r} has {layer.trajectory.num_frames} frames of motion, "
                                      f"the video {n}")
        self.blur_px()  # checks the distances against the focal length

    @property
    def num_frames(self) -> int:
        return len(self.times_us)

    def depth_table(self) -> np.ndarray:
        """Depth of every layer at every frame, float64 (T, L)."""
        return np.stack([layer.trajectory.depth_m for layer in self.layers], axis=1)

    def blur_px(self) -> np.ndarray:
        """Blur-circle diameter of every layer at every frame, float64 (T, L) pixels."""
        return self.lens.blur_diameter_px(self.depth_table(), self.focus_m[:, None])


def _rounded(values, digits: int = 5) -> list:
    return np.round(np.asarray(values, np.float64), digits).tolist()


def video_description(video: DefocusVideo) -> dict:
    """JSON-able description of a video: lens, focus schedule and per-layer motion, depth and blur per frame."""
    blur = video.blur_px()
    layers = []
    for j, layer in enumerate(video.layers):
        tr = layer.trajectory
        layers.append(dict(name=layer.name, tiled=layer.tiled, texture_size=[layer.alpha.shape[1],
                                                                             layer.alpha.shape[0]],
                           anchor=list(layer.anchor), center_px=_rounded(tr.center_px, 4),
                           angle_rad=_rounded(tr.angle_rad, 6), scale=_rounded(tr.scale, 6),
                           depth_m=_rounded(tr.depth_m, 6), blur_px=_rounded(blur[:, j], 4),
                           **layer.info))
    return dict(size=[video.width, video.height], num_frames=video.num_frames, lens=dataclasses.asdict(video.lens),
                focus=dict(kind=video.focus_kind, focus_m=_rounded(video.focus_m, 6),
                           **video.focus_info),
                layers=layers)
