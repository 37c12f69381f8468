"""Training losses.

Refocus and merge networks (NFS Eq. 17): :class:`TrainingLoss`, L = β · MSE + α · L_perc, β = 200, α = 0.5.
The paper's perceptual term uses VGG-19 features pre-trained on ImageNet; no VGG-19 weights exist offline, so
:func:`neurofocus.metrics.perceptual.perceptual_loss` uses VGG-16 features (relu1_2 … relu4_3) from weights shipped in
the package (a documented deviation). The VGG network is frozen and loaded only when its weight is non-zero.
An option that is not in the papers (``focus_weight``) weights the MSE towards the pixels in focus at the target
time, the only pixels of a refocused slice that the all-in-focus merge uses.

EvFocus and E2VID on event sequences: :class:`SequenceLoss` over the L reconstructions of a training sequence,
with the temporal consistency term :func:`temporal_consistency` (Lai et al. 2018, Eq. 2; EvFocus Eq. 21) warped
with the simulator's exact optical flow (:func:`warp_by_flow`). See :class:`SequenceLoss` for the formulas.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import NeurofocusError

#: β and α of NFS Eq. 17.
MSE_WEIGHT = 200.0
PERCEPTUAL_WEIGHT = 0.5


def _perceptual():
    try:
        from ..metrics.perceptual import perceptual_loss
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
    focus_weight : float
        λ of the in-focus emphasis (0: the papers' plain MSE). With a focus map m ∈ [0, 1] (how nearly each pixel
        is in focus at the target time, see :class:`.refocus_pairs.RefocusPairs`), the MSE term becomes
        Σ (1 + λ·m)·(pred − target)² / Σ (1 + λ·m) over pixels and channels: the pixels that the all-in-focus merge
        takes from this slice count 1 + λ times as much as the defocused rest.

    ``forward(pred, target, focus=None)`` takes float32 (B, 3, H, W) sRGB images in [0, 1] (and the focus map
    (B, 1, H, W), needed when ``focus_weight`` > 0) and returns a dict of scalar tensors: ``loss`` (the weighted
    sum, to back-propagate), ``mse`` and ``perceptual`` (the terms, detached; a skipped term is 0).
    """

    def __init__(self, mse_weight: float = MSE_WEIGHT, perceptual_weight: float = PERCEPTUAL_WEIGHT,
                 focus_weight: float = 0.0):
        super().__init__()
        for name, value in (("mse_weight", mse_weight), ("perceptual_weight", perceptual_weight),
                            ("focus_weight", focus_weight)):
            if not (float(value) >= 0 and float(value) < float("inf")):
                raise NeurofocusError(f"{name} must be a non-negative number, got {value!r}")
        if float(mse_weight) == 0 and float(perceptual_weight) == 0:
            raise NeurofocusError("both loss weights are zero: nothing to train on")
        self.mse_weight = float(mse_weight)
        self.perceptual_weight = float(perceptual_weight)
        self.focus_weight = float(focus_weight)
        self._perceptual_loss = _perceptual() if self.perceptual_weight > 0 else None

    def forward(self, pred: torch.Tensor, target: torch.Tensor, focus: torch.Tensor | None = None
                ) -> dict[str, torch.Tensor]:
        if pred.shape != target.shape or pred.ndim != 4 or pred.shape[1] != 3:
            raise NeurofocusError(f"loss: expected two (B, 3, H, W) images, got {tuple(pred.shape)} and "
                                  f"{tuple(target.shape)}")
        zero = pred.new_zeros(())
        if self.mse_weight == 0:
            mse = zero
        elif self.focus_weight > 0:
            if focus is None or focus.shape != (pred.shape[0], 1, *pred.shape[2:]):
                raise NeurofocusError(f"loss: focus_weight > 0 needs a (B, 1, H, W) focus map, got "
                                      f"{None if focus is None else tuple(focus.shape)}")
            weight = 1 + self.focus_weight * focus
            mse = torch.sum(weight * (pred - target) ** 2) / (torch.sum(weight) * pred.shape[1])
        else:
            mse = torch.mean((pred - target) ** 2)
        perc = self._perceptual_loss(pred, target) if self._perceptual_loss is not None else zero
        loss = self.mse_weight * mse + self.perceptual_weight * perc
        return {"loss": loss, "mse": mse.detach(), "perceptual": perc.detach()}


