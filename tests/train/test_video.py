"""EvFocus / E2VID training on defocused-event videos: sequence items, flips, the temporal consistency loss, the
loss falling, exact resume, the command and the Table 1 evaluation."""

import json
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from neurofocus.cli import main
from neurofocus.errors import NeurofocusError
from neurofocus.metrics import ssim
from neurofocus.models.recurrent import VoxelGrid, frame_windows
from neurofocus.represent import voxel_grid
from neurofocus.represent.leaky_integration import LeakyIntegrator
from neurofocus.train import TrainConfig, read_log, train
from neurofocus.train.losses import SequenceLoss, temporal_consistency, warp_by_flow
from neurofocus.train.video import VideoScene, VideoSequences, list_sequences

VIDEO_ARGS = ("--kind", "defocus-video", "--scenes", "3", "--size", "192x96", "--frames", "16", "--sharp-events",
              "--event-model", "ideal", "--workers", "1")


@pytest.fixture(scope="session")
def videos(tmp_path_factory):
    """3 sequences of 192x96 (NIQE needs two 96x96 patches), 16 frames, defocused and sharp ideal events."""
    out = tmp_path_factory.getbasetemp() / "neurofocus_video_mini"
    if not (out / "manifest.json").is_file():
        assert main(["synth", *VIDEO_ARGS, "--out", str(out)]) == 0
    return out


def video_config(data, **changes):
    settings = {"task": "evfocus", "data": str(data), "width": 0.125, "crop": 32, "sequence_length": 3, "steps": 6,
                "batch_size": 2, "samples_per_scene": 8, "val_scenes": 1, "val_every": 0, "checkpoint_every": 2,
                "progress": False, "tensorboard": False}
    settings.update(changes)
    return TrainConfig(**settings)


# data ----------------------------------------------------------------------------------------------------------------
def test_frame_windows_end_at_the_frame_times(videos):
    scene = VideoScene(videos / "seq_00000")
    windows = frame_windows(scene.events, scene.times_us, 2)
    assert len(windows) == len(scene) - 2
    for k, (start, stop, t_us) in zip(range(2, len(scene)), windows):
        assert t_us == scene.times_us[k]
        t = scene.events.t
        assert np.all(t[start:stop] > scene.times_us[k - 2]) and np.all(t[start:stop] <= scene.times_us[k])
        assert (start == 0 or t[start - 1] <= scene.times_us[k - 2]) and (stop == len(t) or t[stop] > t_us)
    with pytest.raises(NeurofocusError, match="increasing"):
        frame_windows(scene.events, scene.times_us[::-1], 1)


def test_items_shapes_windows_and_determinism(videos):
    sequences = list_sequences(videos)
    data = VideoSequences(sequences, sequence_length=4, window_frames=2, crop=40, seed=3, samples_per_scene=5)
    item = data[(1, 7)]
    assert item["voxel"].shape == (4, 5, 40, 40) and item["voxel"].dtype == torch.float32
    for key in ("sharp", "defocused"):
        assert item[key].shape == (4, 1, 40, 40) and 0 <= item[key].min() and item[key].max() <= 1
    assert item["flow"].shape == (3, 2, 40, 40) and item["flow_valid"].shape == (3, 40, 40)
    assert item["scene"] == 1
    frames = item["frames"].numpy()
    assert np.all(np.diff(frames) == 1) and frames[0] >= 2
    # a function of (seed, epoch, index)
    again = VideoSequences(sequences, sequence_length=4, window_frames=2, crop=40, seed=3, samples_per_scene=5)
    assert all(torch.equal(item[k], again[(1, 7)][k]) for k in ("voxel", "sharp", "flow", "flow_valid", "frames"))
    assert not torch.equal(item["voxel"], data[(2, 7)]["voxel"]) or not torch.equal(item["frames"],
                                                                                    data[(2, 7)]["frames"])
    # the voxel grid is the whole-sensor grid of the frame's window, cropped (then flipped as drawn)
    scene = VideoScene(sequences[1])
    y0, y1, x0, x1 = item["region"].tolist()
    hflip, vflip = item["flip"].tolist()
    k = int(frames[-1])
    start, stop = np.searchsorted(scene.events.t, scene.times_us[[k - 2, k]], side="right")
    expected = voxel_grid(scene.events[start:stop], 5)[:, y0:y1, x0:x1]
    expected = expected[..., ::-1] if hflip else expected
    expected = expected[..., ::-1, :] if vflip else expected
    assert np.array_equal(item["voxel"][-1].numpy(), expected)
    expected_sharp = scene.sharp[k, y0:y1, x0:x1] / np.float32(255)
    expected_sharp = expected_sharp[:, ::-1] if hflip else expected_sharp
    expected_sharp = expected_sharp[::-1] if vflip else expected_sharp
    assert np.array_equal(item["sharp"][-1, 0].numpy(), expected_sharp)


