"""BRISQUE with the LIVE regressor of the ``brisque`` package.

Reference values: ``brisque==0.2.0`` itself, installed in a throwaway venv (numpy 2.3.5, scipy 1.17.1,
scikit-image 0.26.0, opencv-python-headless 5.0.0, libsvm-official 3.37.0), ``BRISQUE(url=False).score(img)`` on the
images below (scikit-image's bundled images, uint8, or float64 in [0, 1] where stated). neurofocus agrees to ~1e-11.
"""

import numpy as np
import pytest
from scipy import ndimage
from skimage import data

from neurofocus.errors import NeurofocusError
from neurofocus.metrics import brisque
from neurofocus.metrics._brisque import brisque_features, live_model

REFERENCE_CHELSEA = 2.870766629424878  # data.chelsea(), uint8
REFERENCE_CHELSEA_BLUR2 = 69.90703166590444  # ndimage.gaussian_filter(data.chelsea() / 255, sigma=(2, 2, 0))
REFERENCE_COFFEE_CROP = 8.753918794566943  # data.coffee()[:260, :346], uint8


def test_matches_brisque_package():
    chelsea = data.chelsea()
    assert brisque(chelsea) == pytest.approx(REFERENCE_CHELSEA, rel=1e-3)
    blurred = ndimage.gaussian_filter(chelsea / 255.0, sigma=(2, 2, 0))
    assert brisque(blurred) == pytest.approx(REFERENCE_CHELSEA_BLUR2, rel=1e-3)
    assert brisque(data.coffee()[:260, :346]) == pytest.approx(REFERENCE_COFFEE_CROP, rel=1e-3)


def test_more_blur_scores_worse():
    img = data.chelsea() / 255.0
    scores = [brisque(ndimage.gaussian_filter(img, sigma=(s, s, 0))) for s in (0, 1, 2, 4)]
    assert scores == sorted(scores) and scores[-1] - scores[0] > 50


def test_uint8_equals_float_and_gray_works():
    img = data.coffee()[:120, :160]
    assert brisque(img) == pytest.approx(brisque(img / 255.0), abs=1e-9)
    assert np.isfinite(brisque(data.camera()[:200, :200]))
    assert brisque_features(img).shape == (36,)


def test_bad_inputs():
    with pytest.raises(NeurofocusError, match="NaN"):
        brisque(np.full((64, 64, 3), np.nan))
    with pytest.raises(NeurofocusError, match="too small"):
        brisque(np.zeros((4, 64)))
    with pytest.raises(NeurofocusError, match="flat"):
        brisque(np.full((64, 64), 0.3))
    with pytest.raises(NeurofocusError, match=r"\[0, 1\]"):
        brisque(np.full((64, 64), 255.0))


def test_model_file():
    model = live_model()
    assert model["support_vectors"].shape == (770, 36) and model["coefficients"].shape == (770,)
    assert float(model["gamma"]) == 0.05 and float(model["rho"]) == -155.845
    assert np.all(model["feature_max"] > model["feature_min"])