# sequences (EvFocus, E2VID) ------------------------------------------------------------------------------------------
#: λ1..λ4 of EvFocus Eq. 23 and λ of Eq. 22.
EVFOCUS_WEIGHTS = (4.0, 1.0, 7.0, 1.0)
TCP_WEIGHT = 0.75
#: α of the occlusion weight (Lai et al.; the E2VID+ code's value).
TC_ALPHA = 50.0


def warp_by_flow(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample ``image`` at p + flow(p) for every pixel p (bilinear; zero outside the image).

    With ``flow`` the forward flow from frame k − 1 to frame k (the point at pixel p of frame k − 1 is at p + flow(p)
    in frame k) and ``image`` frame k, the result is frame k brought onto frame k − 1's pixel grid: where the flow is
    exact and the point visible in both frames, it equals frame k − 1.

    Parameters
    ----------
    image : torch.Tensor
        (B, C, H, W).
    flow : torch.Tensor
        (B, 2, H, W), (dx, dy) in pixels.

    Returns
    -------
    torch.Tensor
        (B, C, H, W), differentiable in ``image`` (and ``flow``).
    """
    if image.ndim != 4 or flow.ndim != 4 or flow.shape[1] != 2 or flow.shape[0] != image.shape[0] \
            or flow.shape[-2:] != image.shape[-2:]:
        raise NeurofocusError(f"warp_by_flow: expected (B, C, H, W) and (B, 2, H, W), got {tuple(image.shape)} and "
                              f"{tuple(flow.shape)}")
    _, _, h, w = image.shape
    ys = torch.arange(h, device=flow.device, dtype=flow.dtype).view(1, h, 1)
    xs = torch.arange(w, device=flow.device, dtype=flow.dtype).view(1, 1, w)
    x = xs + flow[:, 0]
    y = ys + flow[:, 1]
    # align_corners=True: −1 and 1 are the centres of the first and last pixels
    grid = torch.stack([2 * x / max(w - 1, 1) - 1, 2 * y / max(h - 1, 1) - 1], dim=-1)
    return F.grid_sample(image, grid.to(image.dtype), mode="bilinear", padding_mode="zeros", align_corners=True)


def temporal_consistency(previous: torch.Tensor, current: torch.Tensor, previous_gt: torch.Tensor,
                         current_gt: torch.Tensor, flow: torch.Tensor, valid: torch.Tensor | None = None,
                         alpha: float = TC_ALPHA) -> torch.Tensor:
    """Temporal consistency loss of two consecutive reconstructions (Lai et al. 2018 Eq. 2; EvFocus Eq. 21).

    L_TC = mean_p M(p) · |Î_k(p + f(p)) − Î_{k−1}(p)|,  M = valid · exp(−α (I_k(p + f(p)) − I_{k−1}(p))²)

    with f the exact forward flow from frame k − 1 to k and I the ground-truth frames: the warping error of the
    reconstructions, evaluated on frame k − 1's pixel grid (the simulator stores the forward flow, which maps
    frame k − 1's pixels exactly; Eq. 21 warps Î_{k−1} onto frame k, the same comparison at the corresponding
    points), weighted by Lai et al.'s occlusion weight and by where the flow is defined. The mean is over all
    pixels (Lai et al.'s 1/N), so undefined pixels count as zero error.

    Parameters
    ----------
    previous, current : torch.Tensor
        Reconstructions Î_{k−1}, Î_k, (B, C, H, W).
    previous_gt, current_gt : torch.Tensor
        Ground truth I_{k−1}, I_k, (B, C, H, W) (no gradient needed).
    flow : torch.Tensor
        (B, 2, H, W) forward flow from k − 1 to k, pixels.
    valid : torch.Tensor, optional
        (B, H, W) or (B, 1, H, W), 1 where the flow is defined (default everywhere).
    alpha : float
        α of the occlusion weight (0: no weighting).

    Returns
    -------
    torch.Tensor
        (B,) loss per item.
    """
    warped = warp_by_flow(current, flow)
    with torch.no_grad():
        weight = torch.exp(-alpha * (warp_by_flow(current_gt, flow) - previous_gt) ** 2)
        if valid is not None:
            valid = valid.to(weight.dtype)
            weight = weight * (valid[:, None] if valid.ndim == 3 else valid)
    return (weight * (warped - previous).abs()).flatten(1).mean(dim=1)


def ssim_index(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Differentiable SSIM of (N, 1, H, W) images (H, W >= 11), (N,): :func:`neurofocus.metrics.ssim`'s definition
    (11×11 Gaussian window, σ = 1.5, population statistics, the valid region only)."""
    r, sigma = 5, 1.5
    g = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=x.dtype, device=x.device) / sigma) ** 2)
    g = g / g.sum()

    def blur(a):
        return F.conv2d(F.conv2d(a, g.view(1, 1, 1, -1)), g.view(1, 1, -1, 1))

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mx, my = blur(x), blur(y)
    vx, vy, cov = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    ssim_map = (2 * mx * my + c1) / (mx * mx + my * my + c1) * (2 * cov + c2) / (vx + vy + c2)
    return ssim_map.flatten(1).mean(dim=1)


