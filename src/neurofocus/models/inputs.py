"""Network inputs built from the project's types: event bins, spike-rate bins, per-slice neuromorphic channels.

Every network of :mod:`neurofocus.models` sees the neuromorphic focal stack (NFS) through one of four settings
objects, which hold only parameters and call the functional kernels of :mod:`neurofocus.represent.nfs_channels` (they are stored
in the model's config, so a trained network carries the exact representation it was trained on):

:class:`EventBinning` (refocus networks, events)
    The events between the image time ``t_img`` and the target time ``t`` in B bins of equal duration (or of equal
    event count), signed counts Σp per pixel times ``count_scale``. Direction-aware: bin 0 is always the bin next to
    the image time and a bin holds the log-intensity change *in the direction of travel*, so for a target before
    the image the bins of [t, t_img) are reversed and negated (going backwards, an ON event means the pixel gets
    darker). Every event of the window lands in exactly one bin (no remainder is dropped), so the sum over the bins
    is ``count_scale`` times the signed count from t_img to t, as :meth:`PolarityTable.net` defines it.

:class:`SpikeBinning` (refocus networks, spikes)
    B consecutive TFP frames of ``ticks_per_bin`` ticks each, centred on the target time's tick: spikes per tick
    in [0, 1] (the spike camera's firing rate is proportional to intensity). Bins reaching past the recording are
    clipped to it, and a bin entirely outside repeats the nearest frame inside.

:class:`EventSlicing` / :class:`SpikeSlicing` (merge networks)
    One channel per refocused image at time t_k, from a window of ± ``window_fraction`` × the sweep duration
    around t_k (EFS uses ± 1/64 of the sweep). Events: ``mode="flip"`` gives (Σp after t_k − Σp before t_k) ×
    ``count_scale`` — around a pixel's in-focus time the defocus blur shrinks and grows again, so its events before
    and after carry opposite polarities (the polarity symmetry of NFS Eq. 12) and this channel peaks in magnitude
    there; ``mode="signed"`` gives the plain net count Σp over the window (as the EFS inference code). Spikes: the
    TFP firing rate over the window.

Images enter the networks as float32 (B, 3, H, W) sRGB in [0, 1] (:func:`image_to_tensor`); :func:`refocus_inputs`
and :func:`merge_inputs` build the complete, batched inputs of a model from a :class:`~neurofocus.types.FocalSweep`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from ..config_dicts import from_dict, positive_float as _positive_float, positive_int as _positive_int
from ..errors import NeurofocusError
from ..represent import DEFAULT_COUNT_SCALE, event_bins, event_slices, spike_bins, spike_slices
from ..types import Events, FocalSweep, Spikes, check_image


@dataclasses.dataclass(frozen=True)
class EventBinning:
    """Events between the image time and a target time → (num_bins, H, W) float32 (see the module docstring).

    Attributes
    ----------
    num_bins : int
        B, the number of bins (the refocus networks' NFS channels; 64 in the papers).
    count_scale : float
        Factor applied to the signed counts.
    binning : {"time", "count"}
        Equal durations of the window, or equal event counts (sizes differ by at most one event).
    """

    num_bins: int = 64
    count_scale: float = DEFAULT_COUNT_SCALE
    binning: str = "time"

    kind = "event_bins"

    def __post_init__(self):
        object.__setattr__(self, "num_bins", _positive_int(self.num_bins, "num_bins"))
        object.__setattr__(self, "count_scale", _positive_float(self.count_scale, "count_scale"))
        if self.binning not in ("time", "count"):
            raise NeurofocusError(f"binning must be 'time' or 'count', got {self.binning!r}")

    def __call__(self, events: Events, image_time_us: int, target_time_us: int) -> np.ndarray:
        return event_bins(events, image_time_us, target_time_us, self.num_bins, count_scale=self.count_scale,
                          binning=self.binning)


@dataclasses.dataclass(frozen=True)
class SpikeBinning:
    """Spikes around a target time → (num_bins, H, W) float32 firing rates in [0, 1] (see the module docstring).

    Attributes
    ----------
    num_bins : int
        B, the number of TFP frames (the refocus networks' NFS channels; 64 in the papers).
    ticks_per_bin : int
        Ticks averaged per frame; the frames span ``num_bins * ticks_per_bin`` ticks centred on the target.
    """

    num_bins: int = 64
    ticks_per_bin: int = 4

    kind = "spike_bins"

    def __post_init__(self):
        object.__setattr__(self, "num_bins", _positive_int(self.num_bins, "num_bins"))
        object.__setattr__(self, "ticks_per_bin", _positive_int(self.ticks_per_bin, "ticks_per_bin"))

    def __call__(self, spikes: Spikes, target_time_us: float) -> np.ndarray:
        return spike_bins(spikes, target_time_us, self.num_bins, self.ticks_per_bin)


@dataclasses.dataclass(frozen=True)
class EventSlicing:
    """Events around each slice time → one channel per slice (see the module docstring).

    Attributes
    ----------
    count_scale : float
        Factor applied to the counts.
    mode : {"flip", "signed"}
        Σp after minus Σp before the slice time, or Σp over the whole window.
    window_fraction : float
        Half window as a fraction of the sweep duration.
    """

    count_scale: float = DEFAULT_COUNT_SCALE
    mode: str = "flip"
    window_fraction: float = 1 / 64

    kind = "event_slices"

    def __post_init__(self):
        object.__setattr__(self, "count_scale", _positive_float(self.count_scale, "count_scale"))
        object.__setattr__(self, "window_fraction", _positive_float(self.window_fraction, "window_fraction"))
        if self.mode not in ("flip", "signed"):
            raise NeurofocusError(f"mode must be 'flip' or 'signed', got {self.mode!r}")

    def half_window_us(self, sweep_us: tuple[float, float]) -> int:
        return max(1, round(self.window_fraction * (sweep_us[1] - sweep_us[0])))

    def __call__(self, events: Events, times_us: Sequence[int], half_window_us: int) -> np.ndarray:
        return event_slices(events, times_us, half_window_us, count_scale=self.count_scale, mode=self.mode)


@dataclasses.dataclass(frozen=True)
class SpikeSlicing:
    """Spikes around each slice time → one TFP firing-rate channel per slice (see the module docstring).

    Attributes
    ----------
    window_fraction : float
        Half window as a fraction of the sweep duration (converted to ticks, at least 1).
    """

    window_fraction: float = 1 / 64

    kind = "spike_slices"

    def __post_init__(self):
        object.__setattr__(self, "window_fraction", _positive_float(self.window_fraction, "window_fraction"))

    def half_window_ticks(self, spikes: Spikes, sweep_us: tuple[float, float]) -> int:
        if spikes.tick_us is None:
            raise NeurofocusError("the spike tick length is unknown: give it (--tick-us, or a sidecar JSON)")
        return max(1, round(self.window_fraction * (sweep_us[1] - sweep_us[0]) / spikes.tick_us))

    def __call__(self, spikes: Spikes, times_us: Sequence[float], half_window_ticks: int) -> np.ndarray:
        return spike_slices(spikes, times_us, half_window_ticks)


REPRESENTATIONS = {cls.kind: cls for cls in (EventBinning, SpikeBinning, EventSlicing, SpikeSlicing)}


def representation_to_dict(rep) -> dict:
    """``{"kind": ..., **fields}``, the JSON form stored with the weights."""
    return {"kind": rep.kind, **dataclasses.asdict(rep)}


def representation_from_dict(data) -> EventBinning | SpikeBinning | EventSlicing | SpikeSlicing:
    """Inverse of :func:`representation_to_dict`; rejects unknown kinds and keys."""
    if isinstance(data, tuple(REPRESENTATIONS.values())):
        return data
    if not isinstance(data, dict) or data.get("kind") not in REPRESENTATIONS:
        raise NeurofocusError(f"unknown input representation {data!r} (kinds: {', '.join(REPRESENTATIONS)})")
    cls = REPRESENTATIONS[data["kind"]]
    return from_dict(cls, data, f"unknown option {{first}} for the {cls.kind} representation (known: {{known}})",
                     ignore=("kind",), sort_known=True)


# batched network inputs ------------------------------------------------------------------------------------------
def image_to_tensor(image: np.ndarray):
    """(H, W, 3) sRGB float image in [0, 1] → float32 torch tensor (1, 3, H, W)."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(check_image(image).transpose(2, 0, 1)))[None]


def tensor_to_image(tensor) -> np.ndarray:
    """(1, 3, H, W) or (3, H, W) tensor → float32 (H, W, 3) numpy image (detached, on the CPU)."""
    import torch

    t = tensor.detach().to("cpu", dtype=torch.float32)
    if t.ndim == 4:
        if t.shape[0] != 1:
            raise NeurofocusError(f"expected one image, got a batch of {t.shape[0]}")
        t = t[0]
    return np.ascontiguousarray(t.numpy().transpose(1, 2, 0))


def _spec_of(model_or_spec):
    return getattr(model_or_spec, "input_spec", model_or_spec)


def refocus_inputs(model_or_spec, sweep: FocalSweep, target_time_us: float, refocuser=None) -> dict:
    """Inputs of a refocus network for one target time: ``{"image": (1, 3, H, W), "nfs": (1, B, H, W)}``.

    ``image`` is the hand-crafted refocus of the sweep's image to the target time (events: NFS Eq. 8 with the
    estimated contrast, colour line and leak removal; spikes: TFP), or the image itself for an event network with
    ``event_image="captured"``. ``refocuser``: the sweep's hand-crafted refocuser
    (:func:`neurofocus.aif.pipeline.sweep_refocuser`), needed unless the network takes the captured image (models
    sit below the pipeline and do not build one). Call the model as ``model(**refocus_inputs(...))``.
    """
    import torch

    spec = _spec_of(model_or_spec)
    rep = spec.representation
    if isinstance(rep, EventBinning):
        if sweep.events is None:
            raise NeurofocusError(f"model {spec.model!r} needs events, and the sweep has none")
        modality = "events"
        nfs = rep(sweep.events, sweep.image_time_us, round(target_time_us))
    elif isinstance(rep, SpikeBinning):
        if sweep.spikes is None:
            raise NeurofocusError(f"model {spec.model!r} needs spikes, and the sweep has none")
        modality = "spikes"
        nfs = rep(sweep.spikes, target_time_us)
    else:
        raise NeurofocusError(f"model {spec.model!r} is not a refocus network")
    if spec.image_input == "captured":
        image = sweep.image
    else:
        if refocuser is None:
            raise NeurofocusError(f"model {spec.model!r} takes the hand-crafted refocus: pass the sweep's refocuser "
                                  "(neurofocus.aif.pipeline.sweep_refocuser)")
        image = refocuser.refocus(round(target_time_us) if modality == "events" else target_time_us)
    return {"image": image_to_tensor(image), "nfs": torch.from_numpy(nfs)[None]}


def merge_inputs(model_or_spec, sweep: FocalSweep, images: Sequence[np.ndarray] | np.ndarray,
                 times_us: Sequence[float]) -> dict:
    """Inputs of a merge network: ``{"stack": (1, K, 3, H, W), "nfs": (1, K, H, W)}``.

    Parameters
    ----------
    images : (K, H, W, 3) array or K images
        The refocused focal stack, sRGB float in [0, 1].
    times_us : sequence of float
        The K slice times (µs).
    """
    import torch

    spec = _spec_of(model_or_spec)
    rep = spec.representation
    stack = np.stack([check_image(im, f"focal stack image {k}") for k, im in enumerate(images)])
    if len(stack) != len(times_us):
        raise NeurofocusError(f"{len(stack)} stack images but {len(times_us)} slice times")
    sweep_us = sweep.time_extent_us
    if isinstance(rep, EventSlicing):
        if sweep.events is None:
            raise NeurofocusError(f"model {spec.model!r} needs events, and the sweep has none")
        nfs = rep(sweep.events, [round(t) for t in times_us], rep.half_window_us(sweep_us))
    elif isinstance(rep, SpikeSlicing):
        if sweep.spikes is None:
            raise NeurofocusError(f"model {spec.model!r} needs spikes, and the sweep has none")
        nfs = rep(sweep.spikes, times_us, rep.half_window_ticks(sweep.spikes, sweep_us))
    else:
        raise NeurofocusError(f"model {spec.model!r} is not a merge network")
    return {"stack": torch.from_numpy(np.ascontiguousarray(stack.transpose(0, 3, 1, 2)))[None],
            "nfs": torch.from_numpy(nfs)[None]}
