"""Merge networks: EvMergeNet (EFS Table 7) and NeuroMergeNet (NFS Table 7, Eq. 15–16).

Both predict per-pixel merge weights for a refocused focal stack {I_k} and return the all-in-focus image
Σ_k W_k · I_k (NFS Eq. 5; the same weight map for the three colour channels, merged in sRGB as the images are).

EvMergeNet
    A fixed stack of S images (S = 64 in EFS). Image branch on the S images concatenated (3·S channels, each image
    as 2·I − 1), event branch on the S per-slice event channels (:class:`.inputs.EventSlicing`), the shared decoder,
    Conv6 → S channels, ResBlock1 and ResBlock2 on S channels (the second one a linear "head" block that outputs
    logits), softmax over the S channels.

NeuroMergeNet
    One image at a time: a single-branch U-Net on [2·I_k − 1, its neuromorphic channel] (4 channels) → ResBlock1
    (c → c) → ResBlock2 (c → 1, head) gives the initial weight map W_init,k (Eq. 15); the weights are
    softmax_k(α · W_init,k) over however many images the stack holds (Eq. 16).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ..errors import NeurofocusError
from .blocks import ResBlock, UNetTrunk, base_channels, check_tensor, init_weights, pad_to_multiple
from .spec import EvMergeConfig, InputSpec, NeuroMergeConfig, TensorSpec


class MergeOutput(NamedTuple):
    """image: (B, 3, H, W) all-in-focus, sRGB in [0, 1]; weights: (B, S, H, W), ≥ 0, summing to 1 over S."""

    image: torch.Tensor
    weights: torch.Tensor


def merge_stack(stack: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Σ_k weights[:, k] · stack[:, k]: (B, S, 3, H, W) and (B, S, H, W) → (B, 3, H, W)."""
    return (stack * weights.unsqueeze(2)).sum(dim=1)


def _check_stack(model, stack, nfs, stack_size=None):
    check_tensor(stack, "stack", (None, stack_size, 3, None, None), model.name)
    b, s, _, h, w = stack.shape
    check_tensor(nfs, "nfs", (b, s, h, w), model.name)
    if s < 1:
        raise NeurofocusError(f"{model.name}: the focal stack is empty")
    return b, s, h, w


def _merge_spec(model, nfs_text, nfs_range, stack_text) -> InputSpec:
    rep = model.config.nfs
    stack = TensorSpec("stack", f"(B, {stack_text}, 3, H, W)", "[0, 1] sRGB", "the refocused focal stack")
    nfs = TensorSpec("nfs", f"(B, {stack_text}, H, W)", nfs_range, nfs_text)
    image = TensorSpec("image", "(B, 3, H, W)", "[0, 1] sRGB", "the all-in-focus image Σ_k W_k · stack_k")
    weights = TensorSpec("weights", f"(B, {stack_text}, H, W)", "[0, 1], sum 1 over the stack",
                         "per-pixel merge weights (softmax over the stack)")
    return InputSpec(model.name, model.modality, (stack, nfs), (image, weights), rep)


def _event_slice_text(rep) -> str:
    what = "Σp after − Σp before t_k" if rep.mode == "flip" else "Σp"
    return (f"per slice k: {what} within ± {rep.window_fraction:g} × sweep duration of its time t_k, "
            f"× {rep.count_scale:g} (inputs.EventSlicing)")


