"""The training loop: Adam with the papers' step schedule, checkpoints, exact resume, CSV log, data parallelism.

``train(config, run_dir)`` trains the network of :class:`.config.TrainConfig` on a ``neurofocus synth`` dataset —
the refocus or merge network on focal sweeps, or EvFocus / E2VID on defocused-event videos (:mod:`.video`) — and
writes, in ``run_dir``:

    config.json            the resolved config (paths absolute)
    data.json              the settings (``config.json``) and sequence / scene names of ``data`` and ``val_data``:
                           on resume the data may lie elsewhere (another machine) when these match
    log.csv                one row per step: step, epoch, the loss terms, lr, :data:`COST_COLUMNS`, and on
                           validation steps the validation values. Refocus / merge: loss, mse, perceptual;
                           val_psnr, val_psnr_handcrafted, val_psnr_input, and for refocus val_psnr_infocus,
                           val_psnr_infocus_handcrafted (:mod:`.validate`). EvFocus: loss, lpips,
                           lpips_aligned, lpips_blurred, tc, redefocus_l1; E2VID: loss, lpips, tc; both val_psnr,
                           val_ssim, val_mse, val_lpips, val_psnr_defocused (:mod:`.video`)
    checkpoints/           :mod:`.checkpoint` (every ``checkpoint_every`` steps, at the end, on interruption)
    tensorboard/           the same scalars, when ``torch.utils.tensorboard`` imports
    model.safetensors      the final weights (:func:`neurofocus.models.save_weights`; ``load_model`` rebuilds the
                           network) with the run's metadata: data recipe, steps, seed, final losses and validation
    summary.json           steps, seconds per step, final losses and validation

Resume
    ``train(..., resume=True)`` continues from the newest checkpoint with the saved config (fields other than
    :data:`.config.RUNTIME_FIELDS` must not change) and gives the same weights and the same log rows as a run that
    was never interrupted: the weights, the Adam state and the generator states are restored exactly, the learning
    rate is a function of the step, the data order is a function of (seed, epoch) and each item of
    (seed, epoch, index), and the log rows after the checkpoint are dropped before training goes on. (On a GPU
    this holds with ``deterministic`` on, the default, as far as the kernels used are deterministic.)
Interruption
    SIGINT / SIGTERM, or the end of ``time_budget_s``, finish the current step, write a checkpoint and stop (a
    second signal stops at once).
Precision
    ``precision="bf16"``: bf16 autocast and channels_last for the forward pass, fp32 loss (:mod:`.precision`).
Tasks
    What differs between the tasks (datasets, loss, forward, log columns) is a small task object
    (:class:`ImageTask` for refocus / merge, :class:`.video.VideoTask` for evfocus / e2vid); everything else —
    optimiser, schedule, checkpoints, resume, logging, interruption, data parallelism — is shared.
Data parallelism
    Launched by ``torchrun`` (``WORLD_SIZE`` > 1 in the environment) the loop joins the process group (NCCL on
    CUDA, Gloo on the CPU), puts each process on ``cuda:LOCAL_RANK`` (or the CPU), gives each rank its share of
    every epoch (:func:`.items.batches_for_epoch`, DistributedSampler order) and wraps the model in
    DistributedDataParallel; ``batch_size`` is per process. Only rank 0 validates and writes files; logged losses
    are averaged over the ranks. Batch-norm running statistics are rank 0's (DDP broadcasts them before every
    forward; they are broadcast once more at the end, so every rank returns the saved model).
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import math
import os
import signal
import threading
import time
from pathlib import Path

import torch

from ..atomic import write_text_atomic
from ..errors import NeurofocusError
from .checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from .config import RUNTIME_FIELDS, VIDEO_TASKS, TrainConfig, lr_at
from .items import (
    batches_for_epoch,
    data_recipe,
    dataset_settings,
    item_names,
    list_scenes,
    split_held_out,
    steps_per_epoch,
)
from .merge_stacks import MergeStacks, load_refocus_model
from .refocus_pairs import RefocusPairs
from .losses import TrainingLoss
from .precision import as_format, autocast, memory_format
from .validate import COLUMNS as VAL_COLUMNS
from .validate import Validation

LOSS_COLUMNS = ("loss", "mse", "perceptual")
#: Columns of every log: the step's wall time, and cumulative over the whole run (all invocations): items seen,
#: frame-steps seen (items × frames per item: L windows for the video tasks, 1 otherwise) and CPU seconds of the
#: training process (``time.process_time``: all its threads, validation and checkpoints included).
COST_COLUMNS = ("seconds", "samples", "frame_steps", "core_seconds")
CSV_COLUMNS = ("step", "epoch", *LOSS_COLUMNS, "lr", *COST_COLUMNS, *VAL_COLUMNS)  # refocus and merge


def csv_columns(loss_columns, val_columns) -> tuple[str, ...]:
    """The log's columns for a task's loss terms and validation values."""
    return ("step", "epoch", *loss_columns, "lr", *COST_COLUMNS, *val_columns)


@dataclasses.dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    run_dir : Path
    step : int
        Steps done (== config.steps when completed).
    completed : bool
        False when stopped early (interruption or ``stop_at``); a checkpoint was written.
    model : torch.nn.Module
        The trained model (unwrapped, on its training device).
    final_losses : dict
        Mean of each loss term over the last (up to) 10 logged steps.
    validation : dict
        The last validation values (empty without validation).
    weights : Path or None
        ``model.safetensors`` when completed (rank 0).
    seconds_per_step : float
        Mean wall time of the steps of this invocation.
    """

    run_dir: Path
    step: int
    completed: bool
    model: torch.nn.Module
    final_losses: dict
    validation: dict
    weights: Path | None
    seconds_per_step: float