def _gray3(x: torch.Tensor) -> torch.Tensor:
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


class SequenceLoss(nn.Module):
    """The training loss of EvFocus or E2VID over a sequence of L windows.

    Each term is averaged over the L reconstructions (the temporal term over the consecutive pairs from window L0
    on) and over the batch; LPIPS is :class:`neurofocus.metrics.LPIPS` (frozen, the gray images repeated to three
    channels).

    EvFocus (Eq. 10 / 23, appendix B.4)::

        L = λ1 · LPIPS(aligned, sharp) + λ2 · LPIPS(blurred, defocused) + λ3 · L_TCP + λ4 · |blurred − redefocused|₁
        L_TCP = λ · LPIPS(image, sharp) + w_TC · L_TC(image)                               (Eq. 22; w_TC = 1)

    with λ1..λ4 = 4, 1, 7, 1 and λ = 0.75; "sharp" and "defocused" are the ground-truth frames (gray), the four
    outputs those of :class:`~neurofocus.models.evfocus.EvFocusOutput`. The paper gives L1 between the blur
    decoder's prediction and the re-defocus module's output without a stop-gradient; both receive its gradient.

    E2VID (as the E2VID+ training code)::

        L = LPIPS(image, sharp) + w_TC · L_TC(image)       (w_TC = 2, LPIPS-VGG)

    Either loss plus ``l1_weight`` · mean |image − sharp| (column ``l1``) and ``ssim_weight`` · mean (1 −
    SSIM(image, sharp)) (:func:`ssim_index`, column ``ssim``) when their weights are > 0; neither is in the papers.

    Parameters
    ----------
    task : {"evfocus", "e2vid"}
    lpips_net : {"alex", "vgg"}
    evfocus_weights : 4 floats
        λ1..λ4 (EvFocus only).
    tcp_weight : float
        λ (EvFocus only).
    tc_weight : float
        w_TC.
    tc_start : int
        L0: temporal pairs (i − 1, i) with i >= max(L0, 1) count.
    tc_alpha : float
        α of :func:`temporal_consistency`.
    l1_weight, ssim_weight : float
        Weights of the added L1 and 1 − SSIM terms (0: the papers' losses).

    ``forward(outputs, batch)``: ``outputs`` a dict of (B, L, 1, h, w) tensors (``image``, and for EvFocus
    ``aligned``, ``blurred``, ``redefocused``), ``batch`` the :class:`~.video.VideoSequences` batch (``sharp``,
    ``defocused`` (B, L, 1, h, w), ``flow`` (B, L − 1, 2, h, w), ``flow_valid`` (B, L − 1, h, w)) on the outputs'
    device. Returns a dict of scalars: ``loss`` (to back-propagate) and the unweighted terms (detached) named in
    :attr:`columns`.
    """

    def __init__(self, task: str, *, lpips_net: str = "alex", evfocus_weights=EVFOCUS_WEIGHTS,
                 tcp_weight: float = TCP_WEIGHT, tc_weight: float = 1.0, tc_start: int = 2,
                 tc_alpha: float = TC_ALPHA, l1_weight: float = 0.0, ssim_weight: float = 0.0):
        super().__init__()
        if task not in ("evfocus", "e2vid"):
            raise NeurofocusError(f"SequenceLoss is for evfocus or e2vid, got {task!r}")
        from ..metrics import LPIPS

        self.task = task
        self.lpips = LPIPS(lpips_net)
        self.evfocus_weights = tuple(float(w) for w in evfocus_weights)
        self.tcp_weight = float(tcp_weight)
        self.tc_weight = float(tc_weight)
        self.tc_start = int(tc_start)
        self.tc_alpha = float(tc_alpha)
        self.l1_weight = float(l1_weight)
        self.ssim_weight = float(ssim_weight)

    @property
    def columns(self) -> tuple[str, ...]:
        """Names of the returned terms, ``loss`` first."""
        columns = ("loss", "lpips", "lpips_aligned", "lpips_blurred", "tc", "redefocus_l1") \
            if self.task == "evfocus" else ("loss", "lpips", "tc")
        return columns + (("l1",) if self.l1_weight else ()) + (("ssim",) if self.ssim_weight else ())

    def temporal(self, image: torch.Tensor, batch: dict) -> torch.Tensor:
        """Mean temporal consistency of a (B, L, C, h, w) sequence over its pairs from L0 on (0 if none)."""
        b, length = image.shape[:2]
        first = max(self.tc_start, 1)
        if first >= length:
            return image.new_zeros(())
        n = length - first

        def pairs(x, start):
            return x[:, start:start + n].reshape(b * n, *x.shape[2:])

        sharp = batch["sharp"]
        return temporal_consistency(pairs(image, first - 1), pairs(image, first), pairs(sharp, first - 1),
                                    pairs(sharp, first), pairs(batch["flow"], first - 1),
                                    pairs(batch["flow_valid"], first - 1), self.tc_alpha).mean()

    def forward(self, outputs: dict, batch: dict) -> dict[str, torch.Tensor]:
        image = outputs["image"]
        if image.ndim != 5 or batch["sharp"].shape != image.shape:
            raise NeurofocusError(f"SequenceLoss: expected (B, L, 1, h, w) outputs and targets, got "
                                  f"{tuple(image.shape)} and {tuple(batch['sharp'].shape)}")
        def flat(x):
            return _gray3(x.flatten(0, 1))

        tc = self.temporal(image, batch)
        terms = self._paper_terms(image, outputs, batch, tc, flat)
        if self.l1_weight:
            l1 = (image - batch["sharp"]).abs().mean()
            terms["loss"] = terms["loss"] + self.l1_weight * l1
            terms["l1"] = l1.detach()
        if self.ssim_weight:
            similarity = ssim_index(image.flatten(0, 1), batch["sharp"].flatten(0, 1)).mean()
            terms["loss"] = terms["loss"] + self.ssim_weight * (1 - similarity)
            terms["ssim"] = similarity.detach()
        return terms

    def _paper_terms(self, image, outputs, batch, tc, flat) -> dict[str, torch.Tensor]:
        """The paper's loss (``loss``) and its unweighted terms."""
        if self.task == "e2vid":
            lp = self.lpips(flat(image), flat(batch["sharp"])).mean()
            loss = lp + self.tc_weight * tc
            return {"loss": loss, "lpips": lp.detach(), "tc": tc.detach()}
        count = image.shape[0] * image.shape[1]
        distances = self.lpips(torch.cat([flat(image), flat(outputs["aligned"]), flat(outputs["blurred"])]),
                               torch.cat([flat(batch["sharp"]), flat(batch["sharp"]), flat(batch["defocused"])]))
        lp, lp_aligned, lp_blurred = (d.mean() for d in distances.split(count))
        l1 = (outputs["blurred"] - outputs["redefocused"]).abs().mean()
        w1, w2, w3, w4 = self.evfocus_weights
        loss = w1 * lp_aligned + w2 * lp_blurred + w3 * (self.tcp_weight * lp + self.tc_weight * tc) + w4 * l1
        return {"loss": loss, "lpips": lp.detach(), "lpips_aligned": lp_aligned.detach(),
                "lpips_blurred": lp_blurred.detach(), "tc": tc.detach(), "redefocus_l1": l1.detach()}
