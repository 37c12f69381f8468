"""Weight files: safetensors round trips, fp16, metadata, strict loading with one-line errors."""

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from safetensors.torch import save_file

from neurofocus.errors import NeurofocusError
from neurofocus.models import create_model, load_model, load_weights, read_metadata, save_weights

TINY = 0.125


@pytest.fixture
def trained():
    """A tiny refocus net with non-trivial weights and batch-norm statistics."""
    torch.manual_seed(0)
    net = create_model("neuro_refocus_net", width=TINY, seed=0, zero_init_residual=False)
    with torch.no_grad():
        net.train()(torch.rand(2, 3, 8, 8), torch.randn(2, 64, 8, 8))  # updates the running statistics
    return net.eval()


def inputs():
    g = torch.Generator().manual_seed(1)
    return torch.rand(1, 3, 11, 9, generator=g), torch.randn(1, 64, 11, 9, generator=g)


def test_round_trip_gives_equal_outputs(trained, tmp_path):
    path = save_weights(trained, tmp_path / "net.safetensors", {"run": "unit-test", "epoch": 3})
    fresh = create_model("neuro_refocus_net", width=TINY, seed=7, zero_init_residual=False).eval()
    load_weights(fresh, path)
    with torch.no_grad():
        assert torch.equal(fresh(*inputs()), trained(*inputs()))
    meta = read_metadata(path)
    assert meta["model"] == "neuro_refocus_net" and meta["width"] == TINY and meta["dtype"] == "float32"
    assert meta["user"] == {"run": "unit-test", "epoch": 3}
    assert meta["config"]["nfs"] == {"kind": "event_bins", "num_bins": 64, "count_scale": 0.2, "binning": "time"}


def test_load_model_rebuilds_from_metadata(tmp_path):
    net = create_model("neuro_merge_net", modality="spikes", width=TINY, alpha=3.0, seed=2).eval()
    path = save_weights(net, tmp_path / "merge.safetensors")
    again = load_model(path)
    assert again.config == net.config and not again.training
    stack, nfs = torch.rand(1, 3, 3, 6, 7), torch.rand(1, 3, 6, 7)
    with torch.no_grad():
        assert torch.equal(again(stack, nfs).image, net(stack, nfs).image)


def test_half_precision_file(trained, tmp_path):
    full = save_weights(trained, tmp_path / "f32.safetensors")
    half = save_weights(trained, tmp_path / "f16.safetensors", half=True)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    fresh = load_weights(create_model("neuro_refocus_net", width=TINY, zero_init_residual=False), half).eval()
    assert all(p.dtype == torch.float32 for p in fresh.parameters())
    with torch.no_grad():
        assert torch.allclose(fresh(*inputs()), trained(*inputs()), atol=2e-2)


def _rewrite(path, tensors, header):
    save_file(tensors, str(path), metadata={"neurofocus": json.dumps(header)})


def _contents(path):
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a dict)
    return tensors, read_metadata(path)


def test_wrong_shape_raises_one_line_error(trained, tmp_path):
    path = save_weights(trained, tmp_path / "net.safetensors")
    tensors, header = _contents(path)
    tensors["res1.conv1.0.weight"] = torch.zeros(8, 8, 5, 5)
    bad = tmp_path / "bad.safetensors"
    _rewrite(bad, tensors, header)
    with pytest.raises(NeurofocusError) as info:
        load_weights(create_model("neuro_refocus_net", width=TINY, zero_init_residual=False), bad)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(str(bad))
    assert "'res1.conv1.0.weight' has shape (8, 8, 5, 5)" in msg and "(8, 8, 3, 3)" in msg


def test_other_width_raises(trained, tmp_path):
    path = save_weights(trained, tmp_path / "net.safetensors")
    with pytest.raises(NeurofocusError, match="config differs: width is 0.125 in the file but 0.25 in the model"):
        load_weights(create_model("neuro_refocus_net", width=0.25, zero_init_residual=False), path)


def test_missing_and_unexpected_tensors_raise(trained, tmp_path):
    path = save_weights(trained, tmp_path / "net.safetensors")
    tensors, header = _contents(path)
    model = create_model("neuro_refocus_net", width=TINY, zero_init_residual=False)

    missing = dict(tensors)
    del missing["pred.bias"]
    _rewrite(tmp_path / "missing.safetensors", missing, header)
    with pytest.raises(NeurofocusError, match=r"missing\.safetensors: missing tensor 'pred\.bias'"):
        load_weights(model, tmp_path / "missing.safetensors")

    extra = dict(tensors, **{"pred2.weight": torch.zeros(3)})
    _rewrite(tmp_path / "extra.safetensors", extra, header)
    with pytest.raises(NeurofocusError, match=r"unexpected tensor 'pred2\.weight'"):
        load_weights(model, tmp_path / "extra.safetensors")
    load_weights(model, tmp_path / "extra.safetensors", strict=False)  # loosened: ignored, logged

    nan = dict(tensors, **{"pred.bias": torch.full((3,), float("nan"))})
    _rewrite(tmp_path / "nan.safetensors", nan, header)
    with pytest.raises(NeurofocusError, match="'pred.bias' holds NaN"):
        load_weights(model, tmp_path / "nan.safetensors")


def test_other_model_and_garbage_files_raise(trained, tmp_path):
    path = save_weights(trained, tmp_path / "net.safetensors")
    with pytest.raises(NeurofocusError, match="weights are for model 'neuro_refocus_net', not 'ev_refocus_net'"):
        load_weights(create_model("ev_refocus_net", width=TINY, zero_init_residual=False), path)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(NeurofocusError, match="junk.safetensors: not a safetensors weight file"):
        load_weights(trained, junk)
    with pytest.raises(NeurofocusError, match="no such weight file"):
        load_weights(trained, tmp_path / "absent.safetensors")
    plain = tmp_path / "plain.safetensors"
    save_file({"a": torch.zeros(2)}, str(plain))
    with pytest.raises(NeurofocusError, match="no neurofocus metadata"):
        load_model(plain)

