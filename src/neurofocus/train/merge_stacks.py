"""Merge training stacks over a focal-sweep dataset (``neurofocus synth``).

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
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ..aif.pipeline import AifConfig, sweep_refocuser
from ..errors import NeurofocusError
from ..models.inputs import (
    EventSlicing,
    SpikeSlicing,
)
from .items import SceneDataset, check_crop, draw_crop, flip_arrays, modality_of

STACK_TIMES = ("search", "uniform")
STACK_SOURCES = ("frames", "handcrafted", "network")


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
        check_crop(crop, self.shape, folder)
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


class MergeStacks(SceneDataset):
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
        modality = modality_of(representation, {"events": EventSlicing, "spikes": SpikeSlicing}, "merge stacks")
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
        position, scene, rng = self.item(key)
        region = draw_crop(rng, scene.shape, self.crop)
        hflip, vflip = (bool(rng.random() < 0.5), bool(rng.random() < 0.5)) if self.flips else (False, False)
        y0, y1, x0, x1 = region
        stack = scene.stack[:, y0:y1, x0:x1].astype(np.float32) / np.float32(255.0)
        return {
            "stack": torch.from_numpy(flip_arrays(stack.transpose(0, 3, 1, 2), hflip, vflip)),
            "nfs": torch.from_numpy(flip_arrays(scene.nfs[:, y0:y1, x0:x1], hflip, vflip)),
            "target": torch.from_numpy(flip_arrays(scene.target[y0:y1, x0:x1].transpose(2, 0, 1), hflip, vflip)),
            "times_us": torch.from_numpy(scene.times_us.astype(np.int64)),
            "scene": position, "region": torch.tensor(region), "flip": torch.tensor([hflip, vflip]),
        }