def test_integrator_channel_is_the_inference_stream_from_the_sequence_start(videos):
    """The last input channel of an item is the integrator's log intensity that WindowInputs gives at inference, run
    over the whole sequence from its first window (state carried, each event once although the windows overlap)."""
    sequences = list_sequences(videos)
    data = VideoSequences(sequences, integrator=True, sequence_length=3, window_frames=2, crop=40, seed=4,
                          samples_per_scene=5)
    item = data[(0, 6)]
    assert item["voxel"].shape == (3, 6, 40, 40)
    plain = VideoSequences(sequences, sequence_length=3, window_frames=2, crop=40, seed=4, samples_per_scene=5)
    assert torch.equal(item["voxel"][:, :5], plain[(0, 6)]["voxel"])  # the same voxel grids before it
    scene = VideoScene(sequences[int(item["scene"])])
    inputs = VoxelGrid(integrator=True).stream(scene.events)
    stream = {k: inputs(*window)[-1] for k, window in enumerate(scene.windows(2), start=2)}
    y0, y1, x0, x1 = item["region"].tolist()
    hflip, vflip = item["flip"].tolist()
    for i, k in enumerate(item["frames"].tolist()):
        expected = stream[k][y0:y1, x0:x1]
        expected = expected[..., ::-1] if hflip else expected
        expected = expected[..., ::-1, :] if vflip else expected
        assert np.array_equal(item["voxel"][i, -1].numpy(), expected)
    once = LeakyIntegrator(scene.events.width, scene.events.height)
    once.update(scene.events[:scene.windows(2)[-1][1]])
    assert np.array_equal(stream[len(scene) - 1], once.log_intensity(int(scene.times_us[-1])).astype(np.float32))


def test_flips_move_every_array_and_flip_the_flow_signs(videos):
    sequences = list_sequences(videos)
    common = {"sequence_length": 3, "crop": 48, "seed": 1, "samples_per_scene": 16}
    flipped, plain = VideoSequences(sequences, flips=True, **common), VideoSequences(sequences, flips=False, **common)
    seen, checked = set(), 0
    for index in range(16):
        a, b = flipped[(0, index)], plain[(0, index)]
        assert torch.equal(a["region"], b["region"]) and torch.equal(a["frames"], b["frames"])
        h, v = a["flip"].tolist()
        seen.add((h, v))
        dims = [d for d, on in ((-1, h), (-2, v)) if on]

        def flip(x, dims=dims):
            return torch.flip(x, dims) if dims else x

        for key in ("voxel", "sharp", "defocused", "flow_valid"):
            assert torch.equal(a[key], flip(b[key])), key
        sign = torch.tensor([-1.0 if h else 1.0, -1.0 if v else 1.0]).view(1, 2, 1, 1)
        assert torch.equal(a["flow"], flip(b["flow"]) * sign)
        # the flipped flow still carries frame k+1 onto frame k: much better than no motion or the unflipped signs
        s, f, m = a["sharp"], a["flow"], a["flow_valid"]
        if (h or v) and f.abs().max() > 0.3:
            exact = temporal_consistency(s[:-1], s[1:], s[:-1], s[1:], f, m, alpha=0).mean()
            wrong = temporal_consistency(s[:-1], s[1:], s[:-1], s[1:], flip(b["flow"]), m, alpha=0).mean()
            assert exact < wrong
            checked += 1
    assert len(seen) >= 3 and checked >= 3