# distributed set-up --------------------------------------------------------------------------------------------------
@dataclasses.dataclass
class _Dist:
    world: int = 1
    rank: int = 0
    local_rank: int = 0
    owns_group: bool = False

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self):
        if self.active:
            torch.distributed.barrier()


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise NeurofocusError(f"environment variable {name}={value!r} is not an integer") from None


def _setup_distributed(device_kind: str) -> _Dist:
    world = _env_int("WORLD_SIZE", 1)
    if world <= 1:
        return _Dist()
    import torch.distributed as dist

    local_rank = _env_int("LOCAL_RANK", 0)
    owns = False
    if not dist.is_initialized():
        backend = "nccl" if device_kind == "cuda" else "gloo"
        if device_kind == "cuda":
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend=backend)
        owns = True
    return _Dist(dist.get_world_size(), dist.get_rank(), local_rank, owns)


def _device(config: TrainConfig, local_rank: int) -> torch.device:
    kind = config.device
    if kind == "auto":
        kind = "cuda" if torch.cuda.is_available() else "cpu"
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise NeurofocusError("--device cuda: no CUDA device is available (this PyTorch build: "
                                  f"{torch.__version__})")
        return torch.device("cuda", local_rank % max(1, torch.cuda.device_count()))
    return torch.device("cpu")


@contextlib.contextmanager
def _determinism(enabled: bool, device: torch.device):
    previous = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
                torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic)
    if enabled:
        if device.type == "cuda":
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = previous[2], previous[3]


class _StopFlag:
    """Set by SIGINT / SIGTERM (first signal); the default handlers come back for the second one."""

    def __init__(self):
        self.set = False
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        self.set = True
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class _EpochBatches:
    """Batch sampler driven by the loop: ``set(epoch, skip)`` before each pass over the DataLoader."""

    def __init__(self, num_items: int, batch_size: int, seed: int, dist: _Dist):
        self.num_items, self.batch_size, self.seed, self.dist = num_items, batch_size, seed, dist
        self.epoch, self.skip = 0, 0

    def set(self, epoch: int, skip: int):
        self.epoch, self.skip = epoch, skip

    def __iter__(self):
        batches = batches_for_epoch(self.num_items, self.epoch, self.batch_size, seed=self.seed,
                                    world_size=self.dist.world, rank=self.dist.rank)
        return iter(batches[self.skip:])

    def __len__(self) -> int:
        return steps_per_epoch(self.num_items, self.batch_size, self.dist.world) - self.skip


