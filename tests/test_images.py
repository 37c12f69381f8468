import numpy as np
import pytest
from PIL import Image

from neurofocus.errors import NeurofocusError
from neurofocus.images import read_gray8, read_image
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
