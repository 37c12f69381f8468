"""Speed and memory of the hand-crafted all-in-focus pipeline (file reading excluded).

Run:  python benchmarks/aif_speed.py [--large]

Sweeps are simulated with the ideal event model at a low contrast threshold to reach the target event counts:
346x260 with about 5 M events, and (--large) 1280x720 with about 30 M events. Each pipeline run happens in a fresh
process; the memory column is the pipeline's own peak (numpy buffers, traced), besides the events it is given.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

CHILD = r'''
import sys, time, tracemalloc
from neurofocus.datasets import load_sample
from neurofocus.aif import AifConfig, all_in_focus
sweep = load_sample(sys.argv[1], spikes=False).sweep
all_in_focus(sweep, AifConfig(), keep_stack=False)  # warm-up: numba compilation, caches
t0 = time.perf_counter()
result = all_in_focus(sweep, AifConfig(), keep_stack=False)
seconds = time.perf_counter() - t0
tracemalloc.start()  # numpy reports its buffers to tracemalloc: the pipeline's own peak, inputs excluded
all_in_focus(sweep, AifConfig(), keep_stack=False)
peak = tracemalloc.get_traced_memory()[1]
print(len(sweep.events), seconds, len(result.stack_times_us), peak / 2**20, sweep.events.data.nbytes / 2**20,
      " ".join(f"{k}={v:.3f}" for k, v in result.timings_s.items()))
'''


def make_sweep(folder: str, size, frames: int, contrast: float) -> None:
    from neurofocus.datasets import write_sample
    from neurofocus.simulate.focal_sweep import SceneSweep, SensorSetup, simulate_focal_sweep
    from neurofocus.simulate.ideal_events import IdealParams
    from neurofocus.simulate.optics import ThinLens
    from neurofocus.simulate.scene import random_scene
    from neurofocus.simulate.sweep import SweepSpec, focus_schedule

    lens = ThinLens()
    rng = np.random.default_rng(7)
    scene = random_scene(rng, size, lens, max_blur_px=30 * size[0] / 346)
    schedule = focus_schedule(SweepSpec(num_frames=frames), scene.near_m, scene.far_m, rng)
    setup = SensorSetup(ideal=IdealParams(contrast_pos=contrast, contrast_neg=contrast, threshold_sigma=0.1 * contrast,
                                          min_threshold=0.5 * contrast))
    simulated = simulate_focal_sweep(SceneSweep(scene, lens, schedule), setup, seed=1, keep_every=10**6)
    write_sample(folder, simulated, {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", action="store_true", help="also the 1280x720, ~30 M event sweep")
    parser.add_argument("--keep", metavar="DIR", help="keep the simulated sweeps here and reuse them")
    args = parser.parse_args()
    cases = [("346x260", (346, 260), 480, 0.0048)]
    if args.large:
        cases.append(("1280x720", (1280, 720), 240, 0.0095))
    print("| sweep | events | slices | pipeline time | pipeline peak memory (events held: extra) | stages (s) |\n"
          "|---|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for label, size, frames, contrast in cases:
            folder = os.path.join(args.keep or tmp, label)
            t0 = time.perf_counter()
            if not os.path.isdir(folder):
                make_sweep(folder, size, frames, contrast)
            made = time.perf_counter() - t0
            out = subprocess.run([sys.executable, "-c", CHILD, folder], capture_output=True, text=True, check=True)
            n, seconds, slices, peak, held, stages = out.stdout.split(maxsplit=5)
            print(f"| {label} | {int(n):,} | {slices} | {float(seconds):.2f} s | {float(peak):,.0f} MB "
                  f"({float(held):,.0f} MB) | {stages.strip()} |", flush=True)
            print(f"<!-- sweep simulated (or found) in {made:.0f} s -->")


if __name__ == "__main__":
    main()
