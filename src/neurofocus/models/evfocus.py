"""EvFocus (Zhu, Ma, Wang, Wang, Huang, ICML 2025): sharp intensity images from out-of-focus event streams.

Built from the paper's §4 and appendix B (no code of EvFocus is public). N_b = 32 · width; "C@s" = C channels at
1/s of the (padded) input resolution; all convolutions 'same'-padded.

Temporal information encoder (§4, B.1) — the E2VID encoder (:class:`.recurrent.RecurrentEncoder`)
    head conv 5×5 (num_bins → N_b) + ReLU                                              N_b@1
    encoders k = 1..3: conv 5×5 stride 2 (C → 2C) + ReLU, ConvLSTM 3×3 (2C → 2C), state s_k  2N_b@2, 4N_b@4, 8N_b@8
    2 residual blocks at 8N_b (inferred, see "Decisions")                                 8N_b@8 = "N_b × 2³"

Blur-aware two-branch decoder (§4)
    Both decoders D_blur and D_align start from the same encoded feature r + e3 (bottleneck plus the E2VID skip).
    Each has three blocks "bilinear upsampling and a convolutional block with a kernel size of 5, followed by ReLU
    and BN": upsample ×2 → conv 5×5 → ReLU → BatchNorm. At scale k the E2VID skip s_k (e2, e1, head) is added to
    both branches' block outputs, and the cross fusion (CF) "applies ReLU activation to the two features … and then
    concatenates them along the channel dimension"; the concatenation is the next align block's input:

        b_k = D_blur,k(b_{k−1}) + s_k          a_k = D_align,k(CF_{k−1}) + s_k        CF_k = [ReLU(a_k), ReLU(b_k)]

    channels: D_blur 8N_b → 4N_b → 2N_b → N_b;  D_align 8N_b → 4N_b, 8N_b → 2N_b, 4N_b → N_b;  CF_k: 8N_b, 4N_b, 2N_b.
    F_blur = b_3 (N_b@1), F_align = CF_3 (2N_b@1).

Prediction layers and the reconstruction / re-defocus modules (§4, B.2–B.4)
    blurred     = σ(conv1×1(F_blur))                           Î₁, LPIPS against the defocused ground truth (LR²)
    aligned     = σ(conv1×1(F_align))                          Î₂, LPIPS against the sharp ground truth (LR¹)
    redefocused = σ(conv1×1(MHCA^n(F_align)))   re-defocus     Î′, L1 against ``blurred`` (the L₁ term)
    image       = σ(conv1×1(MHCA^n(F_align)))   reconstruction Î,  the final sharp image (L^TCP: LPIPS + temporal)

    with n = ``mhca_blocks`` (2) cascaded multi-head channel attention blocks per module, each (Eq. 8–9)

        X′ = W_p · Attention(Q, K, V) + X,   Attention = V · softmax(K·Q / α)

    on Y = LayerNorm(X) (over channels, per pixel): Q, K, V = depthwise 3×3 conv of a pointwise 1×1 conv of Y
    (C → 3C, no biases); per head, Q and K are L2-normalised over the pixels and the C/h × C/h attention map
    softmax(Q Kᵀ / α) (α a learnable scale per head, initialised to 1) is applied to V; W_p is a 1×1 conv (no bias).

The total loss (Eq. 10/23), for a training loop to assemble from the outputs: 4·LPIPS(aligned, sharp) +
1·LPIPS(blurred, defocused) + 7·(0.75·LPIPS(image, sharp) + temporal consistency of ``image``) + 1·‖blurred −
redefocused‖₁.

Parameters at width 1.0, 5 bins: 12,115,892 (the paper: 12.11 M; Table 4). Layer by layer:
encoder 9,634,944 (head 4,032, three stages 7,270,592, residual blocks 2,360,320), D_blur 1,075,872,
D_align 1,331,872, four prediction layers 228, four MHCA blocks 4 × 18,244 = 72,976.

Decisions where the paper is silent or ambiguous
    * Residual blocks: not named in the text; "similar to E2VID" and the parameter count (without them the network
      would have ~9.8 M, not 12.1 M) say they are there, as in E2VID (2 blocks at 8N_b).
    * Skip connections: not named; E2VID's element-wise sums are used (the CF's ReLU then acts on the skip-summed
      features, which can be negative: ConvLSTM outputs lie in (−1, 1)).
    * Decoder block order: literally conv → ReLU → BN as the text says ("followed by ReLU and BN"); E2VID's code
      order would be conv → BN → ReLU. Convolutions followed by ReLU then BN keep their bias.
    * Encoder normalisation: none (the text names BN only for the decoder blocks).
    * The re-defocus and reconstruction modules both take F_align, in parallel (§4: "the aligned feature first
      passes through a Re-defocus module and a Reconstruction module"; B.2: "Finally, the aligned feature passes
      through the Reconstruction module").
    * MHCA internals (LayerNorm, 1×1 + depthwise 3×3 Q/K/V, L2-normalised Q and K, per-head α) follow the
      transposed-attention design the paper cites (Eq. 8–9 are that design's equations); no feed-forward network
      (Eq. 8 has none, and two GDFN-style feed-forward layers per module would add ~143 k parameters, away from
      12.1 M). Heads: not given, 4 by default (``heads``); blocks per module: "cascaded", 2 by default.
    * Prediction layers: 1×1 conv + sigmoid, as E2VID's (every output is an image in [0, 1]).
    * Initialisation: PyTorch defaults (the paper gives none); α = 1.
    * Input: the normalised E2VID voxel grid with 5 bins (the paper: "5-channel voxel-grids", E2VID-style training
      data after Stoffregen et al.).

Deliberate deviation, off by default: ``config.integrator`` adds the leaky event integrator's image as a sixth
input channel and makes all four outputs zero-initialised corrections of it (:mod:`.recurrent`, "Integrator
input"); the paper's network has no such input. The shipped weights use it (see the weights' model card).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import NeurofocusError
from .e2vid import voxel_input_spec
from .recurrent import (
    NUM_ENCODERS,
    RecurrentEncoder,
    State,
    base_logit,
    check_state,
    check_voxel,
    encoder_channels,
    network_input,
    prediction_layer,
    recurrent_base_channels,
    to_image,
)
from .spec import EvFocusConfig, InputSpec, TensorSpec


class EvFocusOutput(NamedTuple):
    """The four images of EvFocus, each (B, 1, H, W) in [0, 1] (module docstring).

    image: the final sharp reconstruction (reconstruction module); aligned: the align decoder's prediction (sharp
    ground truth); blurred: the blur decoder's prediction (defocused ground truth); redefocused: the re-defocus
    module's output (L1 against ``blurred``).
    """

    image: torch.Tensor
    aligned: torch.Tensor
    blurred: torch.Tensor
    redefocused: torch.Tensor


class ChannelLayerNorm(nn.Module):
    """Layer normalisation over the channels of each pixel of (B, C, H, W), with a learned scale and shift."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=1, keepdim=True)
        var = (x - mean).pow(2).mean(dim=1, keepdim=True)
        x = (x - mean) * torch.rsqrt(var + self.eps)
        return x * self.weight[:, None, None] + self.bias[:, None, None]


