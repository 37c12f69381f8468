"""NIQE and the MATLAB-compatible imresize it relies on.

Reference values. The classic check, BasicSR's ``tests/data/baboon.png`` (MATLAB 5.72957, BasicSR 5.7295763), could
not be used: that image is in no PyPI package we could reach offline (not in the ``basicsr`` sdist, whose only data
file is ``niqe_pris_params.npz``). The pinned values come instead from BasicSR 1.4.2's own ``calculate_niqe``
(``basicsr/metrics/niqe.py`` from the sdist, run unmodified in a throwaway environment with its registry import
stubbed; it matches MATLAB to 3e-6 on baboon.png), called as ``calculate_niqe(img_bgr, 0, input_order="HWC",
convert_to="y")`` on scikit-image's bundled images. On textured images like these, BasicSR (float32 or float64) and
neurofocus agree to about 1e-5. On images with flat areas the score depends on floating-point roundoff, by up to ~0.03
in BasicSR; neurofocus uses the exact-arithmetic value there (see ``_niqe._mscn``).
"""

import numpy as np
import pytest
from skimage import data

from neurofocus.errors import NeurofocusError
from neurofocus.metrics import imresize, niqe
from neurofocus.metrics._niqe import luminance_255, pristine_model

#: basicsr 1.4.2 calculate_niqe(..., convert_to="y"): float32 input / float64 luminance.
BASICSR_CHELSEA = 2.6255243812915023  # float64 luminance: 2.625524312789527
BASICSR_COFFEE_CROP = 7.592267261157827  # float64 luminance: 7.5922717010856875


def test_chelsea_matches_basicsr():
    assert niqe(data.chelsea()) == pytest.approx(BASICSR_CHELSEA, abs=1e-3)


def test_coffee_crop_matches_basicsr():
    assert niqe(data.coffee()[:260, :346]) == pytest.approx(BASICSR_COFFEE_CROP, abs=1e-3)


def test_float_input_equals_uint8_and_is_not_mutated():
    img = data.chelsea()[:200, :300]
    f = img / 255.0
    before = f.copy()
    assert niqe(f) == pytest.approx(niqe(img), abs=1e-9)
    np.testing.assert_array_equal(f, before)


def test_luminance_conventions():
    rgb = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0]]])
    np.testing.assert_array_equal(luminance_255(rgb, "y"), [[81, 145, 41, 235]])  # MATLAB rgb2ycbcr Y
    np.testing.assert_array_equal(luminance_255(rgb, "gray"), [[76, 150, 29, 255]])  # MATLAB rgb2gray
    img = data.coffee()[:200, :300]
    assert niqe(img, convert="gray") != niqe(img, convert="y")
    with pytest.raises(NeurofocusError, match="convert must be"):
        niqe(img, convert="lab")


def test_blur_raises_the_score():
    from scipy import ndimage

    img = data.chelsea() / 255.0
    scores = [niqe(ndimage.gaussian_filter(img, sigma=(s, s, 0))) for s in (0, 1.5, 3)]
    assert scores[0] < scores[1] < scores[2]


def test_bad_inputs():
    with pytest.raises(NeurofocusError, match="two whole 96x96 patches"):
        niqe(np.random.default_rng(0).random((100, 150)))
    with pytest.raises(NeurofocusError, match="NaN"):
        niqe(np.full((200, 200), np.nan))
    with pytest.raises(NeurofocusError, match=r"\[0, 1\]"):
        niqe(np.full((200, 200), 2.0))
    with pytest.raises(NeurofocusError, match="flat"):
        niqe(np.full((200, 200), 0.5))
    with pytest.raises(NeurofocusError, match="shape"):
        niqe(np.zeros((200, 200, 4)))


def test_pristine_model_shapes():
    mu, cov, window = pristine_model()
    assert mu.shape == (36,) and cov.shape == (36, 36) and window.shape == (7, 7)
    assert window.sum() == pytest.approx(1.0) and np.allclose(cov, cov.T)


def test_imresize_matches_matlab_bicubic_half():
    """Reference: BasicSR's MATLAB-imresize port (basicsr.utils.matlab_functions.imresize, antialiasing=True);
    at scale 0.5 all weights are dyadic, so the values are exact."""
    a = (np.arange(6 * 7).reshape(6, 7) % 5) / 4
    expected = [[0.3616142273, 0.5734710693, 0.4815673828, 0.3561477661],
                [0.5555534363, 0.5001335144, 0.5029296875, 0.4579620361],
                [0.3889846802, 0.5167274475, 0.5242919922, 0.5003433228]]
    np.testing.assert_allclose(imresize(a, 0.5), expected, atol=1e-9)


@pytest.mark.parametrize("scale", [0.5, 0.3, 1.7])
def test_imresize_keeps_constants_and_shapes(scale):
    out = imresize(np.full((11, 13, 2), 0.25), scale)
    assert out.shape == (int(np.ceil(11 * scale)), int(np.ceil(13 * scale)), 2)
    np.testing.assert_allclose(out, 0.25, atol=1e-12)
