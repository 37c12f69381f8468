"""Layered scenes: textured shapes at depths over a background, on a canvas larger than the image.

A :class:`Layer` is a colour texture (linear RGB), a coverage (alpha) mask and a depth per pixel (metres; constant for
fronto-parallel shapes, a plane for slanted ones: inverse depth linear in image coordinates, as for any 3-D plane
seen through a pinhole). A :class:`Scene` lists layers back to front; the canvas extends ``pad`` pixels beyond the
image on every side so that content outside the field of view blurs into it.

:func:`random_scene` makes the kind of scene the all-in-focus papers rendered in Blender: geometric objects
(rectangles, ellipses, polygons, some slanted) at random depths, textured with natural images, over a background.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from PIL import Image, ImageDraw

from ..config_dicts import check_keys
from ..errors import NeurofocusError
from .optics import ThinLens
from .textures import random_texture

_SUPERSAMPLE = 4

#: The keys an object of a scene description may have.
OBJECT_KEYS = ("shape", "center", "size", "angle", "depth_m", "texture", "tilt")


@dataclasses.dataclass
class Layer:
    """One surface of a scene, on the canvas grid (Hc, Wc).

    Attributes
    ----------
    color : ndarray, float32 (Hc, Wc, 3)
        Linear-light RGB texture.
    alpha : ndarray, float32 (Hc, Wc)
        Coverage in [0, 1] (anti-aliased edges).
    depth_m : ndarray, float32 (Hc, Wc)
        Distance from the lens in metres (meaningful where alpha > 0).
    name : str
        A label ("background", "ellipse", ...).
    """

    color: np.ndarray
    alpha: np.ndarray
    depth_m: np.ndarray
    name: str = "layer"

    def __post_init__(self):
        hc, wc = self.alpha.shape
        if self.color.shape != (hc, wc, 3) or self.depth_m.shape != (hc, wc):
            raise NeurofocusError("layer colour, alpha and depth must share the canvas shape")
        if np.any(self.depth_m[self.alpha > 0] <= 0):
            raise NeurofocusError("layer depths must be positive")

    @property
    def mean_depth_m(self) -> float:
        """Coverage-weighted mean depth (orders layers back to front)."""
        w = self.alpha.sum()
        return float((self.depth_m * self.alpha).sum() / w) if w > 0 else float("inf")


@dataclasses.dataclass
class Scene:
    """Layers (back to front) on a canvas of (height + 2·pad, width + 2·pad) pixels.

    Attributes
    ----------
    width, height : int
        Image size in pixels.
    pad : int
        Canvas margin on each side.
    layers : list of Layer
        Back to front; the first should cover the whole canvas (the background).
    near_m, far_m : float
        Depth range of the content (focus sweeps cover it).
    """

    width: int
    height: int
    pad: int
    layers: list[Layer]
    near_m: float
    far_m: float

    def __post_init__(self):
        shape = (self.height + 2 * self.pad, self.width + 2 * self.pad)
        for layer in self.layers:
            if layer.alpha.shape != shape:
                raise NeurofocusError(f"layer {layer.name!r} is {layer.alpha.shape}, the canvas {shape}")
        if not 0 < self.near_m < self.far_m:
            raise NeurofocusError(f"need 0 < near_m < far_m, got {self.near_m}, {self.far_m}")

    @property
    def canvas_shape(self) -> tuple[int, int]:
        return self.height + 2 * self.pad, self.width + 2 * self.pad

    def crop(self, canvas_image: np.ndarray) -> np.ndarray:
        """The image region of a canvas-sized array."""
        p = self.pad
        return canvas_image[p:p + self.height, p:p + self.width]


def shape_mask(kind: str, canvas_shape: tuple[int, int], center: tuple[float, float], size: tuple[float, float],
               angle: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Anti-aliased coverage (float32 (Hc, Wc) in [0, 1]) of a shape drawn with 4x supersampling.

    Parameters
    ----------
    kind : {"rectangle", "ellipse", "polygon", "star"}
    center : (x, y) in canvas pixels
    size : (width, height) of the shape's bounding box before rotation, pixels
    angle : rotation in radians
    rng : Generator
        For the random vertices of "polygon" and "star".
    """
    hc, wc = canvas_shape
    s = _SUPERSAMPLE
    if kind == "rectangle":
        pts = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64) / 2
    elif kind == "ellipse":
        t = np.linspace(0, 2 * np.pi, 96, endpoint=False)
        pts = np.stack([np.cos(t), np.sin(t)], 1) / 2
    elif kind in ("polygon", "star"):
        n = int(rng.integers(5, 10)) if kind == "polygon" else 2 * int(rng.integers(4, 7))
        t = np.linspace(0, 2 * np.pi, n, endpoint=False)
        if kind == "polygon":  # jittered, evenly spread vertex angles: irregular but never a sliver
            t = t + rng.uniform(-0.3, 0.3, n) * (2 * np.pi / n)
        r = rng.uniform(0.6, 1.0, n) if kind == "polygon" else np.where(np.arange(n) % 2, 0.45, 1.0)
        pts = np.stack([r * np.cos(t), r * np.sin(t)], 1) / 2
    else:
        raise NeurofocusError(f"unknown shape {kind!r}")
    pts = pts * np.array(size)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    pts = pts @ rot.T + np.array(center)
    image = Image.new("L", (wc * s, hc * s), 0)
    ImageDraw.Draw(image).polygon([tuple(p) for p in (pts * s + (s - 1) / 2).tolist()], fill=255)
    big = np.asarray(image, np.float32) / 255.0
    return big.reshape(hc, s, wc, s).mean(axis=(1, 3))


