"""Training data: refocus pairs (directions, the events between the frames, crops, flips, determinism), merge
stacks (shapes, targets), scene listing errors, the epoch batches."""

import json
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neurofocus.aif.pipeline import build_refocuser
from neurofocus.errors import NeurofocusError
from neurofocus.models.inputs import EventBinning, EventSlicing, SpikeBinning, SpikeSlicing
from neurofocus.represent import PolarityTable, event_bins, event_bins_region, spike_bins
from neurofocus.datasets import load_sample
from neurofocus.train import MergeStacks, RefocusPairs, batches_for_epoch, list_scenes
from neurofocus.train.merge_stacks import fill_times


@pytest.fixture(scope="module")
def scenes(mini_dataset):
    return list_scenes(mini_dataset, "events")


@pytest.fixture(scope="module")
def samples(scenes):
    return [load_sample(s) for s in scenes]


def _region(item):
    y0, y1, x0, x1 = item["region"].tolist()
    return slice(y0, y1), slice(x0, x1)


def test_pairs_go_both_ways_and_hold_the_events_between_the_frames(scenes, samples):
    rep = EventBinning(num_bins=16)
    pairs = RefocusPairs(scenes, rep, seed=3, samples_per_scene=12, crop=24, flips=False, event_image="captured")
    directions = set()
    tables = [PolarityTable(s.sweep.events) for s in samples]
    for i in range(len(pairs)):
        item = pairs[(1, i)]
        t_in, t_tgt = item["input_time_us"], item["target_time_us"]
        directions.add(t_tgt > t_in)
        scene, sample = item["scene"], samples[item["scene"]]
        assert scene == i // 12
        kept_times = sample.frame_times_us[sample.kept_indices]
        assert kept_times[item["input_frame"]] == t_in and kept_times[item["target_frame"]] == t_tgt
        gap = sample.kept_indices[item["target_frame"]] - sample.kept_indices[item["input_frame"]]
        assert abs(gap) >= 10
        ys, xs = _region(item)
        net = tables[scene].net(t_in, t_tgt)[ys, xs]  # negative going backwards
        np.testing.assert_allclose(item["nfs"].sum(0).numpy(), net * np.float32(rep.count_scale), atol=1e-5)
        # the same bins as the whole sensor's, cropped, bit for bit
        full = event_bins(sample.sweep.events, t_in, t_tgt, rep.num_bins, count_scale=rep.count_scale)
        assert np.array_equal(item["nfs"].numpy(), full[:, ys, xs])
        np.testing.assert_array_equal(item["image"].numpy().transpose(1, 2, 0),
                                      sample.kept_frame(item["input_frame"])[ys, xs])
        np.testing.assert_array_equal(item["target"].numpy().transpose(1, 2, 0),
                                      sample.kept_frame(item["target_frame"])[ys, xs])
    assert directions == {True, False}


@pytest.mark.parametrize("direction, forward", [("forward", True), ("backward", False)])
def test_one_direction(scenes, direction, forward):
    pairs = RefocusPairs(scenes, EventBinning(num_bins=4), samples_per_scene=6, crop=16, direction=direction)
    for i in range(len(pairs)):
        item = pairs[i]
        assert (item["target_time_us"] > item["input_time_us"]) == forward


def test_region_bins_equal_event_bins_at_odd_windows(samples):
    events = samples[1].sweep.events
    table = PolarityTable(events)
    t0, t1 = int(events.t[0]), int(events.t[-1])
    for a, b in [(t0, t1 + 1), (t1, t0 + 13), (t0 + 1000, t0 + 1003), (5000, 5000)]:
        full = event_bins(events, a, b, 7, count_scale=0.3)
        assert np.array_equal(event_bins_region(table, a, b, 7, (3, 40, 5, 60), count_scale=0.3), full[:, 3:40, 5:60])


def test_count_binning_is_computed_on_the_crop(scenes):
    pairs = RefocusPairs(scenes, EventBinning(num_bins=8, binning="count"), samples_per_scene=2, crop=20)
    item = pairs[1]
    assert item["nfs"].shape == (8, 20, 20)


def test_items_are_a_function_of_seed_epoch_index(scenes):
    a = RefocusPairs(scenes, EventBinning(num_bins=8), seed=5, samples_per_scene=4, crop=16)
    b = RefocusPairs(scenes, EventBinning(num_bins=8), seed=5, samples_per_scene=4, crop=16)
    order = [(2, 7), (0, 1), (2, 3)]
    first = {k: a[k] for k in order}
    for k in reversed(order):  # another access order, another object (as in another worker)
        assert all(torch.equal(first[k][n], b[k][n]) for n in ("image", "nfs", "target", "region", "flip"))
    assert a[(0, 3)]["region"].tolist() != a[(1, 3)]["region"].tolist() or \
        a[(0, 3)]["input_frame"] != a[(1, 3)]["input_frame"]  # another epoch, another draw
    import pickle

    clone = pickle.loads(pickle.dumps(a))  # what a DataLoader worker gets: an empty cache
    assert len(clone._cache) == 0 and torch.equal(clone[(2, 7)]["nfs"], first[(2, 7)]["nfs"])