# log -----------------------------------------------------------------------------------------------------------------
class _CsvLog:
    def __init__(self, path: Path, keep_until_step: int | None, columns=CSV_COLUMNS):
        self.path = path
        self.columns = tuple(columns)
        rows = []
        if keep_until_step is not None and path.is_file():
            with path.open(newline="") as f:
                reader = csv.DictReader(f)
                rows = [r for r in reader if r.get("step") and int(r["step"]) <= keep_until_step]
        with path.open("w", newline="") as f:  # rewritten: header + the rows up to the checkpoint
            writer = csv.DictWriter(f, self.columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        self.rows = rows
        self._file = path.open("a", newline="")
        self._writer = csv.DictWriter(self._file, self.columns, lineterminator="\n")

    def write(self, row: dict):
        out = {k: ("" if row.get(k) is None else row[k]) for k in self.columns}
        self._writer.writerow(out)
        self._file.flush()
        self.rows.append({k: str(v) for k, v in out.items()})

    def close(self):
        self._file.close()


def read_log(path: str | os.PathLike) -> list[dict]:
    """Rows of a run's ``log.csv`` as dicts of strings."""
    with Path(path).open(newline="") as f:
        return list(csv.DictReader(f))


def _tensorboard(run_dir: Path, enabled: bool):
    if not enabled:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except Exception:  # noqa: BLE001 - tensorboard is optional; any import problem means "not available"
        return None
    return SummaryWriter(str(run_dir / "tensorboard"))


def _fmt(value: float) -> str:
    return repr(float(value))


def _final_losses(rows: list[dict], columns=LOSS_COLUMNS) -> dict:
    last = rows[-10:]
    out = {}
    for k in columns:
        values = [float(r[k]) for r in last if r.get(k) not in (None, "")]
        if values:
            out[k] = sum(values) / len(values)
    return out


def _last_validation(rows: list[dict], columns=VAL_COLUMNS) -> dict:
    for r in reversed(rows):
        if r.get("val_psnr") not in (None, ""):
            return {k: float(r[k]) for k in columns if r.get(k) not in (None, "")}
    return {}


# set-up helpers ------------------------------------------------------------------------------------------------------
def resolve_run(config: TrainConfig, run_dir: str | os.PathLike, resume: bool) -> tuple[TrainConfig, Path | None]:
    """The config to train with and the checkpoint to start from (None: from scratch).

    Without ``resume`` a folder that already holds a run is refused. With it, the saved config is used; ``config``
    may differ from it only in :data:`.config.RUNTIME_FIELDS` (those are taken from ``config``).
    """
    run_dir = Path(run_dir)
    saved_path = run_dir / "config.json"
    if not resume:
        if saved_path.exists() or latest_checkpoint(run_dir) is not None:
            raise NeurofocusError("already holds a training run: continue it with --resume, or use another folder",
                                  run_dir)
        return config.resolved_paths(), None
    if not saved_path.is_file():
        raise NeurofocusError("no training run to resume here (no config.json)", run_dir)
    try:
        saved = TrainConfig.from_dict(json.loads(saved_path.read_text()), source=str(saved_path))
    except json.JSONDecodeError:
        raise NeurofocusError("config.json is not valid JSON", saved_path) from None
    changed = config.resolved_paths().differences(saved)
    if changed and set(changed) <= {"data", "val_data"}:  # the same data elsewhere (another machine)?
        moved = saved.replace(data=config.resolved_paths().data, val_data=config.resolved_paths().val_data)
        if _same_data(run_dir, moved):
            saved, changed = moved, []
    if changed:
        a, b = saved.to_dict(), config.resolved_paths().to_dict()
        raise NeurofocusError(f"--resume continues the saved run, whose {changed[0]} is {a[changed[0]]!r}, not "
                              f"{b[changed[0]]!r} (only {', '.join(RUNTIME_FIELDS)} may change)", run_dir)
    runtime = {k: getattr(config, k) for k in RUNTIME_FIELDS}
    return saved.replace(**runtime), latest_checkpoint(run_dir)


def data_fingerprint(config: TrainConfig, train_scenes, val_scenes) -> dict:
    """What identifies a run's data wherever it lies: the synth settings (``config.json``) of ``data`` and
    ``val_data`` and the names of the training and validation scenes (``data.json`` of a run)."""
    return {"data": dataset_settings(config.data), "val_data": dataset_settings(config.val_data),
            "train_scenes": item_names(train_scenes, config.data),
            "val_scenes": item_names(val_scenes, config.val_data or config.data)}


def _same_data(run_dir: Path, config: TrainConfig) -> bool:
    """Whether ``config``'s data match the run's ``data.json`` (same settings and scene names)."""
    saved = run_dir / "data.json"
    if not saved.is_file():
        return False
    try:
        train_scenes, val_scenes = make_task(config).split()
    except NeurofocusError:
        return False
    return json.loads(saved.read_text()) == json.loads(json.dumps(data_fingerprint(config, train_scenes,
                                                                                   val_scenes)))


def split_scenes(config: TrainConfig) -> tuple[list[Path], list[Path]]:
    """(training scenes, validation scenes) of a config; raises NeurofocusError for unusable datasets."""
    return split_held_out(config, lambda folder: list_scenes(folder, config.modality), "scene")


def build_model(config: TrainConfig):
    """The untrained model of a config (weights seeded with ``config.seed``)."""
    from ..models import create_model

    options = dict(config.model_options)
    if config.model in ("neuro_refocus_net", "neuro_merge_net"):
        options["modality"] = config.modality
    if config.model == "ev_merge_net":
        options.setdefault("stack_size", config.stack_size)
    return create_model(config.model, seed=config.seed, width=config.width, **options)


def _data_recipe(config: TrainConfig, train_scenes, val_scenes) -> dict:
    if config.task == "refocus":
        return data_recipe(config, train_scenes, val_scenes, modality=config.modality, direction=config.direction,
                           min_gap_frames=config.min_gap_frames)
    return data_recipe(config, train_scenes, val_scenes, modality=config.modality, stack_size=config.stack_size,
                       stack_times=config.stack_times, stack_source=config.stack_source,
                       refocus_weights=config.refocus_weights, search_grid=config.search_grid)


def _event_image(model) -> str:
    """The refocus model's event image input ("handcrafted" for every other model; unused there)."""
    return getattr(model.config, "event_image", "handcrafted")


def _datasets(config: TrainConfig, model):
    train_scenes, val_scenes = split_scenes(config)
    refocus_model = None
    if config.task == "merge" and config.stack_source == "network":
        refocus_model = load_refocus_model(config.refocus_weights, config.modality)
    rep = model.config.nfs
    common = {"seed": config.seed, "samples_per_scene": config.samples_per_scene, "crop": config.crop,
              "flips": config.flips, "cache_scenes": config.cache_scenes}
    if config.task == "refocus":
        train_set = RefocusPairs(train_scenes, rep, direction=config.direction,
                                 min_gap_frames=config.min_gap_frames, event_image=_event_image(model),
                                 focus_sigma=config.focus_sigma, **common)
    else:
        train_set = MergeStacks(train_scenes, rep, stack_size=config.stack_size, stack_times=config.stack_times,
                                source=config.stack_source, refocus_model=refocus_model,
                                search_grid=config.search_grid, **common)
    validation = (Validation(config, rep, val_scenes, refocus_model, event_image=_event_image(model)) if val_scenes
                  else None)
    return train_set, validation, train_scenes, val_scenes


def _forward(model, batch: dict, task: str, device: torch.device, precision: str = "fp32"):
    first = batch["image" if task == "refocus" else "stack"]
    inputs = [as_format(x.to(device, non_blocking=True), precision) for x in (first, batch["nfs"])]
    out = model(*inputs)
    return out if task == "refocus" else out.image


class ImageTask:
    """The refocus / merge task of :func:`train`: one image per item, :class:`.losses.TrainingLoss`."""

    loss_columns = LOSS_COLUMNS
    val_columns = VAL_COLUMNS
    frames_per_item = 1

    def __init__(self, config: TrainConfig):
        self.config = config

    def datasets(self, model):
        return _datasets(self.config, model)

    def split(self) -> tuple[list[Path], list[Path]]:
        return split_scenes(self.config)

    def recipe(self, train_scenes, val_scenes) -> dict:
        return _data_recipe(self.config, train_scenes, val_scenes)

    def criterion(self, device):
        return TrainingLoss(self.config.mse_weight, self.config.perceptual_weight, self.config.focus_weight)

    def network(self, model):
        return model

    def loss(self, net, criterion, batch: dict, device) -> dict:
        focus = batch["focus"].to(device) if criterion.focus_weight > 0 else None
        with autocast(self.config.precision, device):
            image = _forward(net, batch, self.config.task, device, self.config.precision)
        return criterion(image.float(), batch["target"].to(device), focus)


def make_task(config: TrainConfig):
    """The task object of a config (:class:`ImageTask` or :class:`.video.VideoTask`)."""
    if config.task in VIDEO_TASKS:
        from .video import VideoTask

        return VideoTask(config)
    return ImageTask(config)


# the loop ------------------------------------------------------------------------------------------------------------
def train(config: TrainConfig, run_dir: str | os.PathLike, *, resume: bool = False, stop_at: int | None = None,
          on_step=None) -> TrainResult:
    """Train a network (see the module docstring for the files written).

    Parameters
    ----------
    config : TrainConfig
    run_dir : path
        The run folder (created).
    resume : bool
        Continue the run in ``run_dir`` from its newest checkpoint.
    stop_at : int, optional
        Stop after this step as if interrupted (a checkpoint is written).
    on_step : callable, optional
        ``on_step(step, row)`` after each step's row is logged (rank 0); raising from it aborts training (no
        checkpoint), as a crash would.

    Returns
    -------
    TrainResult
    """
    run_dir = Path(run_dir)
    config, checkpoint = resolve_run(config, run_dir, resume)
    kind = "cuda" if config.device == "cuda" or (config.device == "auto" and torch.cuda.is_available()) else "cpu"
    dist = _setup_distributed(kind)
    threads = torch.get_num_threads()
    try:
        device = _device(config, dist.local_rank)
        if config.threads:
            torch.set_num_threads(config.threads)
        with _determinism(config.deterministic, device):
            return _train(config, run_dir, checkpoint, dist, device, stop_at, on_step)
    finally:
        torch.set_num_threads(threads)
        if dist.owns_group:
            torch.distributed.destroy_process_group()


def _train(config: TrainConfig, run_dir: Path, checkpoint: Path | None, dist: _Dist, device: torch.device,
           stop_at, on_step) -> TrainResult:
    began, cpu_began = time.perf_counter(), time.process_time()
    run = _Run(config, run_dir, checkpoint, dist, device)
    net = run.task.network(run.model)
    if dist.active:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None)
    run.model.train()
    sampler = _EpochBatches(len(run.train_set), config.batch_size, config.seed, dist)
    loader = torch.utils.data.DataLoader(run.train_set, batch_sampler=sampler, num_workers=config.num_workers,
                                         pin_memory=device.type == "cuda",
                                         persistent_workers=config.num_workers > 0)
    from ..progress import progress_bar

    bar = progress_bar(total=config.steps, initial=run.step, desc=f"train {config.task}", unit="step",
                       disable=not (config.progress and dist.main), dynamic_ncols=True)

    def should_stop(flag: _StopFlag) -> bool:
        out_of_time = config.time_budget_s is not None and time.perf_counter() - began >= config.time_budget_s
        return flag.set or out_of_time or (stop_at is not None and run.step >= stop_at)

    stopped = False
    try:
        with _StopFlag() as flag:
            while run.step < config.steps and not stopped:
                epoch, skip = divmod(run.step, run.per_epoch)
                sampler.set(epoch, skip)
                tick = time.perf_counter()
                for batch in loader:
                    values = run.optimise(net, batch)
                    stopped = run.record(values, epoch, tick, lambda: should_stop(flag), cpu_began, on_step, bar)
                    if stopped or run.step == config.steps or run.step % config.checkpoint_every == 0:
                        run.checkpoint()
                    tick = time.perf_counter()
                    if stopped or run.step >= config.steps:
                        break
    finally:
        bar.close()
        run.close()
    return run.finish()


