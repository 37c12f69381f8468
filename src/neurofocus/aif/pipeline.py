"""The hand-crafted all-in-focus pipeline (NFS §3.3): select times, refocus, weigh, merge.

    sweep (RGB image + events or spikes)
      → contrast threshold per patch (events: Eq. 11)            refocus.EventRefocuser / SpikeRefocuser
      → refocusing times per patch, merged (Algorithm 1)         timestamps.select_times_*
      → for the image time and every selected time:
            refocused slice (Eq. 8 / 9, colour-line C)          refocus.*
            and its focus measure (Eq. 12 / 13 × the slice's D)  weights.*
            streamed into the merge (Eq. 5)                      merge.StackMerger
      → all-in-focus image, per-pixel in-focus time (and depth when the focus schedule is known)

:func:`plan_stack` is the first half (signal, refocuser, contrast, times), shared with the learned pipeline.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from ..color import LUMINANCE_WEIGHTS, linear_to_srgb, to_uint8
from ..errors import NeurofocusError
from ..progress import progress_bar
from ..represent import PolarityTable
from ..types import FocalSweep
from . import weights as focus_measures
from .merge import StackMerger
from .refocus import COLOUR_MODELS, EventRefocuser, SpikeRefocuser, spike_half_window
from .timestamps import SearchSettings, TimeSelection, select_times_events, select_times_spikes, uniform_times

MODALITIES = ("events", "spikes")
TIME_RULES = ("golden", "robust", "uniform")
WEIGHT_RULES = ("symmetry", "spike-variance", "gradient", "oracle")


@dataclasses.dataclass(frozen=True)
class AifConfig:
    """Settings of the hand-crafted pipeline.

    Attributes
    ----------
    modality : {"events", "spikes"} or None
        Which signal to use (default: events if the sweep has them, else spikes).
    times : {"robust", "golden", "uniform"}
        Refocusing-time selection: per-patch search (see :mod:`.timestamps`) or evenly spaced times.
    num_uniform : int
        Slices for ``times="uniform"``.
    weights : {"symmetry", "spike-variance", "gradient", "oracle"} or None
        Focus measure (default: "symmetry" for events, "spike-variance" for spikes). "oracle" needs ground truth.
    grid : int
        Patches per side for the time search and the contrast estimate.
    contrast : float or None
        Event contrast threshold; None: estimated per patch (see :mod:`.refocus`).
    detrend : {"auto", "on", "off"}
        Leak-drift removal for event streams (see :mod:`.refocus`).
    weight_sigma_px : float
        Gaussian smoothing of the focus measures.
    weight_power : float
        γ of the merge weights f^γ / Σ f^γ. 4 by default: on the benchmark's synthetic and light-field sweeps γ = 8
        (the earlier default) over-trusts sparse event measures and γ = 1 blurs the slices together.
    input_weight : float
        Factor on the focus measure of the input image's own slice (1, the papers' plain Eq. 5, by default). A
        larger factor makes a refocused slice prove itself sharper than the captured image before replacing it.
        Measured with 4: Middlebury image+depth sweeps focused nearly everywhere with random-k DVS-Voltmeter events
        went from −3.5 / −1.0 dB to −2.2 / −0.1 dB against the input, but defocused synthetic sweeps moved by
        −0.56 to +0.58 dB and a 120-frame test scene of one depth, captured 1.5 dB out of focus, lost 1.7 dB: the
        input's own contrast is no proof of focus, so this is not the default.
    sharpness_power : float
        β of the measures f · D^β, f from the signal (Eq. 12 for events, Eq. 13 for spikes) and D the slice's own
        local contrast (see :mod:`.weights`); 0 gives the papers' plain measures. Used with ``weights="symmetry"``
        and ``"spike-variance"``.
    symmetry_floor : float
        Smoothed symmetry (events) below which a slice has no symmetry evidence at a pixel. Such a slice's measure
        is 0 — unless the pixel is *active* (see ``active_events``), where it is ``symmetry_floor`` · D^β, so that
        the slices' sharpness D alone decides there. A pixel with no evidence for any slice keeps the input image.
    active_events : int
        A pixel is active when it, or a pixel within about 2 px, fired at least this many events beyond the
        expected leak: its intensity changed during the sweep, but (all events of one sign) it may be in focus at
        or beyond an end of the sweep, where Eq. 12 has no mirrored events to find (see :mod:`.weights`). 0: no
        pixel is active (the plain floor).
    colour : {"line", "keep"}
        Colour of the refocused slices: local colour line (default) or the image's chromaticity (see
        :mod:`.refocus`).
    spike_window_fraction : float or None
        TFP half window as a fraction of the sweep duration; None (default): sized so that a pixel at the median
        firing rate collects ``spike_window_spikes`` spikes, within 1-6 % of the sweep (see
        :func:`.refocus.spike_half_window`).
    spike_window_spikes : float
        Spikes per TFP window at the median firing rate (for ``spike_window_fraction=None``).
    search : SearchSettings
        Details of the time search (its ``grid`` is replaced by ``grid``, its ``search`` by ``times``).
    """

    modality: str | None = None
    times: str = "robust"
    num_uniform: int = 16
    weights: str | None = None
    grid: int = 8
    contrast: float | None = None
    detrend: str = "auto"
    weight_sigma_px: float = 2.0
    weight_power: float = 4.0
    input_weight: float = 1.0
    sharpness_power: float = 2.0
    symmetry_floor: float = 0.01
    active_events: int = 2
    colour: str = "line"
    spike_window_fraction: float | None = None
    spike_window_spikes: float = 30.0
    search: SearchSettings = SearchSettings()

    def __post_init__(self):
        if self.modality is not None and self.modality not in MODALITIES:
            raise NeurofocusError(f"modality must be one of {MODALITIES}, got {self.modality!r}")
        if self.times not in TIME_RULES:
            raise NeurofocusError(f"times must be one of {TIME_RULES}, got {self.times!r}")
        if self.weights is not None and self.weights not in WEIGHT_RULES:
            raise NeurofocusError(f"weights must be one of {WEIGHT_RULES}, got {self.weights!r}")
        if self.contrast is not None and not self.contrast > 0:
            raise NeurofocusError("contrast must be positive")
        if self.colour not in COLOUR_MODELS:
            raise NeurofocusError(f"colour must be one of {COLOUR_MODELS}, got {self.colour!r}")
        if not self.input_weight > 0:
            raise NeurofocusError("input_weight must be positive")
        if self.sharpness_power < 0 or self.symmetry_floor < 0 or not self.weight_power > 0 or self.active_events < 0:
            raise NeurofocusError("need sharpness_power >= 0, symmetry_floor >= 0, weight_power > 0 and "
                                  "active_events >= 0")


@dataclasses.dataclass
class AifResult:
    """What the pipeline produced.

    Attributes
    ----------
    image : ndarray, float32 (H, W, 3)
        The all-in-focus image, sRGB in [0, 1].
    infocus_time_us : ndarray, float64 (H, W)
        Time of the slice with the largest focus measure at each pixel.
    stack_times_us : ndarray, int64 (K,)
        Slice times (the image time included).
    stack : list of ndarray, uint8 (H, W, 3)
        The refocused slices as sRGB (when kept).
    selection : TimeSelection or None
        Per-patch search results (None for uniform times).
    contrast : ndarray (H, W) or None
        Event contrast thresholds used.
    modality, weights : str
    timings_s : dict
        Seconds per stage.
    """

    image: np.ndarray
    infocus_time_us: np.ndarray
    stack_times_us: np.ndarray
    stack: list
    selection: TimeSelection | None
    contrast: np.ndarray | None
    modality: str
    weights: str
    timings_s: dict


def _modality(sweep: FocalSweep, config: AifConfig) -> str:
    if config.modality is not None:
        if getattr(sweep, config.modality) is None:
            raise NeurofocusError(f"the sweep has no {config.modality}")
        return config.modality
    if sweep.events is not None and len(sweep.events):
        return "events"
    if sweep.spikes is not None:
        return "spikes"
    raise NeurofocusError("the sweep has no events (or an empty stream) and no spikes")


@dataclasses.dataclass
class StackPlan:
    """The first half of the pipeline, shared with the learned pipeline: which signal, the refocuser, the
    contrast and the refocusing times.

    Attributes
    ----------
    modality : str
    refocuser : EventRefocuser or SpikeRefocuser
    table : PolarityTable or None
        The events' polarity table (events only).
    selection : TimeSelection or None
        Per-patch search results (None for uniform times).
    contrast : ndarray (H, W) or None
        Event contrast thresholds used.
    stack_times_us : ndarray, int64 (K,)
        Slice times, the image time included.
    timings_s : dict
        Seconds per stage.
    """

    modality: str
    refocuser: object
    table: PolarityTable | None
    selection: TimeSelection | None
    contrast: np.ndarray | None
    stack_times_us: np.ndarray
    timings_s: dict


def build_refocuser(image: np.ndarray, image_time_us: int, sweep_us: tuple[float, float], *,
                    table: PolarityTable | None = None, spikes=None, config: AifConfig = AifConfig(),
                    contrast: np.ndarray | None = None):
    """The hand-crafted refocuser of an image: events (give ``table``): an EventRefocuser, its contrast estimated
    per patch unless ``config.contrast`` or a ``contrast`` map (H, W) from an earlier estimate for the same image
    and events; spikes (give ``spikes``): a SpikeRefocuser with the adaptive TFP window.

    Returns (refocuser, contrast map (H, W) or None, timings).
    """
    timings = {}
    start_us, end_us = (int(v) for v in sweep_us)
    if table is None:
        window = spike_half_window(spikes, (start_us, end_us), config.spike_window_fraction,
                                   target_spikes=config.spike_window_spikes)
        refocuser = SpikeRefocuser(image, image_time_us, spikes, half_window=window, colour=config.colour)
        return refocuser, None, timings
    given = contrast if contrast is not None else config.contrast
    refocuser = EventRefocuser(image, image_time_us, table, 0.2 if given is None else given,
                               sweep_us=(start_us, end_us), detrend=config.detrend, colour=config.colour)
    if given is None:
        t0 = time.perf_counter()
        contrast = refocuser.estimate_contrast(start_us, end_us, config.grid)
        timings["contrast_s"] = time.perf_counter() - t0
    else:
        contrast = refocuser.contrast
    return refocuser, contrast, timings


def sweep_refocuser(sweep: FocalSweep, config: AifConfig = AifConfig(), modality: str | None = None):
    """:func:`build_refocuser` for a sweep's image and signal; returns (refocuser, PolarityTable or None,
    contrast or None, timings)."""
    modality = modality or _modality(sweep, config)
    t0 = time.perf_counter()
    table = PolarityTable(sweep.events) if modality == "events" else None
    index_s = time.perf_counter() - t0
    refocuser, contrast, timings = build_refocuser(sweep.image, sweep.image_time_us, sweep.time_extent_us,
                                                   table=table, spikes=sweep.spikes, config=config)
    if table is not None:
        timings["index_s"] = index_s
    return refocuser, table, contrast, timings


def plan_stack(sweep: FocalSweep, config: AifConfig = AifConfig()) -> StackPlan:
    """Choose the signal, build the refocuser (estimating the event contrast) and select the refocusing times."""
    modality = _modality(sweep, config)
    start_us, end_us = sweep.time_extent_us
    search = dataclasses.replace(config.search, grid=config.grid,
                                 search=config.times if config.times != "uniform" else config.search.search)
    refocuser, table, contrast, timings = sweep_refocuser(sweep, config, modality)
    t1 = time.perf_counter()
    if config.times == "uniform":
        selection = None
        times = uniform_times(start_us, end_us, config.num_uniform)
    else:
        if modality == "events":
            selection = select_times_events(refocuser, sweep.events, search)
        else:
            selection = select_times_spikes(refocuser, search)
        times = selection.times_us
    timings["times_s"] = time.perf_counter() - t1
    stack_times = np.unique(np.concatenate([[sweep.image_time_us], times])).astype(np.int64)
    return StackPlan(modality, refocuser, table, selection, contrast, stack_times, timings)


def all_in_focus(sweep: FocalSweep, config: AifConfig = AifConfig(), *, keep_stack: bool = True,
                 progress: bool = False) -> AifResult:
    """Run the hand-crafted pipeline on a focal sweep.

    Parameters
    ----------
    sweep : FocalSweep
        RGB image (on the sensor's grid) with its capture time, and events or spikes.
    config : AifConfig
    keep_stack : bool
        Keep the refocused slices (uint8) in the result.
    progress : bool
        Show a progress bar over the slices.
    """
    t0 = time.perf_counter()
    modality = _modality(sweep, config)
    rule = weight_rule(sweep, config, modality)
    plan = plan_stack(sweep, config)
    refocuser, timings = plan.refocuser, dict(plan.timings_s)
    t1 = time.perf_counter()
    stack = []

    def slices():
        for t in progress_bar(plan.stack_times_us, desc="refocusing", disable=not progress, leave=False):
            linear = np.clip(refocuser.refocus_linear(int(t)), 0.0, 1.0)
            if keep_stack:
                stack.append(to_uint8(linear_to_srgb(linear)))
            yield linear

    image, infocus = merge_slices(sweep, plan, config, slices(), rule)
    timings["stack_s"] = time.perf_counter() - t1
    timings["total_s"] = time.perf_counter() - t0
    return AifResult(image, infocus, plan.stack_times_us, stack, plan.selection, plan.contrast, modality, rule,
                     timings)


def weight_rule(sweep: FocalSweep, config: AifConfig, modality: str) -> str:
    """The focus-measure rule of ``config`` for ``modality`` (its default when unset), checked against the sweep."""
    rule = config.weights or ("symmetry" if modality == "events" else "spike-variance")
    if rule == "oracle" and (sweep.ground_truth is None or sweep.ground_truth.infocus_time_us is None):
        raise NeurofocusError("oracle weights need the ground-truth in-focus times")
    if rule == "symmetry" and modality != "events" or rule == "spike-variance" and modality != "spikes":
        raise NeurofocusError(f"{rule} weights need {'events' if rule == 'symmetry' else 'spikes'}")
    return rule


def merge_slices(sweep: FocalSweep, plan: StackPlan, config: AifConfig, slices, rule: str
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Weigh refocused slices with a hand-crafted focus measure and merge them (Eq. 5), one slice at a time.

    ``slices`` yields the slices at ``plan.stack_times_us`` in order, linear RGB float32 (H, W, 3) in [0, 1] (from
    the hand-crafted refocuser, or a refocus network). Returns (all-in-focus sRGB float32 (H, W, 3), per-pixel
    in-focus time µs float64 (H, W)).
    """
    stack_times = plan.stack_times_us
    measure = _measure_function(rule, sweep, plan.refocuser, plan.table, config, stack_times, plan.modality)
    merger = StackMerger(plan.refocuser.luminance.shape, config.weight_power)
    at_image = np.flatnonzero(np.asarray(stack_times) == sweep.image_time_us) if rule != "oracle" else []
    input_index = int(at_image[0]) if len(at_image) else -1  # the input image's own slice, if the stack has it
    for index, (t, linear) in enumerate(zip(stack_times, slices)):
        value = measure(index, int(t), linear @ LUMINANCE_WEIGHTS)
        weight, timing = value if isinstance(value, tuple) else (value, None)
        if index == input_index:  # the in-focus map keeps the unbiased measure
            weight, timing = weight * np.float32(config.input_weight), weight if timing is None else timing
        merger.add(linear, weight, float(t), timing)
    merged, infocus = merger.result(plan.refocuser.linear, float(sweep.image_time_us))
    return linear_to_srgb(merged), infocus


def _measure_function(rule: str, sweep: FocalSweep, refocuser, table, config: AifConfig, stack_times,
                      modality: str) -> Callable[[int, int, np.ndarray], np.ndarray]:
    """focus measure (slice index, time µs, slice luminance) -> (H, W) for the chosen rule."""
    sigma = config.weight_sigma_px
    if rule == "symmetry":
        start_us, end_us = (int(v) for v in sweep.time_extent_us)
        drift = refocuser.drift_rate  # the leak rate removed from the refocusing, if any
        floor = np.float32(config.symmetry_floor)
        active = focus_measures.active_pixels(table, config.active_events, drift, end_us - start_us)

        def symmetry(i, t, y):
            raw = focus_measures.polarity_symmetry(table, t, start_us, end_us, sigma, drift)
            # below the floor: no symmetry evidence; active pixels keep the floor so that D decides there
            f = np.where(raw >= floor, raw, np.where(active, floor, np.float32(0)))
            if config.sharpness_power > 0:
                sharpness = focus_measures.local_contrast(y, sigma) ** np.float32(config.sharpness_power)
                return f * sharpness, raw * sharpness
            return f, raw
        return symmetry
    if rule == "spike-variance":
        def spike_variance(i, t, y):
            f = focus_measures.spike_rate_variance(refocuser.rate(t), sigma)
            if config.sharpness_power > 0:
                f *= focus_measures.local_contrast(y, sigma) ** np.float32(config.sharpness_power)
            return f
        return spike_variance
    if rule == "gradient":
        return lambda i, t, y: focus_measures.gradient_energy(y, sigma)
    truth = sweep.ground_truth.infocus_time_us
    return lambda i, t, y: focus_measures.oracle(truth, stack_times, i)
