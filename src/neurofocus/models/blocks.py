"""Building blocks shared by the refocus and merge networks (EFS/NFS supplementary Tables 6–7).

All four networks are the same U-Net: per input branch an :class:`Encoder`

    Conv1 (3×3) → DenseConv1 → Conv2 (2×2, stride 2) → DenseConv2 → Conv3 (2×2, stride 2) → DenseConv3
    c            2c            2c                        4c            4c                        8c   channels

and one :class:`Decoder` that concatenates the branches at each scale

    Deconv2 (2×2, stride 2) on [dense3 of every branch]                        → 4c
    Conv5 (1×1) on [dense2 of every branch, deconv2]  → DenseConv5            → 2c → 4c
    Deconv1 (2×2, stride 2)                                                    → 2c
    Conv6 (1×1) on [dense1 of every branch, deconv1]                           → out

with c = 64 at width 1.0. Every module is convolution → batch normalisation → LeakyReLU(0.1) ("all modules include
batch normalization and activation functions"); convolutions followed by batch normalisation carry no bias.

A DenseConv block (Huang et al., DenseNet) from C_in to C_out channels has four units, each a 3×3
conv-BN-LeakyReLU that sees the concatenation of the block input and all earlier units' outputs and adds
g = (C_out − C_in) / 4 channels; the block returns [input, unit1, …, unit4] (so g = 16, 32, 64, 32 for
DenseConv1, 2, 3, 5 at width 1.0).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import NeurofocusError

#: Negative slope of every LeakyReLU.
LEAKY_SLOPE = 0.1
#: Spatial sizes are padded to a multiple of this (two stride-2 stages).
SIZE_MULTIPLE = 4
#: Units per dense block.
DENSE_UNITS = 4


def base_channels(width: float) -> int:
    """c, the first stage's channels: 64 · width rounded to a multiple of 4 (at least 4), so that every dense
    block's growth (C_out − C_in) / 4 is an integer. width 1.0 → 64, 0.5 → 32, 0.25 → 16, 0.125 → 8."""
    try:
        w = float(width)
    except (TypeError, ValueError):
        raise NeurofocusError(f"width must be a positive number, got {width!r}") from None
    if not (w > 0 and w < float("inf")):
        raise NeurofocusError(f"width must be a positive number, got {width!r}")
    return max(4, 4 * round(16 * w))


def activation() -> nn.Module:
    return nn.LeakyReLU(LEAKY_SLOPE)


class ConvBNAct(nn.Sequential):
    """Conv (no bias) → BatchNorm → LeakyReLU(0.1). 'Same' padding for odd kernels; none for strided ones."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1):
        padding = (kernel_size - 1) // 2 if stride == 1 else 0
        super().__init__(nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False),
                         nn.BatchNorm2d(out_channels), activation())


class DeconvBNAct(nn.Sequential):
    """Transposed conv 2×2, stride 2 (no bias) → BatchNorm → LeakyReLU(0.1): doubles H and W."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(nn.ConvTranspose2d(in_channels, out_channels, 2, 2, bias=False),
                         nn.BatchNorm2d(out_channels), activation())


class DenseBlock(nn.Module):
    """Densely connected block of :data:`DENSE_UNITS` 3×3 conv-BN-LeakyReLU units (see the module docstring).

    Parameters
    ----------
    in_channels, out_channels : int
        ``out_channels - in_channels`` must be a positive multiple of the number of units.
    """

    def __init__(self, in_channels: int, out_channels: int, units: int = DENSE_UNITS):
        super().__init__()
        growth, rest = divmod(out_channels - in_channels, units)
        if growth < 1 or rest:
            raise NeurofocusError(f"a dense block of {units} units cannot grow {in_channels} to {out_channels} "
                                  f"channels")
        self.growth = growth
        self.units = nn.ModuleList(ConvBNAct(in_channels + k * growth, growth, 3) for k in range(units))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for unit in self.units:
            features.append(unit(torch.cat(features, dim=1)))
        return torch.cat(features, dim=1)


class ResBlock(nn.Module):
    """Residual block: conv3×3-BN-LeakyReLU-conv3×3-BN plus a shortcut, then LeakyReLU.

    The shortcut is the identity when the channel counts agree, else a 1×1 conv-BN projection. With ``head=True``
    the block produces an output map (merge-weight logits): its second conv and the projection carry a bias instead
    of batch normalisation, and no activation follows the sum.
    """

    def __init__(self, in_channels: int, out_channels: int, *, head: bool = False):
        super().__init__()
        self.conv1 = ConvBNAct(in_channels, out_channels, 3)
        if head:
            self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        else:
            self.conv2 = nn.Sequential(nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
                                       nn.BatchNorm2d(out_channels))
        if in_channels == out_channels:
            self.shortcut = nn.Identity()
        elif head:
            self.shortcut = nn.Conv2d(in_channels, out_channels, 1)
        else:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, bias=False),
                                          nn.BatchNorm2d(out_channels))
        self.act = nn.Identity() if head else activation()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv2(self.conv1(x)) + self.shortcut(x))


class Encoder(nn.Module):
    """One input branch: Conv1, DenseConv1, Conv2 (↓2), DenseConv2, Conv3 (↓2), DenseConv3.

    Returns the three dense blocks' outputs (2c at full, 4c at half and 8c at quarter resolution).
    """

    def __init__(self, in_channels: int, c: int):
        super().__init__()
        self.conv1 = ConvBNAct(in_channels, c, 3)
        self.dense1 = DenseBlock(c, 2 * c)
        self.conv2 = ConvBNAct(2 * c, 2 * c, 2, stride=2)
        self.dense2 = DenseBlock(2 * c, 4 * c)
        self.conv3 = ConvBNAct(4 * c, 4 * c, 2, stride=2)
        self.dense3 = DenseBlock(4 * c, 8 * c)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        d1 = self.dense1(self.conv1(x))
        d2 = self.dense2(self.conv2(d1))
        d3 = self.dense3(self.conv3(d2))
        return d1, d2, d3