def test_flow_validity_is_limited_to_the_crop(videos):
    data = VideoSequences(list_sequences(videos), sequence_length=3, crop=32, flips=False, samples_per_scene=4)
    item = data[(0, 2)]
    f, valid = item["flow"], item["flow_valid"].bool()
    xs = torch.arange(32.0).view(1, 1, 32) + f[:, 0]
    ys = torch.arange(32.0).view(1, 32, 1) + f[:, 1]
    inside = (xs >= 0) & (xs <= 31) & (ys >= 0) & (ys <= 31)
    assert not torch.any(valid & ~inside)


def test_sequence_lists_and_errors(videos, mini_dataset, tmp_path):
    assert [p.name for p in list_sequences(videos, "sharp")] == ["seq_00000", "seq_00001", "seq_00002"]
    with pytest.raises(NeurofocusError, match="focal-sweep dataset"):
        list_sequences(mini_dataset)
    copy = tmp_path / "nosharp"
    shutil.copytree(videos / "seq_00000", copy / "seq_00000")
    info = json.loads((copy / "seq_00000" / "sequence.json").read_text())
    del info["event_sharp_file"]
    (copy / "seq_00000" / "sequence.json").write_text(json.dumps(info))
    assert list_sequences(copy) == [copy / "seq_00000"]
    with pytest.raises(NeurofocusError, match="no sharp events.*--sharp-events"):
        list_sequences(copy, "sharp")
    with pytest.raises(NeurofocusError, match="sequence_length"):
        VideoSequences(list_sequences(videos), sequence_length=16, crop=32).scene(0)


# losses --------------------------------------------------------------------------------------------------------------
def test_temporal_consistency_of_a_perfect_and_a_shifted_prediction():
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:40, 0:48]
    def scene(dx):
        return 0.5 + 0.4 * np.sin((x - dx) / 4.0) * np.cos(y / 5.0)

    frames = torch.tensor(np.stack([scene(0), scene(2)]), dtype=torch.float32)[:, None]  # moves 2 px right
    flow = torch.zeros(1, 2, 40, 48)
    flow[:, 0] = 2.0
    valid = torch.ones(1, 40, 48)
    valid[..., -2:] = 0  # p + flow leaves the image
    prev, cur = frames[:1], frames[1:]
    assert float(temporal_consistency(prev, cur, prev, cur, flow, valid)) < 1e-6
    assert float(warp_by_flow(cur, flow)[..., :-2].sub(prev[..., :-2]).abs().max()) < 1e-5
    shifted = torch.roll(prev, 3, dims=-1)
    assert float(temporal_consistency(shifted, cur, prev, cur, flow, valid)) > 0.01
    # sub-pixel flow: bilinear sampling of a smooth image is nearly exact
    noise = torch.tensor(rng.normal(0, 0.05, (1, 1, 40, 48)), dtype=torch.float32)
    assert float(temporal_consistency(prev + noise, cur, prev, cur, flow, valid)) > 0.01
    # gradients reach both reconstructions
    a, b = prev.clone().requires_grad_(), shifted.clone().requires_grad_()
    temporal_consistency(a, b, prev, cur, flow, valid).sum().backward()
    assert a.grad.abs().sum() > 0 and b.grad.abs().sum() > 0


