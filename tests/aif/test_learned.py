"""The learned pipeline's plumbing (networks untrained here; their quality is measured by the benchmark)."""

import numpy as np
import pytest

from neurofocus.aif import AifConfig, all_in_focus
from neurofocus.errors import NeurofocusError

torch = pytest.importorskip("torch")

from neurofocus.aif.learned import learned_all_in_focus, load_networks  # noqa: E402
from neurofocus.models import create_model, save_weights  # noqa: E402


def identity_pair(modality="events", efs=False):
    """A refocus network that returns the captured image (fresh PredConv, event_image="captured") and a merge
    network."""
    base = {"event_image": "captured"} if modality == "events" else {}
    if efs:
        return (create_model("ev_refocus_net", seed=0, width=0.125, **base),
                create_model("ev_merge_net", seed=0, width=0.125, stack_size=16))  # 4×4 patches
    return (create_model("neuro_refocus_net", modality=modality, seed=0, width=0.125, **base),
            create_model("neuro_merge_net", modality=modality, seed=0, width=0.125))


def test_identity_refocus_returns_the_input_and_the_handcrafted_times(ideal_sweep):
    refocus, merge = identity_pair()
    result = learned_all_in_focus(ideal_sweep, refocus, merge, AifConfig())
    np.testing.assert_allclose(result.image, ideal_sweep.image, atol=2e-5)  # every slice is the image
    handcrafted = all_in_focus(ideal_sweep, AifConfig(), keep_stack=False)
    np.testing.assert_array_equal(result.stack_times_us, handcrafted.stack_times_us)
    assert len(result.stack) == len(result.stack_times_us)
    assert set(np.unique(result.infocus_time_us)) <= set(result.stack_times_us.tolist())


def test_spikes_and_efs_variants_run(ideal_sweep):
    refocus, merge = identity_pair("spikes")
    spikes_only = type(ideal_sweep)(ideal_sweep.image, ideal_sweep.image_time_us, spikes=ideal_sweep.spikes)
    result = learned_all_in_focus(spikes_only, refocus, merge, AifConfig())
    assert result.modality == "spikes" and result.image.shape == ideal_sweep.image.shape
    refocus, merge = identity_pair(efs=True)
    result = learned_all_in_focus(ideal_sweep, refocus, merge, AifConfig())
    assert result.weights == "efs-merge-net" and np.isfinite(result.image).all() and len(result.stack_times_us) <= 16
    np.testing.assert_allclose(result.image, ideal_sweep.image, atol=2e-5)


def test_network_files_are_checked(tmp_path):
    refocus, merge = identity_pair()
    save_weights(refocus, tmp_path / "r.safetensors")
    save_weights(merge, tmp_path / "m.safetensors")
    with pytest.raises(NeurofocusError, match="needs EvMergeNet"):
        load_networks("efs", "events", tmp_path / "r.safetensors", tmp_path / "m.safetensors")
    with pytest.raises(NeurofocusError, match="is a network for events, but the recording has spikes"):
        load_networks("learned", "spikes", tmp_path / "r.safetensors", tmp_path / "m.safetensors")
    with pytest.raises(NeurofocusError, match="not a refocus network"):
        load_networks("learned", "events", tmp_path / "m.safetensors", tmp_path / "m.safetensors")
    loaded = load_networks("learned", "events", tmp_path / "r.safetensors", tmp_path / "m.safetensors")
    assert [n.name for n in loaded] == ["neuro_refocus_net", "neuro_merge_net"]
    refocus_only = load_networks("learned", "events", tmp_path / "r.safetensors", merge="handcrafted")
    assert refocus_only[0].name == "neuro_refocus_net" and refocus_only[1] is None
    with pytest.raises(NeurofocusError, match="merges with EvMergeNet"):
        load_networks("efs", "events", tmp_path / "r.safetensors", merge="handcrafted")
    with pytest.raises(NeurofocusError, match="merge must be one of"):
        load_networks("learned", "events", tmp_path / "r.safetensors", merge="average")


@pytest.mark.parametrize("rule", [None, "gradient"])
def test_refocus_network_with_the_handcrafted_merge(ideal_sweep, rule):
    """Without a merge network the hand-crafted focus measures merge the network's slices (the papers' RNet + GDF
    ablation with gradient weights); an identity refocus network gives back the input image."""
    refocus, _ = identity_pair()
    result = learned_all_in_focus(ideal_sweep, refocus, None, AifConfig(weights=rule))
    assert result.weights == (rule or "symmetry")
    np.testing.assert_allclose(result.image, ideal_sweep.image, atol=2e-5)
    handcrafted = all_in_focus(ideal_sweep, AifConfig(weights=rule), keep_stack=False)
    np.testing.assert_array_equal(result.stack_times_us, handcrafted.stack_times_us)


@pytest.mark.parametrize("modality", ["events", "spikes"])
def test_untrained_networks_on_the_handcrafted_refocus_reproduce_the_handcrafted_pipeline(ideal_sweep, modality):
    """A fresh refocus network returns its image input, the hand-crafted refocus: with the hand-crafted merge the
    learned pipeline is then the hand-crafted pipeline (up to the uint8-free float round trip)."""
    refocus = create_model("neuro_refocus_net", modality=modality, seed=0, width=0.125)
    result = learned_all_in_focus(ideal_sweep, refocus, None, AifConfig())
    handcrafted = all_in_focus(ideal_sweep, AifConfig(modality=modality), keep_stack=False)
    np.testing.assert_array_equal(result.stack_times_us, handcrafted.stack_times_us)
    assert np.abs(handcrafted.image - ideal_sweep.image).max() > 0.1  # the pipeline changes the image
    np.testing.assert_allclose(result.image, handcrafted.image, atol=2e-3)
