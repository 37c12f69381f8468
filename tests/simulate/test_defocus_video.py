"""Defocused-event videos: thin-lens blur per layer, exact flow, events, dataset writing, the synth command."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from neurofocus.errors import NeurofocusError
from neurofocus.datasets import load_video_sample, synthesize
from neurofocus.simulate import defocus_video as dv
from neurofocus.simulate.defocus_video import (
    DefocusVideo,
    DefocusVideoConfig,
    DefocusVideoRenderer,
    Trajectory,
    VideoLayer,
    optical_flow,
    simulate_defocus_video,
)
from neurofocus.simulate.ideal_events import IdealParams
from neurofocus.simulate.optics import ThinLens, psf_kernel
from neurofocus.simulate.scene import shape_mask

from ..conftest import run_cli

LENS = ThinLens(25.0, 1.4, 18.5)
SIZE = (64, 48)


def smooth_texture(h, w, seed, lo=0.1, hi=0.9):
    """Grey-free, smooth (σ = 3 px) random linear-light texture."""
    noise = np.random.default_rng(seed).random((h, w, 3))
    smooth = ndimage.gaussian_filter(noise, (3, 3, 0), mode="wrap")
    smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min())
    return (lo + (hi - lo) * smooth).astype(np.float32)


def background(depth_m, n, seed=0, motion=None):
    trajectory = motion or Trajectory.still(((SIZE[0] - 1) / 2, (SIZE[1] - 1) / 2), depth_m, n)
    return VideoLayer(smooth_texture(110, 130, seed), np.ones((110, 130), np.float32), trajectory, "background",
                      tiled=True)


def square(center, depth_m, n, side=21, seed=1, trajectory=None, texture=None):
    size = side + 8
    alpha = shape_mask("rectangle", (size, size), ((size - 1) / 2, (size - 1) / 2), (side, side), 0.0)
    color = smooth_texture(size, size, seed) if texture is None else np.broadcast_to(
        np.asarray(texture, np.float32), (size, size, 3))
    return VideoLayer(color, alpha, trajectory or Trajectory.still(center, depth_m, n), "square")


def video(layers, focus_m, n, fps=100.0):
    times = np.rint(np.arange(n) * 1e6 / fps).astype(np.int64)
    return DefocusVideo(SIZE[0], SIZE[1], layers, times, np.full(n, focus_m), LENS)


def test_blur_follows_depth_through_the_thin_lens():
    # an object at the focus distance is sharp; the background behind it is blurred by the thin-lens diameter
    n = 2
    movie = video([background(1.5, n), square((20, 24), 1.0, n)], focus_m=1.0, n=n)
    frame = DefocusVideoRenderer(movie).frame(0)
    diameter = float(LENS.blur_diameter_px(1.5, 1.0))
    assert 7 < diameter < 10
    inside = (frame.layer == 1) & frame.pure
    assert inside.sum() > 300
    assert np.array_equal(frame.defocused[inside], frame.sharp[inside])
    assert np.allclose(frame.blur_px[inside], 0) and np.allclose(frame.depth_m[inside], 1.0)
    assert np.allclose(frame.blur_px[frame.layer == 0], diameter, rtol=1e-5)

    # far from the object, the defocused background is the sharp one convolved with the PSF of that diameter
    alone = video([background(1.5, n)], focus_m=1.0, n=n)
    bg = DefocusVideoRenderer(alone).frame(0)
    direct = np.stack([ndimage.convolve(bg.sharp[..., c], psf_kernel(diameter), mode="nearest")
                       for c in range(3)], axis=-1)
    m = int(np.ceil(diameter / 2)) + 4
    assert np.abs(bg.defocused - direct)[m:-m, m:-m].max() < 2e-3
    assert np.abs(bg.defocused - bg.sharp)[m:-m, m:-m].mean() > 5 * np.abs(bg.defocused - direct)[m:-m, m:-m].mean()
    with_object = frame.defocused[:, 44:][m:-m, :-m]  # right half: only background within the blur reach
    assert np.abs(with_object - bg.defocused[:, 44:][m:-m, :-m]).max() < 1e-5


def warp_back_error(frame_k, frame_next, flow, valid):
    """|I_k(p) − I_{k+1}(p + flow)| on valid pixels (bilinear sampling of frame k+1)."""
    h, w = valid.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    coords = [yy + flow[..., 1], xx + flow[..., 0]]
    warped = np.stack([ndimage.map_coordinates(frame_next[..., c], coords, order=1, mode="nearest")
                       for c in range(3)], axis=-1)
    return np.abs(warped - frame_k)[valid]


@pytest.mark.parametrize("motion", ["translation", "rotation", "scaling", "pan"])
def test_exact_flow_warps_frame_k_plus_1_back_onto_frame_k(motion):
    n = 3
    t = np.arange(n, dtype=np.float64)
    center = np.array([[30.0, 22.0]] * n)
    angle, scale = np.zeros(n), np.ones(n)
    if motion == "translation":
        center = center + t[:, None] * np.array([2.3, -1.4])
    elif motion == "rotation":
        angle = np.deg2rad(4.0) * t
    elif motion == "scaling":
        scale = 1.0 + 0.06 * t
    pan = None
    if motion == "pan":
        pan = Trajectory(np.array([[31.5, 23.5]] * n) + t[:, None] * np.array([-1.7, 0.6]), 0.01 * t, np.ones(n),
                         np.full(n, 1.5))
    obj = square(None, 1.0, n, side=25, trajectory=Trajectory(center, angle, scale, np.full(n, 1.0)))
    movie = video([background(1.5, n, motion=pan), obj], focus_m=1.0, n=n)
    renderer = DefocusVideoRenderer(movie)
    frames = [renderer.frame(k) for k in range(n)]
    for k in range(n - 1):
        flow, valid = optical_flow(movie, k, frames[k].layer, frames[k].pure, frames[k + 1].layer,
                                   frames[k + 1].pure)
        assert 0.6 < valid.mean() < 1.0  # occlusions, disocclusions and edges are marked
        error = warp_back_error(frames[k].sharp, frames[k + 1].sharp, flow, valid)
        assert error.mean() < 3e-3 and np.quantile(error, 0.999) < 0.03
        on_object = (frames[k].layer == 1) & valid
        yy, xx = np.nonzero(on_object)
        expected = {"translation": (2.3, -1.4)}.get(motion)
        if expected is not None:
            assert np.allclose(flow[on_object], expected, atol=1e-5)
        if motion == "scaling":  # radial from the object's centre, 6 % per frame
            radial = np.stack([xx - 30.0, yy - 22.0], axis=1) * (scale[k + 1] / scale[k] - 1)
            assert np.allclose(flow[on_object], radial, atol=1e-4)
        if motion == "pan":
            assert np.allclose(flow[(frames[k].layer == 0) & valid].mean(axis=0), (-1.7, 0.6), atol=0.3)
        # the wrong flow (zero) does not warp back
        assert warp_back_error(frames[k].sharp, frames[k + 1].sharp, np.zeros_like(flow), valid).mean() > 3 * error.mean()


def test_a_brightening_edge_gives_on_events_and_a_darkening_one_off_events():
    n = 8
    centre = np.array([[20.0, 24.0]] * n) + np.arange(n)[:, None] * np.array([2.0, 0.0])
    bright = square(None, 1.0, n, side=15, texture=(0.8, 0.8, 0.8),
                    trajectory=Trajectory(centre, np.zeros(n), np.ones(n), np.full(n, 1.0)))
    dark = VideoLayer(np.full((80, 100, 3), 0.05, np.float32), np.ones((80, 100), np.float32),
                      Trajectory.still((31.5, 23.5), 1.5, n), "dark", tiled=True)
    sim = simulate_defocus_video(video([dark, bright], focus_m=1.0, n=n), IdealParams(threshold_sigma=0.0),
                                 sharp_events=True, seed=3, chunk_frames=3)
    for events in (sim.events, sim.sharp_events):
        x, y, p = events.x.astype(int), events.y.astype(int), events.p
        rows = (y > 18) & (y < 30)
        ahead = rows & (x > 28) & (x < 42)  # the square's right edge sweeps x = 27.5 .. 41.5: brighter
        behind = rows & (x > 12) & (x < 26)  # its left edge sweeps 12.5 .. 26.5: darker
        assert ahead.sum() > 50 and behind.sum() > 50
        assert np.all(p[ahead] == 1) and np.all(p[behind] == -1)
    # blur spreads the edge, so the defocused stream (focus at 2 m) differs and has fewer events per pixel
    blurred = simulate_defocus_video(video([dark, bright], focus_m=2.0, n=n), IdealParams(threshold_sigma=0.0),
                                     seed=3)
    assert len(blurred.events) != len(sim.events)


def test_event_count_of_a_moving_log_ramp_matches_the_ideal_model():
    # a grey texture whose log intensity rises linearly in x, panned left by 4 px a frame: every pixel sees the
    # content of x + 4k, so its log intensity rises by a known amount and it fires floor(ΔL / C) ON events
    n, shift, contrast, eps = 11, 4.0, 0.1, 1e-3
    width = 160
    ramp = 0.1 * np.exp(np.log(9.0) * np.arange(width) / (width - 1))
    texture = np.broadcast_to(ramp[None, :, None], (60, width, 3)).astype(np.float32)
    centre = np.array([[(width - 1) / 2 - 40.0, 23.5]] * n) - np.arange(n)[:, None] * np.array([shift, 0.0])
    layer = VideoLayer(texture, np.ones((60, width), np.float32), Trajectory(centre, np.zeros(n), np.ones(n),
                                                                             np.full(n, 1.2)), tiled=True)
    movie = video([layer], focus_m=1.2, n=n)
    sim = simulate_defocus_video(movie, IdealParams(contrast_pos=contrast, contrast_neg=contrast, threshold_sigma=0.0,
                                                    log_eps=eps), seed=0)
    assert np.all(sim.events.p == 1)
    counts = np.zeros(SIZE[::-1], int)
    np.add.at(counts, (sim.events.y.astype(int), sim.events.x.astype(int)), 1)
    first, last = (DefocusVideoRenderer(movie).frame(k).sharp[..., 0] for k in (0, n - 1))
    expected = np.floor((np.log(eps + last.astype(np.float64)) - np.log(eps + first)) / contrast + 1e-9)
    assert expected.min() >= 4
    assert np.abs(counts - expected).max() <= 1 and (counts == expected).mean() > 0.99


# --- datasets -----------------------------------------------------------------------------------------------------

TINY = DefocusVideoConfig(width=40, height=32, num_frames=6, frame_rate_hz=100.0, blur_px=(1.0, 6.0),
                          num_objects=(1, 2), event_model="ideal", sharp_events=True)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("videos")
    return out, synthesize(out, 2, seed=4, config=TINY, workers=1, progress=False)


def test_sequence_layout_and_ground_truth(dataset):
    out, manifest = dataset
    assert manifest["num_scenes"] == 2 and [s["folder"] for s in manifest["scenes"]] == ["seq_00000", "seq_00001"]
    assert json.loads((out / "config.json").read_text())["kind"] == "defocus-video"
    seq = load_video_sample(out / "seq_00001")
    assert seq.sharp.shape == seq.defocused.shape == (6, 32, 40, 3) and seq.sharp.dtype == np.uint8
    assert seq.blur_px.dtype == seq.depth_m.dtype == np.float16 and seq.blur_px.shape == (6, 32, 40)
    assert seq.flow.shape == (5, 32, 40, 2) and seq.flow.dtype == np.float16 and seq.flow_valid.dtype == bool
    assert seq.frame_times_us.tolist() == [0, 10000, 20000, 30000, 40000, 50000]
    assert len(seq.events) == seq.info["num_events"] == manifest["scenes"][1]["num_events"]
    assert seq.sharp_events is not None and len(seq.sharp_events) == seq.info["num_events_sharp"]
    # the blur map is the thin-lens diameter of the depth map at each frame's focus distance
    lens = ThinLens(**seq.info["lens"])
    for k in range(6):
        depth = seq.depth_m[k].astype(np.float64)
        assert np.allclose(seq.blur_px[k], lens.blur_diameter_px(depth, seq.focus_m[k]), rtol=3e-3, atol=0.02)
    layers = seq.info["layers"]
    assert layers[0]["name"] == "background" and len(layers[0]["depth_m"]) == 6
    assert all(min(layer["depth_m"]) < min(layers[0]["depth_m"]) for layer in layers[1:])  # objects in front
    assert seq.info["focus"]["kind"] in ("constant", "drift", "sweep") and len(seq.info["focus"]["focus_m"]) == 6


def test_resume_after_an_interruption_and_determinism(dataset, tmp_path, monkeypatch):
    out, _ = dataset
    make = dv.simulate_video_sample

    def interrupted(config, seed, index, **kw):
        if index == 1:
            raise KeyboardInterrupt
        return make(config, seed, index, **kw)

    monkeypatch.setattr(dv, "simulate_video_sample", interrupted)
    with pytest.raises(KeyboardInterrupt):
        synthesize(tmp_path, 2, seed=4, config=TINY, workers=1, progress=False)
    assert (tmp_path / "seq_00000" / "sequence.json").is_file() and not (tmp_path / "seq_00001").exists()
    assert not list(tmp_path.glob("*.partial-*"))
    monkeypatch.setattr(dv, "simulate_video_sample", make)
    (tmp_path / "seq_00001.partial-dead").mkdir()  # a process killed harder leaves its partial folder
    before = (tmp_path / "seq_00000" / "sequence.json").stat().st_mtime_ns
    manifest = synthesize(tmp_path, 2, seed=4, config=TINY, workers=1, progress=False)
    assert manifest["num_scenes"] == 2 and not list(tmp_path.glob("*.partial-*"))
    assert (tmp_path / "seq_00000" / "sequence.json").stat().st_mtime_ns == before  # not redone
    for name in ("seq_00000", "seq_00001"):  # same seed: the same data
        a, b = load_video_sample(out / name), load_video_sample(tmp_path / name)
        assert a.events == b.events and a.sharp_events == b.sharp_events
        for array in a.ARRAYS:
            assert np.array_equal(getattr(a, array), getattr(b, array), equal_nan=array in ("blur_px", "depth_m"))
    shard = synthesize(tmp_path / "shard", 2, seed=4, config=TINY, shard=(1, 2), workers=1, progress=False)
    assert [entry["folder"] for entry in shard["scenes"]] == ["seq_00001"]
    assert load_video_sample(tmp_path / "shard" / "seq_00001").events == load_video_sample(out / "seq_00001").events
    other = synthesize(tmp_path / "other", 1, seed=5, config=TINY, workers=1, progress=False)
    assert other["num_scenes"] == 1
    assert not np.array_equal(load_video_sample(tmp_path / "other" / "seq_00000").sharp,
                              load_video_sample(out / "seq_00000").sharp)


def test_bad_settings_are_one_line_errors(dataset, tmp_path):
    out, _ = dataset
    for bad in (dict(blur_px=(6.0, 2.0)), dict(blur_px=(0.0, 400.0)), dict(focus="wobble"), dict(width=4),
                dict(event_model="none", sharp_events=True), dict(num_frames=1), dict(psf="square")):
        with pytest.raises(NeurofocusError) as info:
            DefocusVideoConfig(**bad)
        assert "\n" not in str(info.value)
    with pytest.raises(NeurofocusError, match="other settings"):
        synthesize(out, 2, seed=5, config=TINY, workers=1, progress=False)
    with pytest.raises(NeurofocusError, match="unknown defocus-video settings"):
        DefocusVideoConfig.from_json({"kind": "defocus-video", "colour": "blue"})
    with pytest.raises(NeurofocusError, match="positive"):
        Trajectory.still((1, 1), -2.0, 3)
    with pytest.raises(NeurofocusError, match="focal length"):
        video([background(0.02, 2)], focus_m=1.0, n=2)
    with pytest.raises(NeurofocusError, match="not a complete sequence folder"):
        load_video_sample(tmp_path)


def test_synth_command_makes_defocus_videos(capsys, tmp_path):
    code, text, err = run_cli(capsys, "synth", "--kind", "defocus-video", "--scenes", 1, "--out", tmp_path / "v",
                              "--size", "40x30", "--frames", 4, "--fps", 50, "--event-model", "ideal", "--sharp-events",
                              "--blur", "2,5", "--focus", "sweep", "--workers", 1)
    assert code == 0, err
    assert "1 of 1 sequences complete" in text
    seq = load_video_sample(tmp_path / "v" / "seq_00000")
    assert seq.defocused.shape == (4, 30, 40, 3) and seq.frame_times_us[-1] == 60000
    assert seq.info["focus"]["kind"] == "sweep" and seq.sharp_events is not None
    code, _, err = run_cli(capsys, "synth", "--kind", "defocus-video", "--scenes", 1, "--out", tmp_path / "w",
                           "--blur", "9,1")
    assert code == 2 and err.startswith("neurofocus: error:") and err.count("\n") == 1
    code, _, err = run_cli(capsys, "synth", "--kind", "defocus-video", "--scenes", 1, "--out", tmp_path / "w",
                           "--with-spikes")
    assert code == 2 and "--with-spikes" in err
    code, _, err = run_cli(capsys, "synth", "--scenes", 1, "--out", tmp_path / "w", "--sharp-events")
    assert code == 2 and "--kind defocus-video" in err


# --- photo textures and per-sequence sensors ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Two 'photographs' with no blue at all and strong red/green texture (a fingerprint the frames must carry)."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(7)
    for i, (h, w) in enumerate(((90, 120), (120, 78))):
        rg = ndimage.zoom(rng.integers(0, 256, (h // 6, w // 6, 2)), (6, 6, 1), order=0).astype(np.uint8)
        Image.fromarray(np.dstack([rg, np.zeros((h, w), np.uint8)])).save(folder / f"photo{i}.png")
    (folder / "README.md").write_text("not an image\n")
    return folder


def test_photo_textures_fill_every_surface_and_are_seeded(photos, tmp_path):
    from neurofocus.simulate.textures import PhotoTextures

    config = DefocusVideoConfig(width=48, height=36, num_frames=4, frame_rate_hz=100.0, blur_px=(1.0, 4.0),
                                num_objects=(2, 3), event_model="ideal", textures=str(photos))
    synthesize(tmp_path / "a", 2, seed=3, config=config, workers=1, progress=False)
    synthesize(tmp_path / "b", 1, seed=3, config=config, workers=1, progress=False)
    assert json.loads((tmp_path / "a" / "config.json").read_text())["textures"] == str(photos.resolve())
    textures = PhotoTextures(photos)
    assert textures.names == ["photo0.png", "photo1.png"]
    for k in (0, 1):
        seq = load_video_sample(tmp_path / "a" / f"seq_{k:05d}")
        # the photos have no blue, so neither has any frame; their red/green texture is there
        assert seq.sharp[..., 2].max() <= 1 and seq.sharp[..., :2].std() > 30
        for layer in seq.info["layers"]:
            assert layer["texture"]["photo"] in textures.names and len(layer["texture"]["box"]) == 4
    a, b = load_video_sample(tmp_path / "a" / "seq_00000"), load_video_sample(tmp_path / "b" / "seq_00000")
    assert np.array_equal(a.sharp, b.sharp) and a.events == b.events and a.info["layers"] == b.info["layers"]
    other = load_video_sample(tmp_path / "a" / "seq_00001")
    assert [la["texture"] for la in other.info["layers"]] != [la["texture"] for la in a.info["layers"]]
    # each sequence draws its own sensor: thresholds, mismatch, refractory period, leak, shot noise
    sensors = [a.info["sensor"], other.info["sensor"]]
    for name in ("contrast_pos", "threshold_sigma", "refractory_us", "leak_rate_hz", "shot_noise_rate_hz"):
        assert sensors[0][name] != sensors[1][name] and sensors[0][name] > 0
    # a layer's texture is the named photo's box, resized, in linear light
    video_rng = np.random.default_rng(11)
    movie = dv.random_defocus_video(video_rng, (48, 36), num_frames=2, blur_px=(1.0, 4.0), textures=textures)
    layer = movie.layers[1]
    x0, y0, w, h = layer.info["texture"]["box"]
    photo = dict(textures.photos)[layer.info["texture"]["photo"]]
    crop = photo[y0:y0 + h, x0:x0 + w].astype(np.float32) / 255
    expected = ndimage.zoom(crop, (layer.alpha.shape[0] / h, layer.alpha.shape[1] / w, 1), order=1, mode="nearest")
    from neurofocus.color import srgb_to_linear

    assert np.allclose(layer.color, srgb_to_linear(expected), atol=1e-6)


def test_synth_textures_flag_and_its_errors(capsys, photos, tmp_path):
    code, text, err = run_cli(capsys, "synth", "--kind", "defocus-video", "--scenes", 1, "--out", tmp_path / "v",
                              "--size", "40x30", "--frames", 3, "--event-model", "none", "--textures", photos,
                              "--workers", 1)
    assert code == 0, err
    assert load_video_sample(tmp_path / "v" / "seq_00000").info["layers"][0]["texture"]["photo"].startswith("photo")
    for folder, message in ((tmp_path / "nowhere", "no such texture folder"), (tmp_path / "v", "holds no photo")):
        code, _, err = run_cli(capsys, "synth", "--kind", "defocus-video", "--scenes", 1, "--out", tmp_path / "w",
                               "--textures", folder)
        assert code != 0 and message in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(capsys, "synth", "--scenes", 1, "--out", tmp_path / "x", "--size", "40x30", "--frames", 8,
                           "--keep-every", 2, "--max-blur", "4,6", "--event-model", "ideal", "--textures", photos,
                           "--workers", 1)  # focal sweeps take it too
    assert code == 0, err
    assert json.loads((tmp_path / "x" / "config.json").read_text())["textures"] == str(Path(photos).resolve())
