"""Training data over a synthetic dataset folder (``neurofocus synth``): refocus pairs and merge stacks.

Both datasets are map-style :class:`torch.utils.data.Dataset` objects whose items are addressed by
``(epoch, index)`` (a plain ``index`` means epoch 0). Every random choice of an item (scene content, frames, crop,
flips) is drawn from ``numpy.random.default_rng([seed, epoch, index])``, so an item is a pure function of
``(seed, epoch, index)``: it does not depend on the order of access, on the number of DataLoader workers or on
what was loaded before — which is what makes resumed training identical to uninterrupted training.

:class:`RefocusPairs` (NFS §3.6: "we randomly select two frames ..., one as input and the other as ground truth,
with corresponding events triggered between them")
    Item ``index`` belongs to scene ``index // samples_per_scene``. Two of the scene's kept ground-truth frames
    (``truth.npz: kept_frames``) at least ``min_gap_frames`` sweep frames apart are drawn, uniformly over the
    ordered pairs (``direction="both"``: the target may lie before or after the input), then a random crop and
    random horizontal / vertical flips applied to every array of the item. The input frame plays the RGB image:

    * events: ``image`` is the hand-crafted refocus of the input frame to the target frame's time
      (:func:`neurofocus.aif.pipeline.build_refocuser` on the whole frame, cropped; the input frame itself for
      ``event_image="captured"``), ``nfs`` the model's :class:`~neurofocus.models.inputs.EventBinning` of the
      events from the input frame's time to the target frame's time — bit-identical to cropping ``event_bins`` of
      the whole sensor (computed from a per-pixel :class:`~neurofocus.represent.PolarityTable` on the crop only;
      count binning, whose bins depend on the field of view, is computed on the cropped events);
    * spikes: ``image`` is the hand-crafted TFP refocus of the input frame to the target time (with the
      hand-crafted pipeline's TFP window for the whole scene, computed on the crop plus a margin that makes it
      equal to the whole-frame result cropped) and ``nfs`` the :class:`~neurofocus.models.inputs.SpikeBinning` of
      the spikes around the target time.

    ``target`` is the target frame. All images are float32 (3, h, w) sRGB in [0, 1].

:class:`MergeStacks` (NFS §3.6: "we input all generated refocused images and the corresponding event/spike
streams")
    Per scene, once: S slice times (``stack_times="search"``: the hand-crafted per-patch time search of
    :mod:`neurofocus.aif.timestamps` on the scene's RGB image, completed with evenly spaced times when it gives
    fewer than S, thinned evenly when it gives more; ``"uniform"``: S evenly spaced times), the S slices
    (``source="frames"``: the ground-truth kept frame nearest each time, i.e. an ideal refocuser;
    ``"handcrafted"``: the hand-crafted refocus of the RGB image; ``"network"``: a trained refocus network run on
    the RGB image), and the model's per-slice neuromorphic channel
    (:class:`~neurofocus.models.inputs.EventSlicing` / :class:`~neurofocus.models.inputs.SpikeSlicing`) on the whole
    frame. Items are random crops and flips of ``stack`` (S, 3, h, w), ``nfs`` (S, h, w) and the all-in-focus
    ``target`` (3, h, w).

Memory
    Scenes are read on first use and cached per process (each DataLoader worker holds its own copy; at most
    ``cache_scenes`` scenes, least recently used dropped first, 0 = no limit). Per scene, with K kept frames,
    an H×W sensor and N events:

    * refocus pairs: K·H·W·3 bytes of kept frames (33 MB for 122 frames at 346×260) plus 12·N bytes of event
      index (``PolarityTable``; 3 MB for 250 k events; count binning also keeps the events, 16·N bytes) or the
      bit-packed spikes, T·H·W/8 bytes (114 MB for a 1 s sweep at 100 µs ticks);
    * merge stacks: S·H·W·3 bytes of slices plus 4·S·H·W bytes of neuromorphic channels plus the target
      (40 MB at S = 64, 346×260); the events or spikes are released after preparation.
"""

from __future__ import annotations

