"""Pretrained parameters that ship inside the package (see ``README.md`` in this folder for provenance and licences).

* ``vgg16.safetensors``: torchvision's ImageNet VGG16 convolutions conv1_1 … conv5_3 and the LPIPS v0.1 vgg heads;
* ``lpips_alex.safetensors``: torchvision's ImageNet AlexNet convolutions and the LPIPS v0.1 alex heads;
* ``niqe_pris_params.npz``: the NIQE pristine-image model (mean vector and covariance of the 36 NSS features);
* ``brisque_live.npz``: the BRISQUE LIVE support-vector regressor and its feature scaling.

Nothing is downloaded: :func:`weight_path` points into this folder, :func:`load_tensors` reads a safetensors file
strictly (every expected tensor, with its exact shape, nothing else, all finite) and returns float32 tensors.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import NeurofocusError

FOLDER = Path(__file__).resolve().parent


def weight_path(name: str) -> Path:
    """Path of the shipped file ``name`` (e.g. ``"vgg16.safetensors"``); NeurofocusError if it is missing."""
    path = FOLDER / name
    if not path.is_file():
        raise NeurofocusError("shipped weight file is missing (reinstall neurofocus)", path)
    return path


def load_tensors(path: str | os.PathLike, expected: dict[str, tuple[int, ...]]) -> dict:
    """Read a safetensors file strictly and return its tensors as float32 torch tensors.

    Parameters
    ----------
    path : str or PathLike
        The file (a shipped one from :func:`weight_path`, or the user's own).
    expected : dict of str to tuple of int
        Every tensor name the file must hold and its shape.

    Returns
    -------
    dict of str to torch.Tensor
        float32, CPU, in the order of ``expected``.

    Raises
    ------
    NeurofocusError
        ``<path>: <problem>`` for a missing or unreadable file, a missing, unexpected, misshapen, non-float or
        non-finite tensor.
    """
    import torch
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise NeurofocusError("no such weight file", path)
    try:
        with safe_open(str(path), framework="pt") as f:
            present = set(f.keys())
            for name, shape in expected.items():
                if name not in present:
                    raise NeurofocusError(f"missing tensor {name!r} (expected shape {tuple(shape)})", path)
            unexpected = sorted(present - set(expected))
            if unexpected:
                raise NeurofocusError(f"unexpected tensor {unexpected[0]!r}", path)
            out = {}
            for name, shape in expected.items():
                tensor = f.get_tensor(name)
                if tuple(tensor.shape) != tuple(shape):
                    raise NeurofocusError(f"tensor {name!r} has shape {tuple(tensor.shape)}, expected "
                                          f"{tuple(shape)}", path)
                if not tensor.is_floating_point():
                    raise NeurofocusError(f"tensor {name!r} has dtype {tensor.dtype}, expected a float", path)
                tensor = tensor.to(torch.float32)
                if not bool(torch.isfinite(tensor).all()):
                    raise NeurofocusError(f"tensor {name!r} holds NaN or infinite values", path)
                out[name] = tensor
    except NeurofocusError:
        raise
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types for corrupt files
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NeurofocusError(f"not a readable safetensors file ({message})", path) from None
    return out
