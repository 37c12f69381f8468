"""Speed of the learned all-in-focus pipeline (issue #5's targets: ≤ 10 s at 346x260 on 2 CPU cores; ≤ 0.3 s per
image at 640x480 on a GPU).

Run:  python benchmarks/learned_speed.py [--events-networks REFOCUS [MERGE]] [--spikes-networks REFOCUS [MERGE]]
                                          [--threads 2] [--device cpu|cuda] [--size 346x260]

Without files the shipped networks are used (those that ship). A seeded synthetic scene (ideal events and spikes,
240-frame sweep) is simulated first; each pipeline runs once to warm up, then ``--repeats`` times (median reported).
The stage times come from the pipeline's own timings: time search (hand-crafted), refocus-network passes, merge.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events-networks", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--spikes-networks", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--size", default="346x260", help="WxH of the synthetic scene")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import torch

    from neurofocus.aif.learned import learned_all_in_focus, load_networks, shipped_weights
    from neurofocus.bench.aif import synthetic_cases
    from neurofocus.metrics import psnr

    torch.set_num_threads(args.threads)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    networks = {}
    for modality, files in (("events", args.events_networks), ("spikes", args.spikes_networks)):
        if files:
            networks[modality] = load_networks("learned", modality, files[0], files[1] if len(files) > 1 else None,
                                               args.device, merge="auto" if len(files) > 1 else "handcrafted")
        elif shipped_weights("learned", modality)[0] is not None:
            networks[modality] = load_networks("learned", modality, device=args.device)
    if not networks:
        raise SystemExit("no networks: give --events-networks / --spikes-networks (no trained networks ship)")
    case = next(iter(synthetic_cases(1, 240, size=size)))
    sweep, truth = case.sweep, case.sweep.ground_truth.all_in_focus
    print("| signal | size | refocus net | merge | slices | total s | search s | refocus s | merge s | PSNR dB |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|")
    for modality, (refocus, merge) in networks.items():
        run = lambda: learned_all_in_focus(sweep, refocus, merge, device=args.device, keep_stack=False)  # noqa: E731
        run()
        results, seconds = [], []
        for _ in range(args.repeats):
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            results.append(run())
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            seconds.append(time.perf_counter() - t0)
        r = results[int(np.argsort(seconds)[len(seconds) // 2])]
        t = r.timings_s
        search = t.get("times_s", 0.0) + t.get("contrast_s", 0.0) + t.get("index_s", 0.0)
        print(f"| {modality} | {size[0]}x{size[1]} | {refocus.name} (width {refocus.config.width:g}) | "
              f"{merge.name if merge is not None else 'hand-crafted'} | {len(r.stack_times_us)} | "
              f"{np.median(seconds):.2f} | {search:.2f} | {t['refocus_s']:.2f} | {t['merge_s']:.2f} | "
              f"{psnr(r.image, truth):.2f} |")
    print(f"\n{args.threads} torch threads, device {args.device}, median of {args.repeats} runs")


if __name__ == "__main__":
    main()
