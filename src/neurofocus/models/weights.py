"""Weight files: safetensors (no pickle) with the model's name and config as JSON metadata; strict loading.

A file written by :func:`save_weights` holds every entry of the model's ``state_dict`` (parameters and batch-norm
statistics), optionally in float16, and one metadata entry ``"neurofocus"``: JSON with ``format``, ``version``,
``model`` (registry name), ``config`` (the config as a dict), ``width``, ``dtype`` and the caller's ``user``
metadata. :func:`load_weights` refuses, with a one-line :class:`~neurofocus.errors.NeurofocusError` naming the file
and the first offending tensor or option, any file whose tensors or config do not match the model exactly;
:func:`load_model` rebuilds the model from the metadata.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import torch
from torch import nn

from ..atomic import atomic_path
from ..errors import NeurofocusError

_log = logging.getLogger(__name__)

FORMAT = "neurofocus-weights"
VERSION = 1
_META_KEY = "neurofocus"


def _config_dict(model: nn.Module) -> dict:
    return json.loads(json.dumps(model.config.to_dict()))  # normalised exactly as stored


def save_weights(model: nn.Module, path: str | os.PathLike, metadata: dict | None = None, *,
                 half: bool = False) -> Path:
    """Write ``model``'s state to a safetensors file, atomically.

    Parameters
    ----------
    model : torch.nn.Module
        A model from :func:`neurofocus.models.create_model`.
    path : str or PathLike
        Output file (``.safetensors`` by convention).
    metadata : dict, optional
        JSON-serialisable information stored under ``user`` (training run, data set, metrics, …).
    half : bool
        Store floating-point tensors as float16 (half the size; loading casts them back).

    Returns
    -------
    Path
    """
    from safetensors.torch import save_file

    path = Path(path)
    header = {"format": FORMAT, "version": VERSION, "model": model.name, "config": _config_dict(model),
              "width": model.config.width, "dtype": "float16" if half else "float32", "user": metadata or {}}
    try:
        meta = json.dumps(header, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise NeurofocusError(f"weight metadata is not JSON-serialisable: {exc}", path) from None
    tensors = {}
    for key, value in model.state_dict().items():
        value = value.detach().to("cpu")
        if half and value.is_floating_point():
            value = value.to(torch.float16)
        tensors[key] = value.contiguous()
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={_META_KEY: meta})
    return path


def read_metadata(path: str | os.PathLike) -> dict:
    """The ``neurofocus`` metadata of a weight file (raises NeurofocusError if it has none)."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise NeurofocusError("no such weight file", path)
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types for bad headers
        raise NeurofocusError(f"not a safetensors weight file ({str(exc).splitlines()[0]})", path) from None
    if _META_KEY not in meta:
        raise NeurofocusError("the weight file has no neurofocus metadata (model name and config)", path)
    try:
        header = json.loads(meta[_META_KEY])
    except json.JSONDecodeError:
        raise NeurofocusError("the weight file's neurofocus metadata is not valid JSON", path) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise NeurofocusError("the weight file's metadata is not in the neurofocus format", path)
    if header.get("version") != VERSION:
        raise NeurofocusError(f"weight format version {header.get('version')!r} is not supported "
                              f"(this neurofocus reads version {VERSION})", path)
    return header


def _first_difference(stored: dict, current: dict, prefix: str = "") -> str | None:
    for key in sorted(set(stored) | set(current)):
        a, b = stored.get(key, "<absent>"), current.get(key, "<absent>")
        if isinstance(a, dict) and isinstance(b, dict):
            found = _first_difference(a, b, f"{prefix}{key}.")
            if found:
                return found
        elif a != b:
            return f"{prefix}{key} is {a!r} in the file but {b!r} in the model"
    return None


def load_weights(model: nn.Module, path: str | os.PathLike, strict: bool = True) -> nn.Module:
    """Load a :func:`save_weights` file into ``model`` (in place; returns it).

    Parameters
    ----------
    strict : bool
        True (default): the file's model name and config must equal the model's, and its tensors must be exactly
        the model's ``state_dict`` keys with the same shapes. False: a different name/config, missing and
        unexpected tensors are allowed and logged as warnings (shapes must still match).

    Raises
    ------
    NeurofocusError
        ``<path>: <problem>`` naming the first missing, unexpected, misshapen or non-finite tensor, or the first
        differing config option.
    """
    from safetensors import safe_open

    path = Path(path)
    header = read_metadata(path)
    problems = []
    if header.get("model") != model.name:
        problems.append(f"the weights are for model {header.get('model')!r}, not {model.name!r}")
    diff = _first_difference(header.get("config") or {}, _config_dict(model))
    if diff:
        problems.append(f"config differs: {diff}")
    if problems and strict:
        raise NeurofocusError(problems[0], path)
    for p in problems:
        _log.warning("%s: %s (loaded anyway: strict=False)", path, p)

    expected = model.state_dict()
    with safe_open(str(path), framework="pt") as f:
        keys = list(f.keys())
        present = set(keys)
        loaded = {}
        for key, target in expected.items():
            if key not in present:
                if strict:
                    raise NeurofocusError(f"missing tensor {key!r} (expected shape {tuple(target.shape)})", path)
                _log.warning("%s: missing tensor %r left as initialised (strict=False)", path, key)
                continue
            tensor = f.get_tensor(key)
            if tuple(tensor.shape) != tuple(target.shape):
                raise NeurofocusError(f"tensor {key!r} has shape {tuple(tensor.shape)}, the model expects "
                                      f"{tuple(target.shape)}", path)
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                raise NeurofocusError(f"tensor {key!r} holds NaN or infinite values", path)
            if tensor.is_floating_point() != target.is_floating_point():
                raise NeurofocusError(f"tensor {key!r} has dtype {tensor.dtype}, the model expects {target.dtype}",
                                      path)
            loaded[key] = tensor.to(dtype=target.dtype)
        unexpected = [k for k in keys if k not in expected]
        if unexpected:
            if strict:
                raise NeurofocusError(f"unexpected tensor {unexpected[0]!r} (not in {model.name})", path)
            _log.warning("%s: %d unexpected tensors ignored (strict=False), first %r", path, len(unexpected),
                         unexpected[0])
    model.load_state_dict(loaded, strict=False)
    return model


def load_model(path: str | os.PathLike, *, map_location: str | torch.device = "cpu") -> nn.Module:
    """Build the model a weight file describes (name and config from its metadata), load it strictly, and return it
    in eval mode on ``map_location``."""
    from .registry import create_model

    header = read_metadata(path)
    config = dict(header.get("config") or {})
    try:
        model = create_model(header.get("model"), **config)
    except NeurofocusError as exc:
        raise exc.with_path(path) from None
    return load_weights(model, path, strict=True).to(map_location).eval()