def test_sequence_loss_terms_and_weights():
    torch.manual_seed(0)
    b, length, h, w = 2, 4, 32, 32
    batch = {"sharp": torch.rand(b, length, 1, h, w), "defocused": torch.rand(b, length, 1, h, w),
             "flow": torch.zeros(b, length - 1, 2, h, w), "flow_valid": torch.ones(b, length - 1, h, w)}
    outputs = {k: torch.rand(b, length, 1, h, w) for k in ("image", "aligned", "blurred", "redefocused")}
    loss = SequenceLoss("evfocus", tc_start=2)
    terms = loss(outputs, batch)
    assert set(terms) == set(loss.columns)
    expected = (4 * terms["lpips_aligned"] + terms["lpips_blurred"] + 7 * (0.75 * terms["lpips"] + terms["tc"])
                + terms["redefocus_l1"])
    assert float(terms["loss"]) == pytest.approx(float(expected), rel=1e-5)
    still = dict(batch, sharp=batch["sharp"][:, :1].expand(-1, length, -1, -1, -1))  # a still scene, zero flow
    perfect = dict(outputs, image=still["sharp"], aligned=still["sharp"], blurred=still["defocused"],
                   redefocused=still["defocused"])
    assert float(loss(perfect, still)["loss"]) < 1e-5
    e2vid = SequenceLoss("e2vid", tc_weight=2.0)
    terms = e2vid(outputs, batch)
    assert set(terms) == {"loss", "lpips", "tc"}
    assert float(terms["loss"]) == pytest.approx(float(terms["lpips"] + 2 * terms["tc"]), rel=1e-5)
    # L0 beyond the sequence: no temporal term
    assert float(SequenceLoss("e2vid", tc_start=4)(outputs, batch)["tc"]) == 0
    # the added terms (not in the papers): + l1_weight · mean |image − sharp| + ssim_weight · (1 − mean SSIM)
    flat = [(a[0].numpy(), b[0].numpy()) for a, b in zip(outputs["image"].flatten(0, 1), batch["sharp"].flatten(0, 1))]
    similarity = np.mean([ssim(a, b) for a, b in flat])
    for task in ("e2vid", "evfocus"):
        paper = SequenceLoss(task)(outputs, batch)
        added = SequenceLoss(task, l1_weight=3.0, ssim_weight=2.0)(outputs, batch)
        l1 = float((outputs["image"] - batch["sharp"]).abs().mean())
        assert float(added["l1"]) == pytest.approx(l1, rel=1e-6) and "l1" not in paper and "ssim" not in paper
        assert float(added["ssim"]) == pytest.approx(similarity, abs=1e-5)
        expected = float(paper["loss"]) + 3 * l1 + 2 * (1 - similarity)
        assert float(added["loss"]) == pytest.approx(expected, rel=1e-5)
    perfect_ssim = SequenceLoss("e2vid", ssim_weight=1.0)(dict(outputs, image=batch["sharp"]), batch)
    assert float(perfect_ssim["ssim"]) == pytest.approx(1.0, abs=1e-5)


def test_task_defaults():
    evfocus, e2vid = TrainConfig(task="evfocus"), TrainConfig(task="e2vid")
    assert (evfocus.batch_size, evfocus.lr, evfocus.lr_milestones, evfocus.lpips_net) == (1, 1e-4, (), "alex")
    assert evfocus.evfocus_weights == (4, 1, 7, 1) and evfocus.tcp_weight == 0.75 and evfocus.tc_weight == 1
    assert (e2vid.batch_size, e2vid.lpips_net, e2vid.tc_weight, e2vid.tc_start) == (2, "vgg", 2, 2)
    refocus = TrainConfig()
    assert (refocus.batch_size, refocus.lr, refocus.lr_milestones) == (10, 5e-4, (0.5, 0.7, 0.9))
    with pytest.raises(NeurofocusError, match="events must be"):
        TrainConfig(task="e2vid", events="blurry")
    with pytest.raises(NeurofocusError, match="not a e2vid network"):
        TrainConfig(task="e2vid", model="evfocus")


# training ------------------------------------------------------------------------------------------------------------
def test_evfocus_loss_falls(videos, tmp_path):
    from torch.utils.data import default_collate

    from neurofocus.train.loop import build_model, make_task

    config = video_config(videos, steps=20, lr=2e-3, checkpoint_every=20)
    result = train(config, tmp_path / "run")
    assert result.completed and result.step == 20
    rows = read_log(tmp_path / "run" / "log.csv")
    assert len(rows) == 20 and set(rows[0]) >= {"lpips", "lpips_aligned", "lpips_blurred", "tc", "redefocus_l1"}
    assert rows[-1]["val_psnr"] and rows[-1]["val_psnr_defocused"]
    assert 0 < float(rows[-1]["val_mse"]) < 1 and 0 < float(rows[-1]["val_lpips"]) < 1
    assert 0 < float(rows[-1]["val_ssim"]) < 1 and int(rows[-1]["frame_steps"]) == 20 * 2 * 3
    # on fixed held items, the trained model's loss is clearly below the untrained one's (same initial weights)
    task = make_task(config)
    untrained = build_model(config)
    data, *_ = task.datasets(untrained)
    batch = default_collate([data[(99, i)] for i in range(0, 16, 2)])
    criterion = task.criterion("cpu")
    with torch.no_grad():
        before = float(task.loss(task.network(untrained), criterion, batch, "cpu")["loss"])
        after = float(task.loss(task.network(result.model.train()), criterion, batch, "cpu")["loss"])
    assert after < 0.85 * before, (before, after)


