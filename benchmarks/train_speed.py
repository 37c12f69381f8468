"""Seconds per frame-step of one EvFocus / E2VID training step on this CPU, fp32 vs bf16 (``--precision``).

Run:  python benchmarks/train_speed.py [--threads 1] [--widths 0.125,0.25,0.5] [--crops 64,96]
      python benchmarks/train_speed.py --validate RUN_OR_WEIGHTS --val-data DIR   (bf16 vs fp32 validation)

A step is what ``neurofocus train evfocus|e2vid`` does per optimiser step (:class:`neurofocus.train.video.VideoTask`
and the loop's Adam): the network unrolled over L = 8 windows of 5-bin voxel grids from a zero state, the paper's
loss (LPIPS included, fp32), backward, Adam. Inputs are random tensors of the training shapes (batch: the task's
default, 1 for EvFocus, 2 for E2VID). Time per frame-step = min over ``--repeat`` steps after two warm-up steps,
divided by batch × L, in CPU seconds of this process (``time.process_time``: with one thread, core-seconds; it does
not count the time other jobs on a shared machine take the core). ``bf16`` = bf16 autocast + channels_last (:mod:`neurofocus.train.precision`).

``--validate`` runs :class:`neurofocus.train.video.VideoValidation` on the held-out sequences twice, in fp32 and
under bf16 autocast, and prints both rows (a bf16 *training* run is validated in fp32; this shows how far bf16
inference would move the numbers).
"""

from __future__ import annotations

import argparse
import sys
import time


def step_seconds(task: str, width: float, crop: int, precision: str, *, length: int = 8, repeat: int = 3,
                 lpips_net: str = "alex") -> tuple:
    """(seconds per frame-step, parameters) of one training step (module docstring)."""
    import torch

    from neurofocus.models.recurrent import input_channels
    from neurofocus.train import TrainConfig
    from neurofocus.train.loop import build_model, make_task

    config = TrainConfig(task=task, data="unused", width=width, crop=crop, sequence_length=length,
                         precision=precision, lpips_net=lpips_net, progress=False, tensorboard=False)
    model = build_model(config)
    if precision != "fp32":
        from neurofocus.train.precision import memory_format

        model.to(memory_format=memory_format(precision))
    job = make_task(config)
    net, criterion = job.network(model), job.criterion("cpu")
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    gen = torch.Generator().manual_seed(0)
    b, bins = config.batch_size, input_channels(model.config)
    batch = {"voxel": torch.randn(b, length, bins, crop, crop, generator=gen),
             "sharp": torch.rand(b, length, 1, crop, crop, generator=gen),
             "defocused": torch.rand(b, length, 1, crop, crop, generator=gen),
             "flow": torch.zeros(b, length - 1, 2, crop, crop), "flow_valid": torch.ones(b, length - 1, crop, crop)}
    times = []
    for i in range(2 + repeat):
        t0 = time.process_time()
        optimizer.zero_grad(set_to_none=True)
        job.loss(net, criterion, batch, torch.device("cpu"))["loss"].backward()
        optimizer.step()
        if i >= 2:
            times.append(time.process_time() - t0)
    return min(times) / (b * length), sum(p.numel() for p in model.parameters())


def speed_table(tasks, widths, crops, threads: int, lpips_net: str = "alex", repeat: int = 3) -> str:
    import torch

    torch.set_num_threads(threads)
    lines = [f"CPU seconds per frame-step (forward + loss with LPIPS-{lpips_net} + backward + Adam), {threads} "
             f"thread(s), L = 8, CPU capability {torch.backends.cpu.get_cpu_capability()}:", "",
             "| network | width | parameters | crop | fp32 | bf16 + channels_last | speed-up |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for task in tasks:
        for width in widths:
            for crop in crops:
                fp32, params = step_seconds(task, width, crop, "fp32", repeat=repeat, lpips_net=lpips_net)
                bf16, _ = step_seconds(task, width, crop, "bf16", repeat=repeat, lpips_net=lpips_net)
                lines.append(f"| {task} | {width:g} | {params:,} | {crop} | {fp32:.4f} | {bf16:.4f} | "
                             f"{fp32 / bf16:.2f}× |")
                print(lines[-1], file=sys.stderr, flush=True)
    return "\n".join(lines)


def validation_table(weights: str, val_data: str, window_frames: int, threads: int) -> str:
    import contextlib
    from pathlib import Path

    import torch

    from neurofocus.models import load_model
    from neurofocus.train import TrainConfig
    from neurofocus.train.checkpoint import latest_checkpoint
    from neurofocus.train.video import VideoValidation, list_sequences

    torch.set_num_threads(threads)
    path = Path(weights)
    if path.is_dir():
        path = (latest_checkpoint(path) or path) / "model.safetensors"
    model = load_model(path)
    config = TrainConfig(task="evfocus", data=val_data, window_frames=window_frames)
    validation = VideoValidation(config, list_sequences(val_data))
    lines = [f"Validation of {weights} on {val_data} ({len(validation)} sequences, windows of {window_frames} "
             "frame(s)):", "", "| arithmetic | PSNR | SSIM | MSE | LPIPS | CPU seconds |", "|---|---:|---:|---:|---:|---:|"]
    for name, context in (("fp32", contextlib.nullcontext()),
                          ("bf16 autocast", torch.autocast("cpu", dtype=torch.bfloat16))):
        t0 = time.process_time()
        with context:
            v = validation.run(model, "cpu")
        lines.append(f"| {name} | {v['val_psnr']:.3f} | {v['val_ssim']:.4f} | {v['val_mse']:.5f} | "
                     f"{v['val_lpips']:.4f} | {time.process_time() - t0:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", default="evfocus,e2vid")
    p.add_argument("--widths", default="0.125,0.25,0.5", help="channel multipliers (E2VID base width 8 = 0.25)")
    p.add_argument("--crops", default="64,96")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--lpips-net", choices=["alex", "vgg"], default="alex",
                   help="LPIPS backbone of the loss (alex; E2VID+'s vgg costs ~10x more per step)")
    p.add_argument("--repeat", type=int, default=3, help="timed steps per cell (min taken)")
    p.add_argument("--validate", metavar="RUN_OR_WEIGHTS", help="compare fp32 and bf16 validation of these weights")
    p.add_argument("--val-data", metavar="DIR")
    p.add_argument("--window-frames", type=int, default=4)
    args = p.parse_args(argv)
    if args.validate:
        if not args.val_data:
            p.error("--validate needs --val-data")
        print(validation_table(args.validate, args.val_data, args.window_frames, args.threads))
        return 0
    print(speed_table(args.tasks.split(","), [float(w) for w in args.widths.split(",")],
                      [int(c) for c in args.crops.split(",")], args.threads, args.lpips_net, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
