"""Training checkpoints: no pickle anywhere, written atomically, enough to continue a run bit for bit.

Layout of ``RUN_DIR/checkpoints/``::

    step_00000600/
        model.safetensors       the model (:func:`neurofocus.models.save_weights`: strict-loadable, with config)
        optimizer.safetensors   the optimiser's tensors (Adam: step, exp_avg, exp_avg_sq per parameter) as
                                ``state.<param>.<name>``; its param groups and non-tensor state as JSON metadata
        rng.safetensors         torch CPU (and CUDA) generator states
        state.json              step, epoch, the resolved config, the last logged losses
    latest.json                 {"step": 600, "folder": "step_00000600"}, rewritten atomically last

A checkpoint folder is built under a temporary name and renamed when complete; ``latest.json`` is replaced only
after that, so an interruption at any moment leaves the previous checkpoint intact. The learning-rate schedule is a
function of the step (:func:`.config.lr_at`), so the step is the whole scheduler state; the data order and every
random choice of the data are functions of (seed, epoch, index) (:mod:`.items`), so no data-loader state is needed.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import torch

from ..atomic import write_text_atomic
from ..errors import NeurofocusError

LATEST = "latest.json"


def _folder_name(step: int) -> str:
    return f"step_{step:08d}"


def save_checkpoint(run_dir: str | os.PathLike, step: int, model, optimizer, state: dict, *, keep: int = 2,
                    metadata: dict | None = None) -> Path:
    """Write checkpoint ``step`` of ``model`` (unwrapped) and ``optimizer``; keep the newest ``keep``.

    ``state`` (JSON-serialisable) is stored as ``state.json`` with ``step`` added. Returns the folder.
    """
    from safetensors.torch import save_file

    from ..models import save_weights

    root = Path(run_dir) / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    name = _folder_name(step)
    tmp = root / f".{name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        save_weights(model, tmp / "model.safetensors", {"checkpoint_step": step, **(metadata or {})})
        tensors, scalars = {}, {}
        sd = optimizer.state_dict()
        for pid, entries in sd["state"].items():
            for key, value in entries.items():
                if torch.is_tensor(value):
                    tensors[f"state.{pid}.{key}"] = value.detach().to("cpu").contiguous()
                else:
                    scalars[f"{pid}.{key}"] = value
        save_file(tensors, str(tmp / "optimizer.safetensors"),
                  metadata={"param_groups": json.dumps(sd["param_groups"]), "scalars": json.dumps(scalars),
                            "num_params": json.dumps(sum(len(g["params"]) for g in sd["param_groups"]))})
        rng = {"torch_cpu": torch.get_rng_state()}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            for i, s in enumerate(torch.cuda.get_rng_state_all()):
                rng[f"torch_cuda_{i}"] = s
        save_file(rng, str(tmp / "rng.safetensors"))
        (tmp / "state.json").write_text(json.dumps({**state, "step": step}, indent=2) + "\n")
        final = root / name
        if final.exists():  # a rerun reached the same step after a crash between rename and pointer update
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    write_text_atomic(root / LATEST, json.dumps({"step": step, "folder": name}) + "\n")
    _prune(root, keep, name)
    return final


def _prune(root: Path, keep: int, current: str) -> None:
    folders = sorted(p for p in root.glob("step_*") if p.is_dir())
    for old in folders[:-keep] if keep > 0 else []:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)
    for stale in root.glob(".step_*.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


def latest_checkpoint(run_dir: str | os.PathLike) -> Path | None:
    """The folder of the newest complete checkpoint of a run, or None."""
    root = Path(run_dir) / "checkpoints"
    pointer = root / LATEST
    if not pointer.is_file():
        return None
    try:
        folder = root / json.loads(pointer.read_text())["folder"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise NeurofocusError("the checkpoint pointer is corrupt", pointer) from None
    if not (folder / "state.json").is_file():
        raise NeurofocusError(f"the checkpoint it names ({folder.name}) is missing or incomplete", pointer)
    return folder


def read_state(folder: str | os.PathLike) -> dict:
    """``state.json`` of a checkpoint folder."""
    path = Path(folder) / "state.json"
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise NeurofocusError(f"unreadable checkpoint state ({exc})", path) from None


def load_checkpoint(path: str | os.PathLike, model, optimizer=None, *, restore_rng: bool = False) -> dict:
    """Load a checkpoint into ``model`` (strictly: another model, width or config raises NeurofocusError) and,
    if given, ``optimizer``; returns its ``state.json``.

    Parameters
    ----------
    path : path
        A checkpoint folder, or a run folder (its latest checkpoint).
    restore_rng : bool
        Also restore the torch generator states saved with it.
    """
    from safetensors import safe_open

    from ..models import load_weights

    path = Path(path)
    folder = path if (path / "state.json").is_file() else latest_checkpoint(path)
    if folder is None:
        raise NeurofocusError("no checkpoint found", path)
    state = read_state(folder)
    load_weights(model, folder / "model.safetensors", strict=True)
    if optimizer is not None:
        opt_path = folder / "optimizer.safetensors"
        try:
            with safe_open(str(opt_path), framework="pt") as f:
                meta = f.metadata() or {}
                tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open is not a dict
        except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
            raise NeurofocusError(f"unreadable optimizer state ({str(exc).splitlines()[0]})", opt_path) from None
        groups = json.loads(meta.get("param_groups", "[]"))
        current = optimizer.state_dict()["param_groups"]
        if [len(g["params"]) for g in groups] != [len(g["params"]) for g in current]:
            raise NeurofocusError("the optimizer state is for a model with other parameters", opt_path)
        for g in groups:
            if isinstance(g.get("betas"), list):
                g["betas"] = tuple(g["betas"])
        entries: dict[int, dict] = {}
        for key, value in tensors.items():
            _, pid, name = key.split(".", 2)
            entries.setdefault(int(pid), {})[name] = value
        for key, value in json.loads(meta.get("scalars", "{}")).items():
            pid, name = key.split(".", 1)
            entries.setdefault(int(pid), {})[name] = value
        optimizer.load_state_dict({"state": entries, "param_groups": groups})
    if restore_rng:
        from safetensors.torch import load_file

        rng = load_file(str(folder / "rng.safetensors"))
        torch.set_rng_state(rng["torch_cpu"])
        cuda = [rng[k] for k in sorted((k for k in rng if k.startswith("torch_cuda_")), key=lambda k: int(k[11:]))]
        if cuda and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(cuda[:torch.cuda.device_count()])
    return state
