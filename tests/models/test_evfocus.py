"""EvFocus and E2VID: shapes at any size, real recurrence, layer-by-layer parameter counts, gradients, streaming
reconstruction that uses every event once, strict weight round trips."""

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neurofocus.errors import NeurofocusError
from neurofocus.models import create_model, list_models, load_model, load_weights, recurrent, save_weights
from neurofocus.models.recurrent import ConvLSTMCell, detach_state, event_windows, reconstruct_sequence
from neurofocus.represent.leaky_integration import LeakyIntegrator
from neurofocus.types import Events
from .conftest import count  # noqa: E402

TINY = 0.125  # N_b = 4
NAMES = ["e2vid", "evfocus"]


def voxels(n, b=1, bins=5, h=45, w=67, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(b, bins, h, w, generator=g) for _ in range(n)]


def random_events(n=997, size=(13, 11), seed=0, t_max=100_000):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(0, t_max, n))
    return Events.from_arrays(t, rng.integers(0, size[0], n), rng.integers(0, size[1], n),
                              rng.choice([-1, 1], n), size)


# parameter counts, computed layer by layer ---------------------------------------------------------------------
def conv(cin, cout, k, bias=True):
    return cin * cout * k * k + (cout if bias else 0)


def encoder_params(nb, bins):
    n = conv(bins, nb, 5)  # head
    for k in range(3):  # strided conv C -> 2C, ConvLSTM gates over [x, h] (2C + 2C -> 4 * 2C)
        c = nb * 2 ** k
        n += conv(c, 2 * c, 5) + conv(4 * c, 8 * c, 3)
    return n + 2 * 2 * conv(8 * nb, 8 * nb, 3)  # two residual blocks of two convs


def e2vid_params(nb, bins=5):
    decoders = conv(8 * nb, 4 * nb, 5) + conv(4 * nb, 2 * nb, 5) + conv(2 * nb, nb, 5)
    return encoder_params(nb, bins) + decoders + conv(nb, 1, 1)


def evfocus_params(nb, bins=5, heads=4, blocks=2):
    def block(cin, cout):  # conv 5x5 (bias) + BatchNorm (weight, bias)
        return conv(cin, cout, 5) + 2 * cout

    blur = block(8 * nb, 4 * nb) + block(4 * nb, 2 * nb) + block(2 * nb, nb)
    align = block(8 * nb, 4 * nb) + block(8 * nb, 2 * nb) + block(4 * nb, nb)  # blocks 2, 3 see the CF concat
    c = 2 * nb  # F_align
    mhca = 2 * c + conv(c, 3 * c, 1, False) + 3 * c * 9 + heads + conv(c, c, 1, False)  # LN, qkv, dw, alpha, W_p
    preds = conv(nb, 1, 1) + 3 * conv(c, 1, 1)
    return encoder_params(nb, bins) + blur + align + preds + 2 * blocks * mhca


def test_parameter_counts_layer_by_layer():
    assert count(create_model("e2vid")) == e2vid_params(32) == 10_710_401  # paper (EvFocus Table 4): 10.71 M
    assert count(create_model("evfocus")) == evfocus_params(32) == 12_115_892  # paper: 12.11 M
    assert abs(12_115_892 - 12.11e6) / 12.11e6 < 1e-3
    assert count(create_model("evfocus", width=0.5)) == evfocus_params(16)
    assert count(create_model("evfocus", width=0.25, num_bins=7, heads=2, mhca_blocks=3)) == evfocus_params(8, 7, 2, 3)
    assert count(create_model("e2vid", width=0.5, num_bins=9)) == e2vid_params(16, 9)


# registry, config --------------------------------------------------------------------------------------------------
def test_registry_and_config_errors():
    assert set(NAMES) <= set(list_models())
    with pytest.raises(NeurofocusError, match="unknown option 'depth'"):
        create_model("evfocus", depth=3)
    with pytest.raises(NeurofocusError, match="norm"):
        create_model("e2vid", norm="instance")
    with pytest.raises(NeurofocusError, match="heads"):
        create_model("evfocus", heads=3)  # 64 channels
    with pytest.raises(NeurofocusError, match="num_bins"):
        create_model("e2vid", num_bins=0)
    with pytest.raises(NeurofocusError, match="width"):
        create_model("evfocus", width=-1)