class EvMergeNet(nn.Module):
    """EvMergeNet: merge weights for a fixed stack of ``config.stack_size`` refocused images (module docstring).

    ``forward(stack, nfs)`` takes float32 ``stack`` (B, S, 3, H, W) sRGB in [0, 1] and ``nfs`` (B, S, H, W) (the
    per-slice event channels of :class:`.inputs.EventSlicing`), any H, W, and returns a :class:`MergeOutput`.
    """

    modality = "events"

    def __init__(self, config: EvMergeConfig, name: str = "ev_merge_net"):
        super().__init__()
        self.name = name
        self.config = config
        c, s = base_channels(config.width), config.stack_size
        self.trunk = UNetTrunk({"image": 3 * s, "nfs": s}, c, s)
        self.res1 = ResBlock(s, s)
        self.res2 = ResBlock(s, s, head=True)
        init_weights(self)

    @property
    def input_spec(self) -> InputSpec:
        return _merge_spec(self, _event_slice_text(self.config.nfs), "signed counts × count_scale",
                           str(self.config.stack_size))

    def logits(self, stack: torch.Tensor, nfs: torch.Tensor) -> torch.Tensor:
        """Pre-softmax weight maps, (B, S, H, W)."""
        *_, h, w = _check_stack(self, stack, nfs, self.config.stack_size)
        images = pad_to_multiple(2 * stack - 1).flatten(1, 2)  # (B, 3·S, H', W'): image k at channels 3k..3k+2
        x = self.trunk(images, pad_to_multiple(nfs))
        return self.res2(self.res1(x))[..., :h, :w]

    def forward(self, stack: torch.Tensor, nfs: torch.Tensor) -> MergeOutput:
        weights = torch.softmax(self.logits(stack, nfs), dim=1)
        return MergeOutput(merge_stack(stack, weights), weights)


class NeuroMergeNet(nn.Module):
    """NeuroMergeNet: per-image initial weights and a softmax over a stack of any size (module docstring).

    ``forward(stack, nfs, chunk_size=None)`` takes float32 ``stack`` (B, S, 3, H, W) sRGB in [0, 1] and ``nfs``
    (B, S, H, W) (:class:`.inputs.EventSlicing` or :class:`.inputs.SpikeSlicing` channels), any S ≥ 1 and any H, W,
    and returns a :class:`MergeOutput`. ``chunk_size`` runs the per-image network on that many images at a time
    (inference memory); batch normalisation in training mode sees all B·S images together only without it.
    """

    def __init__(self, config: NeuroMergeConfig, name: str = "neuro_merge_net"):
        super().__init__()
        self.name = name
        self.config = config
        c = base_channels(config.width)
        self.trunk = UNetTrunk({"input": 4}, c, c)
        self.res1 = ResBlock(c, c)
        self.res2 = ResBlock(c, 1, head=True)
        init_weights(self)

    @property
    def modality(self) -> str:
        return self.config.modality

    @property
    def input_spec(self) -> InputSpec:
        rep = self.config.nfs
        if self.modality == "events":
            return _merge_spec(self, _event_slice_text(rep), "signed counts × count_scale", "S")
        text = (f"per slice k: TFP firing rate within ± {rep.window_fraction:g} × sweep duration of its time t_k "
                f"(inputs.SpikeSlicing)")
        return _merge_spec(self, text, "[0, 1] spikes per tick", "S")

    def initial_weights(self, stack: torch.Tensor, nfs: torch.Tensor, chunk_size: int | None = None) -> torch.Tensor:
        """W_init of Eq. 15 for every image, (B, S, H, W)."""
        b, s, h, w = _check_stack(self, stack, nfs)
        x = torch.cat([2 * stack - 1, nfs.unsqueeze(2)], dim=2).reshape(b * s, 4, h, w)
        step = b * s if chunk_size is None else max(1, int(chunk_size))
        out = []
        for i in range(0, b * s, step):
            part = pad_to_multiple(x[i:i + step])
            out.append(self.res2(self.res1(self.trunk(part)))[:, 0, :h, :w])
        return torch.cat(out).reshape(b, s, h, w)

    def forward(self, stack: torch.Tensor, nfs: torch.Tensor, chunk_size: int | None = None) -> MergeOutput:
        weights = torch.softmax(self.config.alpha * self.initial_weights(stack, nfs, chunk_size), dim=1)
        return MergeOutput(merge_stack(stack, weights), weights)
