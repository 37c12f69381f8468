import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from neurofocus.errors import NeurofocusError
from neurofocus.images import _read_png8, read_gray8, read_image
from neurofocus.simulate.dvs_voltmeter import gray8


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "LA", "P", "I;16"])
def test_read_gray8_is_gray8_of_read_image(tmp_path, mode):
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, (9, 13, 4), dtype=np.uint8)
    image = Image.fromarray(rgba, "RGBA")
    if mode == "I;16":
        image = Image.fromarray(rng.integers(0, 65536, (9, 13), dtype=np.uint16))
    elif mode != "RGBA":
        image = image.convert(mode if mode != "P" else "RGB").convert(mode)
    path = tmp_path / "frame.png"
    image.save(path)
    got = read_gray8(path)
    assert got.dtype == np.uint8 and got.shape == (9, 13)
    assert np.array_equal(got, gray8(read_image(path)))


def test_read_gray8_bad_files(tmp_path):
    with pytest.raises(NeurofocusError, match="no such file"):
        read_gray8(tmp_path / "missing.png")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(NeurofocusError, match="not a readable image"):
        read_gray8(tmp_path / "bad.png")


def filtered_png(pixels: np.ndarray, filters: list[int], interlace: int = 0) -> bytes:
    """An 8-bit gray (H, W) or RGB (H, W, 3) PNG of ``pixels``, row y filtered with type ``filters[y]`` (0..4) (the
    header's ``interlace`` method aside: 1 makes a damaged file)."""
    height, width = pixels.shape[:2]
    bpp = 1 if pixels.ndim == 2 else 3
    rows = pixels.reshape(height, width * bpp).astype(np.int64)
    raw = bytearray()
    for y, kind in enumerate(filters):
        up = rows[y - 1] if y else np.zeros(width * bpp, np.int64)
        left = np.concatenate([np.zeros(bpp, np.int64), rows[y, :-bpp]])
        upleft = np.concatenate([np.zeros(bpp, np.int64), up[:-bpp]])
        p = left + up - upleft
        distance = [np.abs(p - left), np.abs(p - up), np.abs(p - upleft)]
        paeth = np.where((distance[0] <= distance[1]) & (distance[0] <= distance[2]), left,
                         np.where(distance[1] <= distance[2], up, upleft))
        prediction = [0, left, up, (left + up) // 2, paeth][kind]
        raw += bytes([kind]) + ((rows[y] - prediction) % 256).astype(np.uint8).tobytes()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0 if bpp == 1 else 2, 0, 0, interlace)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(raw)))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("channels", [1, 3])
def test_the_png_reader_undoes_every_filter_as_pillow(tmp_path, channels):
    rng = np.random.default_rng(channels)
    pixels = rng.integers(0, 256, (10, 7, 3) if channels == 3 else (10, 7), dtype=np.uint8)
    path = tmp_path / "filters.png"
    path.write_bytes(filtered_png(pixels, [4, 0, 1, 2, 3, 4, 4, 3, 2, 1]))  # Paeth, Up, Average on the first row too
    with Image.open(path) as image:
        assert np.array_equal(np.asarray(image), pixels)
    assert np.array_equal(_read_png8(path), pixels)
    data = bytearray(path.read_bytes())
    data[-20] ^= 1  # in the IDAT chunk: its CRC no longer matches, the file goes to Pillow (which refuses it)
    path.write_bytes(bytes(data))
    assert _read_png8(path) is None
    with pytest.raises(NeurofocusError, match="not a readable image"):
        read_gray8(path)


def test_the_png_reader_leaves_other_images_to_pillow(tmp_path):
    rng = np.random.default_rng(3)
    for mode in ("RGBA", "P", "I;16"):
        image = Image.fromarray(rng.integers(0, 256, (6, 5, 4), dtype=np.uint8), "RGBA").convert(mode)
        image.save(tmp_path / "other.png")
        assert _read_png8(tmp_path / "other.png") is None
    (tmp_path / "interlaced.png").write_bytes(filtered_png(np.zeros((6, 5), np.uint8), [0] * 6, interlace=1))
    assert _read_png8(tmp_path / "interlaced.png") is None
    Image.fromarray(rng.integers(0, 256, (6, 5), dtype=np.uint8)).save(tmp_path / "frame.jpg")
    assert _read_png8(tmp_path / "frame.jpg") is None
