"""Reading and writing images: float32 sRGB in [0, 1] in the API; PNG (8 or 16 bit) and JPEG on disk; PFM maps."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .atomic import atomic_path, write_bytes_atomic
from .color import rgb8_to_gray8, to_uint8
from .errors import NeurofocusError
from .types import check_image

if TYPE_CHECKING:
    from PIL import Image


@contextlib.contextmanager
def _opened(path: str | os.PathLike) -> Iterator[Image.Image]:
    """The image file ``path``, opened with Pillow (imported here, not at start-up); a missing or unreadable file is
    a :class:`NeurofocusError`."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            yield im
    except FileNotFoundError:
        raise NeurofocusError("no such file", path) from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise NeurofocusError(f"not a readable image ({' '.join(str(exc).split())})", path) from None


def read_gray8(path: str | os.PathLike) -> np.ndarray:
    """An image's 8-bit gray values (H, W) uint8, as OpenCV's ``IMREAD_GRAYSCALE`` makes them (the input of the
    published DVS-Voltmeter): 8-bit gray images as stored, 8-bit RGB by :func:`~neurofocus.color.rgb8_to_gray8`,
    any other image by that of :func:`read_image` rounded to 8 bits. Equal to ``gray8(read_image(path))``, without
    the float detour."""
    with _opened(path) as im:
        if im.mode in ("L", "RGB"):
            im.load()
            array = np.asarray(im)
            return array if im.mode == "L" else rgb8_to_gray8(array)
    return rgb8_to_gray8(to_uint8(read_image(path)))


def read_image(path: str | os.PathLike) -> np.ndarray:
    """An RGB image as float32 (H, W, 3) in [0, 1] (gray images are repeated; alpha is dropped; 16-bit kept).

    Floating-point images (32-bit TIFF) are taken as they are and must hold finite values in [0, 1].
    """
    with _opened(path) as im:
        im.load()
        if im.mode == "F":
            array = np.asarray(im, np.float32)
        elif im.mode in ("I;16", "I;16B", "I;16L", "I"):
            top = 65535.0 if im.mode.startswith("I;16") else max(1, np.asarray(im).max())
            array = np.asarray(im, np.float32) / top
        else:
            array = np.asarray(im.convert("RGB"), np.float32) / 255.0
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    try:
        return check_image(np.ascontiguousarray(array[..., :3], np.float32))
    except NeurofocusError as exc:
        raise exc.with_path(path) from None


def _uint8(image: np.ndarray) -> np.ndarray:
    """An image in [0, 1] (or uint8) as uint8; NaN or infinite values are an error."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    if not np.all(np.isfinite(image)):
        raise NeurofocusError("image contains NaN or infinite values")
    return to_uint8(image)


def write_image(path: str | os.PathLike, image: np.ndarray) -> None:
    """Write an RGB (H, W, 3) or gray (H, W) image in [0, 1] as 8-bit PNG (:func:`png_bytes`) or, by extension, as
    JPEG or another format Pillow writes, atomically."""
    try:
        image = _uint8(image)
    except NeurofocusError as exc:
        raise exc.with_path(path) from None
    suffix = Path(path).suffix.lower()
    if suffix == ".png":
        write_bytes_atomic(path, png_bytes(image))
        return
    from PIL import Image

    Image.preinit()  # PNG, JPEG, BMP, GIF, PPM: the full plugin list (registered_extensions) costs a tenth of a second
    fmt = Image.EXTENSION.get(suffix) or Image.registered_extensions().get(suffix, "PNG")
    with atomic_path(path) as tmp:
        Image.fromarray(image).save(tmp, format=fmt)


def png_bytes(image: np.ndarray) -> bytes:
    """An RGB (H, W, 3) or gray (H, W) image in [0, 1] (or uint8) as 8-bit PNG bytes, encoded fast: OpenCV's libpng
    at zlib level 1, each row stored as its difference from the row above (the same pixels as Pillow's encoder at
    level 1, which tries every filter on every row, in half its time; photographs' files ~2 % larger, colour maps'
    ~8 % smaller)."""
    import cv2

    image = _uint8(image)
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)  # OpenCV's channel order
    ok, data = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY,
                                            cv2.IMWRITE_PNG_STRATEGY_DEFAULT, cv2.IMWRITE_PNG_FILTER,
                                            cv2.IMWRITE_PNG_FILTER_UP])
    if not ok:
        raise NeurofocusError(f"OpenCV could not encode a {image.shape} {image.dtype} image as PNG")
    return data.tobytes()


def read_pfm(path: str | os.PathLike) -> np.ndarray:
    """A Portable Float Map as float32 (H, W) or (H, W, 3), rows top-down (PFM stores them bottom-up)."""
    try:
        with open(path, "rb") as f:
            kind = f.readline().strip()
            dims = f.readline().split()
            scale = float(f.readline().strip())
            data = np.frombuffer(f.read(), "<f4" if scale < 0 else ">f4")
    except FileNotFoundError:
        raise NeurofocusError("no such file", path) from None
    except ValueError:
        raise NeurofocusError("malformed PFM header", path) from None
    if kind not in (b"Pf", b"PF") or len(dims) != 2:
        raise NeurofocusError("not a PFM file (expected 'Pf' or 'PF')", path)
    width, height = int(dims[0]), int(dims[1])
    channels = 3 if kind == b"PF" else 1
    if data.size != width * height * channels:
        raise NeurofocusError(f"PFM data holds {data.size} values, expected {width * height * channels}", path)
    array = data.reshape(height, width, channels)[::-1].astype(np.float32)
    return array[..., 0] if channels == 1 else array
