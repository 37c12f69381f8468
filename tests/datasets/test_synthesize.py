"""Dataset synthesis (neurofocus.datasets.synthesize): layout, determinism, resume after interruption, sharding,
settings guard."""

import json
import shutil

import numpy as np
import pytest

from neurofocus.datasets import load_sample, parse_shard, synthesize
from neurofocus.errors import NeurofocusError
from neurofocus.simulate.dataset import SynthConfig
from neurofocus.simulate.dvs_voltmeter import VoltmeterParams

TINY = SynthConfig(width=64, height=48, num_frames=24, frame_rate_hz=240.0, max_blur_px=(8.0, 12.0), spikes=True,
                   spike_tick_us=500.0, keep_every=6)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("ds")
    manifest = synthesize(out, 3, seed=5, config=TINY, workers=1, progress=False)
    return out, manifest


def test_layout_and_manifest(dataset):
    out, manifest = dataset
    assert manifest["num_scenes"] == 3 and [s["index"] for s in manifest["scenes"]] == [0, 1, 2]
    assert json.loads((out / "config.json").read_text())["seed"] == 5
    sample = load_sample(out / "scene_00001")
    sweep = sample.sweep
    assert sweep.image.shape == (48, 64, 3) and sweep.sensor_size == (64, 48)
    assert sweep.events is not None and len(sweep.events) == manifest["scenes"][1]["num_events"]
    assert sweep.spikes is not None and sweep.spikes.tick_us == 500.0
    truth = sweep.ground_truth
    assert truth.depth_m.shape == (48, 64) and truth.infocus_time_us.shape == (48, 64)
    assert sample.kept_indices.tolist()[:2] == [0, 6] and sample.kept_frames.shape[1:] == (48, 64, 3)
    assert sweep.image_time_us == sample.frame_times_us[sample.info["image_frame"]]
    assert sweep.sweep_start_us <= sweep.image_time_us <= sweep.sweep_end_us
    # the image is the capture frame as an 8-bit camera writes it (plus read noise)
    assert (sample.info["image_frame"] in sample.kept_indices.tolist())


def test_rerun_skips_finished_redoes_interrupted_and_is_deterministic(dataset, tmp_path):
    out, manifest = dataset
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    shutil.rmtree(copy / "scene_00002")
    (copy / "scene_00001.partial-dead").mkdir()  # an interrupted scene
    before = (copy / "scene_00000" / "sample.json").stat().st_mtime_ns
    again = synthesize(copy, 3, seed=5, config=TINY, workers=1, progress=False)
    assert again["num_scenes"] == 3 and not list(copy.glob("*.partial-*"))
    assert (copy / "scene_00000" / "sample.json").stat().st_mtime_ns == before  # not redone
    a, b = load_sample(out / "scene_00002"), load_sample(copy / "scene_00002")
    assert a.sweep.events == b.sweep.events and a.sweep.spikes == b.sweep.spikes
    assert np.array_equal(a.kept_frames, b.kept_frames)


def test_shards_split_the_same_dataset(dataset, tmp_path):
    out, _ = dataset
    for shard in ((0, 2), (1, 2)):
        synthesize(tmp_path / "sharded", 3, seed=5, config=TINY, shard=shard, workers=1, progress=False)
    manifest = json.loads((tmp_path / "sharded" / "manifest.json").read_text())
    assert manifest["num_scenes"] == 3
    assert load_sample(tmp_path / "sharded" / "scene_00001").sweep.events == load_sample(out / "scene_00001").sweep.events


def test_other_settings_are_refused(dataset):
    out, _ = dataset
    with pytest.raises(NeurofocusError, match="other settings"):
        synthesize(out, 3, seed=6, config=TINY, workers=1, progress=False)
    with pytest.raises(NeurofocusError):
        SynthConfig.from_json({"width": 10, "colour": "blue"})
    with pytest.raises(NeurofocusError):
        parse_shard("3/2")


def test_dask_cluster_makes_the_same_scenes(dataset, tmp_path):
    pytest.importorskip("distributed")
    out, _ = dataset
    synthesize(tmp_path / "dask", 2, seed=5, config=TINY, dask_address="local", progress=False)
    assert load_sample(tmp_path / "dask" / "scene_00001").sweep.events == load_sample(out / "scene_00001").sweep.events


