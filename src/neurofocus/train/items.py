"""Training items over dataset folders: listing scenes, map-style datasets addressed by ``(epoch, index)``,
random crops and flips, a per-process scene cache, the held-out split and the batches of an epoch.

The training datasets (:class:`~.refocus_pairs.RefocusPairs`, :class:`~.merge_stacks.MergeStacks`,
:class:`~.video.VideoSequences`) are map-style :class:`torch.utils.data.Dataset` objects (:class:`SceneDataset`)
whose items are addressed by ``(epoch, index)`` (a plain ``index`` means epoch 0). Every random choice of an item
(scene content, frames, crop, flips) is drawn from ``numpy.random.default_rng([seed, epoch, index])``, so an item
is a pure function of ``(seed, epoch, index)``: it does not depend on the order of access, on the number of
DataLoader workers or on what was loaded before — which is what makes resumed training identical to uninterrupted training.

Memory
    Scenes are read on first use and cached per process (each DataLoader worker holds its own copy; at most
    ``cache_scenes`` scenes, least recently used dropped first, 0 = no limit). Per scene, with K kept frames,
    an H×W sensor and N events:

    * refocus pairs: K·H·W·3 bytes of kept frames (33 MB for 122 frames at 346×260) plus 12·N bytes of event
      index (``PolarityTable``; 3 MB for 250 k events; count binning also keeps the events, 16·N bytes) and, for
      the hand-crafted image input, one contrast map per input frame used, 4·H·W bytes (up to 44 MB at 346×260), or
      the bit-packed spikes, T·H·W/8 bytes (114 MB for a 1 s sweep at 100 µs ticks);
    * merge stacks: S·H·W·3 bytes of slices plus 4·S·H·W bytes of neuromorphic channels plus the target
      (40 MB at S = 64, 346×260); the events or spikes are released after preparation.
"""

from __future__ import annotations

import collections
import json
import math
import os
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from ..errors import NeurofocusError


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
                hint = " (make it with neurofocus synth --with-spikes)" if modality == "spikes" else ""
                raise NeurofocusError(f"scene {scene.name} has no {modality}{hint}", folder)
    return scenes




def flip_arrays(array: np.ndarray, horizontal: bool, vertical: bool) -> np.ndarray:
    """Flip the last two axes (…, H, W) as drawn; returns a contiguous copy."""
    if horizontal:
        array = array[..., ::-1]
    if vertical:
        array = array[..., ::-1, :]
    return np.ascontiguousarray(array)


def draw_crop(rng: np.random.Generator, shape: tuple[int, int], crop: int | None) -> tuple[int, int, int, int]:
    h, w = shape
    if crop is None:
        return 0, h, 0, w
    y0 = int(rng.integers(0, h - crop + 1))
    x0 = int(rng.integers(0, w - crop + 1))
    return y0, y0 + crop, x0, x0 + crop


def check_crop(crop, shape, scene) -> int | None:
    if crop is None:
        return None
    crop = int(crop)
    if crop < 1:
        raise NeurofocusError(f"crop must be a positive number of pixels, got {crop}")
    if crop > min(shape):
        raise NeurofocusError(f"crop {crop} px is larger than the {shape[1]}x{shape[0]} frames", scene)
    return crop


class SceneCache:
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


def modality_of(representation, classes: dict, what: str) -> str:
    """The modality (a key of ``classes``, modality → representation class) of a network input ``representation``;
    ``what`` names the dataset in the error."""
    for modality, cls in classes.items():
        if isinstance(representation, cls):
            return modality
    kinds = " or ".join(cls.kind for cls in classes.values())
    raise NeurofocusError(f"{what} need an {kinds} representation, got "
                          f"{getattr(representation, 'kind', representation)!r}")


class SceneDataset(Dataset):
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
        self._cache = SceneCache(self.cache_scenes)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_cache"] = SceneCache(self.cache_scenes)  # each worker fills its own
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

    def item(self, key) -> tuple[int, object, np.random.Generator]:
        """(scene position, prepared scene, generator) of item ``key``, an index or (epoch, index)."""
        epoch, index = self._address(key)
        position = index // self.samples_per_scene
        return position, self.scene(position), self.rng(epoch, index)

    def rng(self, epoch: int, index: int) -> np.random.Generator:
        """The generator of item ``index`` in ``epoch``."""
        return np.random.default_rng([self.seed, epoch, index])

    def scene(self, position: int):
        """The prepared data of scene ``position`` (cached)."""
        return self._cache.get(position, lambda: self._load(position))

    def _load(self, position: int):  # pragma: no cover - abstract
        raise NotImplementedError


def split_held_out(config, list_items, what: str) -> tuple[list[Path], list[Path]]:
    """(training items, validation items) of a training config: the items of its ``data`` folders (``list_items``
    of each, one folder after the other) with the last ``config.val_scenes`` held out, or all of them and the items
    of ``config.val_data`` when that is given.

    ``what`` names an item in messages ("scene", "sequence"); raises NeurofocusError for unusable datasets.
    """
    from .config import data_folders

    if not config.data:
        raise NeurofocusError("no dataset given (--data DIR)")
    items = [item for folder in data_folders(config.data) for item in list_items(folder)]
    if config.val_data:
        return items, [item for folder in data_folders(config.val_data) for item in list_items(folder)]
    held = config.val_scenes
    if held and len(items) - held < 1:
        raise NeurofocusError(f"the dataset has {len(items)} {what}(s): nothing left for training after holding "
                              f"out {held} for validation (lower val_scenes, or give val_data)", config.data)
    return (items[:-held], items[-held:]) if held else (items, [])


def item_names(items, data) -> list[str]:
    """How a run names its items, wherever the data lie: the folder name (``scene_00003``), prefixed with its
    dataset's folder name where ``data`` (the ``data`` / ``val_data`` value they come from) has several folders
    (``real/scene_00003``)."""
    from .config import data_folders

    several = len(data_folders(data)) > 1
    return [f"{Path(p).parent.name}/{Path(p).name}" if several else Path(p).name for p in items]


def dataset_settings(value) -> dict | list | None:
    """The ``config.json`` of a ``data`` / ``val_data`` value's folder (a list for several folders; None where
    missing or unreadable), its texture and image + depth folders reduced to their names (where photographs lie
    differs between machines; which they are does not)."""
    from .config import data_folders

    def settings(folder: str) -> dict | None:
        try:
            out = json.loads((Path(folder) / "config.json").read_text())
        except (OSError, json.JSONDecodeError):
            return None
        for key in ("textures", "rgbd"):
            if isinstance(out, dict) and out.get(key):
                out[key] = Path(out[key]).name
        return out

    folders = data_folders(value)
    return [settings(f) for f in folders] if len(folders) > 1 else (settings(folders[0]) if folders else None)


def data_recipe(config, train_scenes, val_scenes, **task_settings) -> dict:
    """What a trained model's metadata says of its data: the task's settings, crops, items and the datasets'
    settings (``synth``)."""
    recipe = {"task": config.task, **task_settings, "crop": config.crop, "flips": config.flips,
              "samples_per_scene": config.samples_per_scene, "train_scenes": item_names(train_scenes, config.data),
              "val_scenes": ([str(p) for p in val_scenes] if config.val_data else
                             item_names(val_scenes, config.data)),
              "data": config.data}
    synth = dataset_settings(config.data)
    if synth is not None:
        recipe["synth"] = synth
    return recipe


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
