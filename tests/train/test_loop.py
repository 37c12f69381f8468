"""The training loop: the loss falls, interrupted runs resume bit for bit, checkpoints load strictly, configs reject
unknown keys, the learning-rate schedule, validation rows."""

import json
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from neurofocus.errors import NeurofocusError
from neurofocus.models import create_model, load_model, read_metadata
from neurofocus.train import TrainConfig, load_checkpoint, lr_at, read_log, train
from neurofocus.train.losses import TrainingLoss

from .conftest import tiny_config

LOSS_KEYS = ("step", "epoch", "loss", "mse", "perceptual", "lr")


def _losses(run_dir):
    return [[r[k] for k in LOSS_KEYS] for r in read_log(run_dir / "log.csv")]


def test_refocus_loss_falls(mini_dataset, tmp_path):
    # on the captured image the untrained network returns the input, so there is much to learn in 30 steps
    config = tiny_config(mini_dataset, steps=30, lr=2e-3, lr_milestones=[], checkpoint_every=30,
                         model_options={"event_image": "captured"})
    result = train(config, tmp_path / "run")
    loss = [float(r["loss"]) for r in read_log(tmp_path / "run" / "log.csv")]
    assert len(loss) == 30 and result.completed
    assert np.mean(loss[-5:]) < 0.7 * np.mean(loss[:5]), loss
    # the final weights rebuild with load_model and carry the run's metadata
    net = load_model(tmp_path / "run" / "model.safetensors")
    assert net.config.width == 0.125
    meta = read_metadata(tmp_path / "run" / "model.safetensors")["user"]
    assert meta["steps"] == 30 and meta["seed"] == 0 and meta["data_recipe"]["train_scenes"] == ["scene_00000",
                                                                                                  "scene_00001"]
    assert meta["final_losses"]["loss"] == pytest.approx(np.mean(loss[-10:]))
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["data"] == str(mini_dataset.resolve()) and saved["model"] == "neuro_refocus_net"


def _state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_resume_after_stop_and_after_crash_is_bit_identical(mini_dataset, tmp_path):
    # 10 steps, 2 epochs of 4 steps (2 scenes × 8 items / batch 4) and a bit: the resume crosses epoch boundaries
    config = tiny_config(mini_dataset, steps=10)
    straight = train(config, tmp_path / "straight")
    reference = _state(straight.model)

    # clean interruption after step 6 (as SIGINT does): a checkpoint at 6, then --resume
    stopped = train(config, tmp_path / "stopped", stop_at=6)
    assert not stopped.completed and stopped.step == 6 and stopped.weights is None
    assert not (tmp_path / "stopped" / "model.safetensors").exists()
    resumed = train(config, tmp_path / "stopped", resume=True)
    assert resumed.completed and resumed.step == 10

    # a crash after step 7 (no checkpoint; the last one is step 4): the log rows 5-7 are dropped and redone
    def crash(step, row):
        if step == 7:
            raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError, match="simulated crash"):
        train(config, tmp_path / "crashed", on_step=crash)
    assert len(read_log(tmp_path / "crashed" / "log.csv")) == 7
    crashed = train(config, tmp_path / "crashed", resume=True)

    for result, name in ((resumed, "stopped"), (crashed, "crashed")):
        state = _state(result.model)
        assert state.keys() == reference.keys()
        assert all(torch.equal(state[k], reference[k]) for k in reference), name
        assert _losses(tmp_path / name) == _losses(tmp_path / "straight")
    assert [r["step"] for r in read_log(tmp_path / "crashed" / "log.csv")] == [str(s) for s in range(1, 11)]
    # the kept checkpoints: the newest two
    folders = sorted(p.name for p in (tmp_path / "straight" / "checkpoints").glob("step_*"))
    assert folders == ["step_00000008", "step_00000010"]