def test_resume_is_bit_identical(videos, tmp_path):
    config = video_config(videos, steps=6, bptt_window=2)
    straight = train(config, tmp_path / "straight")
    stopped = train(config, tmp_path / "stopped", stop_at=3)
    assert not stopped.completed and stopped.step == 3
    resumed = train(config, tmp_path / "stopped", resume=True)
    assert resumed.completed
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    keys = ("step", "loss", "lpips", "tc")
    assert [[r[k] for k in keys] for r in read_log(tmp_path / "stopped" / "log.csv")] == \
        [[r[k] for k in keys] for r in read_log(tmp_path / "straight" / "log.csv")]


def test_bf16_run_resumes_bit_identically_on_moved_data_and_logs_its_cost(videos, tmp_path):
    config = video_config(videos, steps=3, precision="bf16", checkpoint_every=3, keep_checkpoints=1, val_scenes=0)
    straight = train(config, tmp_path / "straight")
    assert next(straight.model.parameters()).dtype == torch.float32  # autocast: weights stay fp32
    assert train(config, tmp_path / "run", stop_at=1).step == 1
    moved = tmp_path / "elsewhere"  # another machine: the same dataset at another path
    shutil.copytree(videos, moved)
    other = tmp_path / "other"
    shutil.copytree(videos, other, ignore=shutil.ignore_patterns("seq_00001"))
    with pytest.raises(NeurofocusError, match="whose data is"):
        train(config.replace(data=str(other)), tmp_path / "run", resume=True)
    resumed = train(config.replace(data=str(moved)), tmp_path / "run", resume=True)
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    assert resumed.completed and all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["data"] == str(moved.resolve())
    rows = read_log(tmp_path / "run" / "log.csv")
    assert [r["loss"] for r in rows] == [r["loss"] for r in read_log(tmp_path / "straight" / "log.csv")]
    assert [int(r["samples"]) for r in rows] == [2, 4, 6]  # batch 2
    assert [int(r["frame_steps"]) for r in rows] == [6, 12, 18]  # × L = 3 windows
    core = [float(r["core_seconds"]) for r in rows]
    assert core[0] > 0 and all(b >= a for a, b in zip(core, core[1:]))
    # a time budget stops like SIGINT: after the step that used it up, with a checkpoint
    short = train(config.replace(precision="fp32", time_budget_s=1e-3), tmp_path / "short")
    assert not short.completed and short.step == 1
    assert (tmp_path / "short" / "checkpoints" / "step_00000001" / "model.safetensors").is_file()


def test_sigterm_stops_after_the_step_with_a_checkpoint(videos, tmp_path):
    import os
    import signal

    def terminate(step, row):
        if step == 2:
            os.kill(os.getpid(), signal.SIGTERM)  # as `kill PID` would; the handler only sets a flag

    before = signal.getsignal(signal.SIGTERM)
    result = train(video_config(videos, steps=50, checkpoint_every=50, val_scenes=0), tmp_path / "run",
                   on_step=terminate)
    assert not result.completed and result.step == 3  # the flag is read at the end of the next step
    assert json.loads((tmp_path / "run" / "checkpoints" / "latest.json").read_text())["step"] == 3
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is put back