def test_mixed_sensors_and_photo_textures(tmp_path):
    """event_model="mixed" draws DVS-Voltmeter (random k), its DVS346 preset and noisy ideal events by scene index;
    with a texture folder every surface is a crop of its photographs: one flat orange photo gives a scene of one
    chromaticity."""
    import dataclasses

    from PIL import Image

    from neurofocus.color import srgb_to_linear

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(np.full((40, 60, 3), (200, 90, 20), np.uint8)).save(photos / "orange.png")
    config = dataclasses.replace(TINY, event_model="mixed", textures=str(photos), spikes=False, ideal_noise=True)
    synthesize(tmp_path / "ds", 3, seed=2, config=config, workers=1, progress=False)
    infos = [json.loads((tmp_path / "ds" / f"scene_{i:05d}" / "sample.json").read_text()) for i in range(3)]
    assert [info["event_model"] for info in infos] == ["dvs-voltmeter", "dvs346", "ideal"]
    assert infos[1]["sensors"]["voltmeter"] == json.loads(json.dumps(dataclasses.asdict(VoltmeterParams.preset("DVS346"))))
    assert infos[0]["sensors"]["voltmeter"] != infos[1]["sensors"]["voltmeter"]
    ideal = infos[2]["sensors"]["ideal"]
    assert ideal["threshold_sigma"] > 0 and ideal["shot_noise_rate_hz"] > 0 and ideal["leak_rate_hz"] > 0
    aif = srgb_to_linear(load_sample(tmp_path / "ds" / "scene_00000").sweep.ground_truth.all_in_focus)
    expect = srgb_to_linear(np.array([200, 90, 20], np.float32) / 255)
    np.testing.assert_allclose(aif[..., 0] / aif[..., 1], expect[0] / expect[1], rtol=0.03)
    np.testing.assert_allclose(aif[..., 2] / aif[..., 1], expect[2] / expect[1], rtol=0.08)


def test_scenes_rendered_from_image_and_depth(tmp_path):
    """rgbd: each scene is a random scale, crop and flip of a real image + depth scene (by index modulo their
    number); its all-in-focus truth is that crop of the image, and the nearer (larger-disparity) half comes into focus
    at the near end of the sweep."""
    import dataclasses

    import cv2
    from PIL import Image

    from neurofocus.images import read_image
    from neurofocus.metrics import psnr

    rng = np.random.default_rng(0)
    folder = tmp_path / "rgbd" / "steps"
    folder.mkdir(parents=True)
    image = cv2.GaussianBlur(rng.random((60, 80, 3)).astype(np.float32), (0, 0), 1.5)
    Image.fromarray(np.round(np.clip(image * 2 - 0.5, 0, 1) * 255).astype(np.uint8)).save(folder / "image.png")
    disparity = np.where(np.arange(80) < 40, 10.0, 30.0)[None].repeat(60, 0)  # left far, right near
    disparity[5, 5] = np.nan  # unknown: filled from its neighbours
    np.save(folder / "depth.npy", disparity.astype(np.float32))
    config = dataclasses.replace(TINY, rgbd=str(tmp_path / "rgbd"), spikes=False, direction="near_to_far",
                                 max_blur_px=(8.0, 8.0))
    synthesize(tmp_path / "ds", 2, seed=3, config=config, workers=1, progress=False)
    photo = read_image(folder / "image.png")
    for i in range(2):
        scene = tmp_path / "ds" / f"scene_{i:05d}"
        info = json.loads((scene / "sample.json").read_text())
        assert info["rgbd_scene"] == "steps" and info["max_blur_px"] == 8.0
        size = (max(TINY.width, round(80 * info["scale"])), max(TINY.height, round(60 * info["scale"])))
        x, y = info["crop_xy"]
        expect = cv2.resize(photo, size, interpolation=cv2.INTER_AREA)[y:y + TINY.height, x:x + TINY.width]
        expect = expect[:, ::-1] if info["flipped"] else expect
        truth = load_sample(scene).sweep.ground_truth
        assert psnr(truth.all_in_focus, expect) > 35
        columns = (np.arange(size[0]) < round(40 * size[0] / 80))[x:x + TINY.width]
        near = ~columns[::-1] if info["flipped"] else ~columns
        times = truth.infocus_time_us
        if near.any() and (~near).any():  # near_to_far: the near side is in focus first
            assert np.median(times[:, near]) < np.median(times[:, ~near])
    small = dataclasses.replace(config, width=100)
    with pytest.raises(NeurofocusError, match="smaller than the dataset's 100x"):
        synthesize(tmp_path / "small", 1, seed=3, config=small, workers=1, progress=False)
    with pytest.raises(NeurofocusError, match="no scene folders"):
        dataclasses.replace(config, rgbd=str(tmp_path / "ds" / "scene_00000"))
    with pytest.raises(NeurofocusError, match="not both"):
        dataclasses.replace(config, textures=str(folder))


def test_settings_made_before_new_fields_read_as_before():
    """Settings left at the values they had before they existed are not written, so a config.json made before them
    equals a rerun's and the dataset resumes; a config.json without them reads as those values."""
    assert not {"ideal_noise", "textures", "rgbd"} & set(SynthConfig().to_json())
    assert SynthConfig(ideal_noise=True).to_json()["ideal_noise"] is True
    assert SynthConfig.from_json(TINY.to_json()) == TINY and TINY.ideal_noise is False
    with pytest.raises(NeurofocusError, match="event_model"):
        SynthConfig(event_model="random")