def test_flips_are_applied_to_every_array_alike(scenes):
    plain = RefocusPairs(scenes, EventBinning(num_bins=4), seed=1, samples_per_scene=16, crop=24, flips=False)
    flipped = RefocusPairs(scenes, EventBinning(num_bins=4), seed=1, samples_per_scene=16, crop=24, flips=True)
    seen = set()
    for i in range(len(plain)):
        p, f = plain[i], flipped[i]
        h, v = f["flip"].tolist()
        seen.add((h, v))
        # the flip draws come after the pair and the crop, so both datasets share them
        assert p["region"].tolist() == f["region"].tolist()
        dims = [d for d, on in ((-1, h), (-2, v)) if on]
        for name in ("image", "nfs", "target", "focus"):
            expected = p[name].flip(dims) if dims else p[name]
            assert torch.equal(f[name], expected)
    assert len(seen) >= 3


def test_focus_map_marks_the_pixels_in_focus_at_the_target_time(scenes, samples):
    sigma = 0.05
    pairs = RefocusPairs(scenes, EventBinning(num_bins=4), seed=2, samples_per_scene=6, crop=None, flips=False,
                         focus_sigma=sigma)
    for i in range(len(pairs)):
        item = pairs[i]
        sweep = samples[item["scene"]].sweep
        start, end = sweep.time_extent_us
        focus = item["focus"][0].numpy()
        offset = np.abs(sweep.ground_truth.infocus_time_us - item["target_time_us"]) / (end - start)
        assert focus.shape == offset.shape and focus.dtype == np.float32
        # 1 in focus, e^-1/2 one σ away, vanishing far away; monotone in the distance
        np.testing.assert_allclose(focus, np.exp(-0.5 * (offset / sigma) ** 2), rtol=1e-5, atol=1e-7)
        assert np.all(focus[offset < 0.01] > 0.98) and np.all(focus[offset > 5 * sigma] < 1e-5)
    with pytest.raises(NeurofocusError, match="focus_sigma"):
        RefocusPairs(scenes, EventBinning(num_bins=4), focus_sigma=0)


def test_spike_pairs_equal_the_whole_frame_inputs_cropped(mini_dataset):
    scenes = list_scenes(mini_dataset, "spikes")
    rep = SpikeBinning(num_bins=8, ticks_per_bin=2)
    pairs = RefocusPairs(scenes, rep, seed=2, samples_per_scene=3, crop=20, flips=False)
    sample = load_sample(scenes[0], events=False)
    for i in range(3):
        item = pairs[i]
        ys, xs = _region(item)
        t_in, t_tgt = item["input_time_us"], item["target_time_us"]
        frame = sample.kept_frame(item["input_frame"])
        refocuser = build_refocuser(frame, t_in, sample.sweep.time_extent_us, spikes=sample.sweep.spikes)[0]
        full = refocuser.refocus(t_tgt)  # the pipeline's refocuser on the whole frame
        np.testing.assert_allclose(item["image"].numpy().transpose(1, 2, 0), full[ys, xs], atol=1e-6)
        bins = spike_bins(sample.sweep.spikes, t_tgt, 8, 2)
        assert np.array_equal(item["nfs"].numpy(), bins[:, ys, xs])


def test_merge_stacks_shapes_and_targets(mini_dataset, samples):
    scenes = list_scenes(mini_dataset, "events")
    stacks = MergeStacks(scenes, EventSlicing(), stack_size=5, stack_times="uniform", source="frames", seed=0,
                         samples_per_scene=3, crop=24, flips=True)
    assert len(stacks) == 6
    for i in range(len(stacks)):
        item = stacks[i]
        assert item["stack"].shape == (5, 3, 24, 24) and item["nfs"].shape == (5, 24, 24)
        assert item["target"].shape == (3, 24, 24) and item["times_us"].shape == (5,)
        assert item["stack"].dtype == torch.float32 and 0 <= float(item["stack"].min()) <= float(item["stack"].max()) <= 1
        sample = samples[item["scene"]]
        ys, xs = _region(item)
        h, v = item["flip"].tolist()
        dims = [d for d, on in ((-1, h), (-2, v)) if on]

        def unflip(t, dims=dims):
            return t.flip(dims) if dims else t

        aif = sample.sweep.ground_truth.all_in_focus[ys, xs]
        np.testing.assert_array_equal(unflip(item["target"]).numpy().transpose(1, 2, 0), aif)
        # slice k is the kept frame nearest its time; its channel is the EventSlicing of the whole frame, cropped
        times = item["times_us"].numpy()
        kept_times = sample.frame_times_us[sample.kept_indices]
        for k, t in enumerate(times):
            nearest = int(np.abs(kept_times - t).argmin())
            np.testing.assert_array_equal(unflip(item["stack"])[k].numpy().transpose(1, 2, 0),
                                          sample.kept_frame(nearest)[ys, xs])
        rep = EventSlicing()
        full = rep(sample.sweep.events, times.tolist(), rep.half_window_us(sample.sweep.time_extent_us))
        assert np.array_equal(unflip(item["nfs"]).numpy(), full[:, ys, xs])


