"""Refocus networks: EvRefocusNet (EFS Table 6) and NeuroRefocusNet (NFS Table 6, Eq. 14) for events and spikes.

The two tables are identical: an image branch and a neuromorphic (NFS) branch, each Conv1–DenseConv3, a shared
decoder Deconv2–Conv6 (see :mod:`.blocks`), then ResBlock1, ResBlock2 and PredConv (3×3, 64 → 3). PredConv is a
plain convolution (no batch norm, no activation): it predicts a residual, which the modality turns into the
refocused image:

Events (NFS Eq. 8: the image changes by exp of the summed event steps)
    with lin(·) the sRGB → linear-light conversion, ε = ``config.log_eps`` (1e-3) and r the prediction,

        refocused = srgb( clamp( exp( log(lin(image) + ε) + r ) − ε, 0, 1 ) )

    so r = 0 returns the image input (up to float rounding) and r is a per-channel log-intensity change of linear
    light, the quantity the events measure. The image input (``config.event_image``) is by default the hand-crafted
    refocus to the target time (Eq. 8 with the estimated contrast, colour line and leak removal,
    :func:`neurofocus.aif.pipeline.build_refocuser`), so a new network is the hand-crafted method and r corrects
    it (threshold noise, sub-threshold texture, colour); with ``event_image="captured"`` it is the captured image
    and r is the whole refocusing (the EFS code's residual).

Spikes (NFS §3.4: the network refines the TFP refocus)
    the image input is the hand-crafted TFP refocused image I₀ (:func:`neurofocus.aif.pipeline.build_refocuser`),
    and

        refocused = clamp(I₀ + r, 0, 1)         (sRGB).

Both branches see the image as 2·image − 1 (sRGB, in [−1, 1]); the NFS branch sees the bins of
:class:`.inputs.EventBinning` / :class:`.inputs.SpikeBinning`.
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import CompactTrunk, ResBlock, UNetTrunk, base_channels, check_tensor, init_weights, pad_to_multiple
from .spec import InputSpec, RefocusConfig, TensorSpec

_SRGB_KNEE = 0.04045
_LINEAR_KNEE = 0.0031308


def srgb_to_linear(x: torch.Tensor) -> torch.Tensor:
    """sRGB-encoded values in [0, 1] → linear light (IEC 61966-2-1), differentiable, same shape and dtype."""
    curve = ((x.clamp(min=_SRGB_KNEE) + 0.055) / 1.055) ** 2.4
    return torch.where(x <= _SRGB_KNEE, x / 12.92, curve)


def linear_to_srgb(x: torch.Tensor) -> torch.Tensor:
    """Linear light in [0, 1] → sRGB-encoded values, differentiable (no infinite slope at 0)."""
    curve = 1.055 * x.clamp(min=_LINEAR_KNEE) ** (1 / 2.4) - 0.055
    return torch.where(x <= _LINEAR_KNEE, 12.92 * x, curve)


def compose_event_residual(image: torch.Tensor, residual: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """srgb(clamp(exp(log(lin(image) + ε) + residual) − ε, 0, 1)): the event refocus formula (module docstring)."""
    log_image = torch.log(srgb_to_linear(image) + eps)
    return linear_to_srgb((torch.exp(log_image + residual) - eps).clamp(0.0, 1.0))


def compose_spike_residual(image: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
    """clamp(image + residual, 0, 1): the spike refocus formula (module docstring)."""
    return (image + residual).clamp(0.0, 1.0)


class RefocusNet(nn.Module):
    """EvRefocusNet / NeuroRefocusNet: refocus an RGB image to a target time with the NFS between.

    Build it with :func:`neurofocus.models.create_model` (``"ev_refocus_net"`` or ``"neuro_refocus_net"``).

    Inputs (``forward(image, nfs)``), any H, W ≥ 1:

    * ``image``: float32 (B, 3, H, W), sRGB in [0, 1]: the hand-crafted refocus of the captured image at the
      target time (events: Eq. 8, or the captured image itself with ``event_image="captured"``; spikes: TFP).
    * ``nfs``: float32 (B, num_bins, H, W). Events: :class:`.inputs.EventBinning` (signed counts × count_scale,
      image time → target time, direction-aware). Spikes: :class:`.inputs.SpikeBinning` (firing rates in [0, 1]).

    Output: the refocused image, float32 (B, 3, H, W), sRGB in [0, 1]. ``model.input_spec`` states all of this;
    :func:`.inputs.refocus_inputs` builds the inputs from a :class:`~neurofocus.types.FocalSweep`.
    """

    def __init__(self, config: RefocusConfig, name: str = "neuro_refocus_net"):
        super().__init__()
        self.name = name
        self.config = config
        c = base_channels(config.width)
        inputs = {"image": 3, "nfs": config.nfs.num_bins}
        if config.trunk == "compact":
            self.trunk = CompactTrunk(inputs, c)
        else:
            self.trunk = UNetTrunk(inputs, c, c)
            self.res1 = ResBlock(c, c)
            self.res2 = ResBlock(c, c)
        self.pred = nn.Conv2d(c, 3, 3, padding=1)
        init_weights(self)
        if config.zero_init_residual:
            nn.init.zeros_(self.pred.weight)
            nn.init.zeros_(self.pred.bias)

    @property
    def modality(self) -> str:
        return self.config.modality

    @property
    def input_spec(self) -> InputSpec:
        rep = self.config.nfs
        b = rep.num_bins
        if self.modality == "events":
            image = TensorSpec("image", "(B, 3, H, W)", "[0, 1] sRGB",
                               "the captured RGB image" if self.config.event_image == "captured" else
                               "the hand-crafted refocus at the target time (inputs.refocus_inputs)")
            nfs = TensorSpec("nfs", f"(B, {b}, H, W)", f"signed counts × {rep.count_scale:g}",
                             f"events from the image time to the target time in {b} {rep.binning} bins, bin 0 next "
                             f"to the image time; backwards: bins reversed and negated (inputs.EventBinning)")
        else:
            image = TensorSpec("image", "(B, 3, H, W)", "[0, 1] sRGB",
                               "the TFP refocused image at the target time (inputs.refocus_inputs)")
            nfs = TensorSpec("nfs", f"(B, {b}, H, W)", "[0, 1] spikes per tick",
                             f"{b} TFP frames of {rep.ticks_per_bin} ticks centred on the target time "
                             f"(inputs.SpikeBinning)")
        out = TensorSpec("refocused", "(B, 3, H, W)", "[0, 1] sRGB", "the image refocused to the target time")
        source = "handcrafted" if self.modality == "spikes" else self.config.event_image
        return InputSpec(self.name, self.modality, (image, nfs), (out,), rep, image_input=source)

    def residual(self, image: torch.Tensor, nfs: torch.Tensor) -> torch.Tensor:
        """PredConv's output r, (B, 3, H, W): the log-domain residual (events) or the sRGB residual (spikes)."""
        check_tensor(image, "image", (None, 3, None, None), self.name)
        b, _, h, w = image.shape
        check_tensor(nfs, "nfs", (b, self.config.nfs.num_bins, h, w), self.name)
        x = self.trunk(pad_to_multiple(2 * image - 1), pad_to_multiple(nfs))
        if self.config.trunk == "dense":
            x = self.res2(self.res1(x))
        return self.pred(x)[..., :h, :w]

    def compose(self, image: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """The refocused image from the input image and a residual (module docstring)."""
        if self.modality == "events":
            return compose_event_residual(image, residual, self.config.log_eps)
        return compose_spike_residual(image, residual)

    def forward(self, image: torch.Tensor, nfs: torch.Tensor) -> torch.Tensor:
        return self.compose(image, self.residual(image, nfs))
