"""Training command: ``neurofocus train refocus|merge|evfocus|e2vid``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..config_dicts import check_keys
from ..errors import NeurofocusError
from .common import positive_float

# CLI option (argparse dest) -> TrainConfig field
_FIELDS = {"data": "data", "modality": "modality", "model": "model", "width": "width", "steps": "steps",
           "batch": "batch_size", "crop": "crop", "seed": "seed", "device": "device", "lr": "lr",
           "perceptual_weight": "perceptual_weight", "mse_weight": "mse_weight", "focus_weight": "focus_weight",
           "refocus_weights": "refocus_weights", "init_weights": "init_weights", "stack_size": "stack_size",
           "stack_source": "stack_source",
           "val_data": "val_data", "val_scenes": "val_scenes", "val_every": "val_every",
           "checkpoint_every": "checkpoint_every", "num_workers": "num_workers", "threads": "threads",
           "samples_per_scene": "samples_per_scene", "events": "events", "sequence_length": "sequence_length",
           "window_frames": "window_frames", "lpips_net": "lpips_net", "tc_weight": "tc_weight",
           "l1_weight": "l1_weight", "ssim_weight": "ssim_weight", "bptt_window": "bptt_window",
           "precision": "precision", "time_budget_s": "time_budget_s", "keep_checkpoints": "keep_checkpoints"}


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


def register(sub) -> None:
    p = sub.add_parser("train", help="train a network (refocus, merge, evfocus, e2vid) on a synth dataset",
                       description="Train NeuroRefocusNet / NeuroMergeNet (or the EFS networks) on focal sweeps, or "
                                   "EvFocus / E2VID on defocused-event videos (synth --kind defocus-video), made by "
                                   "neurofocus synth. Settings: defaults < --config JSON < options. Writes RUN_DIR/"
                                   "config.json, log.csv, checkpoints/ and, when done, model.safetensors. Launch with "
                                   "torchrun for data-parallel training.")
    p.add_argument("task", choices=["refocus", "merge", "evfocus", "e2vid"], help="which network")
    p.add_argument("--data", metavar="DIR", nargs="+",
                   help="dataset folder (neurofocus synth --out DIR), or several (their scenes one after the other)")
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="run folder")
    p.add_argument("--config", metavar="JSON", help="training settings (keys: the TrainConfig fields)")
    p.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR from its newest checkpoint")
    p.add_argument("--modality", choices=["events", "spikes"])
    p.add_argument("--model", help="registry name (default neuro_refocus_net / neuro_merge_net)")
    p.add_argument("--width", type=positive_float,
                   help="channel multiplier (1.0: the papers' 64 channels; EvFocus/E2VID: 32)")
    p.add_argument("--steps", type=int, help="optimiser steps (1000)")
    p.add_argument("--batch", type=int, help="items per step and process (10; evfocus 1, e2vid 2)")
    p.add_argument("--crop", type=int, help="training crop side in pixels (128; 0: whole frames)")
    p.add_argument("--seed", type=int, help="seed of weights, data order and sampling (0)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], help="(auto)")
    p.add_argument("--lr", type=positive_float, help="Adam learning rate (5e-4; evfocus, e2vid 1e-4)")
    p.add_argument("--perceptual-weight", type=_non_negative_float, help="α of the loss (0.5)")
    p.add_argument("--mse-weight", type=_non_negative_float, help="β of the loss (200)")
    p.add_argument("--focus-weight", type=_non_negative_float, metavar="λ",
                   help="refocus: weight the MSE 1 + λ at pixels in focus at the target time (0: the papers' MSE)")
    p.add_argument("--init-weights", metavar="PATH",
                   help="start from this weight file of the same network (fine-tuning; a fresh optimiser)")
    p.add_argument("--refocus-weights", metavar="PATH", help="merge: refocus network that makes the stacks")
    p.add_argument("--stack-size", type=int, help="merge: slices per stack (64)")
    p.add_argument("--stack-source", choices=["frames", "handcrafted", "network"],
                   help="merge: slices from ground-truth frames, the hand-crafted refocus or --refocus-weights")
    v = p.add_argument_group("evfocus / e2vid (defocused-event videos)")
    v.add_argument("--event-source", dest="events", choices=["defocused", "sharp"],
                   help="train on the defocused frames' events (default) or the sharp frames' (synth --sharp-events)")
    v.add_argument("--sequence-length", type=int, metavar="L", help="windows per training sequence (8)")
    v.add_argument("--window-frames", type=int, metavar="M", help="frames' worth of events per window (1)")
    v.add_argument("--bptt-window", type=int, metavar="K",
                   help="detach the recurrent state every K windows (0: back-propagate through all L)")
    v.add_argument("--lpips-net", choices=["alex", "vgg"], help="LPIPS backbone (evfocus alex, e2vid vgg)")
    v.add_argument("--tc-weight", type=_non_negative_float,
                   help="temporal consistency weight (evfocus 1 inside L_TCP, e2vid 2)")
    v.add_argument("--l1-weight", type=_non_negative_float,
                   help="weight of an added L1 term between image and sharp frame (0: the papers' losses)")
    v.add_argument("--ssim-weight", type=_non_negative_float,
                   help="weight of an added 1 - SSIM term between image and sharp frame (0: the papers' losses)")
    p.add_argument("--val-data", metavar="DIR", nargs="+", help="separate validation dataset(s)")
    p.add_argument("--val-scenes", type=int, help="scenes (sequences) of --data held out for validation (1)")
    p.add_argument("--val-every", type=int, help="steps between validation passes (500)")
    p.add_argument("--checkpoint-every", type=int, help="steps between checkpoints (500)")
    p.add_argument("--samples-per-scene", type=int, help="items per scene and epoch (16)")
    p.add_argument("--num-workers", type=int, help="data-loading processes (0)")
    p.add_argument("--threads", type=int, help="PyTorch CPU threads (0: one per core)")
    p.add_argument("--precision", choices=["fp32", "bf16"],
                   help="fp32 (default), or bf16 autocast + channels_last for the network (loss and weights fp32; "
                        "faster only on CPUs with native bf16, slower on AVX2)")
    p.add_argument("--time-budget-s", type=positive_float, metavar="S",
                   help="stop after the step that ends S seconds after the start, writing a checkpoint "
                        "(continue with --resume)")
    p.add_argument("--keep-checkpoints", type=int, metavar="N", help="checkpoints kept (2)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_train)


def _read_config(path: str) -> dict:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise NeurofocusError("no such config file", path) from None
    except json.JSONDecodeError as exc:
        raise NeurofocusError(f"not valid JSON ({exc.msg}, line {exc.lineno})", path) from None
    if not isinstance(data, dict):
        raise NeurofocusError("a training config must be a JSON object", path)
    import dataclasses

    from ..train.config import TrainConfig

    check_keys(data, [f.name for f in dataclasses.fields(TrainConfig)], "unknown config key {first} (known: {known})",
               path)
    return data


def build_config(args):
    """The TrainConfig of the command line (and, with --resume, of the saved run)."""
    from ..train.config import TrainConfig

    settings: dict = {}
    if args.resume:
        saved = Path(args.out) / "config.json"
        if not saved.is_file():
            raise NeurofocusError("no training run to resume here (no config.json)", args.out)
        try:
            settings.update(json.loads(saved.read_text()))
        except json.JSONDecodeError:
            raise NeurofocusError("config.json is not valid JSON", saved) from None
    if args.config:
        settings.update(_read_config(args.config))
    if settings.get("task", args.task) != args.task:
        raise NeurofocusError(f"the config's task is {settings['task']!r}, but the command trains {args.task}",
                              args.config or Path(args.out) / "config.json")
    settings["task"] = args.task
    for dest, field in _FIELDS.items():
        value = getattr(args, dest)
        if value is not None:
            settings[field] = value
    if args.crop == 0:
        settings["crop"] = None
    if args.no_progress:
        settings["progress"] = False
    if not settings.get("data"):
        raise NeurofocusError("no dataset given: --data DIR (a folder made by neurofocus synth)")
    return TrainConfig.from_dict(settings, source=args.config)


def run_train(args) -> int:
    from ..progress import say
    from ..train import train
    from ..train.config import data_folders

    config = build_config(args)
    if config.progress and os.environ.get("RANK", "0") in ("", "0"):
        say(f"train {config.task}: reading {', '.join(data_folders(config.data))} and building the network ...")
    result = train(config, args.out, resume=args.resume)
    if os.environ.get("RANK", "0") not in ("", "0"):  # torchrun: rank 0 reports
        return 0 if result.completed else 130
    losses = ", ".join(f"{k} {v:.4g}" for k, v in result.final_losses.items())
    val = result.validation
    if "val_psnr_handcrafted" in val:
        text = (f"; validation PSNR {val['val_psnr']:.2f} dB (hand-crafted {val['val_psnr_handcrafted']:.2f}, "
                f"input {val['val_psnr_input']:.2f})")
    elif "val_psnr" in val:
        text = (f"; validation PSNR {val['val_psnr']:.2f} dB, SSIM {val['val_ssim']:.3f} (defocused frames "
                f"{val['val_psnr_defocused']:.2f} dB)")
    else:
        text = ""
    if not result.completed:
        print(f"neurofocus: interrupted at step {result.step} of {config.steps}; checkpoint written; continue with "
              f"neurofocus train {config.task} --out {args.out} --resume", file=sys.stderr)
        return 130
    speed = ("no new steps" if result.seconds_per_step != result.seconds_per_step  # NaN: resumed at the end
             else f"{result.seconds_per_step:.3f} s/step")
    print(f"trained {result.step} steps ({speed}); final {losses}{text}")
    if result.weights is not None:
        print(f"weights: {result.weights}")
    return 0