import collections
import math
import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..aif.pipeline import AifConfig, build_refocuser, sweep_refocuser
from ..aif.refocus import SpikeRefocuser, spike_half_window
from ..aif.refocus import crop as crop_region
from ..errors import NeurofocusError
from ..models.inputs import (
    EventBinning,
    EventSlicing,
    SpikeBinning,
    SpikeSlicing,
    spike_bins,
)
from ..represent import PolarityTable

#: Margin around a crop for the hand-crafted spike refocus: at least the largest filter radius of
#: ``aif.refocus.SpikeRefocuser`` (gain smoothing σ = 3 px truncated at 4σ = 12 px; colour-line window 4 px), so that
#: the crop's result equals the whole-frame result (pinned by tests/train/test_data.py).
SPIKE_GAIN_MARGIN_PX = 16

DIRECTIONS = ("both", "forward", "backward")
STACK_TIMES = ("search", "uniform")
STACK_SOURCES = ("frames", "handcrafted", "network")


# scene folders ------------------------------------------------------------------------------------------------------
def list_scenes(folder: str | os.PathLike, modality: str | None = None) -> list[Path]:
    """The complete scene folders of a ``neurofocus synth`` dataset, sorted by name.

    Parameters
    ----------
    folder : path
        The dataset folder (holding ``scene_00000`` ...), or a single scene folder.
    modality : {"events", "spikes"}, optional
        Require every scene to hold this signal.

    Raises
    ------
    NeurofocusError
        The folder is missing, is not a focal-sweep dataset, holds no complete scene, or a scene lacks the modality.
    """
    from ..datasets import has_stream, list_folders

    scenes = list_folders(folder, "focal-sweep", purpose="refocus and merge training need focal sweeps")
    if modality is not None:
        for scene in scenes:
            if not has_stream(scene, "focal-sweep", modality):
                hint = " (make it with neurofocus synth --spikes)" if modality == "spikes" else ""
                raise NeurofocusError(f"scene {scene.name} has no {modality}{hint}", folder)
    return scenes


class _RegionSpikes:
    """A rectangle of a :class:`~neurofocus.types.Spikes` recording, read in place (no copy of the bits).

    Implements what the spike kernels use (size, tick timing and ``count``) with coordinates relative to the
    rectangle, so ``spike_bins`` and the hand-crafted ``SpikeRefocuser`` run on a crop at the cost of the crop.
    """

    def __init__(self, spikes, region):
        self._spikes = spikes
        self._y0, self._y1, self._x0, self._x1 = (int(v) for v in region)

    @property
    def height(self) -> int:
        return self._y1 - self._y0

    @property
    def width(self) -> int:
        return self._x1 - self._x0

    @property
    def sensor_size(self) -> tuple[int, int]:
        return self.width, self.height

    @property
    def num_ticks(self) -> int:
        return self._spikes.num_ticks

    @property
    def tick_us(self):
        return self._spikes.tick_us

    @property
    def start_us(self) -> float:
        return self._spikes.start_us

    def tick_at(self, t_us: float) -> int:
        return self._spikes.tick_at(t_us)

    def tick_times_us(self) -> np.ndarray:
        return self._spikes.tick_times_us()

    def count(self, start=None, stop=None, region=None) -> np.ndarray:
        if region is None:
            y0, y1, x0, x1 = 0, self.height, 0, self.width
        else:
            y0, y1, x0, x1 = (int(v) for v in region)
        return self._spikes.count(start, stop, (self._y0 + y0, self._y0 + y1, self._x0 + x0, self._x0 + x1))


