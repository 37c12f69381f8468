"""The networks: shapes for any size, residual formulation, softmax merge weights, parameter counts, gradients."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neurofocus.color import linear_to_srgb, srgb_to_linear
from neurofocus.errors import NeurofocusError
from neurofocus.models import create_model, list_models
from neurofocus.models.blocks import DenseBlock, ResBlock, base_channels, pad_to_multiple
from neurofocus.models.refocus import compose_event_residual
from .conftest import count  # noqa: E402

TINY = 0.125  # c = 8: fast on a CPU


def test_registry_names_and_errors():
    assert list_models() == ["e2vid", "ev_merge_net", "ev_refocus_net", "evfocus", "neuro_merge_net", "neuro_refocus_net"]
    with pytest.raises(NeurofocusError, match="unknown model 'nope'"):
        create_model("nope")
    with pytest.raises(NeurofocusError, match="unknown option 'depth'"):
        create_model("ev_refocus_net", depth=3)
    with pytest.raises(NeurofocusError, match="modality"):
        create_model("neuro_merge_net", modality="frames")
    with pytest.raises(NeurofocusError, match="spikes"):
        create_model("ev_refocus_net", modality="spikes")
    with pytest.raises(NeurofocusError, match="width"):
        create_model("neuro_refocus_net", width=0)
    with pytest.raises(NeurofocusError, match="spike_bins"):
        create_model("neuro_refocus_net", modality="events", nfs={"kind": "spike_bins"})


def test_width_rounding():
    assert [base_channels(w) for w in (1.0, 0.75, 0.5, 0.25, 0.125, 0.01)] == [64, 48, 32, 16, 8, 4]


def test_seeded_creation_is_deterministic_and_leaves_global_rng():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = create_model("neuro_merge_net", width=TINY, seed=5)
    b = create_model("neuro_merge_net", width=TINY, seed=5)
    assert torch.rand(1) == before  # the global stream was not consumed
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


@pytest.mark.parametrize("h, w", [(45, 67), (5, 3), (1, 1)])
@pytest.mark.parametrize("name, kwargs", [("ev_refocus_net", {}), ("neuro_refocus_net", {"modality": "spikes"}),
                                          ("neuro_refocus_net", {"trunk": "compact"})])
def test_refocus_shapes_any_size(name, kwargs, h, w):
    net = create_model(name, width=TINY, seed=0, zero_init_residual=False, **kwargs).eval()
    image = torch.rand(2, 3, h, w)
    nfs = torch.randn(2, 64, h, w)
    with torch.no_grad():
        out = net(image, nfs)
    assert out.shape == (2, 3, h, w) and out.dtype == torch.float32
    assert float(out.min()) >= 0 and float(out.max()) <= 1


@pytest.mark.parametrize("h, w", [(45, 67), (3, 5)])
def test_merge_shapes_any_size(h, w):
    ev = create_model("ev_merge_net", width=TINY, stack_size=4, seed=0).eval()
    neuro = create_model("neuro_merge_net", modality="spikes", width=TINY, seed=0).eval()
    stack, nfs = torch.rand(2, 4, 3, h, w), torch.rand(2, 4, h, w)
    with torch.no_grad():
        for net in (ev, neuro):
            out = net(stack, nfs)
            assert out.image.shape == (2, 3, h, w) and out.weights.shape == (2, 4, h, w)


def test_padding_is_cropped_back_exactly():
    x = torch.arange(2 * 5 * 7, dtype=torch.float32).reshape(1, 2, 5, 7)
    p = pad_to_multiple(x)
    assert p.shape == (1, 2, 8, 8)
    assert torch.equal(p[..., :5, :7], x) and torch.equal(p[..., 7, :7], x[..., 4, :])
    s = torch.rand(1, 3, 3, 5, 7)
    assert pad_to_multiple(s).shape == (1, 3, 3, 8, 8)


@pytest.mark.parametrize("trunk", ["dense", "compact"])
def test_event_refocus_zero_residual_returns_the_image(trunk):
    net = create_model("ev_refocus_net", width=TINY, seed=0, trunk=trunk).eval()  # PredConv zero-initialised
    image = torch.rand(1, 3, 45, 67)
    with torch.no_grad():
        residual = net.residual(image, torch.randn(1, 64, 45, 67))
        out = net(image, torch.randn(1, 64, 45, 67))
    assert torch.count_nonzero(residual) == 0
    assert torch.allclose(out, image, atol=2e-6)


def test_event_image_input_is_part_of_the_contract():
    assert create_model("ev_refocus_net", width=TINY).input_spec.image_input == "handcrafted"
    assert create_model("ev_refocus_net", width=TINY, event_image="captured").input_spec.image_input == "captured"
    assert create_model("neuro_refocus_net", modality="spikes", width=TINY).input_spec.image_input == "handcrafted"
    with pytest.raises(NeurofocusError, match="event_image"):
        create_model("ev_refocus_net", width=TINY, event_image="frames")


def test_spike_refocus_zero_residual_returns_the_image_exactly():
    net = create_model("neuro_refocus_net", modality="spikes", width=TINY, seed=0).eval()
    image = torch.rand(1, 3, 9, 11)
    with torch.no_grad():
        assert torch.equal(net(image, torch.rand(1, 64, 9, 11)), image)


def test_event_refocus_formula_with_a_nonzero_residual():
    """forward = srgb(clamp(exp(log(lin(I) + ε) + r) − ε, 0, 1)), checked against the numpy colour functions."""
    net = create_model("ev_refocus_net", width=TINY, seed=1, zero_init_residual=False).eval()
    image, nfs = torch.rand(1, 3, 13, 17), torch.randn(1, 64, 13, 17)
    with torch.no_grad():
        r = net.residual(image, nfs)
        out = net(image, nfs)
    assert float(r.abs().max()) > 1e-3  # the test is not vacuous
    img = image[0].numpy().transpose(1, 2, 0)
    expect = linear_to_srgb(np.clip(np.exp(np.log(srgb_to_linear(img) + 1e-3) + r[0].numpy().transpose(1, 2, 0))
                                    - 1e-3, 0, 1))
    np.testing.assert_allclose(out[0].numpy().transpose(1, 2, 0), expect, atol=2e-5)


def test_spike_refocus_formula_with_a_nonzero_residual():
    net = create_model("neuro_refocus_net", modality="spikes", width=TINY, seed=1, zero_init_residual=False).eval()
    image, nfs = torch.rand(1, 3, 13, 17), torch.rand(1, 64, 13, 17)
    with torch.no_grad():
        r = net.residual(image, nfs)
        assert float(r.abs().max()) > 1e-3
        assert torch.equal(net(image, nfs), (image + r).clamp(0, 1))


@pytest.mark.parametrize("stack_size", [3, 11])
def test_neuro_merge_softmax_over_any_stack_size(stack_size):
    net = create_model("neuro_merge_net", width=TINY, alpha=2.5, seed=0).eval()
    stack, nfs = torch.rand(1, stack_size, 3, 10, 13), torch.randn(1, stack_size, 10, 13)
    with torch.no_grad():
        out = net(stack, nfs)
        init = net.initial_weights(stack, nfs)
        chunked = net(stack, nfs, chunk_size=2)
    assert torch.allclose(out.weights.sum(dim=1), torch.ones(1, 10, 13), atol=1e-6)
    assert float(out.weights.min()) >= 0
    assert torch.allclose(out.weights, torch.softmax(2.5 * init, dim=1), atol=1e-6)  # Eq. 16
    assert torch.allclose(out.image, (stack * out.weights[:, :, None]).sum(1), atol=1e-6)
    assert torch.allclose(chunked.weights, out.weights, atol=1e-6)


def test_neuro_merge_weights_are_per_image():
    """Eq. 15: an image's initial weight depends on that image and its slice only, not on the rest of the stack."""
    net = create_model("neuro_merge_net", width=TINY, seed=0).eval()
    stack, nfs = torch.rand(1, 3, 3, 8, 8), torch.randn(1, 3, 8, 8)
    with torch.no_grad():
        full = net.initial_weights(stack, nfs)
        alone = net.initial_weights(stack[:, 1:2], nfs[:, 1:2])
    assert torch.allclose(full[:, 1:2], alone, atol=1e-6)