def test_merge_stacks_from_the_search_and_handcrafted_refocus(mini_dataset):
    scenes = list_scenes(mini_dataset, "spikes")
    stacks = MergeStacks(scenes[:1], SpikeSlicing(), stack_size=6, stack_times="search", source="handcrafted",
                         search_grid=2, samples_per_scene=1, crop=None, flips=False)
    item = stacks[0]
    assert item["stack"].shape == (6, 3, 48, 64) and item["nfs"].shape == (6, 48, 64)
    times = item["times_us"].numpy()
    assert np.all(np.diff(times) >= 0) and len(times) == 6


def test_fill_times():
    assert fill_times([5, 1, 9], 2, 0, 10).tolist() == [1, 9]
    filled = fill_times([500], 3, 0, 1000)
    assert len(filled) == 3 and 500 in filled and np.all(np.diff(filled) >= 0)


def test_list_scenes_errors(tmp_path, mini_dataset):
    with pytest.raises(NeurofocusError, match="no such dataset folder"):
        list_scenes(tmp_path / "missing")
    with pytest.raises(NeurofocusError, match="holds no scene folders"):
        list_scenes(tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(mini_dataset / "scene_00000", copy / "scene_00000")
    info = json.loads((copy / "scene_00000" / "sample.json").read_text())
    del info["spike_file"]
    (copy / "scene_00000" / "sample.json").write_text(json.dumps(info))
    assert len(list_scenes(copy, "events")) == 1
    with pytest.raises(NeurofocusError, match="scene_00000 has no spikes"):
        list_scenes(copy, "spikes")


def test_crop_larger_than_the_frames(scenes):
    pairs = RefocusPairs(scenes, EventBinning(num_bins=4), crop=100)
    with pytest.raises(NeurofocusError, match="larger than the 64x48 frames"):
        pairs[0]


def test_epoch_batches_split_the_ranks_and_reshuffle():
    one = batches_for_epoch(20, 0, 4, seed=1)
    assert len(one) == 5 and sorted(i for b in one for _, i in b) == list(range(20))
    assert batches_for_epoch(20, 0, 4, seed=1) == one and batches_for_epoch(20, 1, 4, seed=1) != one
    r0 = batches_for_epoch(20, 3, 4, seed=1, world_size=2, rank=0)
    r1 = batches_for_epoch(20, 3, 4, seed=1, world_size=2, rank=1)
    seen = [i for b in r0 + r1 for _, i in b]
    assert len(r0) == len(r1) == 2 and len(set(seen)) == len(seen)


def test_event_pairs_start_from_the_handcrafted_refocus(scenes, samples):
    """The event network's image input is the hand-crafted refocus of the whole input frame, cropped; a fresh
    network returns it; on the mini dataset's ideal events it is closer to the target frame than the input is."""
    from neurofocus.metrics import psnr
    from neurofocus.models import create_model
    from neurofocus.models.inputs import tensor_to_image

    net = create_model("neuro_refocus_net", width=0.125, seed=0).eval()
    pairs = RefocusPairs(scenes, net.config.nfs, seed=1, samples_per_scene=6, crop=None, flips=False)
    gains = []
    for i in range(len(pairs)):
        item = pairs[(0, i)]
        sample = samples[item["scene"]]
        frame = sample.kept_frame(item["input_frame"])
        table = PolarityTable(sample.sweep.events)
        refocuser = build_refocuser(frame, item["input_time_us"], sample.sweep.time_extent_us, table=table)[0]
        ys, xs = _region(item)
        expect = refocuser.refocus(item["target_time_us"])[ys, xs]
        image = item["image"].numpy().transpose(1, 2, 0)
        np.testing.assert_allclose(image, expect, atol=1e-6)
        with torch.no_grad():
            np.testing.assert_allclose(tensor_to_image(net(item["image"][None], item["nfs"][None])), image, atol=2e-5)
        target = item["target"].numpy().transpose(1, 2, 0)
        gains.append(psnr(image, target) - psnr(frame, target))
    assert np.mean(gains) > 1.0 and np.median(gains) > 0, gains
    cached = pairs.scene(0).contrasts  # each input frame's contrast is estimated once, then reused exactly
    assert cached and all(c.dtype == np.float32 for c in cached.values())
    np.testing.assert_array_equal(pairs[(0, 0)]["image"], pairs[(0, 0)]["image"])
    captured = RefocusPairs(scenes, net.config.nfs, seed=1, samples_per_scene=6, crop=24, flips=False,
                            event_image="captured")
    item = captured[(0, 0)]
    ys, xs = _region(item)
    frame = samples[item["scene"]].kept_frame(item["input_frame"])
    np.testing.assert_allclose(item["image"].numpy().transpose(1, 2, 0), frame[ys, xs], atol=1e-6)