def test_checkpoint_into_another_width_fails_loudly_and_init_weights_start_a_run(mini_dataset, tmp_path):
    train(tiny_config(mini_dataset, steps=2, checkpoint_every=1), tmp_path / "run")
    same = create_model("neuro_refocus_net", width=0.125)
    assert load_checkpoint(tmp_path / "run", same)["step"] == 2
    wider = create_model("neuro_refocus_net", width=0.25)
    with pytest.raises(NeurofocusError, match="config differs: width"):
        load_checkpoint(tmp_path / "run", wider)
    # resuming with another width is refused before anything is loaded
    with pytest.raises(NeurofocusError, match="whose width is 0.125, not 0.25"):
        train(tiny_config(mini_dataset, steps=2, width=0.25), tmp_path / "run", resume=True)
    with pytest.raises(NeurofocusError, match="already holds a training run"):
        train(tiny_config(mini_dataset, steps=2), tmp_path / "run")

    # init_weights: a new run starts from the given weights (not the seeded initialisation), strictly
    weights = tmp_path / "run" / "model.safetensors"
    tuned = train(tiny_config(mini_dataset, steps=1, init_weights=str(weights), lr=1e-12, lr_milestones=[]),
                  tmp_path / "tuned")
    start, trained = dict(tuned.model.named_parameters()), dict(load_model(weights).named_parameters())
    # a step at lr 1e-12 moves no parameter measurably (batch-norm statistics do move: buffers are not compared)
    assert start.keys() == trained.keys() and all(torch.allclose(start[k], trained[k], atol=1e-9) for k in trained)
    seeded = create_model("neuro_refocus_net", width=0.125, seed=0).named_parameters()
    assert not all(torch.equal(trained[k], v) for k, v in seeded)
    assert json.loads((tmp_path / "tuned" / "config.json").read_text())["init_weights"] == str(weights.resolve())
    with pytest.raises(NeurofocusError, match="width"):
        train(tiny_config(mini_dataset, steps=1, width=0.25, init_weights=str(weights)), tmp_path / "wider")


def test_config_rejects_unknown_and_bad_values():
    with pytest.raises(NeurofocusError, match="unknown config key 'learning_rate'"):
        TrainConfig.from_dict({"learning_rate": 1e-3})
    with pytest.raises(NeurofocusError, match="batch_size must be at least 1"):
        TrainConfig(batch_size=0)
    with pytest.raises(NeurofocusError, match="is not a refocus network"):
        TrainConfig(model="neuro_merge_net")
    with pytest.raises(NeurofocusError, match="event network"):
        TrainConfig(model="ev_refocus_net", modality="spikes")
    with pytest.raises(NeurofocusError, match="needs refocus_weights"):
        TrainConfig(task="merge", stack_source="network")
    with pytest.raises(NeurofocusError, match="lr_milestones"):
        TrainConfig(lr_milestones=[0.7, 0.5])
    with pytest.raises(NeurofocusError, match="focus_weight is a refocus training option"):
        TrainConfig(task="merge", focus_weight=4)
    with pytest.raises(NeurofocusError, match="focus_sigma"):
        TrainConfig(focus_sigma=0)
    config = TrainConfig.from_dict({"task": "merge", "width": 0.5, "betas": [0.8, 0.99]})
    assert config.model == "neuro_merge_net" and config.stack_source == "frames" and config.betas == (0.8, 0.99)
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_focus_weighted_mse():
    target = torch.zeros(2, 3, 4, 4)
    pred = target.clone()
    pred[:, :, :2] = 0.1  # error in the top half only
    focus = torch.zeros(2, 1, 4, 4)
    plain, weighted = TrainingLoss(1.0, 0.0), TrainingLoss(1.0, 0.0, focus_weight=3.0)
    assert weighted(pred, target, focus)["mse"] == pytest.approx(plain(pred, target)["mse"].item())  # m = 0
    focus[:, :, :2] = 1.0  # the erring half is in focus: it counts 1 + 3 = 4 times
    assert weighted(pred, target, focus)["mse"].item() == pytest.approx(4 * 0.01 / 5)
    focus = 1.0 - focus  # the other half in focus
    assert weighted(pred, target, focus)["mse"].item() == pytest.approx(0.01 / 5)
    with pytest.raises(NeurofocusError, match="focus map"):
        weighted(pred, target)