class MultiHeadChannelAttention(nn.Module):
    """One MHCA block (EvFocus Eq. 8–9): X′ = W_p · Attention(Q, K, V) + X with a C/h × C/h attention map per head.

    Parameters
    ----------
    channels : int
        C; must be divisible by ``heads``.
    heads : int
    """

    def __init__(self, channels: int, heads: int):
        super().__init__()
        if channels % heads:
            raise NeurofocusError(f"{heads} attention heads do not divide {channels} channels")
        self.heads = heads
        self.norm = ChannelLayerNorm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1, bias=False)
        self.qkv_dw = nn.Conv2d(3 * channels, 3 * channels, 3, padding=1, groups=3 * channels, bias=False)
        self.alpha = nn.Parameter(torch.ones(heads, 1, 1))
        self.project = nn.Conv2d(channels, channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv_dw(self.qkv(self.norm(x))).chunk(3, dim=1)
        q, k, v = (t.reshape(b, self.heads, c // self.heads, h * w) for t in (q, k, v))
        q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        attention = torch.softmax((q @ k.transpose(-2, -1)) / self.alpha, dim=-1)  # (B, heads, C/h, C/h)
        return self.project((attention @ v).reshape(b, c, h, w)) + x


class ImageModule(nn.Sequential):
    """``blocks`` cascaded MHCA blocks, then a 1×1 prediction conv (logits; sigmoid outside)."""

    def __init__(self, channels: int, heads: int, blocks: int, prediction: nn.Conv2d):
        super().__init__(*(MultiHeadChannelAttention(channels, heads) for _ in range(blocks)), prediction)


class DecoderBlock(nn.Module):
    """Bilinear ×2 upsampling → conv 5×5 → ReLU → BatchNorm (an EvFocus decoder block, in the text's order)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 5, padding=2)
        self.norm = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        return self.norm(F.relu(self.conv(x)))


def cross_fusion(align: torch.Tensor, blur: torch.Tensor) -> torch.Tensor:
    """CF: [ReLU(align), ReLU(blur)] concatenated along the channels."""
    return torch.cat([F.relu(align), F.relu(blur)], dim=1)


class EvFocus(nn.Module):
    """EvFocus (module docstring). Build it with ``create_model("evfocus", width=..., ...)``.

    ``forward(voxel, state=None) -> (EvFocusOutput, new_state)``: ``voxel`` float32 (B, num_bins [+ 1], H, W), the
    normalised E2VID voxel grid of one window of events (and the integrator image with ``config.integrator``), any
    H, W ≥ 1 (zero-padded to a multiple of 8 internally, outputs cropped back); ``state`` None (new sequence) or the state returned by the previous call.
    ``model.input_spec`` states the contract.
    """

    def __init__(self, config: EvFocusConfig, name: str = "evfocus"):
        super().__init__()
        self.name = name
        self.config = config
        base = recurrent_base_channels(config.width)
        if (2 * base) % config.heads:
            raise NeurofocusError(f"heads={config.heads} must divide the aligned feature's {2 * base} channels "
                                  f"(width {config.width:g})")
        self.encoder = RecurrentEncoder(encoder_channels(config), base, "none")
        top = base * 2 ** NUM_ENCODERS
        self.blur_decoder = nn.ModuleList(DecoderBlock(top >> k, top >> (k + 1)) for k in range(NUM_ENCODERS))
        # align block 1 sees the encoded feature (8N_b); blocks 2 and 3 the previous CF (2 × their output)
        self.align_decoder = nn.ModuleList(DecoderBlock(top if k == 0 else 2 * (top >> k), top >> (k + 1))
                                           for k in range(NUM_ENCODERS))
        self.blur_pred = prediction_layer(config, base)
        self.align_pred = prediction_layer(config, 2 * base)
        self.redefocus = ImageModule(2 * base, config.heads, config.mhca_blocks, prediction_layer(config, 2 * base))
        self.reconstruction = ImageModule(2 * base, config.heads, config.mhca_blocks,
                                          prediction_layer(config, 2 * base))

    @property
    def input_spec(self) -> InputSpec:
        outs = (TensorSpec("image", "(B, 1, H, W)", "[0, 1]", "the sharp reconstruction (reconstruction module)"),
                TensorSpec("aligned", "(B, 1, H, W)", "[0, 1]",
                           "the align decoder's prediction (supervised by the sharp image, LR¹)"),
                TensorSpec("blurred", "(B, 1, H, W)", "[0, 1]",
                           "the blur decoder's prediction (supervised by the defocused image, LR²)"),
                TensorSpec("redefocused", "(B, 1, H, W)", "[0, 1]",
                           "the re-defocus module's output (L1 against blurred)"))
        return voxel_input_spec(self, outs)

    def forward(self, voxel: torch.Tensor, state: State | None = None) -> tuple[EvFocusOutput, State]:
        check_voxel(self, voxel)
        h, w = voxel.shape[-2:]
        x, low = network_input(self, voxel)
        base, scale = base_logit(self, x), self.config.downscale
        state = check_state(self, self.encoder, state, low)
        r, skips, new_state = self.encoder(low, state)
        blur = align = r + skips[NUM_ENCODERS]
        for k in range(NUM_ENCODERS):
            skip = skips[NUM_ENCODERS - 1 - k]
            blur = self.blur_decoder[k](blur) + skip
            align = cross_fusion(self.align_decoder[k](align) + skip, blur)
        out = EvFocusOutput(image=to_image(self.reconstruction(align), base, scale),
                            aligned=to_image(self.align_pred(align), base, scale),
                            blurred=to_image(self.blur_pred(blur), base, scale),
                            redefocused=to_image(self.redefocus(align), base, scale))
        return EvFocusOutput(*(t[..., :h, :w] for t in out)), new_state