def plane_depth(canvas_shape, inverse_depth_center: float, gradient: tuple[float, float]) -> np.ndarray:
    """Depth (m) of a plane whose inverse depth is ``inverse_depth_center`` (1/m) at the canvas centre and changes
    by ``gradient`` = (per x pixel, per y pixel); float32 (Hc, Wc)."""
    hc, wc = canvas_shape
    yy, xx = np.mgrid[0:hc, 0:wc].astype(np.float64)
    inv = inverse_depth_center + gradient[0] * (xx - wc / 2) + gradient[1] * (yy - hc / 2)
    if np.any(inv <= 0):
        raise NeurofocusError("the plane passes behind the camera")
    return (1.0 / inv).astype(np.float32)


def canvas_pad(max_blur_px: float) -> int:
    """Canvas margin for a scene whose blur reaches ``max_blur_px``: a blur radius plus a little."""
    return int(np.ceil(0.6 * max_blur_px)) + 4


def random_scene(rng: np.random.Generator, size: tuple[int, int] = (346, 260), lens: ThinLens = ThinLens(), *,
                 max_blur_px: float = 30.0, num_objects: tuple[int, int] = (3, 8), slanted_fraction: float = 0.25,
                 working_distance_m: tuple[float, float] = (1.0, 3.0), textures=None,
                 procedural_fraction: float = 0.3) -> Scene:
    """A random scene of textured objects at random depths over a (sometimes slanted) background.

    Depths are drawn uniformly in inverse depth over a span chosen so that focusing at one end of the content blurs
    the other end to ``max_blur_px`` pixels with ``lens``.

    Parameters
    ----------
    rng : numpy Generator
        All randomness (reproducible for a given seed).
    size : (int, int)
        Image (width, height).
    lens : ThinLens
        The camera (depth span depends on its aperture, focal length and pixel pitch).
    max_blur_px : float
        Largest blur-circle diameter across the content's depth range.
    num_objects : (int, int)
        Inclusive range of the number of foreground objects.
    slanted_fraction : float
        Probability that an object (or the background) is a slanted plane.
    working_distance_m : (float, float)
        Range of the content's central distance.
    textures : PhotoTextures, optional
        Texture every surface with a random crop of these photographs (brightness scaled by a random 0.6–1.0 per
        surface); default the bundled images and procedural patterns (:func:`.textures.random_texture`).
    procedural_fraction : float
        Without ``textures``: the probability that a surface gets a procedural pattern instead of a bundled image.
    """
    def texture(h: int, w: int) -> np.ndarray:
        if textures is None:
            return random_texture(rng, h, w, procedural_fraction=procedural_fraction)
        return textures.random(rng, h, w)[0] * np.float32(rng.uniform(0.6, 1.0))

    width, height = (int(v) for v in size)
    pad = canvas_pad(max_blur_px)
    shape = (height + 2 * pad, width + 2 * pad)
    center_m = rng.uniform(*working_distance_m)
    span = lens.inverse_depth_span(max_blur_px, center_m)
    inv_near, inv_far = 1 / center_m + span / 2, 1 / center_m - span / 2
    if inv_far <= 0:
        raise NeurofocusError("max_blur_px too large for this lens and distance (content would reach infinity)")
    hc, wc = shape
    layers = []
    # background: the farthest surface, fronto-parallel or slanted
    if rng.random() < slanted_fraction:
        grad = rng.uniform(-1, 1, 2) * 0.35 * span / max(hc, wc)
        inv_c = inv_far + 0.25 * span
        depth = plane_depth(shape, inv_c, (float(grad[0]), float(grad[1])))
        depth = np.minimum(depth, 1 / inv_far)  # keep it behind everything but within the content range
    else:
        depth = np.full(shape, 1 / inv_far, np.float32)
    layers.append(Layer(texture(hc, wc), np.ones(shape, np.float32), depth.astype(np.float32),
                        "background"))
    objects = []
    for _ in range(int(rng.integers(num_objects[0], num_objects[1] + 1))):
        kind = ("rectangle", "ellipse", "polygon", "star")[rng.integers(4)]
        extent = rng.uniform(0.18, 0.55) * min(width, height)
        box = (extent * rng.uniform(0.6, 1.6), extent * rng.uniform(0.6, 1.6))
        center = (pad + rng.uniform(0.1, 0.9) * width, pad + rng.uniform(0.1, 0.9) * height)
        alpha = shape_mask(kind, shape, center, box, rng.uniform(0, np.pi), rng)
        inv = rng.uniform(inv_far + 0.1 * span, inv_near)
        if rng.random() < slanted_fraction:
            grad = rng.uniform(-1, 1, 2) * 0.5 * span / max(box)
            yy, xx = np.mgrid[0:hc, 0:wc].astype(np.float64)
            inv_map = np.clip(inv + grad[0] * (xx - center[0]) + grad[1] * (yy - center[1]), inv_far + 0.05 * span,
                              inv_near)
            depth = (1 / inv_map).astype(np.float32)
            kind = f"slanted {kind}"
        else:
            depth = np.full(shape, 1 / inv, np.float32)
        objects.append(Layer(texture(hc, wc), alpha, depth, kind))
    layers += sorted(objects, key=lambda layer: -layer.mean_depth_m)
    return Scene(width, height, pad, layers, near_m=1 / inv_near, far_m=1 / inv_far)


