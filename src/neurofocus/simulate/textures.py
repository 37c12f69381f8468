"""Offline textures for synthetic scenes: natural images bundled in installed wheels, plus procedural patterns.

Natural images come from scikit-image's bundled data (CC0 / public domain: astronaut, coffee, chelsea, rocket,
hubble_deep_field, retina, immunohistochemistry, and gray brick, grass, gravel, camera, moon, text, page, coins,
clock, cell) and matplotlib's ``grace_hopper.jpg`` (public domain). Nothing is downloaded. Procedural textures add
multi-scale noise, checkerboards, stripes, dots and random text. :class:`PhotoTextures` draws crops of a folder of
photographs instead (e.g. the Kodak suite in ``../shared/data/textures/kodak``).

Every texture is returned as linear-light RGB, float32 (H, W, 3) in [0, 1].
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from ..color import srgb_to_linear

COLOR_IMAGES = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "retina", "immunohistochemistry")
GRAY_IMAGES = ("brick", "grass", "gravel", "camera", "moon", "text", "page", "coins", "clock", "cell")
PROCEDURAL = ("noise", "checker", "stripes", "dots", "text")


@functools.lru_cache(maxsize=None)
def bundled_image(name: str) -> np.ndarray:
    """A bundled natural image as sRGB float32 (H, W, 3) in [0, 1] (cached, read-only)."""
    if name == "grace_hopper":
        import matplotlib.cbook

        with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as im:
            array = np.asarray(im.convert("RGB"))
    else:
        import skimage.data

        array = np.asarray(getattr(skimage.data, name)())
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    array = array[..., :3].astype(np.float32) / (255.0 if array.dtype == np.uint8 else float(array.max() or 1))
    array.flags.writeable = False
    return array


def _resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    zoom = (height / image.shape[0], width / image.shape[1], 1)
    return ndimage.zoom(image, zoom, order=1, mode="nearest")[:height, :width]


def _crop_box(rng: np.random.Generator, shape: tuple[int, int], height: int, width: int) -> tuple[int, int, int, int]:
    """(y0, x0, ch, cw): a random box of an image of ``shape`` (h, w) with the aspect of (height, width), 35–100 %
    of the largest such box."""
    h, w = shape
    scale = rng.uniform(0.35, 1.0)
    ch = max(8, int(min(h, w * height / width) * scale))
    cw = max(8, int(ch * width / height))
    cw = min(cw, w)
    ch = min(ch, h)
    y0 = rng.integers(0, h - ch + 1)
    x0 = rng.integers(0, w - cw + 1)
    return int(y0), int(x0), ch, cw


def _crop(rng: np.random.Generator, image: np.ndarray, height: int, width: int) -> np.ndarray:
    """A random crop of ``image`` at a random scale, resized to (height, width)."""
    y0, x0, ch, cw = _crop_box(rng, image.shape[:2], height, width)
    return _resize(image[y0:y0 + ch, x0:x0 + cw], height, width)


def _noise(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Multi-octave value noise (about 1/f, detail down to a few pixels), per channel, in [0, 1]."""
    out = np.zeros((height, width, 3), np.float32)
    amplitude = 1.0
    finest = max(8, min(height, width) // 3)
    cells = 4
    while cells <= finest:
        coarse = rng.random((cells + 1, cells + 1, 3)).astype(np.float32)
        out += amplitude * _resize(coarse, height, width)
        amplitude *= 0.75
        cells *= 2
    out -= out.min()
    return out / max(float(out.max()), 1e-6)


def _pattern(rng: np.random.Generator, kind: str, height: int, width: int) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    u = xx * np.cos(angle) + yy * np.sin(angle)
    v = -xx * np.sin(angle) + yy * np.cos(angle)
    period = rng.uniform(6, 30)
    if kind == "checker":
        mask = ((np.floor(u / period) + np.floor(v / period)) % 2).astype(np.float32)
    elif kind == "stripes":
        mask = 0.5 + 0.5 * np.sin(2 * np.pi * u / period)
    else:  # dots
        mask = ((np.mod(u, period) - period / 2) ** 2 + (np.mod(v, period) - period / 2) ** 2
                < (period * rng.uniform(0.15, 0.4)) ** 2).astype(np.float32)
    a, b = rng.random(3), rng.random(3)
    return (a * mask[..., None] + b * (1 - mask[..., None])).astype(np.float32)


def _text(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    canvas = Image.new("RGB", (width, height), tuple(int(v) for v in rng.integers(150, 256, 3)))
    draw = ImageDraw.Draw(canvas)
    size = int(rng.integers(10, 28))
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 "))
    for y in range(0, height, int(size * 1.3)):
        line = "".join(rng.choice(letters, max(1, width // max(4, size // 2))))
        draw.text((int(rng.integers(-size, 2)), y), line, fill=tuple(int(v) for v in rng.integers(0, 110, 3)),
                  font=font)
    return np.asarray(canvas, np.float32) / 255.0


def procedural_texture(rng: np.random.Generator, kind: str, height: int, width: int) -> np.ndarray:
    """A procedural texture of ``kind`` (one of :data:`PROCEDURAL`) as sRGB float32 (height, width, 3)."""
    if kind == "noise":
        return _noise(rng, height, width)
    if kind == "text":
        return _text(rng, height, width)
    return _pattern(rng, kind, height, width)


def texture_from_image(name: str, height: int, width: int) -> np.ndarray:
    """A bundled image resized to (height, width), linear light float32 (H, W, 3)."""
    return srgb_to_linear(_resize(bundled_image(name), height, width))


def random_texture(rng: np.random.Generator, height: int, width: int, *, procedural_fraction: float = 0.3) -> np.ndarray:
    """A random texture of (height, width) in linear light: a crop of a natural image (gray ones tinted), or a
    procedural pattern with probability ``procedural_fraction``.

    Returns float32 (height, width, 3) in [0, 1].
    """
    if rng.random() < procedural_fraction:
        srgb = procedural_texture(rng, PROCEDURAL[rng.integers(len(PROCEDURAL))], height, width)
    else:
        names = COLOR_IMAGES + GRAY_IMAGES + ("grace_hopper",)
        name = names[rng.integers(len(names))]
        srgb = _crop(rng, bundled_image(name), height, width)
        if name in GRAY_IMAGES:
            tint = rng.uniform(0.5, 1.0, 3).astype(np.float32)
            srgb = srgb * tint / tint.max()
    gain = rng.uniform(0.6, 1.0)  # vary brightness between objects
    return srgb_to_linear(np.clip(srgb * gain, 0, 1))


PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


@functools.lru_cache(maxsize=4)
def _read_photos(folder: str) -> tuple[tuple[str, np.ndarray], ...]:
    """(file name, uint8 (H, W, 3) sRGB) of every photograph in ``folder``, sorted by name (cached, read-only)."""
    from ..errors import NeurofocusError

    path = Path(folder)
    if not path.is_dir():
        raise NeurofocusError("no such texture folder", path)
    photos = []
    for file in sorted(p for p in path.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES):
        try:
            with Image.open(file) as im:
                array = np.asarray(im.convert("RGB"))
        except (OSError, ValueError) as exc:
            raise NeurofocusError(f"not a readable image ({exc})", file) from None
        array.flags.writeable = False
        photos.append((file.name, array))
    if not photos:
        raise NeurofocusError(f"holds no photographs ({', '.join(PHOTO_SUFFIXES)})", path)
    return tuple(photos)


class PhotoTextures:
    """Random crops of a folder of photographs (PNG, JPEG, TIFF, BMP), as textures of synthetic scenes.

    Parameters
    ----------
    folder : path
        The photographs; a file's place in the sorted list of names is its index (the crops of a seed depend on the
        folder's content only).

    Examples
    --------
    >>> photos = PhotoTextures("../shared/data/textures/kodak")  # doctest: +SKIP
    >>> texture, where = photos.random(np.random.default_rng(0), 64, 96)  # doctest: +SKIP
    >>> texture.shape, sorted(where)  # doctest: +SKIP
    ((64, 96, 3), ['box', 'photo'])
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder).expanduser().resolve()
        self.photos = _read_photos(str(self.folder))

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.photos]

    def random(self, rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, dict]:
        """A crop of a random photograph (a random box of 35–100 % of the largest box with this aspect), resized
        to (height, width) and converted to linear light.

        Returns
        -------
        texture : ndarray, float32 (height, width, 3) in [0, 1], linear light
        where : dict
            ``photo`` (file name) and ``box`` [x0, y0, width, height] of the crop in the photograph (pixels).
        """
        name, image = self.photos[int(rng.integers(len(self.photos)))]
        y0, x0, ch, cw = _crop_box(rng, image.shape[:2], height, width)
        srgb = _resize(image[y0:y0 + ch, x0:x0 + cw].astype(np.float32) / np.float32(255.0), height, width)
        return srgb_to_linear(np.clip(srgb, 0, 1)), {"photo": name, "box": [x0, y0, cw, ch]}