class _Run:
    """One invocation of the loop: the model, its optimiser and data, the run's files (rank 0), the steps taken.

    Built from the config and the checkpoint to resume (``step`` is where it starts); :meth:`optimise` and
    :meth:`record` take one step, :meth:`checkpoint` saves it, :meth:`finish` writes the final weights.
    """

    def __init__(self, config: TrainConfig, run_dir: Path, checkpoint: Path | None, dist: _Dist,
                 device: torch.device):
        self.config, self.run_dir, self.dist, self.device = config, run_dir, dist, device
        self.task = make_task(config)
        self.model = build_model(config)
        self.train_set, self.validation, train_scenes, val_scenes = self.task.datasets(self.model)
        self.per_epoch = steps_per_epoch(len(self.train_set), config.batch_size, dist.world)
        if self.per_epoch < 1:
            raise NeurofocusError(f"one epoch holds {len(self.train_set)} items, fewer than batch_size × processes "
                                  f"= {config.batch_size} × {dist.world}: raise samples_per_scene or lower the batch")
        self.criterion = self.task.criterion(device)
        self.model.to(device)
        if config.precision != "fp32":
            self.model.to(memory_format=memory_format(config.precision))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr, betas=config.betas,
                                          weight_decay=config.weight_decay)
        self.step = 0
        if checkpoint is not None:
            self.step = int(load_checkpoint(checkpoint, self.model, self.optimizer, restore_rng=True)["step"])
        elif config.init_weights:
            from ..models import load_weights

            load_weights(self.model, config.init_weights)
        if self.step > config.steps:
            raise NeurofocusError(f"the run is already at step {self.step}, beyond --steps {config.steps}", run_dir)
        self.recipe = self.task.recipe(train_scenes, val_scenes)
        self.log = self.writer = None
        self.core_before = 0.0  # CPU seconds of the earlier invocations
        if dist.main:
            run_dir.mkdir(parents=True, exist_ok=True)
            write_text_atomic(run_dir / "config.json", json.dumps(config.to_dict(), indent=2) + "\n")
            self.log = _CsvLog(run_dir / "log.csv", self.step if checkpoint is not None else None,
                               csv_columns(self.task.loss_columns, self.task.val_columns))
            write_text_atomic(run_dir / "data.json", json.dumps(data_fingerprint(config, train_scenes, val_scenes),
                                                                indent=1) + "\n")
            self.writer = _tensorboard(run_dir, config.tensorboard)
            if self.log.rows:
                self.core_before = float(self.log.rows[-1].get("core_seconds") or 0)
        dist.barrier()
        self.last_validation: dict = {}
        self.lr = lr_at(config, self.step)  # the rate of the step being taken (set by optimise)
        self.seconds: list[float] = []  # wall time of each step of this invocation

    def optimise(self, net, batch: dict) -> torch.Tensor:
        """One optimiser step on ``batch``; returns the loss terms (detached, in ``loss_columns`` order)."""
        self.lr = lr_at(self.config, self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr
        self.optimizer.zero_grad(set_to_none=True)
        terms = self.task.loss(net, self.criterion, batch, self.device)
        if not torch.isfinite(terms["loss"]):
            raise NeurofocusError(f"the loss became {terms['loss'].item()} at step {self.step + 1} "
                                  f"(lower the learning rate?)")
        terms["loss"].backward()
        self.optimizer.step()
        self.step += 1
        return torch.stack([terms[k].detach().float() for k in self.task.loss_columns])

    def record(self, values: torch.Tensor, epoch: int, tick: float, should_stop, cpu_began: float, on_step,
               bar) -> bool:
        """Average the step's losses over the ranks, validate when due, log the row; True when the run stops."""
        dist, config, step = self.dist, self.config, self.step
        stop_now = torch.tensor([1.0 if should_stop() else 0.0], device=values.device)
        if dist.active:
            torch.distributed.all_reduce(values)
            values /= dist.world
            torch.distributed.all_reduce(stop_now, op=torch.distributed.ReduceOp.MAX)
        values = values.tolist()
        now = time.perf_counter()
        self.seconds.append(now - tick)
        samples = step * config.batch_size * dist.world
        row = {"step": step, "epoch": epoch, "lr": _fmt(self.lr), "seconds": f"{now - tick:.4f}",
               "samples": samples, "frame_steps": samples * self.task.frames_per_item,
               **{k: _fmt(v) for k, v in zip(self.task.loss_columns, values)}}
        if self.validation is not None and (step == config.steps or (config.val_every and
                                                                     step % config.val_every == 0)):
            if dist.main:
                self.last_validation = self.validation.run(self.model, self.device)
                row.update({k: _fmt(v) for k, v in self.last_validation.items()})
            dist.barrier()
        row["core_seconds"] = f"{self.core_before + time.process_time() - cpu_began:.2f}"
        if dist.main:
            self.log.write(row)
            if self.writer is not None:
                for k, v in row.items():
                    if k not in ("step", "epoch") and v != "":
                        self.writer.add_scalar(k, float(v), step)
            bar.update(1)
            bar.set_postfix(loss=f"{values[0]:.4g}", refresh=False)
            if on_step is not None:
                on_step(step, dict(row))
        return bool(stop_now.item())

    def checkpoint(self) -> None:
        if self.dist.main:
            config = self.config
            save_checkpoint(self.run_dir, self.step, self.model, self.optimizer,
                            {"epoch": self.step // self.per_epoch, "config": config.to_dict(),
                             "losses": _final_losses(self.log.rows, self.task.loss_columns),
                             "validation": self.last_validation},
                            keep=config.keep_checkpoints, metadata={"task": config.task, "seed": config.seed})
        self.dist.barrier()

    def close(self) -> None:
        if self.log is not None:
            self.log.close()
        if self.writer is not None:
            self.writer.close()

    def finish(self) -> TrainResult:
        """Weights and summary when the steps are done (rank 0); the result of this invocation."""
        config, dist, model, step = self.config, self.dist, self.model, self.step
        if dist.active:
            # DDP gives every forward rank 0's batch-norm statistics, then each rank updates its own copy: after the
            # last step they differ. Make them rank 0's (the saved ones) everywhere.
            for buffer in model.buffers():
                torch.distributed.broadcast(buffer.data, src=0)
        completed = step >= config.steps
        rows = self.log.rows if self.log is not None else []
        final_losses = _final_losses(rows, self.task.loss_columns)
        if dist.main and rows:
            self.last_validation = _last_validation(rows, self.task.val_columns) or self.last_validation
        weights = None
        mean_seconds = sum(self.seconds) / len(self.seconds) if self.seconds else math.nan
        if completed and dist.main:
            from ..models import save_weights

            weights = save_weights(model, self.run_dir / "model.safetensors",
                                   {"task": config.task, "steps": step, "seed": config.seed,
                                    "data_recipe": self.recipe, "final_losses": final_losses,
                                    "final_validation": self.last_validation, "train_config": config.to_dict()})
            summary = {"steps": step, "completed": completed, "seconds_per_step": mean_seconds,
                       "final_losses": final_losses, "final_validation": self.last_validation,
                       "device": str(self.device), "world_size": dist.world}
            write_text_atomic(self.run_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
        dist.barrier()
        return TrainResult(self.run_dir, step, completed, model, final_losses, self.last_validation, weights,
                           mean_seconds)
