"""Model configs and input contracts.

Each network holds a frozen config (what it is: width, modality, stack size, …, and the representation of its
neuromorphic input) and exposes ``model.input_spec``, an :class:`InputSpec` that states the shapes, dtype, value
ranges and meaning of every tensor it takes and returns. Configs round-trip through plain dicts (stored as JSON in
the weight files) and reject unknown keys.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from ..config_dicts import from_dict, omitting, positive_float, positive_int
from ..errors import NeurofocusError
from .inputs import (
    EventBinning,
    EventSlicing,
    SpikeBinning,
    SpikeSlicing,
    representation_from_dict,
    representation_to_dict,
)

MODALITIES = ("events", "spikes")


@dataclasses.dataclass(frozen=True)
class TensorSpec:
    """One input or output tensor of a model.

    Attributes
    ----------
    name : str
        Argument name in ``forward`` (inputs) or field name of the result (outputs).
    shape : str
        Symbolic shape, e.g. ``"(B, 64, H, W)"``; H and W may be any size ≥ 1.
    value_range : str
        Range and units of the values.
    description : str
        What the tensor holds.
    dtype : str
        Always float32 (float64 works too, for gradient checks).
    """

    name: str
    shape: str
    value_range: str
    description: str
    dtype: str = "float32"


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """The input contract of a model (see :mod:`neurofocus.models.inputs` for the functions that build it).

    Attributes
    ----------
    model : str
        Registry name.
    modality : {"events", "spikes"}
    inputs, outputs : tuple of TensorSpec
    representation : EventBinning, SpikeBinning, EventSlicing or SpikeSlicing
        How the neuromorphic input is made (binning, scaling, windows).
    image_input : {"captured", "handcrafted"}
        Refocus networks: their image input is the captured RGB image, or the hand-crafted refocus of it to the
        target time (:func:`neurofocus.aif.pipeline.build_refocuser`).
    size_multiple : int
        H and W are padded internally (replicate) to a multiple of this and the outputs cropped back; any size works.
    """

    model: str
    modality: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    representation: Any
    image_input: str = "captured"
    size_multiple: int = 4

    def describe(self) -> str:
        """A few lines of text listing the tensors."""
        lines = [f"{self.model} ({self.modality}); H, W any (padded to a multiple of {self.size_multiple})"]
        for kind, specs in (("in", self.inputs), ("out", self.outputs)):
            for s in specs:
                lines.append(f"  {kind} {s.name}: {s.dtype} {s.shape} {s.value_range} — {s.description}")
        lines.append(f"  representation: {self.representation}")
        return "\n".join(lines)


def _check_modality(modality) -> str:
    if modality not in MODALITIES:
        raise NeurofocusError(f"modality must be 'events' or 'spikes', got {modality!r}")
    return modality


class _Config:
    """Shared dict round-trip with unknown-key rejection (mixed into the frozen config dataclasses)."""

    @classmethod
    def from_dict(cls, data: dict, *, model: str | None = None):
        who = f"model {model!r}" if model else cls.__name__
        return from_dict(cls, data, f"unknown option {{first}} for {who} (known: {{known}})", sort_known=True)

    #: Options added after weight files were shipped, with the value every earlier file had: left out of
    #: :meth:`to_dict` at that value, so those files still load strictly.
    added_options: typing.ClassVar[dict] = {}

    def to_dict(self) -> dict:
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = representation_to_dict(value) if f.name == "nfs" else value
        return omitting(out, self.added_options)


@dataclasses.dataclass(frozen=True)
class RefocusConfig(_Config):
    """Config of the refocus networks (EvRefocusNet / NeuroRefocusNet, Table 6).

    Attributes
    ----------
    modality : {"events", "spikes"}
        Events: the network predicts a log-domain residual of its image input (see ``event_image``). Spikes: it
        refines the hand-crafted TFP refocused image.
    width : float
        Channel multiplier (c = 64 · width, rounded to a multiple of 4).
    nfs : EventBinning or SpikeBinning, optional
        The neuromorphic input (default: 64 bins of the modality's default representation).
    log_eps : float
        ε of the log domain (events): log(linear RGB + ε).
    zero_init_residual : bool
        Zero-initialise the prediction conv, so that a new network returns its image input.
    event_image : {"handcrafted", "captured"}
        Events only: the image input. "handcrafted" (default): the hand-crafted refocus to the target time (NFS
        Eq. 8 with the estimated contrast, colour line and leak removal of :mod:`neurofocus.aif.refocus`), which the
        network corrects, as the spike network corrects the TFP refocus; a new network is the hand-crafted method.
        "captured": the captured RGB image (the EFS code's residual; a new network returns the input).
    trunk : {"dense", "compact"}
        "dense" (default): the papers' two-branch U-Net of dense blocks (Table 6) and two residual blocks.
        "compact": this implementation's light U-Net for CPU training (:class:`.blocks.CompactTrunk`): the
        inputs concatenated, 9 plain convolutions over three scales, no residual blocks.
    """

    modality: str = "events"
    width: float = 1.0
    nfs: Any = None
    log_eps: float = 1e-3
    zero_init_residual: bool = True
    event_image: str = "handcrafted"
    trunk: str = "dense"

    def __post_init__(self):
        _check_modality(self.modality)
        object.__setattr__(self, "width", positive_float(self.width, "width"))
        nfs = self.nfs
        if nfs is None:
            nfs = EventBinning() if self.modality == "events" else SpikeBinning()
        nfs = representation_from_dict(nfs)
        want = EventBinning if self.modality == "events" else SpikeBinning
        if not isinstance(nfs, want):
            raise NeurofocusError(f"a {self.modality} refocus network takes a {want.kind} input, got {nfs.kind}")
        object.__setattr__(self, "nfs", nfs)
        if not (0 < float(self.log_eps) < 1):
            raise NeurofocusError(f"log_eps must lie in (0, 1), got {self.log_eps!r}")
        object.__setattr__(self, "log_eps", float(self.log_eps))
        object.__setattr__(self, "zero_init_residual", bool(self.zero_init_residual))
        if self.event_image not in ("handcrafted", "captured"):
            raise NeurofocusError(f"event_image must be 'handcrafted' or 'captured', got {self.event_image!r}")
        if self.trunk not in ("dense", "compact"):
            raise NeurofocusError(f"trunk must be 'dense' or 'compact', got {self.trunk!r}")


@dataclasses.dataclass(frozen=True)
class EvMergeConfig(_Config):
    """Config of EvMergeNet (EFS Table 7): a fixed stack of ``stack_size`` images.

    Attributes
    ----------
    width : float
        Channel multiplier of the U-Net (Conv6 and the two residual blocks keep ``stack_size`` channels: they
        produce one weight map per slice).
    stack_size : int
        S, the number of refocused images (64 in EFS: an 8 × 8 patch grid).
    nfs : EventSlicing, optional
        The per-slice event channel.
    """

    width: float = 1.0
    stack_size: int = 64
    nfs: Any = None

    def __post_init__(self):
        object.__setattr__(self, "width", positive_float(self.width, "width"))
        object.__setattr__(self, "stack_size", positive_int(self.stack_size, "stack_size"))
        nfs = representation_from_dict(EventSlicing() if self.nfs is None else self.nfs)
        if not isinstance(nfs, EventSlicing):
            raise NeurofocusError(f"EvMergeNet takes an event_slices input, got {nfs.kind}")
        object.__setattr__(self, "nfs", nfs)


@dataclasses.dataclass(frozen=True)
class NeuroMergeConfig(_Config):
    """Config of NeuroMergeNet (NFS Table 7, Eq. 15–16): any stack size.

    Attributes
    ----------
    modality : {"events", "spikes"}
    width : float
        Channel multiplier.
    alpha : float
        α of Eq. 16: weights = softmax over the stack of α · initial weights (the paper gives no value).
    nfs : EventSlicing or SpikeSlicing, optional
        The per-slice neuromorphic channel.
    """

    modality: str = "events"
    width: float = 1.0
    alpha: float = 1.0
    nfs: Any = None

    def __post_init__(self):
        _check_modality(self.modality)
        object.__setattr__(self, "width", positive_float(self.width, "width"))
        object.__setattr__(self, "alpha", positive_float(self.alpha, "alpha"))
        nfs = self.nfs
        if nfs is None:
            nfs = EventSlicing() if self.modality == "events" else SpikeSlicing()
        nfs = representation_from_dict(nfs)
        want = EventSlicing if self.modality == "events" else SpikeSlicing
        if not isinstance(nfs, want):
            raise NeurofocusError(f"a {self.modality} merge network takes a {want.kind} input, got {nfs.kind}")
        object.__setattr__(self, "nfs", nfs)


def _check_count(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise NeurofocusError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


@dataclasses.dataclass(frozen=True)
class _RecurrentConfig(_Config):
    """The options E2VID and EvFocus share.

    Attributes
    ----------
    width : float
        Channel multiplier (N_b = 32 · width, rounded to a multiple of 4).
    num_bins : int
        Voxel grid bins (5 in both papers).
    integrator : bool
        Not in the papers (False: their networks). True: the input carries the leaky event integrator's log
        intensity at the window's end as one more channel and every output is a correction of it
        (:mod:`.recurrent`, "Integrator input").
    downscale : {1, 2, 4}
        Not in the papers (1: their networks). The network runs at 1/downscale of the input's resolution: the input
        is pixel-unshuffled into downscale² × its channels, every prediction layer predicts downscale² values per
        pixel, pixel-shuffled back to full resolution (the integrator image is added there). About downscale² times
        cheaper (:mod:`.recurrent`, "Resolution").
    """

    added_options: typing.ClassVar[dict] = {"downscale": 1}

    width: float = 1.0
    num_bins: int = 5
    integrator: bool = False
    downscale: int = 1

    def __post_init__(self):
        object.__setattr__(self, "width", positive_float(self.width, "width"))
        object.__setattr__(self, "num_bins", _check_count(self.num_bins, "num_bins"))
        object.__setattr__(self, "integrator", bool(self.integrator))
        if isinstance(self.downscale, bool) or self.downscale not in (1, 2, 4):
            raise NeurofocusError(f"downscale must be 1, 2 or 4, got {self.downscale!r}")


@dataclasses.dataclass(frozen=True)
class E2VIDConfig(_RecurrentConfig):
    """Config of the E2VID baseline (Rebecq et al. 2019, recurrent U-Net; :mod:`neurofocus.models.e2vid`): the
    shared options of :class:`_RecurrentConfig` (width, num_bins, integrator, downscale), and

    Attributes
    ----------
    norm : {"none", "batch"}
        Normalisation after the convolutions ("none": as the E2VID reference release; "batch": batch norm after every
        convolution but the prediction).
    """

    norm: str = "none"

    def __post_init__(self):
        super().__post_init__()
        if self.norm not in ("none", "batch"):
            raise NeurofocusError(f"norm must be 'none' or 'batch', got {self.norm!r}")


@dataclasses.dataclass(frozen=True)
class EvFocusConfig(_RecurrentConfig):
    """Config of EvFocus (Zhu et al., ICML 2025; :mod:`neurofocus.models.evfocus`): the shared options of
    :class:`_RecurrentConfig` (width, num_bins, integrator, downscale), and

    Attributes
    ----------
    heads : int
        Heads of every multi-head channel attention (MHCA) block (the paper gives none; 4 by default). Must divide
        the aligned feature's 2·N_b channels.
    mhca_blocks : int
        MHCA blocks cascaded in each of the re-defocus and reconstruction modules (the paper says "sequentially
        cascaded" without a number; 2 by default, which puts the parameter count at the paper's 12.1 M). 0 leaves
        only the modules' prediction layers (an ablation).
    """

    heads: int = 4
    mhca_blocks: int = 2

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "heads", _check_count(self.heads, "heads"))
        object.__setattr__(self, "mhca_blocks", _check_count(self.mhca_blocks, "mhca_blocks", 0))