def event_bins_region(table: PolarityTable, image_time_us: int, target_time_us: int, rep: EventBinning,
                      region: tuple[int, int, int, int]) -> np.ndarray:
    """``rep`` (time binning) of the events from the image time to the target time, on ``region`` only.

    Equal to ``event_bins(events, image_time_us, target_time_us, ...)[:, y0:y1, x0:x1]`` bit for bit: bin b of
    [lo, hi) holds the events with lo + ⌈b·(hi − lo)/B⌉ <= t < lo + ⌈(b + 1)·(hi − lo)/B⌉, the boundaries of
    :func:`neurofocus.represent.event_frames`, here counted with the table's per-pixel binary searches.

    Returns float32 (B, y1 − y0, x1 − x0).
    """
    if rep.binning != "time":
        raise NeurofocusError("event_bins_region computes time bins only")
    y0, y1, x0, x1 = region
    t_img, t_tgt = int(image_time_us), int(target_time_us)
    lo, hi = min(t_img, t_tgt), max(t_img, t_tgt)
    b = rep.num_bins
    if lo == hi:
        return np.zeros((b, y1 - y0, x1 - x0), np.float32)
    span = hi - lo
    anchored = table.anchored(lo)
    cumulative = np.stack([anchored.net(lo - ((-k * span) // b), region) for k in range(b + 1)])
    frames = np.diff(cumulative, axis=0)
    if t_tgt < t_img:
        frames = -frames[::-1]
    return frames.astype(np.float32) * np.float32(rep.count_scale)


def _flip(array: np.ndarray, horizontal: bool, vertical: bool) -> np.ndarray:
    """Flip the last two axes (…, H, W) as drawn; returns a contiguous copy."""
    if horizontal:
        array = array[..., ::-1]
    if vertical:
        array = array[..., ::-1, :]
    return np.ascontiguousarray(array)


def _draw_crop(rng: np.random.Generator, shape: tuple[int, int], crop: int | None) -> tuple[int, int, int, int]:
    h, w = shape
    if crop is None:
        return 0, h, 0, w
    y0 = int(rng.integers(0, h - crop + 1))
    x0 = int(rng.integers(0, w - crop + 1))
    return y0, y0 + crop, x0, x0 + crop


def _check_crop(crop, shape, scene) -> int | None:
    if crop is None:
        return None
    crop = int(crop)
    if crop < 1:
        raise NeurofocusError(f"crop must be a positive number of pixels, got {crop}")
    if crop > min(shape):
        raise NeurofocusError(f"crop {crop} px is larger than the {shape[1]}x{shape[0]} frames", scene)
    return crop


class _SceneCache:
    """Per-process LRU cache of prepared scenes (dropped when the dataset is pickled to a DataLoader worker)."""

    def __init__(self, limit: int):
        self.limit = int(limit)
        self._items: collections.OrderedDict = collections.OrderedDict()

    def get(self, key, build):
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = build()
        self._items[key] = value
        if self.limit > 0:
            while len(self._items) > self.limit:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)


class _SceneDataset(Dataset):
    """Shared plumbing: scenes, (epoch, index) addressing, per-item RNG, cache."""

    def __init__(self, scenes, *, modality: str, seed: int, samples_per_scene: int, crop: int | None,
                 flips: bool, cache_scenes: int):
        if modality not in ("events", "spikes"):
            raise NeurofocusError(f"modality must be 'events' or 'spikes', got {modality!r}")
        self.scenes = [Path(s) for s in scenes]
        if not self.scenes:
            raise NeurofocusError("no scenes to train on")
        self.modality = modality
        self.seed = int(seed)
        self.samples_per_scene = int(samples_per_scene)
        if self.samples_per_scene < 1:
            raise NeurofocusError("samples_per_scene must be at least 1")
        self.crop = crop
        self.flips = bool(flips)
        self.cache_scenes = int(cache_scenes)
        self._cache = _SceneCache(self.cache_scenes)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_cache"] = _SceneCache(self.cache_scenes)  # each worker fills its own
        return state

    def __len__(self) -> int:
        return len(self.scenes) * self.samples_per_scene

    def _address(self, key) -> tuple[int, int]:
        if isinstance(key, (tuple, list)):
            epoch, index = (int(v) for v in key)
        else:
            epoch, index = 0, int(key)
        if not 0 <= index < len(self):
            raise IndexError(f"item {index} of a dataset of {len(self)}")
        if epoch < 0:
            raise IndexError(f"negative epoch {epoch}")
        return epoch, index

    def rng(self, epoch: int, index: int) -> np.random.Generator:
        """The generator of item ``index`` in ``epoch``."""
        return np.random.default_rng([self.seed, epoch, index])

    def scene(self, position: int):
        """The prepared data of scene ``position`` (cached)."""
        return self._cache.get(position, lambda: self._load(position))

    def _load(self, position: int):  # pragma: no cover - abstract
        raise NotImplementedError


class _RefocusScene:
    """What refocus pairs need of one scene."""

    def __init__(self, folder: Path, modality: str, rep, crop):
        from ..datasets import load_sample

        sample = load_sample(folder, events=modality == "events", spikes=modality == "spikes")
        sweep = sample.sweep
        self.folder = folder
        self.kept_frames = sample.kept_frames  # uint8 (K, H, W, 3)
        self.kept_indices = sample.kept_indices.astype(np.int64)
        self.kept_times_us = np.rint(sample.frame_times_us[sample.kept_indices]).astype(np.int64)
        self.shape = self.kept_frames.shape[1:3]
        self.sweep_us = tuple(int(v) for v in sweep.time_extent_us)
        self.infocus_time_us = sweep.ground_truth.infocus_time_us  # float64 (H, W)
        self.table = self.events = self.spikes = None
        self.contrasts = {}  # kept-frame position → the hand-crafted contrast map of that input frame, float32 (H, W)
        if modality == "events":
            if sweep.events is None:
                raise NeurofocusError("the scene has no events", folder)
            self.table = PolarityTable(sweep.events)
            if rep.binning != "time":
                self.events = sweep.events
        else:
            if sweep.spikes is None:
                raise NeurofocusError("the scene has no spikes", folder)
            if sweep.spikes.tick_us is None:
                raise NeurofocusError("the scene's spike tick length is unknown", folder)
            self.spikes = sweep.spikes
            self.spike_window = spike_half_window(sweep.spikes, self.sweep_us)  # the pipeline's TFP window
        if len(self.kept_frames) < 2:
            raise NeurofocusError("the scene keeps fewer than two ground-truth frames", folder)
        _check_crop(crop, self.shape, folder)

    def frame(self, position: int, region=None) -> np.ndarray:
        """Kept frame ``position`` as float32 sRGB (H, W, 3) (or its ``region``)."""
        frame = self.kept_frames[position]
        if region is not None:
            y0, y1, x0, x1 = region
            frame = frame[y0:y1, x0:x1]
        return frame.astype(np.float32) / np.float32(255.0)


class RefocusPairs(_SceneDataset):
    """Random (input frame, target frame) pairs of the same scene with the neuromorphic data between them.

    Parameters
    ----------
    scenes : list of Path
        Scene folders (:func:`list_scenes`).
    representation : EventBinning or SpikeBinning
        The refocus model's NFS input (``model.config.nfs``); its type fixes the modality.
    seed : int
        Items are a function of (seed, epoch, index).
    samples_per_scene : int
        Items per scene in one epoch (the dataset length is ``len(scenes) * samples_per_scene``).
    crop : int or None
        Side of the random square crop in pixels (None: whole frames).
    flips : bool
        Random horizontal and vertical flips (each with probability 1/2), the same for every array of an item.
    direction : {"both", "forward", "backward"}
        Target after or before the input frame ("both": either, uniformly over the ordered pairs).
    min_gap_frames : int
        Smallest distance between the two frames, in sweep frames (the EFS training code: 10 of 480).
    cache_scenes : int
        Scenes kept in memory per process (0: all).
    event_image : {"handcrafted", "captured"}
        Events: the image input (the refocus model's ``config.event_image``).
    focus_sigma : float
        Width σ of the focus map, as a fraction of the sweep's duration.

    Items
    -----
    dict with ``image`` float32 (3, h, w), ``nfs`` float32 (B, h, w), ``target`` float32 (3, h, w), ``focus``
    float32 (1, h, w): how nearly each pixel is in focus at the target time, exp(−½ (Δt / (σ·duration))²) with Δt
    the pixel's ground-truth in-focus time minus the target time (for :class:`.losses.TrainingLoss` and the
    validation's in-focus PSNR), and
    ``scene`` (position in ``scenes``), ``input_frame`` / ``target_frame`` (positions among the kept frames),
    ``input_time_us`` / ``target_time_us``, ``region`` (y0, y1, x0, x1 before flipping), ``flip`` (horizontal,
    vertical) as int64.
    """

    def __init__(self, scenes, representation, *, seed: int = 0, samples_per_scene: int = 16,
                 crop: int | None = 128, flips: bool = True, direction: str = "both", min_gap_frames: int = 10,
                 cache_scenes: int = 0, event_image: str = "handcrafted", focus_sigma: float = 0.03):
        if isinstance(representation, EventBinning):
            modality = "events"
        elif isinstance(representation, SpikeBinning):
            modality = "spikes"
        else:
            raise NeurofocusError(f"refocus pairs need an event_bins or spike_bins representation, got "
                                  f"{getattr(representation, 'kind', representation)!r}")
        super().__init__(scenes, modality=modality, seed=seed, samples_per_scene=samples_per_scene,
                         crop=crop, flips=flips, cache_scenes=cache_scenes)
        if direction not in DIRECTIONS:
            raise NeurofocusError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
        self.representation = representation
        self.direction = direction
        if event_image not in ("handcrafted", "captured"):
            raise NeurofocusError(f"event_image must be 'handcrafted' or 'captured', got {event_image!r}")
        self.event_image = event_image
        self.min_gap_frames = int(min_gap_frames)
        if self.min_gap_frames < 1:
            raise NeurofocusError("min_gap_frames must be at least 1")
        if not float(focus_sigma) > 0:
            raise NeurofocusError(f"focus_sigma must be positive, got {focus_sigma!r}")
        self.focus_sigma = float(focus_sigma)

    def _load(self, position: int) -> _RefocusScene:
        return _RefocusScene(self.scenes[position], self.modality, self.representation, self.crop)

    def pairs(self, scene: _RefocusScene) -> np.ndarray:
        """The allowed ordered (input, target) kept-frame positions of a scene, int64 (P, 2)."""
        k = scene.kept_indices
        i, j = np.meshgrid(np.arange(len(k)), np.arange(len(k)), indexing="ij")
        gap = k[j] - k[i]
        ok = np.abs(gap) >= self.min_gap_frames
        if self.direction == "forward":
            ok &= gap > 0
        elif self.direction == "backward":
            ok &= gap < 0
        pairs = np.stack([i[ok], j[ok]], axis=1)
        if not len(pairs):
            raise NeurofocusError(f"no two kept frames are {self.min_gap_frames} sweep frames apart "
                                  f"(lower min_gap_frames)", scene.folder)
        return pairs

    def __getitem__(self, key) -> dict:
        epoch, index = self._address(key)
        position = index // self.samples_per_scene
        scene = self.scene(position)
        rng = self.rng(epoch, index)
        pairs = self.pairs(scene)
        a, b = (int(v) for v in pairs[rng.integers(len(pairs))])
        region = _draw_crop(rng, scene.shape, self.crop)
        hflip, vflip = (bool(rng.random() < 0.5), bool(rng.random() < 0.5)) if self.flips else (False, False)
        t_in, t_tgt = int(scene.kept_times_us[a]), int(scene.kept_times_us[b])
        image, nfs = self.inputs(scene, a, t_in, t_tgt, region)
        target = scene.frame(b, region)
        focus = self.focus_map(scene, t_tgt, region)
        return {
            "image": torch.from_numpy(_flip(image.transpose(2, 0, 1), hflip, vflip)),
            "nfs": torch.from_numpy(_flip(nfs, hflip, vflip)),
            "target": torch.from_numpy(_flip(target.transpose(2, 0, 1), hflip, vflip)),
            "focus": torch.from_numpy(_flip(focus[None], hflip, vflip)),
            "scene": position, "input_frame": a, "target_frame": b, "input_time_us": t_in,
            "target_time_us": t_tgt, "region": torch.tensor(region), "flip": torch.tensor([hflip, vflip]),
        }

    def focus_map(self, scene: _RefocusScene, t_tgt: int, region) -> np.ndarray:
        """How nearly each pixel of ``region`` is in focus at ``t_tgt``: float32 (h, w) in (0, 1]."""
        sigma_us = self.focus_sigma * max(scene.sweep_us[1] - scene.sweep_us[0], 1)
        offset = (crop_region(scene.infocus_time_us, region) - t_tgt) / sigma_us
        return np.exp(-0.5 * offset ** 2).astype(np.float32)

    def inputs(self, scene: _RefocusScene, input_frame: int, t_in: int, t_tgt: int, region):
        """The model's (image (h, w, 3), nfs (B, h, w)) for one pair on ``region`` = (y0, y1, x0, x1)."""
        rep = self.representation
        y0, y1, x0, x1 = region
        if self.modality == "events":
            if self.event_image == "captured":
                image = scene.frame(input_frame, region)
            else:  # the hand-crafted refocus of the whole input frame (its contrast estimate needs it all), cropped
                refocuser, contrast, _ = build_refocuser(scene.frame(input_frame), t_in, scene.sweep_us,
                                                         table=scene.table, contrast=scene.contrasts.get(input_frame))
                scene.contrasts[input_frame] = contrast  # estimated once per input frame
                image = np.ascontiguousarray(crop_region(refocuser.refocus(t_tgt), region))
            if rep.binning == "time":
                nfs = event_bins_region(scene.table, t_in, t_tgt, rep, region)
            else:
                lo, hi = min(t_in, t_tgt), max(t_in, t_tgt)
                window = scene.events.slice_time(lo, hi).crop(x0, y0, x1 - x0, y1 - y0)
                nfs = rep(window, t_in, t_tgt)
            return image, nfs
        h, w = scene.shape
        m = SPIKE_GAIN_MARGIN_PX
        outer = (max(0, y0 - m), min(h, y1 + m), max(0, x0 - m), min(w, x1 + m))
        refocuser = SpikeRefocuser(scene.frame(input_frame, outer), t_in, _RegionSpikes(scene.spikes, outer),
                                   half_window=scene.spike_window)
        refocused = refocuser.refocus(t_tgt)
        image = np.ascontiguousarray(refocused[y0 - outer[0]:y1 - outer[0], x0 - outer[2]:x1 - outer[2]])
        nfs = spike_bins(_RegionSpikes(scene.spikes, region), t_tgt, rep.num_bins, rep.ticks_per_bin)
        return image, nfs


# merge stacks -------------------------------------------------------------------------------------------------------
def fill_times(found_us: np.ndarray, count: int, start_us: float, end_us: float) -> np.ndarray:
    """Exactly ``count`` sorted slice times from the searched ones: thinned evenly (by rank) when there are more,
    completed with evenly spaced times over the sweep when there are fewer. int64 (count,)."""
    from ..aif.timestamps import uniform_times

    found = np.unique(np.asarray(found_us, np.int64))
    if len(found) >= count:
        return found[np.linspace(0, len(found) - 1, count).round().astype(int)]
    return np.sort(np.concatenate([found, uniform_times(start_us, end_us, count - len(found))])).astype(np.int64)


class _MergeScene:
    """A scene's focal stack, neuromorphic channels and all-in-focus target, prepared once."""

    def __init__(self, folder: Path, modality: str, rep, *, stack_size: int, stack_times: str, source: str,
                 refocus_model, search_grid: int, crop):
        from ..aif.timestamps import (
            SearchSettings,
            select_times_events,
            select_times_spikes,
            uniform_times,
        )
        from ..color import to_uint8
        from ..datasets import load_sample

        sample = load_sample(folder, events=modality == "events", spikes=modality == "spikes")
        sweep = sample.sweep
        if getattr(sweep, modality) is None:
            raise NeurofocusError(f"the scene has no {modality}", folder)
        self.folder = folder
        start_us, end_us = sweep.time_extent_us
        self.shape = sweep.image.shape[:2]
        _check_crop(crop, self.shape, folder)
        refocuser = None
        if stack_times == "search" or source in ("handcrafted", "network"):
            refocuser = sweep_refocuser(sweep, AifConfig(grid=search_grid), modality)[0]
        if stack_times == "search":
            settings = SearchSettings(grid=search_grid)
            selection = (select_times_events(refocuser, sweep.events, settings) if modality == "events"
                         else select_times_spikes(refocuser, settings))
            found = np.concatenate([[sweep.image_time_us], selection.times_us])
            self.times_us = fill_times(found, stack_size, start_us, end_us)
        else:
            self.times_us = uniform_times(start_us, end_us, stack_size)
        if source == "frames":
            kept_times = sample.frame_times_us[sample.kept_indices].astype(np.float64)
            nearest = np.abs(kept_times[None, :] - self.times_us[:, None].astype(np.float64)).argmin(axis=1)
            self.stack = sample.kept_frames[nearest]
        elif source == "handcrafted":
            self.stack = np.stack([to_uint8(refocuser.refocus(int(t))) for t in self.times_us])
        else:
            self.stack = _network_stack(refocus_model, sweep, self.times_us, refocuser)
        if isinstance(rep, EventSlicing):
            self.nfs = rep(sweep.events, [int(t) for t in self.times_us], rep.half_window_us((start_us, end_us)))
        else:
            self.nfs = rep(sweep.spikes, self.times_us, rep.half_window_ticks(sweep.spikes, (start_us, end_us)))
        self.target = sweep.ground_truth.all_in_focus  # float32 (H, W, 3)


def _network_stack(model, sweep, times_us, refocuser) -> np.ndarray:
    """The refocus network's slices at ``times_us`` on the whole frame (``refocuser``: the sweep's hand-crafted
    one, for the network's image input): uint8 (S, H, W, 3)."""
    from ..color import to_uint8
    from ..models.inputs import refocus_inputs, tensor_to_image

    out = []
    with torch.no_grad():
        for t in times_us:
            inputs = refocus_inputs(model, sweep, float(t), refocuser)
            out.append(to_uint8(tensor_to_image(model(**inputs))))
    return np.stack(out)


def load_refocus_model(path: str | os.PathLike, modality: str):
    """A trained refocus network for building merge stacks (eval mode, CPU); checks it fits the modality."""
    from ..models import load_model
    from ..models.refocus import RefocusNet

    model = load_model(path)
    if not isinstance(model, RefocusNet):
        raise NeurofocusError(f"the weights are for {model.name}, not a refocus network", path)
    if model.modality != modality:
        raise NeurofocusError(f"the refocus network takes {model.modality}, the merge network {modality}", path)
    return model


class MergeStacks(_SceneDataset):
    """Refocused focal stacks with their per-slice neuromorphic channels and the all-in-focus target.

    Parameters
    ----------
    scenes : list of Path
    representation : EventSlicing or SpikeSlicing
        The merge model's per-slice channel (``model.config.nfs``); its type fixes the modality.
    stack_size : int
        S, slices per stack.
    stack_times : {"search", "uniform"}
        How the slice times are chosen (module docstring).
    source : {"frames", "handcrafted", "network"}
        What the slices are (module docstring).
    refocus_model : torch.nn.Module, optional
        The refocus network for ``source="network"`` (see :func:`load_refocus_model`).
    search_grid : int
        Patches per side of the time search (the papers: 8).
    seed, samples_per_scene, crop, flips, cache_scenes
        As for :class:`RefocusPairs`.

    Items
    -----
    dict with ``stack`` float32 (S, 3, h, w), ``nfs`` float32 (S, h, w), ``target`` float32 (3, h, w), ``times_us``
    int64 (S,), ``scene``, ``region``, ``flip``.
    """

    def __init__(self, scenes, representation, *, stack_size: int = 64, stack_times: str = "search",
                 source: str = "frames", refocus_model=None, search_grid: int = 8, seed: int = 0,
                 samples_per_scene: int = 16, crop: int | None = 128, flips: bool = True, cache_scenes: int = 0):
        if isinstance(representation, EventSlicing):
            modality = "events"
        elif isinstance(representation, SpikeSlicing):
            modality = "spikes"
        else:
            raise NeurofocusError(f"merge stacks need an event_slices or spike_slices representation, got "
                                  f"{getattr(representation, 'kind', representation)!r}")
        super().__init__(scenes, modality=modality, seed=seed, samples_per_scene=samples_per_scene, crop=crop,
                         flips=flips, cache_scenes=cache_scenes)
        if stack_times not in STACK_TIMES:
            raise NeurofocusError(f"stack_times must be one of {STACK_TIMES}, got {stack_times!r}")
        if source not in STACK_SOURCES:
            raise NeurofocusError(f"stack source must be one of {STACK_SOURCES}, got {source!r}")
        if source == "network" and refocus_model is None:
            raise NeurofocusError("network-refocused stacks need refocus weights (--refocus-weights)")
        if int(stack_size) < 1 or int(search_grid) < 1:
            raise NeurofocusError("stack_size and search_grid must be at least 1")
        self.representation = representation
        self.stack_size = int(stack_size)
        self.stack_times = stack_times
        self.source = source
        self.refocus_model = refocus_model
        self.search_grid = int(search_grid)

    def _load(self, position: int) -> _MergeScene:
        return _MergeScene(self.scenes[position], self.modality, self.representation, stack_size=self.stack_size,
                           stack_times=self.stack_times, source=self.source, refocus_model=self.refocus_model,
                           search_grid=self.search_grid, crop=self.crop)

    def __getitem__(self, key) -> dict:
        epoch, index = self._address(key)
        position = index // self.samples_per_scene
        scene = self.scene(position)
        rng = self.rng(epoch, index)
        region = _draw_crop(rng, scene.shape, self.crop)
        hflip, vflip = (bool(rng.random() < 0.5), bool(rng.random() < 0.5)) if self.flips else (False, False)
        y0, y1, x0, x1 = region
        stack = scene.stack[:, y0:y1, x0:x1].astype(np.float32) / np.float32(255.0)
        return {
            "stack": torch.from_numpy(_flip(stack.transpose(0, 3, 1, 2), hflip, vflip)),
            "nfs": torch.from_numpy(_flip(scene.nfs[:, y0:y1, x0:x1], hflip, vflip)),
            "target": torch.from_numpy(_flip(scene.target[y0:y1, x0:x1].transpose(2, 0, 1), hflip, vflip)),
            "times_us": torch.from_numpy(scene.times_us.astype(np.int64)),
            "scene": position, "region": torch.tensor(region), "flip": torch.tensor([hflip, vflip]),
        }


def split_held_out(config, list_items, what: str) -> tuple[list[Path], list[Path]]:
    """(training items, validation items) of a training config: ``list_items(config.data)`` with its last
    ``config.val_scenes`` held out, or all of it and ``list_items(config.val_data)`` when that is given.

    ``what`` names an item in messages ("scene", "sequence"); raises NeurofocusError for unusable datasets.
    """
    if not config.data:
        raise NeurofocusError("no dataset given (--data DIR)")
    items = list_items(config.data)
    if config.val_data:
        return items, list_items(config.val_data)
    held = config.val_scenes
    if held and len(items) - held < 1:
        raise NeurofocusError(f"the dataset has {len(items)} {what}(s): nothing left for training after holding "
                              f"out {held} for validation (lower val_scenes, or give val_data)", config.data)
    return (items[:-held], items[-held:]) if held else (items, [])


def batches_for_epoch(num_items: int, epoch: int, batch_size: int, *, seed: int, world_size: int = 1,
                      rank: int = 0) -> list[list[tuple[int, int]]]:
    """This rank's batches of ``(epoch, index)`` keys for one epoch.

    The order is :class:`torch.utils.data.DistributedSampler`'s (shuffled with ``seed + epoch``, padded so every
    rank gets the same count, rank r taking every world_size-th index from r); incomplete last batches are dropped.
    """
    from torch.utils.data import DistributedSampler

    sampler = DistributedSampler(range(num_items), num_replicas=world_size, rank=rank, shuffle=True, seed=seed,
                                 drop_last=False)
    sampler.set_epoch(epoch)
    indices = list(sampler)
    full = len(indices) // batch_size
    return [[(epoch, int(i)) for i in indices[k * batch_size:(k + 1) * batch_size]] for k in range(full)]


def steps_per_epoch(num_items: int, batch_size: int, world_size: int = 1) -> int:
    """Optimiser steps in one epoch (per rank batches; incomplete ones dropped)."""
    return math.ceil(num_items / world_size) // batch_size
