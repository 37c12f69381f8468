"""The training loss of both networks (NFS Eq. 17): L = β · MSE + α · L_perc, β = 200, α = 0.5.

The paper's perceptual term uses VGG-19 features pre-trained on ImageNet; no VGG-19 weights exist offline, so
:func:`neurofocus.models.vgg.perceptual_loss` uses VGG-16 features (relu1_2 … relu4_3) from weights shipped in
the package (a documented deviation). The VGG network is frozen and loaded only when its weight is non-zero.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import NeurofocusError

#: β and α of NFS Eq. 17.
MSE_WEIGHT = 200.0
PERCEPTUAL_WEIGHT = 0.5


def _perceptual():
    try:
        from ..models.vgg import perceptual_loss
    except ImportError as exc:
        raise NeurofocusError(f"the perceptual loss is not available ({exc}); train with perceptual_weight 0 "
                              f"(--perceptual-weight 0)") from None
    return perceptual_loss


class TrainingLoss(nn.Module):
    """``mse_weight · MSE(pred, target) + perceptual_weight · perceptual(pred, target)``.

    Parameters
    ----------
    mse_weight, perceptual_weight : float
        β and α (defaults: the papers' 200 and 0.5); a zero weight skips its term.

    ``forward(pred, target)`` takes float32 (B, 3, H, W) sRGB images in [0, 1] and returns a dict of scalar
    tensors: ``loss`` (the weighted sum, to back-propagate), ``mse`` and ``perceptual`` (the unweighted terms,
    detached; a skipped term is 0).
    """

    def __init__(self, mse_weight: float = MSE_WEIGHT, perceptual_weight: float = PERCEPTUAL_WEIGHT):
        super().__init__()
        for name, value in (("mse_weight", mse_weight), ("perceptual_weight", perceptual_weight)):
            if not (float(value) >= 0 and float(value) < float("inf")):
                raise NeurofocusError(f"{name} must be a non-negative number, got {value!r}")
        if float(mse_weight) == 0 and float(perceptual_weight) == 0:
            raise NeurofocusError("both loss weights are zero: nothing to train on")
        self.mse_weight = float(mse_weight)
        self.perceptual_weight = float(perceptual_weight)
        self._perceptual_loss = _perceptual() if self.perceptual_weight > 0 else None

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        if pred.shape != target.shape or pred.ndim != 4 or pred.shape[1] != 3:
            raise NeurofocusError(f"loss: expected two (B, 3, H, W) images, got {tuple(pred.shape)} and "
                                  f"{tuple(target.shape)}")
        zero = pred.new_zeros(())
        mse = torch.mean((pred - target) ** 2) if self.mse_weight > 0 else zero
        perc = self._perceptual_loss(pred, target) if self._perceptual_loss is not None else zero
        loss = self.mse_weight * mse + self.perceptual_weight * perc
        return {"loss": loss, "mse": mse.detach(), "perceptual": perc.detach()}
