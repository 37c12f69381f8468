"""The typed training configuration: one frozen dataclass, JSON round trip, unknown keys rejected.

Every run saves its resolved config as ``RUN_DIR/config.json``; ``neurofocus train --config cfg.json`` takes the
same keys. Defaults marked (NFS) come from the NFS paper §3.6, (EFS code) from the official EFS code's training
conventions (``reference/prior-art.md``), (EvFocus) from the EvFocus paper (Zhu et al., ICML 2025, §5 and appendix
B.4), (E2VID+ code) from the public E2VID+ training code (Stoffregen et al. 2020, ``event_cnn_minimal``,
``config/reconstruction.json``); the others are this implementation's choices. Defaults that differ between tasks are
``None`` in the signature and resolved per task (:data:`TASK_DEFAULTS`).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

from ..config_dicts import from_dict
from ..errors import NeurofocusError
from .precision import PRECISIONS

TASKS = ("refocus", "merge", "evfocus", "e2vid")
#: Tasks trained on defocused-event videos (``neurofocus synth --kind defocus-video``) with :mod:`.video`.
VIDEO_TASKS = ("evfocus", "e2vid")
DEFAULT_MODELS = {"refocus": "neuro_refocus_net", "merge": "neuro_merge_net", "evfocus": "evfocus", "e2vid": "e2vid"}
TASK_MODELS = {"refocus": ("ev_refocus_net", "neuro_refocus_net"), "merge": ("ev_merge_net", "neuro_merge_net"),
               "evfocus": ("evfocus",), "e2vid": ("e2vid",)}
DEVICES = ("auto", "cpu", "cuda")
EVENT_SOURCES = ("defocused", "sharp")
STACK_SOURCES = ("frames", "handcrafted", "network")

#: Per-task values of the fields whose default is None.
TASK_DEFAULTS = {
    # NFS: batch 10 (EFS code), Adam 5e-4 with step decay
    "refocus": {"batch_size": 10, "lr": 5e-4, "lr_milestones": (0.5, 0.7, 0.9), "lpips_net": "alex",
                "tc_weight": 1.0},
    "merge": {"batch_size": 10, "lr": 5e-4, "lr_milestones": (0.5, 0.7, 0.9), "lpips_net": "alex",
              "tc_weight": 1.0},
    # EvFocus §5: "constant ... learning rate ... 1e-4", "batch size of 1"; the LPIPS backbone is not named (alex,
    # LPIPS's default); L_TC enters Eq. 22 with weight 1
    "evfocus": {"batch_size": 1, "lr": 1e-4, "lr_milestones": (), "lpips_net": "alex", "tc_weight": 1.0},
    # E2VID+ code: batch 2, Adam 1e-4 (constant), LPIPS VGG weight 1, temporal consistency weight 2 from L0 = 2
    "e2vid": {"batch_size": 2, "lr": 1e-4, "lr_milestones": (), "lpips_net": "vgg", "tc_weight": 2.0},
}

#: Fields that do not change what is computed: they may differ when a run is resumed.
RUNTIME_FIELDS = ("steps", "device", "num_workers", "threads", "progress", "tensorboard", "checkpoint_every",
                  "val_every", "keep_checkpoints", "cache_scenes", "time_budget_s")

# The per-field rules of TrainConfig (the rules across fields are its _check_* methods).
_CHOICES = {"modality": ("events", "spikes"), "direction": ("both", "forward", "backward"),
            "stack_times": ("search", "uniform"), "events": EVENT_SOURCES, "lpips_net": ("alex", "vgg"),
            "precision": PRECISIONS, "device": DEVICES}
_INTEGER_MINIMA = {"val_scenes": 0, "samples_per_scene": 1, "min_gap_frames": 1, "stack_size": 1,
                   "sequence_length": 1, "window_frames": 1, "bptt_window": 0, "tc_start": 0, "search_grid": 1,
                   "val_pairs": 1, "cache_scenes": 0, "steps": 1, "batch_size": 1, "checkpoint_every": 1,
                   "val_every": 0, "keep_checkpoints": 1, "num_workers": 0, "threads": 0, "seed": 0}
_POSITIVE_NUMBERS = ("width", "lr", "lr_gamma", "focus_sigma")
_NON_NEGATIVE_NUMBERS = ("tcp_weight", "tc_weight", "tc_alpha", "l1_weight", "ssim_weight", "weight_decay",
                         "mse_weight", "perceptual_weight", "focus_weight")
_FLAGS = ("flips", "deterministic", "tensorboard", "progress")
_OPTIONAL_PATHS = ("refocus_weights", "init_weights")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Settings of a training run.

    Task and model
    --------------
    task : {"refocus", "merge", "evfocus", "e2vid"}
        The all-in-focus networks on focal sweeps, or EvFocus / its E2VID baseline on defocused-event videos
        (:mod:`.video`).
    model : str, optional
        Registry name; default ``neuro_refocus_net`` / ``neuro_merge_net`` (``ev_refocus_net``, ``ev_merge_net``:
        the EFS networks, events only); ``evfocus`` / ``e2vid`` for the video tasks.
    modality : {"events", "spikes"}
        Refocus and merge only.
    width : float
        Channel multiplier (1.0 = the papers' 64 base channels).
    model_options : dict
        Further model options (``nfs``, ``alpha``, ``log_eps``, ...; see :mod:`neurofocus.models.spec`).
    init_weights : str, optional
        A weight file of the same network (``neurofocus train``'s ``model.safetensors``, a checkpoint's, or a
        shipped one) to start from instead of the seeded initialisation: fine-tuning, or a second stage on other
        data. Loaded strictly (same model, config and tensors); the optimiser and the schedule start afresh.

    Data
    ----
    data : str or list of str
        Dataset folder written by ``neurofocus synth``, or several (their scenes one after the other, e.g. random
        scenes and sweeps of real photographs made with different settings; :func:`data_folders`).
    val_data : str or list of str, optional
        Separate validation dataset(s); without it the last ``val_scenes`` scenes of ``data`` are held out.
    val_scenes : int
        Scenes held out of ``data`` for validation (0: no validation unless ``val_data``).
    samples_per_scene : int
        Items per training scene in one epoch (epochs only set when the data order is reshuffled).
    crop : int or None
        Side of the random square training crops (128; None: whole frames).
    flips : bool
        Random horizontal / vertical flips.
    direction : {"both", "forward", "backward"}
        Refocus pairs: target after and/or before the input frame.
    min_gap_frames : int
        Refocus pairs: smallest distance of the two frames in sweep frames (10: EFS code).
    stack_size : int
        Merge stacks: slices per stack (64 = 8 × 8 patches: EFS/NFS).
    stack_times : {"search", "uniform"}
        Merge stacks: hand-crafted per-patch time search, or evenly spaced times.
    stack_source : {"frames", "handcrafted", "network"}, optional
        Merge stacks: ground-truth kept frames, hand-crafted refocus, or the refocus network of
        ``refocus_weights``; default "network" when ``refocus_weights`` is given, else "frames".
    refocus_weights : str, optional
        Trained refocus network for ``stack_source="network"``.
    search_grid : int
        Patches per side of the time search (8: EFS/NFS).
    val_pairs : int
        Refocus validation pairs per validation scene (merge: one whole stack per scene).
    val_crop : int or None
        Side of the validation crops, placed at random once (the same every pass); None: whole frames.
    cache_scenes : int
        Scenes cached per process (0: all).

    Video tasks (evfocus, e2vid; ignored by refocus and merge)
    ----------------------------------------------------------
    events : {"defocused", "sharp"}
        Train on the events of the defocused frames (``events.hdf5``) or of the sharp frames
        (``events_sharp.hdf5``, ``synth --sharp-events``: the E2VID+ baseline trained on in-focus events).
    sequence_length : int
        L, consecutive windows per item, back-propagated through as one sequence from a zero recurrent state
        (EvFocus does not state it; 8).
    window_frames : int
        Frames' worth of events per window: the window of frame k holds the events of (t_{k−m}, t_k] (1: the
        events between consecutive frames, as E2VID+ trains).
    bptt_window : int
        Truncated back-propagation through time inside an item: the recurrent state is detached every this many
        windows (0: back-propagate through all L windows).
    lpips_net : {"alex", "vgg"}, optional
        LPIPS backbone of the perceptual terms (evfocus: alex — the paper does not name it; e2vid: vgg, E2VID+ code).
    evfocus_weights : (float, float, float, float)
        λ1..λ4 of EvFocus Eq. 23: LPIPS(aligned, sharp), LPIPS(blurred, defocused), L_TCP, L1(blurred,
        re-defocused) — 4, 1, 7, 1 (EvFocus).
    tcp_weight : float
        λ of EvFocus Eq. 22, the weight of LPIPS(image, sharp) inside L_TCP (0.75, EvFocus).
    tc_weight : float, optional
        Weight of the temporal consistency term: inside L_TCP for evfocus (1, Eq. 22), next to LPIPS (weight 1) for
        e2vid (2, E2VID+ code).
    tc_start : int
        L0: the temporal consistency loss is applied from window index L0 on (0-based; 2, E2VID+ code — EvFocus
        does not say).
    tc_alpha : float
        α of the occlusion weight exp(−α‖I_k − W(I_{k−1})‖²) of Lai et al. (50, as the E2VID+ code).
    l1_weight : float
        Not in the papers (0: their losses): weight of an added mean |image − sharp| term, the only term of the
        video losses that sees absolute intensity (LPIPS and the temporal term are blind to it).
    ssim_weight : float
        Not in the papers (0: their losses): weight of an added 1 − SSIM(image, sharp) term (LPIPS alone was
        measured to lower the validation SSIM of integrator-input networks while it improved their LPIPS).

    Optimisation
    ------------
    steps : int
        Optimiser steps.
    batch_size : int, optional
        Items per step and process (10: EFS code; evfocus 1: EvFocus; e2vid 2: E2VID+ code).
    lr : float, optional
        Adam learning rate (5e-4: NFS; 1e-4 for the video tasks: EvFocus, E2VID+ code).
    lr_milestones : tuple of float, optional
        Fractions of ``steps`` after which the rate is multiplied by ``lr_gamma`` (0.5, 0.7, 0.9 with 0.1: NFS,
        "100 epochs ... after the first 50 epochs, we decrease the learning rate by 1/10 for every 20 epochs",
        read as steps at epochs 50, 70 and 90 — the EFS code's schedule; none for the video tasks: EvFocus "adopt[s]
        a constant strategy of learning rate").
    lr_gamma : float
    betas : (float, float)
        Adam betas (unstated in the papers: PyTorch's defaults).
    weight_decay : float
        (unstated: 0).
    precision : {"fp32", "bf16"}
        Arithmetic of the forward and backward passes: ``bf16`` = bf16 autocast with channels_last tensors, the
        weights, the optimiser and the loss (LPIPS included) in fp32 (:mod:`.precision`); validation is fp32.
    mse_weight, perceptual_weight : float
        β = 200 and α = 0.5 of NFS Eq. 17 (refocus and merge only).
    focus_weight : float
        Refocus only, not in the papers: λ of the in-focus emphasis of the MSE (0: the papers' plain MSE). Pixels
        count 1 + λ·m, m = exp(−½ (Δt / (focus_sigma · sweep duration))²), Δt = the pixel's ground-truth in-focus
        time minus the target time (see :class:`.losses.TrainingLoss`). Why: the merge uses a refocused slice only
        where it is in focus, but a plain MSE is dominated by the defocused rest of the frame.
    focus_sigma : float
        Width of the focus map as a fraction of the sweep duration (0.03); also sets the validation's in-focus PSNR.
    seed : int
        Weight initialisation, data order and every random choice of the data.

    Run
    ---
    checkpoint_every : int
        Steps between checkpoints (one is always written at the end and on interruption).
    time_budget_s : float or None
        Stop (as on SIGINT: a checkpoint is written) after the first step that ends this many seconds after this
        invocation began (None: no limit).
    val_every : int
        Steps between validation passes (0: only at the end).
    keep_checkpoints : int
        Checkpoints kept (oldest deleted).
    device : {"auto", "cpu", "cuda"}
    num_workers : int
        DataLoader worker processes (0: load in the training process).
    threads : int
        PyTorch intra-op CPU threads (0: PyTorch's default, one per core). On a CPU shared with other jobs, 1 can be
        several times faster than the default.
    deterministic : bool
        ``torch.use_deterministic_algorithms`` (warn-only) and no cuDNN benchmarking.
    tensorboard : bool
        Also write TensorBoard scalars when ``torch.utils.tensorboard`` imports.
    progress : bool
        Progress bar.
    """

    task: str = "refocus"
    model: str | None = None
    modality: str = "events"
    width: float = 1.0
    model_options: dict = dataclasses.field(default_factory=dict)
    init_weights: str | None = None
    data: str | tuple = ""
    val_data: str | tuple | None = None
    val_scenes: int = 1
    samples_per_scene: int = 16
    crop: int | None = 128
    flips: bool = True
    direction: str = "both"
    min_gap_frames: int = 10
    events: str = "defocused"
    sequence_length: int = 8
    window_frames: int = 1
    bptt_window: int = 0
    lpips_net: str | None = None
    evfocus_weights: tuple = (4.0, 1.0, 7.0, 1.0)
    tcp_weight: float = 0.75
    tc_weight: float | None = None
    tc_start: int = 2
    tc_alpha: float = 50.0
    l1_weight: float = 0.0
    ssim_weight: float = 0.0
    stack_size: int = 64
    stack_times: str = "search"
    stack_source: str | None = None
    refocus_weights: str | None = None
    search_grid: int = 8
    val_pairs: int = 8
    val_crop: int | None = None
    cache_scenes: int = 0
    steps: int = 1000
    batch_size: int | None = None
    lr: float | None = None
    lr_milestones: tuple | None = None
    lr_gamma: float = 0.1
    betas: tuple = (0.9, 0.999)
    weight_decay: float = 0.0
    precision: str = "fp32"
    mse_weight: float = 200.0
    perceptual_weight: float = 0.5
    focus_weight: float = 0.0
    focus_sigma: float = 0.03
    seed: int = 0
    checkpoint_every: int = 500
    time_budget_s: float | None = None
    val_every: int = 500
    keep_checkpoints: int = 2
    device: str = "auto"
    num_workers: int = 0
    threads: int = 0
    deterministic: bool = True
    tensorboard: bool = True
    progress: bool = True

    def __post_init__(self):
        if self.task not in TASKS:
            raise NeurofocusError(f"task must be one of {TASKS}, got {self.task!r}")
        for name, value in TASK_DEFAULTS[self.task].items():
            if getattr(self, name) is None:
                self._put(name, value)
        self._check_fields()
        self._check_model()
        self._check_stack_source()
        self._check_losses()
        self._check_optimiser()

    def _put(self, name: str, value) -> None:
        object.__setattr__(self, name, value)

    def _check_fields(self) -> None:
        """The per-field rules of the tables below: choices, integers, numbers, flags, paths."""
        for name, choices in _CHOICES.items():
            if getattr(self, name) not in choices:
                raise NeurofocusError(f"{name} must be one of {choices}, got {getattr(self, name)!r}")
        for name, low in _INTEGER_MINIMA.items():
            self._put(name, _integer(getattr(self, name), name, low))
        for name in ("crop", "val_crop"):
            value = getattr(self, name)
            self._put(name, None if value is None or value == 0 else _integer(value, name, 1))
        for name in _POSITIVE_NUMBERS:
            self._put(name, _number(getattr(self, name), name, positive=True))
        if self.time_budget_s is not None:
            self._put("time_budget_s", _number(self.time_budget_s, "time_budget_s", positive=True))
        for name in _NON_NEGATIVE_NUMBERS:
            self._put(name, _number(getattr(self, name), name))
            if getattr(self, name) < 0:
                raise NeurofocusError(f"{name} must not be negative, got {getattr(self, name)}")
        for name in _FLAGS:
            if not isinstance(getattr(self, name), bool):
                raise NeurofocusError(f"{name} must be true or false, got {getattr(self, name)!r}")
        for name in ("data", "val_data"):
            value = getattr(self, name)
            if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) and v for v in value):
                self._put(name, value[0] if len(value) == 1 else tuple(value))  # one folder: a plain path
            elif not isinstance(value, str) and not (name == "val_data" and value is None):
                raise NeurofocusError(f"{name} must be a folder path or a list of them, got {value!r}")
        for name in _OPTIONAL_PATHS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise NeurofocusError(f"{name} must be a path or null, got {value!r}")

    def _check_model(self) -> None:
        """The network of the task and modality, and options that do not shadow config fields."""
        model = self.model or DEFAULT_MODELS[self.task]
        if model not in TASK_MODELS[self.task]:
            raise NeurofocusError(f"model {model!r} is not a {self.task} network (one of "
                                  f"{', '.join(TASK_MODELS[self.task])})")
        if self.task in VIDEO_TASKS and self.modality != "events":
            raise NeurofocusError(f"{self.task} trains on events, not {self.modality}")
        if model.startswith("ev_") and self.modality != "events":
            raise NeurofocusError(f"{model} is an event network (EFS); use {DEFAULT_MODELS[self.task]} for spikes")
        self._put("model", model)
        if not isinstance(self.model_options, dict):
            raise NeurofocusError(f"model_options must be a JSON object, got {self.model_options!r}")
        clash = sorted({"width", "modality", "seed"} & set(self.model_options))
        if clash:
            raise NeurofocusError(f"model_options must not set {clash[0]!r}: it is a config field of its own")
        self._put("model_options", dict(self.model_options))

    def _check_stack_source(self) -> None:
        """Merge stacks: where the slices come from, and the refocus weights only where they are used."""
        source = self.stack_source or ("network" if self.refocus_weights else "frames")
        if source not in STACK_SOURCES:
            raise NeurofocusError(f"stack_source must be one of {STACK_SOURCES}, got {source!r}")
        if self.task == "merge":
            if source == "network" and not self.refocus_weights:
                raise NeurofocusError("stack_source 'network' needs refocus_weights (--refocus-weights)")
            if source != "network" and self.refocus_weights:
                raise NeurofocusError(f"refocus_weights are only used with stack_source 'network', not {source!r}")
            fixed = self.model_options.get("stack_size", self.stack_size)
            if self.model == "ev_merge_net" and fixed != self.stack_size:
                raise NeurofocusError(f"ev_merge_net takes stacks of {fixed}, but stack_size is {self.stack_size}")
        elif self.refocus_weights:
            raise NeurofocusError("refocus_weights are for merge training (train merge)")
        self._put("stack_source", source)

    def _check_losses(self) -> None:
        weights = self.evfocus_weights
        if not isinstance(weights, (list, tuple)) or len(weights) != 4:
            raise NeurofocusError(f"evfocus_weights must be four numbers (λ1..λ4 of EvFocus Eq. 23), got {weights!r}")
        weights = tuple(_number(w, "evfocus_weights") for w in weights)
        if min(weights) < 0:
            raise NeurofocusError(f"evfocus_weights must not be negative, got {list(weights)}")
        self._put("evfocus_weights", weights)
        if self.focus_weight > 0 and self.task != "refocus":
            raise NeurofocusError("focus_weight is a refocus training option")
        if self.mse_weight == 0 and self.perceptual_weight == 0:
            raise NeurofocusError("mse_weight and perceptual_weight are both zero: nothing to train on")

    def _check_optimiser(self) -> None:
        milestones = self.lr_milestones
        if not isinstance(milestones, (list, tuple)):
            raise NeurofocusError(f"lr_milestones must be a list of fractions of the steps, got {milestones!r}")
        milestones = tuple(_number(m, "lr_milestones", positive=True) for m in milestones)
        if any(m > 1 for m in milestones) or list(milestones) != sorted(milestones):
            raise NeurofocusError(f"lr_milestones must be increasing fractions in (0, 1], got {list(milestones)}")
        self._put("lr_milestones", milestones)
        betas = self.betas
        if not isinstance(betas, (list, tuple)) or len(betas) != 2:
            raise NeurofocusError(f"betas must be two numbers, got {betas!r}")
        betas = tuple(_number(b, "betas") for b in betas)
        if not all(0 <= b < 1 for b in betas):
            raise NeurofocusError(f"betas must lie in [0, 1), got {list(betas)}")
        self._put("betas", betas)

    # dict round trip -------------------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict, *, source: str | None = None) -> TrainConfig:
        """Build from a JSON object; unknown keys raise :class:`NeurofocusError` naming the key (and ``source``)."""
        return from_dict(cls, data, "unknown config key {first} (known: {known})", source=source,
                         what="a training config")

    def to_dict(self) -> dict:
        """A JSON-ready dict of every field (tuples as lists)."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def resolved_paths(self) -> TrainConfig:
        """The config with its paths (``data``, ``val_data``, ``refocus_weights``, ``init_weights``) made
        absolute."""
        def absolute(path: str) -> str:
            return str(Path(path).expanduser().resolve())

        changes = {name: absolute(getattr(self, name)) for name in _OPTIONAL_PATHS if getattr(self, name)}
        for name in ("data", "val_data"):
            folders = data_folders(getattr(self, name))
            if folders:
                changes[name] = [absolute(f) for f in folders]
        return self.replace(**changes)

    def differences(self, other: TrainConfig, ignore=RUNTIME_FIELDS) -> list[str]:
        """Field names whose values differ (``ignore``\\ d ones left out)."""
        a, b = self.to_dict(), other.to_dict()
        return [k for k in a if k not in ignore and a[k] != b[k]]


def data_folders(value: str | tuple | None) -> list[str]:
    """The dataset folders of a ``data`` / ``val_data`` value: none, one or several."""
    if not value:
        return []
    return [value] if isinstance(value, str) else list(value)


def _number(value, name: str, positive: bool = False) -> float:
    if isinstance(value, bool):
        raise NeurofocusError(f"{name} must be a number, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise NeurofocusError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(out) or (positive and out <= 0):
        raise NeurofocusError(f"{name} must be a {'positive' if positive else 'finite'} number, got {value!r}")
    return out


def _integer(value, name: str, low: int) -> int:
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            or value != int(value)):
        raise NeurofocusError(f"{name} must be an integer, got {value!r}")
    if int(value) < low:
        raise NeurofocusError(f"{name} must be at least {low}, got {value!r}")
    return int(value)


def lr_at(config: TrainConfig, step: int) -> float:
    """Learning rate of step ``step`` (0-based): ``lr · gamma^k``, k = milestones with ``step >= round(m · steps)``."""
    k = sum(1 for m in config.lr_milestones if step >= round(m * config.steps))
    return config.lr * config.lr_gamma ** k