class Decoder(nn.Module):
    """Deconv2, Conv5, DenseConv5, Deconv1, Conv6 over the concatenated features of ``branches`` encoders."""

    def __init__(self, c: int, branches: int, out_channels: int):
        super().__init__()
        self.deconv2 = DeconvBNAct(8 * c * branches, 4 * c)
        self.conv5 = ConvBNAct(4 * c * branches + 4 * c, 2 * c, 1)
        self.dense5 = DenseBlock(2 * c, 4 * c)
        self.deconv1 = DeconvBNAct(4 * c, 2 * c)
        self.conv6 = ConvBNAct(2 * c * branches + 2 * c, out_channels, 1)

    def forward(self, features: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        x = self.deconv2(torch.cat([f[2] for f in features], dim=1))
        x = self.dense5(self.conv5(torch.cat([f[1] for f in features] + [x], dim=1)))
        x = self.deconv1(x)
        return self.conv6(torch.cat([f[0] for f in features] + [x], dim=1))


class UNetTrunk(nn.Module):
    """Encoders (one per named input, in order) + the shared decoder; returns Conv6's output (``out_channels``).

    Inputs must have H and W divisible by :data:`SIZE_MULTIPLE` (see :func:`pad_to_multiple`).
    """

    def __init__(self, inputs: Mapping[str, int], c: int, out_channels: int):
        super().__init__()
        self.encoders = nn.ModuleDict({name: Encoder(channels, c) for name, channels in inputs.items()})
        self.decoder = Decoder(c, len(inputs), out_channels)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.decoder([enc(x) for enc, x in zip(self.encoders.values(), inputs, strict=True)])


def _conv_act(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    """3×3 conv (with bias, 'same' padding; stride 2 halves H and W) → LeakyReLU(0.1)."""
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, stride, 1), activation())


class CompactTrunk(nn.Module):
    """A light three-scale U-Net for CPU training (not in the papers): the named inputs concatenated, then

        full:    conv(in → c), conv(c → c)                                    ─────────────┐
        half:    conv↓2(c → 2c), conv(2c → 2c)                                ────┐        │
        quarter: conv↓2(2c → 4c), conv(4c → 4c) × 2                               │        │
        half:    bilinear ×2, conv([4c, skip 2c] → 2c), conv(2c → 2c)          ◄──┘        │
        full:    bilinear ×2, conv([2c, skip c] → c), conv(c → c)              ◄───────────┘

    3×3 convolutions with biases and LeakyReLU(0.1), no batch normalisation (the same computation in training and
    inference, and about 9 convolutions instead of the dense trunk's 40). Returns (B, c, H, W); H and W must be
    multiples of :data:`SIZE_MULTIPLE`.
    """

    def __init__(self, inputs: Mapping[str, int], c: int):
        super().__init__()
        self.scale1 = nn.Sequential(_conv_act(sum(inputs.values()), c), _conv_act(c, c))
        self.scale2 = nn.Sequential(_conv_act(c, 2 * c, 2), _conv_act(2 * c, 2 * c))
        self.scale4 = nn.Sequential(_conv_act(2 * c, 4 * c, 2), _conv_act(4 * c, 4 * c), _conv_act(4 * c, 4 * c))
        self.up2 = nn.Sequential(_conv_act(6 * c, 2 * c), _conv_act(2 * c, 2 * c))
        self.up1 = nn.Sequential(_conv_act(3 * c, c), _conv_act(c, c))

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        full = self.scale1(torch.cat(inputs, dim=1))
        half = self.scale2(full)
        x = F.interpolate(self.scale4(half), scale_factor=2, mode="bilinear", align_corners=False)
        x = self.up2(torch.cat([x, half], dim=1))
        x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        return self.up1(torch.cat([x, full], dim=1))


def pad_to_multiple(x: torch.Tensor, multiple: int = SIZE_MULTIPLE) -> torch.Tensor:
    """Replicate-pad the last two axes of (..., H, W) at the bottom and right up to multiples of ``multiple``.

    Replicate padding works for any size (reflect needs more pixels than the pad); crop back with ``[..., :H, :W]``.
    """
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if not (ph or pw):
        return x
    lead = x.shape[:-2]
    flat = x.reshape(-1, 1, h, w) if x.ndim != 4 else x
    padded = F.pad(flat, (0, pw, 0, ph), mode="replicate")
    return padded.reshape(*lead, h + ph, w + pw) if x.ndim != 4 else padded


def init_weights(module: nn.Module) -> None:
    """He-normal initialisation for LeakyReLU(0.1) convolutions; batch norm to the identity; zero biases."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(m.weight, a=LEAKY_SLOPE, nonlinearity="leaky_relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def check_tensor(x, name: str, shape: tuple, model: str) -> torch.Tensor:
    """Check a float tensor's rank and the sizes given in ``shape`` (None = any); raise NeurofocusError."""
    if not isinstance(x, torch.Tensor):
        raise NeurofocusError(f"{model}: {name} must be a torch tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise NeurofocusError(f"{model}: {name} must be a float tensor, got {x.dtype}")
    if x.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, x.shape)):
        want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise NeurofocusError(f"{model}: {name} must have shape {want}, got {tuple(x.shape)}")
    return x