# shapes and recurrence ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("h, w", [(45, 67), (1, 1)])
def test_output_shapes_at_odd_sizes(name, h, w):
    net = create_model(name, width=TINY, seed=0).eval()
    with torch.no_grad():
        out, state = net(voxels(1, b=2, h=h, w=w)[0])
    for image in out:
        assert image.shape == (2, 1, h, w) and image.dtype == torch.float32
        assert 0 <= float(image.min()) and float(image.max()) <= 1
    ph, pw = -(-h // 8) * 8, -(-w // 8) * 8
    assert [tuple(s[0].shape) for s in state] == [(2, 4 * 2 ** k, ph >> k, pw >> k) for k in (1, 2, 3)]


@pytest.mark.parametrize("name", NAMES)
def test_float64(name):
    net = create_model(name, width=TINY, seed=0).double().eval()
    with torch.no_grad():
        out, state = net(voxels(1, h=9, w=10)[0].double())
        out, _ = net(voxels(1, h=9, w=10)[0].double(), state)
    assert out.image.dtype == torch.float64


def test_evfocus_outputs_named():
    net = create_model("evfocus", width=TINY, seed=0).eval()
    with torch.no_grad():
        out, _ = net(voxels(1, h=9, w=10)[0])
    assert out._fields == ("image", "aligned", "blurred", "redefocused")
    assert [s.name for s in net.input_spec.outputs] == list(out._fields)
    assert net.input_spec.size_multiple == 8 and net.input_spec.representation.num_bins == 5


@pytest.mark.parametrize("name", NAMES)
def test_state_is_carried_and_none_resets(name):
    net = create_model(name, width=TINY, seed=0).eval()
    v1, v2 = voxels(2)
    with torch.no_grad():
        _, s1 = net(v1)
        carried, s2 = net(v2, s1)
        fresh, _ = net(v2)
        again, _ = net(v2, None)
    assert not torch.allclose(carried.image, fresh.image, atol=1e-6)  # the state changes the output
    assert torch.equal(fresh.image, again.image)  # None starts from zeros, every time
    assert not torch.equal(s2[0][1], s1[0][1])


@pytest.mark.parametrize("name", NAMES)
def test_bad_state_and_input_raise(name):
    net = create_model(name, width=TINY, seed=0).eval()
    with torch.no_grad():
        _, state = net(voxels(1, h=16, w=16)[0])
        with pytest.raises(NeurofocusError, match="recurrent state does not match"):
            net(voxels(1, h=45, w=67)[0], state)
        with pytest.raises(NeurofocusError, match="recurrent state"):
            net(voxels(1, h=16, w=16)[0], state[:2])
        with pytest.raises(NeurofocusError, match="voxel must have shape"):
            net(torch.randn(1, 4, 16, 16))


def test_convlstm_cell_equations():
    torch.manual_seed(0)
    cell = ConvLSTMCell(3, 2, 3)
    x, h0, c0 = torch.randn(1, 3, 5, 6), torch.randn(1, 2, 5, 6), torch.randn(1, 2, 5, 6)
    out, (h, c) = cell(x, (h0, c0))
    i, f, o, g = torch.nn.functional.conv2d(torch.cat([x, h0], 1), cell.gates.weight, cell.gates.bias,
                                            padding=1).chunk(4, 1)
    c_ref = torch.sigmoid(f) * c0 + torch.sigmoid(i) * torch.tanh(g)
    assert torch.allclose(c, c_ref, atol=1e-6) and torch.allclose(h, torch.sigmoid(o) * torch.tanh(c_ref), atol=1e-6)
    assert out is h
    zero_out, _ = cell(x)  # None = zero state
    same, _ = cell(x, (torch.zeros_like(h0), torch.zeros_like(c0)))
    assert torch.equal(zero_out, same)


@pytest.mark.parametrize("name", NAMES)
def test_gradients_reach_every_parameter(name):
    net = create_model(name, width=TINY, seed=0).train()
    state = None
    loss = 0
    for v in voxels(2, b=2, h=13, w=11):  # two steps: the recurrent weights on h get gradients too
        out, state = net(v, state)
        loss = loss + sum(t.mean() for t in out)
    loss.backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None]
    assert not missing
    zero = [n for n, p in net.named_parameters() if not torch.any(p.grad != 0)]
    assert not zero
    assert detach_state(state)[0][0].grad_fn is None and state[0][0].grad_fn is not None


