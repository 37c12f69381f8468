"""``neurofocus demo``: the whole toolkit on a built-in scene, in under a minute on two cores.

It renders a focal sweep of a layered scene (objects at four depths through a 100 mm f/1.2 lens), simulates an
event camera (ideal, contrast threshold 0.2) and a spike camera (20 kHz) watching the sweep, captures the RGB image
at a near focus, runs the hand-crafted all-in-focus pipeline with the events and with the spikes, and scores
everything against the rendered all-in-focus ground truth.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .aif import AifConfig, all_in_focus
from .aif.baselines import unsharp_mask
from .atomic import write_text_atomic
from .images import write_image
from .metrics import evaluate
from .simulate.focal_sweep import SceneSweep, SensorSetup, simulate_focal_sweep
from .simulate.ideal_events import IdealParams
from .simulate.optics import ThinLens
from .simulate.scene import scene_from_description
from .simulate.spikes import SpikeParams
from .simulate.sweep import SweepSpec, focus_schedule
from .viz import save_contact_sheet, save_event_picture, sweep_picture
from .viz.report import metrics_table, write_aif_report

DEMO_SCENE = {
    "size": [346, 260],
    "background": {"texture": "brick", "depth_m": 2.3},
    "objects": [
        {"shape": "ellipse", "center": [95, 95], "size": [130, 110], "angle": 0.2, "depth_m": 1.85,
         "texture": "astronaut"},
        {"shape": "rectangle", "center": [250, 80], "size": [110, 90], "angle": -0.15, "depth_m": 2.05,
         "texture": "text"},
        {"shape": "polygon", "center": [215, 190], "size": [140, 100], "angle": 0.5, "depth_m": 1.95,
         "texture": "coffee"},
        {"shape": "star", "center": [70, 205], "size": [80, 80], "angle": 0.0, "depth_m": 2.15,
         "texture": "checker"},
    ],
}


def run_demo(out: Path) -> int:
    """Run the demo, writing into ``out``; returns 0."""
    t_start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    lens = ThinLens(100.0, 1.2, 18.5)
    scene = scene_from_description(DEMO_SCENE, lens, seed=0)
    schedule = focus_schedule(SweepSpec(num_frames=240, frame_rate_hz=480.0, image_frame=40), scene.near_m,
                              scene.far_m, np.random.default_rng(0))
    print("1/3 rendering a 240-frame focal sweep and simulating an event camera and a spike camera ...", flush=True)
    setup = SensorSetup(ideal=IdealParams(contrast_pos=0.2, contrast_neg=0.2), spikes=SpikeParams(), tick_us=50.0)
    simulated = simulate_focal_sweep(SceneSweep(scene, lens, schedule), setup, seed=0, progress=True)
    sweep = simulated.sweep
    truth = sweep.ground_truth.all_in_focus
    print(f"    {len(sweep.events):,} events, {sweep.spikes.num_spikes:,} spikes in {sweep.spikes.num_ticks:,} ticks; "
          f"image captured at {sweep.image_time_us / 1e3:.1f} ms", flush=True)

    print("2/3 all-in-focus with events, then with spikes ...", flush=True)
    results = {"input image": sweep.image, "image-only baseline (unsharp mask)": unsharp_mask(sweep.image)}
    stacks = {}
    for label, config in (("hand-crafted, events", AifConfig(modality="events")),
                          ("hand-crafted, spikes", AifConfig(modality="spikes"))):
        result = all_in_focus(sweep, config, keep_stack=True, progress=True)
        results[label] = result.image
        stacks[label] = result
    print("3/3 scoring against the ground truth and writing pictures ...", flush=True)
    write_image(out / "input.png", sweep.image)
    write_image(out / "ground_truth.png", truth)
    write_image(out / "aif_events.png", results["hand-crafted, events"])
    write_image(out / "aif_spikes.png", results["hand-crafted, spikes"])
    scores = {label: evaluate(image, truth) for label, image in results.items()}
    ev = stacks["hand-crafted, events"]
    picks = np.linspace(0, len(ev.stack) - 1, min(8, len(ev.stack))).round().astype(int)
    image_slice = int(np.abs(np.asarray(ev.stack_times_us) - sweep.image_time_us).argmin())
    if image_slice not in picks:
        picks[np.abs(picks - image_slice).argmin()] = image_slice
    save_contact_sheet(out / "stack_sheet.png", [ev.stack[i] for i in picks],
                       [f"slice {i + 1} of {len(ev.stack)}: refocused to {ev.stack_times_us[i] / 1e3:.1f} ms"
                        + ("\nthe input image" if i == image_slice else "\nrefocused with events") for i in picks],
                       title="refocused stack from events", highlight=int(np.flatnonzero(picks == image_slice)[0]))
    shown = (("input image", "input (focused near)"), ("hand-crafted, events", "all-in-focus (events)"),
             ("hand-crafted, spikes", "all-in-focus (spikes)"))
    save_contact_sheet(out / "comparison.png", [results[key] for key, _ in shown] + [truth],
                       [f"{name}\nPSNR {scores[key]['psnr']:.2f} dB, SSIM {scores[key]['ssim']:.3f}"
                        for key, name in shown] + ["ground truth (rendered all-in-focus)\n"], columns=2,
                       title="against the ground truth")
    save_event_picture(out / "events.png", sweep.events, "events of the whole sweep")
    write_aif_report(out / "report.html", title="neurofocus demo: all-in-focus from events",
                     summary=f"built-in scene, {len(ev.stack)} slices refocused with {len(sweep.events):,} ideal "
                             f"events; the spikes' result is in the metrics", input_image=sweep.image,
                     result_image=ev.image, stack=ev.stack, stack_times_us=ev.stack_times_us,
                     image_time_us=sweep.image_time_us, infocus_time_us=ev.infocus_time_us,
                     slice_depth_m=np.interp(ev.stack_times_us, schedule.times_us, schedule.focus_m),
                     sweep_picture=sweep_picture(sweep),
                     tables={"Metrics against the ground truth": metrics_table(scores)})
    rows = ["| image | PSNR (dB) | SSIM | MS-SSIM |", "|---|---:|---:|---:|"]
    rows += [f"| {k} | {v['psnr']:.2f} | {v['ssim']:.4f} | {v['ms_ssim']:.4f} |" for k, v in scores.items()]
    table = "\n".join(rows)
    write_text_atomic(out / "metrics.md", "Against the rendered all-in-focus ground truth (neurofocus demo)\n\n"
                      + table + "\n")
    write_text_atomic(out / "metrics.json", json.dumps(scores, indent=2) + "\n")
    print("\n" + table)
    print(f"\nwrote {out}/: input.png, aif_events.png, aif_spikes.png, ground_truth.png, comparison.png, "
          f"stack_sheet.png, events.png, metrics.md, report.html ({time.perf_counter() - t_start:.0f} s)")
    return 0
