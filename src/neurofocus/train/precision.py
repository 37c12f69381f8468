"""Training precision: ``fp32`` or ``bf16`` (the ``precision`` field of :class:`.config.TrainConfig`).

``bf16`` runs the network's forward pass (and so its backward) under ``torch.autocast(dtype=torch.bfloat16)`` with
the model and its inputs in ``channels_last`` memory format; the weights, the Adam state and the checkpoints stay
fp32, and the loss — LPIPS included — is computed in fp32 on the outputs cast back to fp32. It pays only on CPUs
with native bf16 (AVX-512 BF16, AMX): on this project's AVX2 machine it measured 3–8× *slower* per step than fp32
(``benchmarks/train_speed.py``). Validation always runs in fp32.
"""

from __future__ import annotations

import contextlib

import torch

PRECISIONS = ("fp32", "bf16")


def autocast(precision: str, device: torch.device):
    """The context of a training forward pass: bf16 autocast on ``device`` for ``"bf16"``, nothing for ``"fp32"``."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def memory_format(precision: str) -> torch.memory_format:
    """``channels_last`` for ``"bf16"``, else ``contiguous_format``."""
    return torch.channels_last if precision == "bf16" else torch.contiguous_format


def as_format(x: torch.Tensor, precision: str) -> torch.Tensor:
    """A 4-D tensor (B, C, H, W) in the memory format of ``precision`` (other ranks: unchanged)."""
    return x.contiguous(memory_format=memory_format(precision)) if x.ndim == 4 else x


def to_fp32(outputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Every tensor of a dict as float32 (the loss's input after a bf16 forward)."""
    return {k: v.float() for k, v in outputs.items()}