# streaming ---------------------------------------------------------------------------------------------------------
def test_event_windows_cover_every_event_once():
    ev = random_events()
    by_count = list(event_windows(ev, window_events=100))
    assert [b - a for a, b, _ in by_count] == [100] * 9 + [97]
    assert [t for _, _, t in by_count] == [int(ev.t[b - 1]) for _, b, _ in by_count]
    by_time = list(event_windows(ev, window_us=7_000))
    assert by_time[0][0] == 0 and by_time[-1][1] == len(ev)
    assert all(a1 == b0 for (_, b0, _), (a1, _, _) in itertools.pairwise(by_time))
    t0 = int(ev.t[0])
    for k, (a, b, end) in enumerate(by_time):
        assert end == t0 + 7_000 * (k + 1)
        assert np.all((ev.t[a:b] >= end - 7_000) & (ev.t[a:b] < end))
    gap = Events.from_arrays([0, 1, 50, 51], [0] * 4, [0] * 4, [1] * 4, (2, 2))
    assert [(a, b) for a, b, _ in event_windows(gap, window_us=10)] == [(0, 2), (2, 2), (2, 2), (2, 2), (2, 2),
                                                                      (2, 4)]
    with pytest.raises(NeurofocusError, match="exactly one"):
        list(event_windows(ev))
    with pytest.raises(NeurofocusError, match="exactly one"):
        list(event_windows(ev, window_events=10, window_us=10))
    with pytest.raises(NeurofocusError, match="window_us"):
        list(event_windows(ev, window_us=0))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("mode", [{"window_events": 150}, {"window_us": 9_000}])
def test_reconstruct_sequence_uses_every_event_once(name, mode, monkeypatch):
    ev = random_events()
    seen = []
    real = recurrent.voxel_grid

    def spy(events, num_bins, normalize=True):
        seen.append(len(events))
        return real(events, num_bins, normalize=normalize)

    monkeypatch.setattr(recurrent, "voxel_grid", spy)
    net = create_model(name, width=TINY, seed=0).train()
    frames = list(reconstruct_sequence(net, ev, num_bins=5, **mode))
    assert sum(seen) == len(ev) and len(frames) == len(seen)
    assert [t for t, _ in frames] == [t for _, _, t in event_windows(ev, **mode)]
    for _, image in frames:
        assert image.shape == (11, 13) and image.dtype == np.float32
        assert 0 <= image.min() and image.max() <= 1
    assert net.training  # restored


def test_reconstruct_sequence_matches_manual_loop_and_checks_bins():
    ev = random_events(300)
    net = create_model("e2vid", width=TINY, seed=1).eval()
    frames = list(reconstruct_sequence(net, ev, window_events=100))
    state = None
    with torch.no_grad():
        for (a, b, _), (_, image) in zip(event_windows(ev, window_events=100), frames):
            voxel = torch.from_numpy(recurrent.voxel_grid(ev[a:b], 5))[None]
            out, state = net(voxel, state)
            assert np.array_equal(out.image[0, 0].numpy(), image)
    gap = Events.from_arrays([0, 1, 50, 51], [0, 1, 2, 3], [0, 1, 2, 0], [1, -1, 1, 1], (4, 3))
    empty_windows = list(reconstruct_sequence(net, gap, window_us=10))  # four windows without events
    assert [t for t, _ in empty_windows] == [10, 20, 30, 40, 50, 60]
    assert all(image.shape == (3, 4) and np.isfinite(image).all() for _, image in empty_windows)
    with pytest.raises(NeurofocusError, match="num_bins"):
        reconstruct_sequence(net, ev, window_events=100, num_bins=3)
    with pytest.raises(NeurofocusError, match="exactly one"):
        reconstruct_sequence(net, ev)


# the integrator input (not in the papers) -----------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_new_integrator_network_returns_the_integrator_image_and_learns_a_correction(name):
    ev = random_events(2_000, size=(21, 14))
    net = create_model(name, width=TINY, seed=0, integrator=True)
    plain = create_model(name, width=TINY, seed=0)
    assert count(net) == count(plain) + 5 * 5 * recurrent.recurrent_base_channels(TINY)  # one more head channel
    assert net.input_spec.representation == recurrent.VoxelGrid(5, integrator=True)
    windows = list(event_windows(ev, window_events=300))
    inputs = net.input_spec.representation.stream(ev)
    grids = [inputs(*w) for w in windows]
    assert all(g.shape == (6, 14, 21) for g in grids)
    base = recurrent.integrator_image(np.stack([g[-1] for g in grids]))
    assert base.std() > 0.05 and 0 < base.min() and base.max() < 1
    frames = np.stack([image for _, image in reconstruct_sequence(net, ev, window_events=300)])
    np.testing.assert_allclose(frames, base, atol=1e-6)
    out, _ = net(torch.from_numpy(grids[0])[None])
    for image in out:  # every output of EvFocus starts at the integrator image
        np.testing.assert_allclose(image[0, 0].detach().numpy(), base[0], atol=1e-6)
    sum(o.mean() for o in out).backward()
    heads = ["pred"] if name == "e2vid" else ["blur_pred", "align_pred", "redefocus.2", "reconstruction.2"]
    params = dict(net.named_parameters())
    for head in heads:  # zero-initialised, and learning
        assert not torch.any(params[f"{head}.weight"]) and torch.any(params[f"{head}.weight"].grad != 0)
    with pytest.raises(NeurofocusError, match="voxel"):
        net(torch.zeros(1, 5, 8, 8))  # the integrator channel missing