def test_train_command_and_the_evaluation_table(videos, tmp_path, capsys):
    from neurofocus.bench.evfocus import main as bench_main

    common = ["--data", str(videos), "--width", "0.125", "--crop", "32", "--sequence-length", "3", "--steps", "2",
              "--val-scenes", "1", "--samples-per-scene", "2", "--threads", "1", "--no-progress"]
    assert main(["train", "evfocus", "--out", str(tmp_path / "evfocus"), *common]) == 0
    assert main(["train", "e2vid", "--out", str(tmp_path / "e2vid"), "--event-source", "sharp", "--lpips-net", "alex",
                 *common]) == 0
    out = capsys.readouterr().out
    assert "trained 2 steps" in out and "validation PSNR" in out
    saved = json.loads((tmp_path / "e2vid" / "config.json").read_text())
    assert saved["events"] == "sharp" and saved["batch_size"] == 2 and saved["lpips_net"] == "alex"
    # bad input: one line, status 2
    assert main(["train", "evfocus", "--out", str(tmp_path / "bad"), *common, "--crop", "200"]) == 2
    assert "larger than the 192x96 frames" in capsys.readouterr().err

    weights = [str(tmp_path / name / "model.safetensors") for name in ("evfocus", "e2vid")]
    real = str(videos / "seq_00002" / "events.hdf5")
    assert bench_main(["--data", str(videos), "--held-out", "1", "--weights", weights[0], "--weights", weights[1],
                       "--real", real, "--window-events", "8000", "--threads", "1"]) == 0
    report = capsys.readouterr().out
    lines = report.splitlines()
    header = next(line for line in lines if line.startswith("| model | in-focus events MSE"))
    assert header.endswith("Mean MSE | Mean SSIM | Mean LPIPS |")
    rows = [line for line in lines
            if line.startswith(("| evfocus (defocused events, 2 steps)", "| e2vid (sharp events, 2 steps)"))]
    assert len(rows) == 8  # Table 1, per sequence, size/speed, no reference
    assert len(rows[2].split("|")) == 4  # per sequence: the one held-out sequence's SSIM
    baseline = [line for line in lines if line.startswith("| leaky event integration (no network)")]
    assert len(baseline) == 4 and "| 0 |" in baseline[2]  # every table shows the classical baseline, 0 parameters
    sigmoid = [line for line in lines if line.startswith("| leaky event integration, sigmoid(L) (no network)")]
    assert len(sigmoid) == 4  # and the same integrator shown as sigmoid(L)
    mean_ssim = float(baseline[0].split("|")[-3])
    assert 0.0 < mean_ssim < 1.0
    assert len(rows[0].split("|")) == len(header.split("|"))
    assert "BRISQUE" in report and "NIQE" in report and "seq_00002" in report
    assert "training sequences" not in report  # seq_00002 was held out


def _ddp_worker(rank: int, world: int, port: int, data: str, run_dir: str, out_dir: str):
    import os

    from safetensors.torch import save_file

    os.environ.update(WORLD_SIZE=str(world), RANK=str(rank), LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(world),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    result = train(video_config(data, steps=2, batch_size=1, val_every=2, device="cpu"), run_dir)
    save_file({k: v.contiguous() for k, v in result.model.state_dict().items()}, f"{out_dir}/rank{rank}.safetensors")


def test_two_process_training(videos, tmp_path):
    """The recurrent unroll is one module call, so DistributedDataParallel wraps it like any network."""
    from .test_ddp import run_two_ranks

    run_dir = tmp_path / "run"
    a, b = run_two_ranks(_ddp_worker, videos, run_dir, tmp_path / "out")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # batch-norm buffers included
    rows = read_log(run_dir / "log.csv")
    assert [r["step"] for r in rows] == ["1", "2"] and rows[1]["val_psnr"]


def test_gain_offset_fit_recovers_an_affine_copy_and_leaves_structure_errors():
    from neurofocus.bench.evfocus import fit_gain_offset

    rng = np.random.default_rng(0)
    targets = rng.uniform(0.2, 0.8, (3, 16, 20)).astype(np.float32)
    images = np.stack([0.5 * targets[0] + 0.1, np.full((16, 20), 0.3, np.float32), targets[1][::-1]])
    fitted = fit_gain_offset(images, targets)
    assert np.allclose(fitted[0], targets[0], atol=1e-5)  # exposure only: undone
    assert np.allclose(fitted[1], targets[1].mean(), atol=1e-6)  # a flat image: the target's mean
    assert np.abs(fitted[2] - targets[2]).mean() > 0.05  # wrong structure stays wrong
