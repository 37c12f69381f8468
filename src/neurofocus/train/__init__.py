"""Training the papers' networks on ``neurofocus synth`` datasets (needs the ``nets`` extra).

>>> from neurofocus.train import TrainConfig, train
>>> config = TrainConfig(task="refocus", data="synth/", width=0.5, steps=300, batch_size=4)  # doctest: +SKIP
>>> result = train(config, "runs/refocus")                                                    # doctest: +SKIP

* :mod:`.config`: :class:`TrainConfig` (typed, unknown keys rejected, saved with every run), :func:`lr_at`.
* :mod:`.items`: the (epoch, index) dataset base, crops, flips, the held-out split, one or several dataset folders;
  :mod:`.refocus_pairs` :class:`RefocusPairs` and :mod:`.merge_stacks` :class:`MergeStacks` (items a function of
  (seed, epoch, index)).
* :mod:`.video`: :class:`VideoSequences` (L event windows ending at frame times, with sharp / defocused frames and
  exact flow) and the rest of the ``evfocus`` / ``e2vid`` tasks.
* :mod:`.losses`: :class:`TrainingLoss` (200 · MSE + 0.5 · perceptual, NFS Eq. 17); :class:`SequenceLoss` (EvFocus
  Eq. 23 with LPIPS and the temporal consistency loss; E2VID's LPIPS + temporal consistency).
* :mod:`.loop`: :func:`train` (Adam, step schedule, checkpoints, exact resume, CSV / TensorBoard log,
  ``torchrun`` data parallelism).
* :mod:`.checkpoint`: :func:`save_checkpoint` / :func:`load_checkpoint` (safetensors + JSON, no pickle).
* :mod:`.precision`: ``fp32`` or ``bf16`` (autocast + channels_last for the network; loss and weights fp32).
* :mod:`.validate`: :class:`Validation` (PSNR on held-out scenes next to the hand-crafted method).

Command line: ``neurofocus train refocus|merge|evfocus|e2vid --data DIR [DIR ...] --out RUN_DIR ...``.
"""

import importlib.util

if importlib.util.find_spec("torch") is None:  # pragma: no cover - depends on the installation
    raise ImportError("neurofocus.train needs PyTorch: pip install 'neurofocus[nets]'")

from .checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from .config import TrainConfig, lr_at
from .items import batches_for_epoch, list_scenes
from .merge_stacks import MergeStacks
from .refocus_pairs import RefocusPairs
from .loop import TrainResult, read_log, train
from .losses import SequenceLoss, TrainingLoss, temporal_consistency, warp_by_flow
from .validate import Validation
from .video import VideoSequences, list_sequences

__all__ = ["MergeStacks", "RefocusPairs", "SequenceLoss", "TrainConfig", "TrainResult", "TrainingLoss", "Validation",
           "VideoSequences", "batches_for_epoch", "latest_checkpoint", "list_scenes",
           "list_sequences", "load_checkpoint", "lr_at", "read_log", "save_checkpoint", "temporal_consistency",
           "train", "warp_by_flow"]