def test_integrator_stream_counts_overlapping_windows_once_and_needs_time_order():
    ev = random_events(1_500, size=(9, 7))
    times = np.linspace(ev.t[0], ev.t[-1], 12).astype(np.int64)
    windows = recurrent.frame_windows(ev, times, 3)  # each event in up to three windows
    inputs = recurrent.VoxelGrid(integrator=True).stream(ev)
    last = [inputs(*w)[-1] for w in windows][-1]
    once = LeakyIntegrator(9, 7, recurrent.INTEGRATOR_CONTRAST, recurrent.INTEGRATOR_CUTOFF_HZ)
    once.update(ev[:windows[-1][1]])
    assert np.array_equal(last, once.log_intensity(windows[-1][2]).astype(np.float32))
    with pytest.raises(NeurofocusError, match="time order"):
        inputs(*windows[0])


# running at a lower resolution (not in the papers) -----------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_downscaled_network_predicts_every_pixel_at_full_resolution(name):
    """downscale 2: the state lives at half resolution, the output at full resolution and odd sizes; a new
    integrator network still returns sigmoid(L); the prediction's 4 logits land on the 2×2 pixels they belong to."""
    net = create_model(name, width=TINY, seed=0, integrator=True, downscale=2)
    full = create_model(name, width=TINY, seed=0, integrator=True)
    assert net.input_spec.size_multiple == 16
    v = torch.randn(1, 6, 19, 27)
    with torch.no_grad():
        out, state = net(v)
        base = torch.sigmoid(v[:, -1:])
        for image in out:
            assert image.shape == (1, 1, 19, 27) and torch.allclose(image, base, atol=1e-6)
        assert [h.shape[-2:] for h, _ in state] == [(8, 8), (4, 4), (2, 2)]  # padded to 32×32, run at 16×16
        assert [h.shape[-2:] for h, _ in full(v)[1]] == [(12, 16), (6, 8), (3, 4)]
        pred = net.pred if name == "e2vid" else net.reconstruction[-1]
        pred.bias.copy_(torch.tensor([0.0, 1.0, 2.0, 3.0]))  # logit k at sub-pixel (k // 2, k % 2)
        image = net(v)[0].image[0, 0]
    rows, cols = np.mgrid[0:19, 0:27]
    expected = torch.sigmoid(v[0, -1] + torch.from_numpy((rows % 2) * 2.0 + cols % 2).float())
    assert torch.allclose(image, expected, atol=1e-6)
    assert count(net) > count(full)  # the head sees 4× the channels
    assert "downscale" not in full.config.to_dict() and net.config.to_dict()["downscale"] == 2
    with pytest.raises(NeurofocusError, match="downscale must be 1, 2 or 4"):
        create_model(name, width=TINY, downscale=3)


# weights ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, options", [("e2vid", {"norm": "batch"}), ("evfocus", {"heads": 2}),
                                           ("e2vid", {"integrator": True}), ("evfocus", {"downscale": 2})])
def test_weights_round_trip_strict(name, options, tmp_path):
    pytest.importorskip("safetensors")
    net = create_model(name, width=TINY, seed=3, **options)
    bins = 5 + int(options.get("integrator", False))
    with torch.no_grad():
        net.train()(voxels(1, b=2, bins=bins, h=16, w=16)[0])  # batch-norm statistics away from their initial values
    net.eval()
    path = save_weights(net, tmp_path / f"{name}.safetensors")
    fresh = load_weights(create_model(name, width=TINY, seed=9, **options), path).eval()
    v = voxels(2, bins=bins, h=12, w=9, seed=4)
    with torch.no_grad():
        a, sa = net(v[0])
        b, sb = fresh(v[0])
        assert all(torch.equal(x, y) for x, y in zip(a, b))
        assert torch.equal(net(v[1], sa)[0].image, fresh(v[1], sb)[0].image)
    rebuilt = load_model(path)
    assert rebuilt.name == name and rebuilt.config == net.config
    other = "evfocus" if name == "e2vid" else "e2vid"
    with pytest.raises(NeurofocusError, match="weights are for model"):
        load_weights(create_model(other, width=TINY), path)
    with pytest.raises(NeurofocusError, match="config differs"):
        load_weights(create_model(name, width=0.25, **options), path)