_TEXTURE_HELP = "a bundled image name (e.g. astronaut, brick) or noise, checker, stripes, dots, text, or [r, g, b]"


def _named_texture(spec, rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Linear-light texture (H, W, 3) from a description: an image name, a procedural kind or a flat colour."""
    from ..color import srgb_to_linear
    from .textures import COLOR_IMAGES, GRAY_IMAGES, PROCEDURAL, procedural_texture, texture_from_image

    if isinstance(spec, (list, tuple)) and len(spec) == 3:
        return np.broadcast_to(srgb_to_linear(np.asarray(spec, np.float32)), (height, width, 3)).copy()
    if spec in PROCEDURAL:
        return srgb_to_linear(procedural_texture(rng, spec, height, width))
    if spec in COLOR_IMAGES + GRAY_IMAGES + ("grace_hopper",):
        return texture_from_image(spec, height, width)
    raise NeurofocusError(f"unknown texture {spec!r}: use {_TEXTURE_HELP}")


def scene_from_description(description: dict, lens: ThinLens, *, seed: int = 0) -> Scene:
    """A scene from a JSON-style description.

    Example::

        {"size": [346, 260],
         "background": {"texture": "brick", "depth_m": 2.4},
         "objects": [{"shape": "ellipse", "center": [120, 100], "size": [90, 60], "angle": 0.3,
                      "depth_m": 1.9, "texture": "astronaut"},
                     {"shape": "rectangle", "center": [250, 160], "size": [80, 80], "depth_m": 2.1,
                      "texture": "checker", "tilt": [0.0005, 0.0]}]}

    Positions are in image pixels; ``tilt`` (optional) is the change of inverse depth (1/m) per pixel in x and y,
    making the object a slanted plane. Procedural textures use ``seed``.
    """
    known = {"size", "background", "objects"}
    if not isinstance(description, dict) or set(description) - known:
        raise NeurofocusError(f"a scene description is an object with keys {sorted(known)}")
    try:
        width, height = (int(v) for v in description.get("size", (346, 260)))
        background = description["background"]
        objects = description.get("objects", [])
        depths = [float(background["depth_m"])] + [float(o["depth_m"]) for o in objects]
    except (KeyError, TypeError, ValueError) as exc:
        raise NeurofocusError(f"incomplete scene description ({type(exc).__name__}: {exc}); see the example in "
                              "neurofocus.simulate.scene.scene_from_description") from None
    near, far = min(depths), max(depths)
    if near <= lens.focal_length_mm * 1e-3:
        raise NeurofocusError("scene depths must exceed the focal length")
    if far <= near:
        far = near * 1.01
    pad = canvas_pad(float(lens.blur_diameter_px(far, near)))
    shape = (height + 2 * pad, width + 2 * pad)
    rng = np.random.default_rng(seed)
    layers = [Layer(_named_texture(background.get("texture", "noise"), rng, *shape), np.ones(shape, np.float32),
                    np.full(shape, float(background["depth_m"]), np.float32), "background")]
    for i, obj in enumerate(objects):
        check_keys(obj, OBJECT_KEYS, f"object {i}: unknown keys {{unknown}}")
        center = (pad + float(obj["center"][0]), pad + float(obj["center"][1]))
        alpha = shape_mask(obj.get("shape", "rectangle"), shape, center, tuple(float(v) for v in obj["size"]),
                           float(obj.get("angle", 0.0)), rng)
        tilt = obj.get("tilt")
        if tilt is None:
            depth = np.full(shape, float(obj["depth_m"]), np.float32)
        else:
            hc, wc = shape
            yy, xx = np.mgrid[0:hc, 0:wc].astype(np.float64)
            inverse = 1 / float(obj["depth_m"]) + float(tilt[0]) * (xx - center[0]) + float(tilt[1]) * (yy - center[1])
            if np.any(inverse[alpha > 0] <= 0):
                raise NeurofocusError(f"object {i}: its tilt puts part of it behind the camera")
            depth = (1 / np.maximum(inverse, 1e-6)).astype(np.float32)
        layers.append(Layer(_named_texture(obj.get("texture", "noise"), rng, *shape), alpha, depth,
                            obj.get("shape", "rectangle")))
    layers[1:] = sorted(layers[1:], key=lambda layer: -layer.mean_depth_m)
    covered = [layer.depth_m[layer.alpha > 0] for layer in layers]
    return Scene(width, height, pad, layers, near_m=float(min(c.min() for c in covered)),
                 far_m=max(float(max(c.max() for c in covered)), float(min(c.min() for c in covered)) * 1.001))