def test_ev_merge_softmax_and_fixed_stack():
    net = create_model("ev_merge_net", width=TINY, stack_size=6, seed=0).eval()
    stack, nfs = torch.rand(1, 6, 3, 9, 7), torch.randn(1, 6, 9, 7)
    with torch.no_grad():
        out = net(stack, nfs)
    assert torch.allclose(out.weights.sum(dim=1), torch.ones(1, 9, 7), atol=1e-6)
    assert torch.allclose(out.image, (stack * out.weights[:, :, None]).sum(1), atol=1e-6)
    with pytest.raises(NeurofocusError, match=r"stack must have shape \(\*, 6, 3, \*, \*\)"):
        net(torch.rand(1, 5, 3, 9, 7), torch.randn(1, 5, 9, 7))


def test_bad_input_shapes_raise():
    net = create_model("ev_refocus_net", width=TINY)
    with pytest.raises(NeurofocusError, match="nfs must have shape"):
        net(torch.rand(1, 3, 8, 8), torch.rand(1, 32, 8, 8))
    with pytest.raises(NeurofocusError, match="image must have shape"):
        net(torch.rand(1, 8, 8, 3), torch.rand(1, 64, 8, 8))


# Parameter counts at width 1.0, from the tables (the papers state no counts). Convolutions followed by batch norm
# have no bias; each batch norm adds 2 parameters per channel. c = 64.
#   Dense block C → 2C: 4 units of 3×3 conv (C + k·g → g), g = C/4: 9·g·(4C + 6g) weights, 4g BN channels.
def dense(cin):
    g = cin // 4
    return 9 * g * (4 * cin + 6 * g) + 2 * 4 * g


