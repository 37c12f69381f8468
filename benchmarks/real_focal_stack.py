"""The hand-crafted pipeline on a real focal stack, which has no all-in-focus ground truth.

Run:  python benchmarks/real_focal_stack.py [--stack ../shared/data/focal-stacks/openfocus-keyboard] [--fps 320]

The 32 real photographs of a keyboard seen at a grazing angle (OpenFocus example; depth grows with image row) are
taken as the frames of a focal sweep at ``--fps``; an ideal event camera (C = 0.2 ± 0.03) and a spike camera (50 µs
ticks) are simulated on them, and the pipeline runs with one photograph as the RGB image. Without ground truth, two
checks are printed: the Spearman correlation between image row and estimated in-focus time (should be clearly
non-zero: depth is monotone in row), and the gradient energy of the result relative to the input (> 1: sharper).
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import stats

from neurofocus.aif import AifConfig, all_in_focus
from neurofocus.color import luminance, srgb_to_linear
from neurofocus.images import read_image
from neurofocus.simulate.ideal_events import simulate_ideal_events
from neurofocus.simulate.spikes import simulate_spikes
from neurofocus.types import FocalSweep


def gradient_energy(image: np.ndarray) -> float:
    """Mean squared forward difference of the mean channel of an sRGB image (H, W, 3)."""
    gray = image.mean(axis=-1)
    return float((np.diff(gray, axis=0) ** 2).mean() + (np.diff(gray, axis=1) ** 2).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared/data/focal-stacks/openfocus-keyboard")
    parser.add_argument("--fps", type=float, default=320.0, help="frame rate given to the photographs")
    args = parser.parse_args()
    paths = sorted(args.stack.glob("*.jpg"))
    if not paths:
        raise SystemExit(f"no .jpg frames in {args.stack}")
    frames = np.stack([read_image(p) for p in paths])
    times_us = np.round(np.arange(len(frames)) * 1e6 / args.fps).astype(np.int64)
    intensity = np.clip(luminance(srgb_to_linear(frames)), 0, 1)
    events = simulate_ideal_events(intensity, times_us, seed=0)
    spikes = simulate_spikes(intensity, times_us, tick_us=50.0, seed=0)
    print(f"{args.stack.name}: {len(frames)} frames {frames.shape[2]}x{frames.shape[1]}, {len(events):,} events, "
          f"{spikes.num_spikes:,} spikes\n")
    print("| RGB image | signal | slices | Spearman(row, in-focus time) | gradient energy, result / input |")
    print("|---|---|---:|---:|---:|")
    rows = np.broadcast_to(np.arange(frames.shape[1])[:, None], frames.shape[1:3])
    for k in (5, 10, 20):
        for label, signal in (("events", {"events": events}), ("spikes", {"spikes": spikes})):
            sweep = FocalSweep(image=frames[k], image_time_us=int(times_us[k]), **signal)
            result = all_in_focus(sweep, AifConfig(), keep_stack=False)
            rho = stats.spearmanr(rows.ravel()[::7], result.infocus_time_us.ravel()[::7]).statistic
            gain = gradient_energy(result.image) / gradient_energy(frames[k])
            print(f"| {paths[k].name} | {label} | {len(result.stack_times_us)} | {rho:.2f} | {gain:.2f} |", flush=True)


if __name__ == "__main__":
    main()
