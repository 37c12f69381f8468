"""Shared fixtures of the training tests: one tiny synthetic dataset per session, tiny configs."""

from __future__ import annotations

from pathlib import Path

import pytest

from neurofocus.cli import main

MINI_ARGS = ("--scenes", "2", "--size", "64x48", "--frames", "48", "--event-model", "ideal", "--with-spikes",
             "--workers", "1")


def mini_dataset_path(tmp_path_factory) -> Path:
    """2 scenes of 64×48, 48 frames, ideal events and spikes: made once per session (synth resumes a complete
    folder without work), shared by tests/train and tests/test_cli_training.py."""
    out = tmp_path_factory.getbasetemp() / "neurofocus_train_mini"
    if not (out / "manifest.json").is_file():
        assert main(["synth", *MINI_ARGS, "--out", str(out)]) == 0
    return out


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: on a small, shared CPU, PyTorch's spinning thread pool is many times slower than one
    thread for these tiny networks."""
    torch = pytest.importorskip("torch")
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def mini_dataset(tmp_path_factory) -> Path:
    return mini_dataset_path(tmp_path_factory)


def tiny_config(data, **changes):
    """A refocus config that trains in well under a second per step on a CPU."""
    from neurofocus.train import TrainConfig

    settings = {"task": "refocus", "data": data if isinstance(data, list) else str(data), "width": 0.125, "steps": 10, "batch_size": 4, "crop": 32,
                "samples_per_scene": 8, "perceptual_weight": 0.0, "val_scenes": 0, "progress": False,
                "checkpoint_every": 4, "val_every": 0}
    settings.update(changes)
    return TrainConfig(**settings)
