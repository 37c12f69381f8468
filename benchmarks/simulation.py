"""Speed of the focal-sweep renderer and the sensor simulators, and the size of a synthetic dataset.

Run:  python benchmarks/simulation.py [--quick]

1. DVS-Voltmeter on 100 intervals of 346x260 textured motion (a natural image sliding 2 px per 1 ms frame), our
   numba model against the vectorised-numpy transcription of the published algorithm (``reference_dvs_voltmeter``):
   events/s, pixel-intervals/s, and the agreement of their statistics.
2. The same comparison on a rendered 480-frame focal sweep.
3. Ideal event simulator and spike simulator throughput on that sweep.
4. Render time of a 480-frame 346x260 sweep, and render + simulate (events and spikes) for one scene.
5. Size of a 10-scene dataset from ``neurofocus synth`` (and the 200-scene extrapolation).
Prints Markdown tables; each time is the best of 2 runs after a warm-up where marked.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time

import numpy as np

from neurofocus.color import linear_to_srgb, luminance
from neurofocus.datasets import synthesize
from neurofocus.simulate.dataset import SynthConfig
from neurofocus.simulate.dvs_voltmeter import VoltmeterParams, gray8, reference_dvs_voltmeter, simulate_dvs_voltmeter
from neurofocus.simulate.focal_sweep import SceneSweep, SensorSetup, simulate_focal_sweep
from neurofocus.simulate.ideal_events import IdealParams, simulate_ideal_events
from neurofocus.simulate.optics import ThinLens
from neurofocus.simulate.scene import random_scene
from neurofocus.simulate.spikes import SpikeParams, simulate_spikes
from neurofocus.simulate.sweep import SweepSpec, focus_schedule
from neurofocus.simulate.textures import bundled_image


def timed(fn, repeat=1):
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def per_pixel_std(ev):
    counts = np.bincount(ev.y.astype(np.int64) * ev.width + ev.x, minlength=ev.width * ev.height)
    return counts.mean(), counts.std()


def compare(name, frames, times, params, repeat):
    n_px_int = (len(frames) - 1) * frames.shape[1] * frames.shape[2]
    simulate_dvs_voltmeter(frames[:3], times[:3], params)  # compile
    t_ours, ours = timed(lambda: simulate_dvs_voltmeter(frames, times, params, seed=1), repeat)
    t_ref, ref = timed(lambda: reference_dvs_voltmeter(frames, times, params, np.random.default_rng(1)))
    print(f"\n**{name}** ({len(frames) - 1} intervals, {frames.shape[2]}x{frames.shape[1]}, "
          f"{n_px_int / 1e6:.1f} M pixel-intervals)\n")
    print("| implementation | time | events | M events/s | M pixel-intervals/s | ON fraction | per-pixel count mean / std |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, t, ev in (("numba model (this package)", t_ours, ours), ("numpy transcription", t_ref, ref)):
        m, s = per_pixel_std(ev)
        print(f"| {label} | {t:.2f} s | {len(ev):,} | {len(ev) / t / 1e6:.2f} | {n_px_int / t / 1e6:.1f} | "
              f"{ev.polarity_stats().on_fraction:.4f} | {m:.3f} / {s:.3f} |")
    print(f"\nspeed-up {t_ref / t_ours:.1f}x; event count ratio {len(ours) / max(len(ref), 1):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the 480-frame reference run and the dataset")
    args = parser.parse_args()
    print(f"# neurofocus simulation benchmark\n\n{platform.machine()}, {os.cpu_count()} CPU(s), numpy {np.__version__}")

    # 1. textured motion, as the reference figure (≈ 3.4 M events in 6.8 s for the transcription)
    texture = gray8(bundled_image("astronaut"))[:260, :].astype(np.float64)
    texture = np.concatenate([texture, texture[:, ::-1]], axis=1)
    frames = np.stack([texture[:, 2 * k:2 * k + 346] for k in range(101)])
    compare("DVS-Voltmeter, textured motion (DVS346 preset)", frames, np.arange(101) * 1000.0,
            VoltmeterParams.preset("DVS346"), repeat=2)

    # 2-4. a rendered focal sweep
    lens = ThinLens()
    rng = np.random.default_rng(3)
    scene = random_scene(rng, (346, 260), lens, max_blur_px=30)
    schedule = focus_schedule(SweepSpec(num_frames=480, speed="hand"), scene.near_m, scene.far_m, rng)
    source = SceneSweep(scene, lens, schedule)
    t_render, linear = timed(lambda: np.stack([source.frame(k) for k in range(480)]))
    srgb = linear_to_srgb(linear)
    gray = gray8(srgb).astype(np.float64)
    luma = np.clip(luminance(linear), 0, 1)
    times = schedule.times_us.astype(np.float64)
    print(f"\n**Rendering** a 480-frame 346x260 sweep ({len(scene.layers)} layers, {source.renderer.num_slices} "
          f"depth slices): {t_render:.1f} s ({1e3 * t_render / 480:.0f} ms per frame)")
    if not args.quick:
        compare("DVS-Voltmeter, 480-frame focal sweep (random paper parameters)", gray, times,
                VoltmeterParams.random(np.random.default_rng(0)), repeat=1)
    simulate_ideal_events(luma[:3], times[:3])
    t_ideal, ideal = timed(lambda: simulate_ideal_events(luma, times, IdealParams(), seed=1), 2)
    simulate_spikes(luma[:3], times[:3], SpikeParams(), tick_us=50.0)
    t_spk, spikes = timed(lambda: simulate_spikes(luma, times, SpikeParams(), tick_us=50.0, seed=1), 2)
    px_int = 479 * 346 * 260
    px_ticks = spikes.num_ticks * 346 * 260
    print("\n| simulator (480-frame focal sweep) | time | output | throughput |\n|---|---:|---:|---:|")
    print(f"| ideal events (C = 0.2 ± 0.03) | {t_ideal:.2f} s | {len(ideal):,} events | "
          f"{px_int / t_ideal / 1e6:.0f} M pixel-intervals/s, {len(ideal) / t_ideal / 1e6:.2f} M events/s |")
    print(f"| spikes (tick 50 µs, {spikes.num_ticks:,} ticks) | {t_spk:.2f} s | {spikes.num_spikes:,} spikes | "
          f"{px_ticks / t_spk / 1e6:.0f} M pixel-ticks/s |")

    setup = SensorSetup(voltmeter=VoltmeterParams.random(np.random.default_rng(0)), spikes=SpikeParams(), tick_us=50.0)
    t_all, result = timed(lambda: simulate_focal_sweep(SceneSweep(scene, lens, schedule), setup, seed=1))
    print(f"\n**One scene end to end** (render 480 frames 346x260 + DVS-Voltmeter + spikes at 50 µs): "
          f"{t_all:.1f} s ({len(result.sweep.events):,} events, {result.sweep.spikes.num_spikes:,} spikes)")

    if not args.quick:
        with tempfile.TemporaryDirectory() as tmp:
            for label, config in (("events", SynthConfig()), ("events + spikes (100 µs)", SynthConfig(spikes=True))):
                out = os.path.join(tmp, label.split()[0] + ("_spikes" if "spikes" in label else ""))
                t_ds, manifest = timed(lambda: synthesize(out, 10, seed=0, config=config, progress=False))
                per_scene = manifest["total_bytes"] / 10
                print(f"\n**10-scene dataset, {label}**: {manifest['total_bytes'] / 1e6:.0f} MB "
                      f"({per_scene / 1e6:.1f} MB per scene; 200 scenes ≈ {200 * per_scene / 1e9:.1f} GB), "
                      f"{t_ds:.0f} s on {os.cpu_count()} processes")
                sizes = {}
                for folder in sorted(os.listdir(out)):
                    path = os.path.join(out, folder)
                    if os.path.isdir(path):
                        for name in os.listdir(path):
                            sizes[name] = sizes.get(name, 0) + os.path.getsize(os.path.join(path, name))
                print("per file (mean MB): " + json.dumps({k: round(v / 10 / 1e6, 2) for k, v in sorted(sizes.items())}))


if __name__ == "__main__":
    main()
