"""The hand-crafted all-in-focus pipeline (NFS §3.3): select times, refocus, weigh, merge.

    sweep (RGB image + events or spikes)
      → contrast threshold per patch (events: Eq. 11)            refocus.EventRefocuser / SpikeRefocuser
      → refocusing times per patch, merged (Algorithm 1)         timestamps.select_times_*
      → for the image time and every selected time:
            refocused slice (Eq. 8 / 9) and its focus measure   weights.*
            streamed into the merge (Eq. 5)                      merge.StackMerger
      → all-in-focus image, per-pixel in-focus time (and depth when the focus schedule is known)
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np
from tqdm.auto import tqdm

from ..color import LUMINANCE_WEIGHTS, linear_to_srgb, to_uint8
from ..errors import NeurofocusError
from ..represent import PolarityTable
from ..types import FocalSweep
from . import weights as focus_measures
from .merge import StackMerger
from .refocus import EventRefocuser, SpikeRefocuser, spike_half_window
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
        γ of the merge weights f^γ / Σ f^γ.
    spike_window_fraction : float
        TFP half window as a fraction of the sweep duration.
    search : SearchSettings
        Details of the time search (its ``grid`` is replaced by ``grid``).
    """

    modality: str | None = None
    times: str = "robust"
    num_uniform: int = 16
    weights: str | None = None
    grid: int = 8
    contrast: float | None = None
    detrend: str = "auto"
    weight_sigma_px: float = 2.0
    weight_power: float = 8.0
    spike_window_fraction: float = 0.015
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
    timings = {}
    t0 = time.perf_counter()
    modality = _modality(sweep, config)
    rule = config.weights or ("symmetry" if modality == "events" else "spike-variance")
    if rule == "oracle" and (sweep.ground_truth is None or sweep.ground_truth.infocus_time_us is None):
        raise NeurofocusError("oracle weights need the ground-truth in-focus times")
    if rule == "symmetry" and modality != "events" or rule == "spike-variance" and modality != "spikes":
        raise NeurofocusError(f"{rule} weights need {'events' if rule == 'symmetry' else 'spikes'}")
    start_us, end_us = sweep.time_extent_us
    search = dataclasses.replace(config.search, grid=config.grid)
    contrast = None
    if modality == "events":
        table = PolarityTable(sweep.events)
        timings["index_s"] = time.perf_counter() - t0
        refocuser = EventRefocuser(sweep.image, sweep.image_time_us, table, config.contrast or 0.2,
                                   sweep_us=(int(start_us), int(end_us)), detrend=config.detrend)
        if config.contrast is None:
            t1 = time.perf_counter()
            contrast = refocuser.estimate_contrast(int(start_us), int(end_us), config.grid)
            timings["contrast_s"] = time.perf_counter() - t1
        else:
            contrast = refocuser.contrast
    else:
        table = None
        refocuser = SpikeRefocuser(sweep.image, sweep.image_time_us, sweep.spikes,
                                   half_window=spike_half_window(sweep.spikes, (start_us, end_us),
                                                                 config.spike_window_fraction))
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

    measure = _measure_function(rule, sweep, refocuser, table, config, stack_times, modality)
    t1 = time.perf_counter()
    merger = StackMerger(refocuser.luminance.shape, config.weight_power)
    stack = []
    for index, t in enumerate(tqdm(stack_times, desc="refocusing", disable=not progress, leave=False)):
        linear = np.clip(refocuser.refocus_linear(int(t)), 0.0, 1.0)
        merger.add(linear, measure(index, int(t), linear @ LUMINANCE_WEIGHTS), float(t))
        if keep_stack:
            stack.append(to_uint8(linear_to_srgb(linear)))
    merged, infocus = merger.result(refocuser.linear, float(sweep.image_time_us))
    timings["stack_s"] = time.perf_counter() - t1
    timings["total_s"] = time.perf_counter() - t0
    return AifResult(linear_to_srgb(merged), infocus, stack_times, stack, selection, contrast, modality, rule,
                     timings)


def _measure_function(rule: str, sweep: FocalSweep, refocuser, table, config: AifConfig, stack_times,
                      modality: str) -> Callable[[int, int, np.ndarray], np.ndarray]:
    """focus measure (slice index, time µs, slice luminance) -> (H, W) for the chosen rule."""
    sigma = config.weight_sigma_px
    if rule == "symmetry":
        start_us, end_us = (int(v) for v in sweep.time_extent_us)
        drift = refocuser.drift_rate  # the leak rate removed from the refocusing, if any
        return lambda i, t, y: focus_measures.polarity_symmetry(table, t, start_us, end_us, sigma, drift)
    if rule == "spike-variance":
        return lambda i, t, y: focus_measures.spike_rate_variance(refocuser.rate(t), sigma)
    if rule == "gradient":
        return lambda i, t, y: focus_measures.gradient_energy(y, sigma)
    truth = sweep.ground_truth.infocus_time_us
    return lambda i, t, y: focus_measures.oracle(truth, stack_times, i)