def conv_bn(cin, cout, k):
    return k * k * cin * cout + 2 * cout


# Encoder: Conv1 (3×3, in → 64), DenseConv1 (64 → 128), Conv2 (2×2 s2, 128), DenseConv2 (128 → 256),
# Conv3 (2×2 s2, 256), DenseConv3 (256 → 512).
def encoder(cin):
    return (conv_bn(cin, 64, 3) + dense(64) + conv_bn(128, 128, 2) + dense(128) + conv_bn(256, 256, 2)
            + dense(256))


# Decoder with b branches: Deconv2 (2×2, 512b → 256), Conv5 (1×1, 256b + 256 → 128), DenseConv5 (128 → 256),
# Deconv1 (2×2, 256 → 128), Conv6 (1×1, 128b + 128 → out).
def decoder(b, out):
    return (conv_bn(512 * b, 256, 2) + conv_bn(256 * b + 256, 128, 1) + dense(128) + conv_bn(256, 128, 2)
            + conv_bn(128 * b + 128, out, 1))


def resblock(c):  # two 3×3 conv-BN, identity shortcut
    return 2 * conv_bn(c, c, 3)


def head_resblock(cin, cout):  # conv-BN, conv with bias, 1×1 projection with bias when cin != cout
    proj = 0 if cin == cout else cin * cout + cout
    return conv_bn(cin, cout, 3) + 9 * cout * cout + cout + proj


REFOCUS = encoder(3) + encoder(64) + decoder(2, 64) + 2 * resblock(64) + (9 * 64 * 3 + 3)   # PredConv has a bias
EV_MERGE = encoder(3 * 64) + encoder(64) + decoder(2, 64) + resblock(64) + head_resblock(64, 64)
NEURO_MERGE = encoder(4) + decoder(1, 64) + resblock(64) + head_resblock(64, 1)


