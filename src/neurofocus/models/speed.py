"""Parameter counts and forward times of the networks: ``python -m neurofocus.models.speed [--size 346x260]
[--models e2vid,evfocus] [--widths 0.25,0.125]``.

Prints one row per model and width: parameters, and the best (minimum) wall time of an inference forward pass (eval
mode, no gradients, batch 1; NeuroMergeNet: one image of the stack, EvMergeNet: the whole stack of 64; E2VID / EvFocus: one
window's voxel grid with the integrator channel, at full resolution and with ``downscale`` 2) on the current device
with the current number of torch threads.
"""

from __future__ import annotations

import argparse
import time

import torch

from .registry import create_model

MODELS = [("ev_refocus_net", {}), ("neuro_refocus_net", {"modality": "spikes"}), ("ev_merge_net", {}),
          ("neuro_merge_net", {}), ("e2vid", {"integrator": True}), ("e2vid", {"integrator": True, "downscale": 2}),
          ("evfocus", {"integrator": True}), ("evfocus", {"integrator": True, "downscale": 2})]


def example_inputs(model, height: int, width: int, device="cpu") -> tuple[torch.Tensor, ...]:
    """Random inputs of the model's contract (one image / one stack slice for NeuroMergeNet)."""
    g = torch.Generator().manual_seed(0)
    if hasattr(model, "encoder"):  # E2VID / EvFocus: one voxel grid (a new sequence: no state)
        from .recurrent import input_channels

        args = (torch.rand(1, input_channels(model.config), height, width, generator=g),)
    elif hasattr(model, "residual"):
        bins = model.config.nfs.num_bins
        args = torch.rand(1, 3, height, width, generator=g), torch.rand(1, bins, height, width, generator=g)
    else:
        s = getattr(model.config, "stack_size", 1)
        args = torch.rand(1, s, 3, height, width, generator=g), torch.rand(1, s, height, width, generator=g)
    return tuple(a.to(device) for a in args)


def forward_seconds(model, height: int, width: int, repeats: int = 3, device="cpu") -> float:
    """Best (minimum) seconds of ``repeats`` inference passes after one warm-up pass: the least disturbed by other
    processes sharing the CPU."""
    model = model.to(device).eval()
    args = example_inputs(model, height, width, device)
    times = []
    with torch.inference_mode():
        for i in range(repeats + 1):
            if device != "cpu":
                torch.cuda.synchronize()
            start = time.perf_counter()
            model(*args)
            if device != "cpu":
                torch.cuda.synchronize()
            if i:
                times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="346x260", help="WIDTHxHEIGHT of the inputs (default 346x260)")
    parser.add_argument("--widths", default="1.0,0.5,0.25", help="comma-separated width multipliers")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", help="comma-separated registry names to keep (default: all)")
    parser.add_argument("--no-time", action="store_true", help="parameter counts only")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    w, h = (int(v) for v in args.size.lower().split("x"))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.device}, input {w}x{h}")
    print(f"{'model':<34} {'width':>5} {'parameters':>12} {'forward s':>10}")
    keep = set(args.models.split(",")) if args.models else {name for name, _ in MODELS}
    for name, kwargs in (m for m in MODELS if m[0] in keep):
        for width in (float(v) for v in args.widths.split(",")):
            model = create_model(name, width=width, seed=0, **kwargs)
            params = sum(p.numel() for p in model.parameters())
            secs = "" if args.no_time else f"{forward_seconds(model, h, w, args.repeats, args.device):.3f}"
            label = name + "".join(f", {k}" if v is True else f", {k} {v}" for k, v in kwargs.items())
            print(f"{label:<34} {width:>5g} {params:>12,} {secs:>10}")


if __name__ == "__main__":
    main()
