import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from neurofocus.errors import NeurofocusError
from neurofocus.metrics import evaluate, ms_ssim, mse, psnr, ssim


def pair(shape, seed=0, noise=0.1):
    rng = np.random.default_rng(seed)
    a = rng.random(shape)
    return a, np.clip(a + rng.normal(0, noise, shape), 0, 1)


def test_psnr_and_mse():
    a, b = pair((40, 50, 3))
    assert mse(a, b) == pytest.approx(np.mean((a - b) ** 2))
    assert psnr(a, b) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=1.0))
    assert psnr(a, a) == float("inf")
    assert psnr(np.zeros((4, 4)), np.full((4, 4), 0.1)) == pytest.approx(20.0)


@pytest.mark.parametrize("shape", [(64, 80), (64, 80, 3), (33, 47, 3)])
def test_ssim_matches_scikit_image_gaussian_ssim(shape):
    a, b = pair(shape, seed=1)
    expected = structural_similarity(a, b, channel_axis=2 if len(shape) == 3 else None, gaussian_weights=True,
                                     sigma=1.5, use_sample_covariance=False, data_range=1.0)
    assert ssim(a, b) == pytest.approx(expected, abs=1e-12)
    assert ssim(a, a) == pytest.approx(1.0)


def test_ms_ssim_reference_value_and_properties():
    rng = np.random.default_rng(7)
    a = rng.random((170, 180, 3))
    b = np.clip(a * 0.9 + 0.05 + rng.normal(0, 0.05, a.shape), 0, 1)
    # pytorch-msssim 1.0.0 (float64 tensors, data_range=1) gives 0.98162288 on this pair
    assert ms_ssim(a, b) == pytest.approx(0.98162288, abs=1e-6)
    assert ms_ssim(a, a) == pytest.approx(1.0)
    less, more = pair((200, 200), noise=0.05), pair((200, 200), noise=0.2)
    assert ms_ssim(*less) > ms_ssim(*more)
    with pytest.raises(NeurofocusError, match="160"):
        ms_ssim(*pair((150, 300)))


def test_evaluate_and_bad_input():
    a, b = pair((170, 200, 3))
    assert set(evaluate(a, b)) == {"psnr", "ssim", "mse", "ms_ssim"}
    assert set(evaluate(*pair((60, 60)))) == {"psnr", "ssim", "mse"}
    with pytest.raises(NeurofocusError, match="differ in size"):
        psnr(a, b[:-1])
    bad = a.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(NeurofocusError, match="NaN"):
        ssim(bad, b)
