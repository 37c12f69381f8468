"""``neurofocus train``: end-to-end runs on a tiny dataset, resume, and one-line errors for bad input."""

import json
import shutil

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from neurofocus.models import create_model, load_model, read_metadata, save_weights

from .conftest import run_cli
from .train.conftest import mini_dataset_path, one_torch_thread  # noqa: F401 - autouse fixture

TINY = ("--width", "0.125", "--batch", "2", "--crop", "24", "--perceptual-weight", "0", "--no-progress",
        "--samples-per-scene", "4")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return mini_dataset_path(tmp_path_factory)


def _one_line_error(code, err, *fragments):
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.startswith("neurofocus: error:")]
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_train_refocus_then_resume_longer(data, tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, err = run_cli(capsys, "train", "refocus", "--data", data, "--out", out, "--steps", 2, *TINY,
                                "--val-every", 2)
    assert code == 0, err
    assert "trained 2 steps" in stdout and "validation PSNR" in stdout and "model.safetensors" in stdout
    net = load_model(out / "model.safetensors")
    assert net.name == "neuro_refocus_net" and net.config.width == 0.125
    meta = read_metadata(out / "model.safetensors")["user"]
    assert meta["steps"] == 2 and meta["data_recipe"]["synth"]["width"] == 64 and "loss" in meta["final_losses"]
    # continue to 3 steps (steps may change on resume), then try to change what cannot change
    code, stdout, err = run_cli(capsys, "train", "refocus", "--out", out, "--resume", "--steps", 3)
    assert code == 0, err
    assert "trained 3 steps" in stdout and read_metadata(out / "model.safetensors")["user"]["steps"] == 3
    code, _, err = run_cli(capsys, "train", "refocus", "--out", out, "--resume", "--width", 0.25)
    _one_line_error(code, err, "whose width is 0.125, not 0.25")
    code, _, err = run_cli(capsys, "train", "refocus", "--data", data, "--out", out, *TINY)
    _one_line_error(code, err, "already holds a training run")


def test_bad_input(data, tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "refocus", "--data", tmp_path / "nowhere", "--out", out, *TINY)
    _one_line_error(code, err, "nowhere: no such dataset folder")
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(capsys, "train", "refocus", "--data", tmp_path / "empty", "--out", out, *TINY)
    _one_line_error(code, err, "holds no scene folders")
    events_only = tmp_path / "events_only"
    shutil.copytree(data, events_only)
    for info_path in events_only.glob("scene_*/sample.json"):
        info = json.loads(info_path.read_text())
        del info["spike_file"]
        info_path.write_text(json.dumps(info))
    code, _, err = run_cli(capsys, "train", "refocus", "--data", events_only, "--out", out, "--modality", "spikes",
                           *TINY)
    _one_line_error(code, err, "scene_00000 has no spikes", "--with-spikes")
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"width": 0.125, "learnig_rate": 0.1}))
    code, _, err = run_cli(capsys, "train", "refocus", "--data", data, "--out", out, "--config", config)
    _one_line_error(code, err, "cfg.json: unknown config key 'learnig_rate'")
    code, _, err = run_cli(capsys, "train", "refocus", "--out", out)
    _one_line_error(code, err, "--data")
    code, _, err = run_cli(capsys, "train", "refocus", "--out", tmp_path / "none", "--resume")
    _one_line_error(code, err, "no training run to resume")
    if not torch.cuda.is_available():
        code, _, err = run_cli(capsys, "train", "refocus", "--data", data, "--out", out, "--device", "cuda", *TINY)
        _one_line_error(code, err, "--device cuda: no CUDA device is available")
    assert not out.exists()


def test_train_merge_with_refocus_weights(data, tmp_path, capsys):
    from safetensors.torch import save_file

    config = tmp_path / "merge.json"
    config.write_text(json.dumps({"stack_size": 3, "stack_times": "uniform", "val_every": 0}))
    good = save_weights(create_model("neuro_refocus_net", width=0.125, seed=1), tmp_path / "refocus.safetensors")
    code, _, err = run_cli(capsys, "train", "merge", "--data", data, "--out", tmp_path / "merge", "--steps", 1,
                                "--config", config, "--refocus-weights", good, *TINY)
    assert code == 0, err
    meta = read_metadata(tmp_path / "merge" / "model.safetensors")["user"]
    assert meta["data_recipe"]["stack_source"] == "network" and meta["data_recipe"]["refocus_weights"] == str(good)
    # a file whose tensors do not fit the model its metadata names
    narrow = create_model("neuro_refocus_net", width=0.125).state_dict()
    header = json.dumps(read_metadata(save_weights(create_model("neuro_refocus_net", width=0.25),
                                                   tmp_path / "wide.safetensors")))
    save_file({k: v.contiguous() for k, v in narrow.items()}, str(tmp_path / "bad.safetensors"),
              metadata={"neurofocus": header})
    code, _, err = run_cli(capsys, "train", "merge", "--data", data, "--out", tmp_path / "m2", "--steps", 1,
                           "--config", config, "--refocus-weights", tmp_path / "bad.safetensors", *TINY)
    _one_line_error(code, err, "bad.safetensors: tensor", "has shape")
    merge_weights = save_weights(create_model("neuro_merge_net", width=0.125), tmp_path / "merge_net.safetensors")
    code, _, err = run_cli(capsys, "train", "merge", "--data", data, "--out", tmp_path / "m3", "--steps", 1,
                           "--config", config, "--refocus-weights", merge_weights, *TINY)
    _one_line_error(code, err, "not a refocus network")
    spike_weights = save_weights(create_model("neuro_refocus_net", width=0.125, modality="spikes"),
                                 tmp_path / "spikes.safetensors")
    code, _, err = run_cli(capsys, "train", "merge", "--data", data, "--out", tmp_path / "m4", "--steps", 1,
                           "--config", config, "--refocus-weights", spike_weights, *TINY)
    _one_line_error(code, err, "takes spikes, the merge network events")


def test_train_help_states_the_config_defaults():
    """Each default a ``neurofocus train`` flag's help states, "(N)", "(N; ...)" or "(N: ...)", is TrainConfig's own (the refocus task's
    where it depends on the task): the help cannot drift from the dataclass."""
    import argparse
    import dataclasses
    import re

    from neurofocus.cli import build_parser
    from neurofocus.train.config import TASK_DEFAULTS, TrainConfig

    train = next(a for a in build_parser(["train"])._actions if isinstance(a, argparse._SubParsersAction))
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)} | TASK_DEFAULTS["refocus"]
    renamed = {"batch": "batch_size"}
    checked = {}
    for action in train.choices["train"]._actions:
        field = renamed.get(action.dest, action.dest)
        stated = re.search(r"\(([-+.\deE]+)[;:)]", action.help or "")
        if field in defaults and stated:
            checked[field] = stated.group(1)
            assert float(stated.group(1)) == float(defaults[field]), (action.option_strings, stated.group(1))
    assert {"steps", "batch_size", "crop", "lr", "mse_weight", "perceptual_weight", "val_every",
            "checkpoint_every", "samples_per_scene", "keep_checkpoints", "threads"} <= set(checked), checked