def test_parameter_counts_at_width_one():
    assert REFOCUS == 4_482_819 and EV_MERGE == 4_589_888 and NEURO_MERGE == 2_412_301
    for name, kwargs, expect in [("ev_refocus_net", {}, REFOCUS),
                                 ("neuro_refocus_net", {"modality": "spikes"}, REFOCUS),
                                 ("ev_merge_net", {}, EV_MERGE),
                                 ("neuro_merge_net", {"modality": "spikes"}, NEURO_MERGE)]:
        net = create_model(name, **kwargs)
        print(f"{name} {kwargs}: {count(net):,} parameters")
        assert count(net) == expect, name


def test_gradcheck_dense_and_residual_blocks_float64():
    torch.manual_seed(0)
    block = torch.nn.Sequential(DenseBlock(4, 8), ResBlock(8, 2, head=True)).double().train()
    x = torch.randn(2, 4, 5, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(block, (x,), eps=1e-6, atol=1e-5)


def test_gradcheck_event_composition_float64():
    torch.manual_seed(0)
    image = (0.1 + 0.8 * torch.rand(1, 3, 4, 5, dtype=torch.float64)).requires_grad_()
    residual = (0.1 * torch.randn(1, 3, 4, 5, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(compose_event_residual, (image, residual), eps=1e-6, atol=1e-6)


def compact_parameters(bins: int, c: int) -> int:
    """CompactTrunk + PredConv: 3×3 convolutions with biases (the trunk's docstring), then 3×3 c → 3."""
    def conv(cin, cout):
        return 9 * cin * cout + cout

    return (conv(3 + bins, c) + conv(c, c) + conv(c, 2 * c) + conv(2 * c, 2 * c) + conv(2 * c, 4 * c)
            + 2 * conv(4 * c, 4 * c) + conv(6 * c, 2 * c) + conv(2 * c, 2 * c) + conv(3 * c, c) + conv(c, c)
            + conv(c, 3))


def test_compact_trunk_parameter_count_and_errors():
    net = create_model("neuro_refocus_net", width=0.25, trunk="compact", nfs={"kind": "event_bins", "num_bins": 16})
    assert count(net) == compact_parameters(16, 16) == 157_923
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
    with pytest.raises(NeurofocusError, match="trunk"):
        create_model("neuro_refocus_net", trunk="tiny")


@pytest.mark.parametrize("trunk", ["dense", "compact"])
def test_training_step_reduces_a_loss(trunk):
    """One optimiser step on a tiny refocus network moves the output towards a target (gradients reach it)."""
    net = create_model("neuro_refocus_net", modality="spikes", width=TINY, seed=0, trunk=trunk).train()
    image, nfs, target = torch.rand(2, 3, 12, 12), torch.rand(2, 64, 12, 12), torch.rand(2, 3, 12, 12)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(image, nfs), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def _spec_shape(text: str, sizes: dict) -> tuple[int, ...]:
    """A TensorSpec's symbolic shape, e.g. "(B, 64, H, W)", with the symbols taken from ``sizes``."""
    return tuple(int(d) if d.isdigit() else sizes[d] for d in (part.strip() for part in text.strip("()").split(",")))


@pytest.mark.parametrize("name", list_models())
def test_every_registered_model_takes_and_gives_what_its_input_spec_says(name):
    """Inputs made from nothing but ``model.input_spec`` (its symbolic shapes at odd sizes; a recurrent state
    starts as None) run, and every output the spec names comes back finite, with the shape it states."""
    net = create_model(name, width=TINY, seed=0).eval()
    sizes = {"B": 2, "S": 5, "H": 13, "W": 18}
    inputs = [None if t.shape.startswith("None") else torch.rand(_spec_shape(t.shape, sizes))
              for t in net.input_spec.inputs]
    with torch.no_grad():
        out = net(*inputs)
    if isinstance(out, tuple) and not hasattr(out, "_fields"):  # recurrent: (outputs, the next state)
        out, state = out
        assert state is not None
    for t in net.input_spec.outputs:
        value = out if isinstance(out, torch.Tensor) else getattr(out, t.name)
        assert tuple(value.shape) == _spec_shape(t.shape, sizes), t.name
        assert bool(torch.isfinite(value).all()), t.name
