"""E2VID: the recurrent U-Net of Rebecq et al. (CVPR 2019 / TPAMI 2019), built from the paper's description.

Layer by layer, with N_b = 32 · width (see :mod:`.recurrent` for the shared encoder):

    head         conv 5×5, num_bins → N_b, ReLU
    encoder 1–3  conv 5×5 stride 2 (C → 2C), ReLU, ConvLSTM 3×3 (2C → 2C)          → N_b·2, ·4, ·8 channels
    2 residual blocks (8·N_b, conv 3×3 ×2)
    decoder 1–3  input + skip (element-wise sum with the encoder output of the same scale: e3, e2, e1),
                 bilinear ×2 upsampling, conv 5×5 (C → C/2), ReLU                    → N_b·4, ·2, ·1 channels
    prediction   (decoder 3 + head), conv 1×1 → 1 channel, sigmoid

so the output is an intensity image in [0, 1]. With width 1.0 and 5 bins the network has 10,710,401 parameters
(EvFocus Table 4 lists E2VID at 10.71 M).

Usage (recurrent)::

    net = create_model("e2vid")
    state = None
    for voxel in voxels:                # (B, 5, H, W) normalised voxel grids, one per window, in time order
        out, state = net(voxel, state)   # out.image: (B, 1, H, W) in [0, 1]

or :func:`.recurrent.reconstruct_sequence` on an :class:`~neurofocus.types.Events` stream.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from .recurrent import (
    NUM_ENCODERS,
    SIZE_MULTIPLE,
    ConvReLU,
    RecurrentEncoder,
    State,
    base_logit,
    check_state,
    check_voxel,
    encoder_channels,
    input_channels,
    model_grid,
    network_input,
    prediction_layer,
    recurrent_base_channels,
    to_image,
)
from .spec import E2VIDConfig, InputSpec, TensorSpec


class E2VIDOutput(NamedTuple):
    """image: (B, 1, H, W) reconstructed intensity in [0, 1]."""

    image: torch.Tensor


class UpsampleConv(nn.Module):
    """Bilinear ×2 upsampling, then conv 5×5 → [BatchNorm] → ReLU (an E2VID decoder layer)."""

    def __init__(self, in_channels: int, out_channels: int, norm: str = "none"):
        super().__init__()
        self.conv = ConvReLU(in_channels, out_channels, 5, norm=norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False))


def voxel_input_spec(model: nn.Module, outputs: tuple[TensorSpec, ...]) -> InputSpec:
    """The input contract shared by E2VID and EvFocus (one voxel grid per call, plus the recurrent state)."""
    b, c = model.config.num_bins, input_channels(model.config)
    if model.config.integrator:
        voxel = TensorSpec("voxel", f"(B, {c}, H, W)", f"channels 0..{b - 1}: mean 0, std 1 over the non-zero "
                           f"voxels; channel {b}: relative log intensity (0 = no change)",
                           f"E2VID voxel grid of one window of events (neurofocus.represent.voxel_grid(window, {b}, "
                           "normalize=True)) and the leaky integrator's log intensity at the window's end, its "
                           "state carried over the stream (recurrent.VoxelGrid(integrator=True).stream(events)); "
                           "call once per window in time order")
    else:
        voxel = TensorSpec("voxel", f"(B, {b}, H, W)", "normalised: mean 0, std 1 over the non-zero voxels",
                           f"E2VID voxel grid of one window of events: neurofocus.represent.voxel_grid(window, {b}, "
                           f"normalize=True) (recurrent.VoxelGrid); call once per window in time order")
    s = model.config.downscale
    scale = "2^k" if s == 1 else f"({s}·2^k)"
    state = TensorSpec("state", f"None or 3 × (h, c), (B, N_b·2^k, H'/{scale}, W'/{scale}), k = 1..3",
                       "as returned", "the ConvLSTM states of the previous call (None starts a new sequence); "
                       f"H', W' = H, W padded to a multiple of {SIZE_MULTIPLE * s}")
    return InputSpec(model.name, "events", (voxel, state), outputs, model_grid(model),
                     size_multiple=SIZE_MULTIPLE * s)


class E2VID(nn.Module):
    """The E2VID recurrent U-Net (module docstring). Build it with ``create_model("e2vid", width=..., ...)``.

    ``forward(voxel, state=None) -> (E2VIDOutput, new_state)``: ``voxel`` float32 (B, num_bins [+ 1], H, W) (the
    integrator image last with ``config.integrator``, :mod:`.recurrent`), any H, W ≥ 1 (zero-padded to a multiple
    of 8 internally, cropped back); ``state`` None or the state returned by the previous call. ``model.input_spec``
    states the contract.
    """

    def __init__(self, config: E2VIDConfig, name: str = "e2vid"):
        super().__init__()
        self.name = name
        self.config = config
        base = recurrent_base_channels(config.width)
        self.encoder = RecurrentEncoder(encoder_channels(config), base, config.norm)
        self.decoders = nn.ModuleList(UpsampleConv(base * 2 ** (NUM_ENCODERS - k), base * 2 ** (NUM_ENCODERS - k - 1),
                                                   config.norm) for k in range(NUM_ENCODERS))
        self.pred = prediction_layer(config, base)

    @property
    def input_spec(self) -> InputSpec:
        out = TensorSpec("image", "(B, 1, H, W)", "[0, 1]", "reconstructed intensity image (sigmoid output)")
        return voxel_input_spec(self, (out,))

    def forward(self, voxel: torch.Tensor, state: State | None = None) -> tuple[E2VIDOutput, State]:
        check_voxel(self, voxel)
        h, w = voxel.shape[-2:]
        x, low = network_input(self, voxel)
        state = check_state(self, self.encoder, state, low)
        y, skips, new_state = self.encoder(low, state)
        for k, decoder in enumerate(self.decoders):
            y = decoder(y + skips[NUM_ENCODERS - k])
        image = to_image(self.pred(y + skips[0]), base_logit(self, x), self.config.downscale)
        return E2VIDOutput(image[..., :h, :w]), new_state
