"""Refocus training pairs over a focal-sweep dataset (``neurofocus synth``).

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
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..aif.pipeline import build_refocuser
from ..aif.refocus import SpikeRefocuser, spike_half_window
from ..aif.refocus import crop as crop_region
from ..errors import NeurofocusError
from ..models.inputs import EventBinning, SpikeBinning
from ..represent import PolarityTable, event_bins_region, spike_bins
from .items import SceneDataset, check_crop, draw_crop, flip_arrays, modality_of

#: Margin around a crop for the hand-crafted spike refocus: at least the largest filter radius of
#: ``aif.refocus.SpikeRefocuser`` (gain smoothing σ = 3 px truncated at 4σ = 12 px; colour-line window 4 px), so that
#: the crop's result equals the whole-frame result (pinned by tests/train/test_data.py).
SPIKE_GAIN_MARGIN_PX = 16

DIRECTIONS = ("both", "forward", "backward")


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
        check_crop(crop, self.shape, folder)

    def frame(self, position: int, region=None) -> np.ndarray:
        """Kept frame ``position`` as float32 sRGB (H, W, 3) (or its ``region``)."""
        frame = self.kept_frames[position]
        if region is not None:
            y0, y1, x0, x1 = region
            frame = frame[y0:y1, x0:x1]
        return frame.astype(np.float32) / np.float32(255.0)


class RefocusPairs(SceneDataset):
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
        modality = modality_of(representation, {"events": EventBinning, "spikes": SpikeBinning}, "refocus pairs")
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
        position, scene, rng = self.item(key)
        pairs = self.pairs(scene)
        a, b = (int(v) for v in pairs[rng.integers(len(pairs))])
        region = draw_crop(rng, scene.shape, self.crop)
        hflip, vflip = (bool(rng.random() < 0.5), bool(rng.random() < 0.5)) if self.flips else (False, False)
        t_in, t_tgt = int(scene.kept_times_us[a]), int(scene.kept_times_us[b])
        image, nfs = self.inputs(scene, a, t_in, t_tgt, region)
        target = scene.frame(b, region)
        focus = self.focus_map(scene, t_tgt, region)
        return {
            "image": torch.from_numpy(flip_arrays(image.transpose(2, 0, 1), hflip, vflip)),
            "nfs": torch.from_numpy(flip_arrays(nfs, hflip, vflip)),
            "target": torch.from_numpy(flip_arrays(target.transpose(2, 0, 1), hflip, vflip)),
            "focus": torch.from_numpy(flip_arrays(focus[None], hflip, vflip)),
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
                nfs = event_bins_region(scene.table, t_in, t_tgt, rep.num_bins, region, count_scale=rep.count_scale)
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
