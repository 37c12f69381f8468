"""Training EvFocus and its E2VID baseline on defocused-event videos (``neurofocus synth --kind defocus-video``).

The pieces the training loop (:mod:`.loop`) uses for the ``evfocus`` and ``e2vid`` tasks:

:class:`VideoSequences`
    Items are L consecutive event windows of one sequence, each ending at a frame time, with the ground truth of
    those frames. Item ``index`` belongs to sequence ``index // samples_per_scene``; its first frame k0 is drawn
    uniformly from [m, T − L] (m = ``window_frames``), then one random crop and random horizontal / vertical flips
    (probability 1/2 each) are applied alike to every array, all drawn from ``default_rng([seed, epoch, index])``
    (an item is a function of (seed, epoch, index), as in :mod:`.items`). Window i (frame k = k0 + i) holds the
    events with t_{k−m} < t <= t_k (:func:`neurofocus.models.recurrent.frame_windows`); its voxel grid is computed
    on the whole sensor, exactly as at inference, and then cropped. Arrays of an item (h × w the crop):

    * ``voxel`` float32 (L, C, h, w): normalised E2VID voxel grids (:class:`~neurofocus.models.recurrent.VoxelGrid`),
      C = num_bins, plus the integrator's log intensity (computed from the sequence start,
      :meth:`VideoScene.integrated`) as last channel for models with ``config.integrator``;
    * ``sharp``, ``defocused`` float32 (L, 1, h, w): the ground-truth frames as 8-bit gray (the simulator's
      :func:`~neurofocus.simulate.dvs_voltmeter.gray8` of the sRGB frames) / 255;
    * ``flow`` float32 (L − 1, 2, h, w): the exact forward flow (dx, dy) from frame k to k + 1, with its signs flipped
      with the image (dx → −dx under a horizontal flip, dy → −dy under a vertical one);
    * ``flow_valid`` float32 (L − 1, h, w): 1 where the simulator defines the flow and p + flow(p) lies inside the
      crop;
    * ``frames`` int64 (L,), ``scene``, ``region`` (y0, y1, x0, x1 before flipping), ``flip`` (horizontal,
      vertical).

    ``events="sharp"`` reads ``events_sharp.hdf5`` (the events of the in-focus frames, ``synth --sharp-events``)
    instead of ``events.hdf5``: the E2VID+ baseline trained on in-focus events.

:class:`SequenceUnroll`
    The recurrent model run over the L windows of a batch from a zero state (one module call per step, so that
    ``DistributedDataParallel`` sees a single forward), optionally detaching the state every ``bptt_window``
    windows (truncated back-propagation through time); under ``precision="bf16"`` each window's voxel grid enters
    in channels_last format (:mod:`.precision`).

:class:`VideoValidation`
    Held-out sequences reconstructed whole (whole frames, all windows, the state carried through the sequence):
    mean PSNR, SSIM, MSE and LPIPS (AlexNet; :func:`frame_scores`) of the reconstructions vs the sharp frames, and
    the PSNR of the defocused frames (what a network that does not deblur at all could reach). Always fp32.

:class:`VideoTask`
    What :func:`.loop.train` calls for these tasks (datasets, loss, forward).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..datasets import dataset_kind
from ..errors import NeurofocusError
from .items import SceneDataset, check_crop, data_recipe, draw_crop, flip_arrays, split_held_out
from .precision import as_format, autocast, to_fp32

#: Which events a sequence folder may hold → the key of its sequence.json naming their file.
EVENT_FILES = dataset_kind("defocus-video").streams
VAL_COLUMNS = ("val_psnr", "val_ssim", "val_mse", "val_lpips", "val_psnr_defocused")


# sequence folders ----------------------------------------------------------------------------------------------------
def list_sequences(folder: str | os.PathLike, events: str | None = "defocused") -> list[Path]:
    """The complete sequence folders of a defocus-video dataset, sorted by name.

    Parameters
    ----------
    folder : path
        A dataset folder (``seq_00000`` ...) or a single sequence folder.
    events : {"defocused", "sharp"}, optional
        Require every sequence to hold these events (None: no requirement).

    Raises
    ------
    NeurofocusError
        Missing folder, not a defocus-video dataset, no complete sequence, or a sequence without the events.
    """
    from ..datasets import has_stream, list_folders

    sequences = list_folders(folder, "defocus-video", purpose="evfocus and e2vid training need defocused-event videos")
    if events is not None:
        if events not in EVENT_FILES:
            raise NeurofocusError(f"events must be one of {tuple(EVENT_FILES)}, got {events!r}")
        for seq in sequences:
            if not has_stream(seq, "defocus-video", events):
                hint = " (make the dataset with neurofocus synth --kind defocus-video --sharp-events)" \
                    if events == "sharp" else ""
                raise NeurofocusError(f"sequence {seq.name} has no {events} events{hint}", folder)
    return sequences


def frames_to_gray(frames: np.ndarray) -> np.ndarray:
    """uint8 (..., H, W) gray of uint8 sRGB frames (..., H, W, 3): the simulator's ``gray8``, the intensity the
    event sensor sees."""
    from ..simulate.dvs_voltmeter import gray8

    return gray8(np.asarray(frames, np.float32) / np.float32(255.0))


class VideoScene:
    """One sequence as the training and evaluation code use it.

    Attributes
    ----------
    folder : Path
    events : Events
        The chosen events (defocused or sharp).
    times_us : ndarray, int64 (T,)
    sharp, defocused : ndarray, uint8 (T, H, W)
        Gray ground-truth frames (:func:`frames_to_gray`).
    flow : ndarray, float16 (T − 1, H, W, 2)
    flow_valid : ndarray, bool (T − 1, H, W)
    blur_px : ndarray, float32 (T,)
        Mean blur-circle diameter of each frame's pixels (the blur level of the frame).
    bounds : ndarray, int64 (T,)
        Number of events at or before each frame time.
    """

    def __init__(self, folder: str | os.PathLike, events: str = "defocused"):
        from ..datasets import load_video_sample
        from ..io import load_events

        self.folder = Path(folder)
        video = load_video_sample(self.folder, events=False)
        key = EVENT_FILES[events]
        if key not in video.info:
            raise NeurofocusError(f"the sequence has no {events} events", self.folder)
        self.events = load_events(self.folder / video.info[key])
        self.times_us = np.asarray(video.frame_times_us, np.int64)
        self.sharp = frames_to_gray(video.sharp)
        self.defocused = frames_to_gray(video.defocused)
        self.flow = video.flow
        self.flow_valid = video.flow_valid
        self.blur_px = video.blur_px.reshape(len(self.times_us), -1).astype(np.float32).mean(axis=1)
        self.bounds = np.searchsorted(self.events.t, self.times_us, side="right").astype(np.int64)
        self._integrated: dict[int, np.ndarray] = {}
        if (self.events.height, self.events.width) != self.sharp.shape[1:]:
            raise NeurofocusError(f"the events ({self.events.width}x{self.events.height}) and the frames "
                                  f"({self.sharp.shape[2]}x{self.sharp.shape[1]}) differ in size", self.folder)

    @property
    def shape(self) -> tuple[int, int]:
        return self.sharp.shape[1:3]

    def __len__(self) -> int:
        return len(self.times_us)

    def windows(self, window_frames: int = 1) -> list[tuple[int, int, int]]:
        """:func:`~neurofocus.models.recurrent.frame_windows` of the sequence: (start, stop, t_us) of frames
        m .. T − 1."""
        from ..models.recurrent import frame_windows

        return frame_windows(self.events, self.times_us, window_frames)

    def integrated(self, window_frames: int) -> np.ndarray:
        """float32 (T, H, W): the integrator's log intensity at each frame k >= m's window, from one
        :class:`~neurofocus.models.recurrent.WindowInputs` run over all windows of the sequence in order (the state
        an inference from the sequence start has; rows 0 .. m − 1 are 0). Computed once per m."""
        from ..models.recurrent import VoxelGrid

        if window_frames not in self._integrated:
            inputs = VoxelGrid(integrator=True).stream(self.events)
            out = np.zeros((len(self), *self.shape), np.float32)
            for k, (_, stop, t_us) in enumerate(self.windows(window_frames), start=window_frames):
                out[k] = inputs.integrated(stop, t_us)
            self._integrated[window_frames] = out
        return self._integrated[window_frames]

    def inputs(self, k: int, window_frames: int, grid) -> np.ndarray:
        """float32 (grid.num_bins (+ 1 with the integrator), H, W): the model input of frame k's window (whole
        sensor), as ``grid.stream(events)`` gives it at inference (the voxel grid, then the integrator's log
        intensity)."""
        voxel = grid(self.events[int(self.bounds[k - window_frames]):int(self.bounds[k])])
        if not grid.integrator:
            return voxel
        return np.concatenate([voxel, self.integrated(window_frames)[k][None]])


# the dataset ---------------------------------------------------------------------------------------------------------
class VideoSequences(SceneDataset):
    """Training sequences of L event windows with their ground truth (module docstring).

    Parameters
    ----------
    sequences : list of Path
        Sequence folders (:func:`list_sequences`).
    num_bins : int
        Voxel grid bins (the model's ``config.num_bins``).
    integrator : bool
        Append the integrator channel (the model's ``config.integrator``; :meth:`VideoScene.integrated`).
    sequence_length : int
        L.
    window_frames : int
        m: frames' worth of events per window.
    events : {"defocused", "sharp"}
    seed, samples_per_scene, crop, flips, cache_scenes
        As :class:`~.refocus_pairs.RefocusPairs` (``samples_per_scene`` items per sequence and epoch).
    """

    def __init__(self, sequences, *, num_bins: int = 5, integrator: bool = False, sequence_length: int = 8,
                 window_frames: int = 1, events: str = "defocused", seed: int = 0, samples_per_scene: int = 16,
                 crop: int | None = 128, flips: bool = True, cache_scenes: int = 0):
        super().__init__(sequences, modality="events", seed=seed, samples_per_scene=samples_per_scene, crop=crop,
                         flips=flips, cache_scenes=cache_scenes)
        if events not in EVENT_FILES:
            raise NeurofocusError(f"events must be one of {tuple(EVENT_FILES)}, got {events!r}")
        for name, value in (("num_bins", num_bins), ("sequence_length", sequence_length),
                            ("window_frames", window_frames)):
            if int(value) < 1:
                raise NeurofocusError(f"{name} must be at least 1, got {value}")
        from ..models.recurrent import VoxelGrid

        self.grid = VoxelGrid(int(num_bins), integrator=bool(integrator))
        self.sequence_length = int(sequence_length)
        self.window_frames = int(window_frames)
        self.events = events

    def _load(self, position: int) -> VideoScene:
        scene = VideoScene(self.scenes[position], self.events)
        check_crop(self.crop, scene.shape, scene.folder)
        if len(scene) - self.window_frames < self.sequence_length:
            raise NeurofocusError(f"{len(scene)} frames hold fewer than sequence_length {self.sequence_length} "
                                  f"windows of {self.window_frames} frame(s)", scene.folder)
        return scene

    def __getitem__(self, key) -> dict:
        position, scene, rng = self.item(key)
        m, length = self.window_frames, self.sequence_length
        k0 = int(rng.integers(m, len(scene) - length + 1))
        region = draw_crop(rng, scene.shape, self.crop)
        hflip, vflip = (bool(rng.random() < 0.5), bool(rng.random() < 0.5)) if self.flips else (False, False)
        y0, y1, x0, x1 = region
        frames = np.arange(k0, k0 + length)
        voxel = np.stack([scene.inputs(int(k), m, self.grid)[:, y0:y1, x0:x1] for k in frames])
        sharp = scene.sharp[frames, y0:y1, x0:x1].astype(np.float32)[:, None] / np.float32(255.0)
        defocused = scene.defocused[frames, y0:y1, x0:x1].astype(np.float32)[:, None] / np.float32(255.0)
        pairs = frames[:-1]
        flow = scene.flow[pairs, y0:y1, x0:x1].astype(np.float32).transpose(0, 3, 1, 2)  # (L-1, 2, h, w)
        h, w = y1 - y0, x1 - x0
        xs = np.arange(w, dtype=np.float32)[None, :] + flow[:, 0]
        ys = np.arange(h, dtype=np.float32)[:, None] + flow[:, 1]
        valid = scene.flow_valid[pairs, y0:y1, x0:x1] & (xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)
        flow = flip_arrays(flow, hflip, vflip)
        if hflip:
            flow[:, 0] = -flow[:, 0]
        if vflip:
            flow[:, 1] = -flow[:, 1]
        return {
            "voxel": torch.from_numpy(flip_arrays(voxel, hflip, vflip)),
            "sharp": torch.from_numpy(flip_arrays(sharp, hflip, vflip)),
            "defocused": torch.from_numpy(flip_arrays(defocused, hflip, vflip)),
            "flow": torch.from_numpy(flow),
            "flow_valid": torch.from_numpy(flip_arrays(valid.astype(np.float32), hflip, vflip)),
            "frames": torch.from_numpy(frames.astype(np.int64)),
            "scene": position, "region": torch.tensor(region), "flip": torch.tensor([hflip, vflip]),
        }


def frame_scores(images: np.ndarray, targets: np.ndarray, lpips_metric) -> dict[str, np.ndarray]:
    """Per-frame MSE, SSIM and LPIPS of gray (N, H, W) images against (N, H, W) targets, both in [0, 1].

    ``lpips_metric`` is a :class:`neurofocus.metrics.LPIPS` (the gray images repeated to three channels). Returns
    {"mse", "ssim", "lpips"}: float arrays (N,).
    """
    from ..metrics import ssim

    mse = np.mean((images.astype(np.float64) - targets) ** 2, axis=(1, 2))
    ssims = np.array([ssim(a, b) for a, b in zip(images, targets)])
    with torch.no_grad():
        lp = []
        for i in range(0, len(images), 16):
            a = torch.from_numpy(np.asarray(images[i:i + 16], np.float32))[:, None].expand(-1, 3, -1, -1)
            b = torch.from_numpy(np.asarray(targets[i:i + 16], np.float32))[:, None].expand(-1, 3, -1, -1)
            lp.append(lpips_metric(a.contiguous(), b.contiguous()).numpy())
    return {"mse": mse, "ssim": ssims, "lpips": np.concatenate(lp)}


# model over a sequence ----------------------------------------------------------------------------------------------
class SequenceUnroll(nn.Module):
    """Runs a recurrent model over (B, L, num_bins, h, w) voxels from a zero state; returns a dict of the model's
    outputs stacked over time, each (B, L, 1, h, w).

    Parameters
    ----------
    model : torch.nn.Module
        E2VID or EvFocus (``forward(voxel, state) -> (outputs, state)``, outputs a NamedTuple of images).
    bptt_window : int
        Detach the recurrent state every this many windows (truncated BPTT; 0: never).
    precision : {"fp32", "bf16"}
        The memory format of the inputs (bf16: channels_last; the autocast itself is the caller's).
    """

    def __init__(self, model: nn.Module, bptt_window: int = 0, precision: str = "fp32"):
        super().__init__()
        self.model = model
        self.bptt_window = int(bptt_window)
        self.precision = precision

    def forward(self, voxels: torch.Tensor) -> dict[str, torch.Tensor]:
        from ..models.recurrent import detach_state

        if voxels.ndim != 5:
            raise NeurofocusError(f"expected voxels of shape (B, L, num_bins, h, w), got {tuple(voxels.shape)}")
        state, outputs = None, []
        for i in range(voxels.shape[1]):
            if self.bptt_window and i and i % self.bptt_window == 0:
                state = detach_state(state)
            out, state = self.model(as_format(voxels[:, i], self.precision), state)
            outputs.append(out)
        return {name: torch.stack([getattr(o, name) for o in outputs], dim=1) for name in outputs[0]._fields}


# validation ---------------------------------------------------------------------------------------------------------
class VideoValidation:
    """Whole held-out sequences (module docstring); ``run(model, device)`` returns :data:`VAL_COLUMNS`."""

    def __init__(self, config, scenes):
        self.scenes = [Path(s) for s in scenes]
        self.events = config.events
        self.window_frames = config.window_frames
        self._data: list[VideoScene] | None = None
        self._defocused_psnr: float | None = None
        self._lpips = None

    def __len__(self) -> int:
        return len(self.scenes)

    def data(self) -> list[VideoScene]:
        if self._data is None:
            self._data = [VideoScene(s, self.events) for s in self.scenes]
        return self._data

    @torch.no_grad()
    def run(self, model, device) -> dict[str, float]:
        from ..metrics import LPIPS, psnr
        from ..models.recurrent import reconstruct_windows

        if self._lpips is None:
            self._lpips = LPIPS("alex")
        psnrs, blurred, scores = [], [], []
        for scene in self.data():
            windows = scene.windows(self.window_frames)
            images = np.stack([image for _, image in reconstruct_windows(model, scene.events, windows,
                                                                          model.config.num_bins, device)])
            sharp = scene.sharp[self.window_frames:].astype(np.float32) / np.float32(255)
            psnrs += [psnr(a, b) for a, b in zip(images, sharp)]
            scores.append(frame_scores(images, sharp, self._lpips))
            if self._defocused_psnr is None:
                blurred += [psnr(d.astype(np.float32) / 255, b)
                            for d, b in zip(scene.defocused[self.window_frames:], sharp)]
        if self._defocused_psnr is None:
            self._defocused_psnr = float(np.mean(blurred))
        mean = {m: float(np.mean(np.concatenate([s[m] for s in scores]))) for m in ("ssim", "mse", "lpips")}
        return {"val_psnr": float(np.mean(psnrs)), "val_ssim": mean["ssim"], "val_mse": mean["mse"],
                "val_lpips": mean["lpips"], "val_psnr_defocused": self._defocused_psnr}


# the task -----------------------------------------------------------------------------------------------------------
class VideoTask:
    """The ``evfocus`` / ``e2vid`` task of :func:`.loop.train`."""

    val_columns = VAL_COLUMNS

    def __init__(self, config):
        self.config = config
        self.frames_per_item = config.sequence_length
        self._columns = ("loss", "lpips", "lpips_aligned", "lpips_blurred", "tc", "redefocus_l1") \
            if config.task == "evfocus" else ("loss", "lpips", "tc")
        self._columns += (("l1",) if config.l1_weight else ()) + (("ssim",) if config.ssim_weight else ())

    @property
    def loss_columns(self) -> tuple[str, ...]:
        return self._columns

    def split(self) -> tuple[list[Path], list[Path]]:
        events = self.config.events
        return split_held_out(self.config, lambda folder: list_sequences(folder, events), "sequence")

    def datasets(self, model):
        config = self.config
        train_scenes, val_scenes = self.split()
        train_set = VideoSequences(train_scenes, num_bins=model.config.num_bins, integrator=model.config.integrator,
                                   sequence_length=config.sequence_length, window_frames=config.window_frames,
                                   events=config.events, seed=config.seed, samples_per_scene=config.samples_per_scene,
                                   crop=config.crop, flips=config.flips, cache_scenes=config.cache_scenes)
        train_set.scene(0)  # fail early on unusable data (size, length)
        validation = VideoValidation(config, val_scenes) if val_scenes else None
        return train_set, validation, train_scenes, val_scenes

    def recipe(self, train_scenes, val_scenes) -> dict:
        config = self.config
        return data_recipe(config, train_scenes, val_scenes, events=config.events,
                           sequence_length=config.sequence_length, window_frames=config.window_frames)

    def criterion(self, device):
        from .losses import SequenceLoss

        c = self.config
        return SequenceLoss(c.task, lpips_net=c.lpips_net, evfocus_weights=c.evfocus_weights,
                            tcp_weight=c.tcp_weight, tc_weight=c.tc_weight, tc_start=c.tc_start,
                            tc_alpha=c.tc_alpha, l1_weight=c.l1_weight, ssim_weight=c.ssim_weight).to(device)

    def network(self, model) -> nn.Module:
        return SequenceUnroll(model, self.config.bptt_window, self.config.precision)

    def loss(self, net, criterion, batch: dict, device) -> dict:
        moved = {k: batch[k].to(device, non_blocking=True) for k in ("sharp", "defocused", "flow", "flow_valid")}
        with autocast(self.config.precision, device):
            outputs = net(batch["voxel"].to(device, non_blocking=True))
        return criterion(to_fp32(outputs), moved)