def test_learning_rate_schedule():
    config = TrainConfig(steps=100)  # the papers: 5e-4, ×0.1 at epochs 50, 70 and 90 of 100
    assert [lr_at(config, s) for s in (0, 49)] == [5e-4, 5e-4]
    assert lr_at(config, 50) == pytest.approx(5e-5) and lr_at(config, 69) == pytest.approx(5e-5)
    assert lr_at(config, 70) == pytest.approx(5e-6) and lr_at(config, 99) == pytest.approx(5e-7)


def test_validation_rows_and_merge_training(mini_dataset, tmp_path):
    config = tiny_config(mini_dataset, task="merge", steps=2, batch_size=2, samples_per_scene=2, stack_size=3,
                         stack_times="uniform", val_scenes=1, val_every=1)
    result = train(config, tmp_path / "merge")
    rows = read_log(tmp_path / "merge" / "log.csv")
    assert [r["step"] for r in rows] == ["1", "2"]
    for r in rows:
        assert float(r["val_psnr"]) > 5 and float(r["val_psnr_handcrafted"]) > 5 and float(r["val_psnr_input"]) > 5
    assert set(result.validation) == {"val_psnr", "val_psnr_handcrafted", "val_psnr_input"}
    net = load_model(tmp_path / "merge" / "model.safetensors")
    assert net.name == "neuro_merge_net"


def test_spike_refocus_training_with_a_separate_validation_set(mini_dataset, tmp_path):
    config = tiny_config(mini_dataset, modality="spikes", steps=2, val_data=str(mini_dataset), val_pairs=1,
                         focus_weight=4.0, model_options={"nfs": {"kind": "spike_bins", "num_bins": 8,
                                                                  "ticks_per_bin": 2}})
    result = train(config, tmp_path / "spikes")
    assert result.completed and result.model.config.modality == "spikes"
    assert result.validation["val_psnr_infocus"] > 10 and result.validation["val_psnr_infocus_handcrafted"] > 10
    rows = read_log(tmp_path / "spikes" / "log.csv")
    assert rows[-1]["val_psnr"] and not rows[0]["val_psnr"]  # val_every 0: at the end only
    recipe = read_metadata(tmp_path / "spikes" / "model.safetensors")["user"]["data_recipe"]
    assert recipe["train_scenes"] == ["scene_00000", "scene_00001"] and len(recipe["val_scenes"]) == 2
    assert load_model(tmp_path / "spikes" / "model.safetensors").config.nfs.num_bins == 8


def test_several_dataset_folders_train_as_one(mini_dataset, tmp_path):
    """data: several folders, their scenes one after the other, named by folder in data.json; a resume needs the
    same folders."""
    shutil.copytree(mini_dataset, tmp_path / "real")  # a second dataset folder (the same scenes, for speed)
    config = tiny_config([str(mini_dataset), str(tmp_path / "real")], steps=2, checkpoint_every=1,
                         samples_per_scene=2)
    stopped = train(config, tmp_path / "run", stop_at=1)
    assert stopped.step == 1
    fingerprint = json.loads((tmp_path / "run" / "data.json").read_text())
    assert fingerprint["train_scenes"] == [f"{mini_dataset.name}/scene_00000", f"{mini_dataset.name}/scene_00001",
                                           "real/scene_00000", "real/scene_00001"]
    assert isinstance(fingerprint["data"], list) and fingerprint["data"][0] == fingerprint["data"][1]
    with pytest.raises(NeurofocusError, match="whose data is"):
        train(config.replace(data=str(mini_dataset)), tmp_path / "run", resume=True)
    assert train(config, tmp_path / "run", resume=True).completed
    recipe = read_metadata(tmp_path / "run" / "model.safetensors")["user"]["data_recipe"]
    assert len(recipe["train_scenes"]) == 4 and len(recipe["synth"]) == 2
    with pytest.raises(NeurofocusError, match="data must be a folder path or a list"):
        tiny_config([])
