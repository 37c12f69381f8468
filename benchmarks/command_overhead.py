"""Whole-command time against the work inside it: how much of a ``neurofocus`` command is start-up.

    python benchmarks/command_overhead.py [--repeat 5] [--sample PATH.aedat4]

Rows (minimum wall time over ``--repeat`` runs, each a fresh process, interleaved):

* ``neurofocus info`` on an AEDAT 4 file, beside a script that reads the same file with the ``aedat`` package (the
  peer a user would pick) and prints its event count;
* ``neurofocus convert`` of that file to EVT 3 RAW, beside the same read and write in this (warm) process;
* ``neurofocus aif`` on a simulated 346×260 sweep (``neurofocus simulate`` output, made once), beside the pipeline's
  own time as the command reports it in ``result.json`` (``runtime_s``: the computation, without imports and
  output writing);
* ``neurofocus simulate-events --event-model dvs-voltmeter`` on 200 frames of 346×260 textured motion (PNG files), beside
  the same simulation in this warm process and beside the vectorised-numpy transcription of the published
  DVS-Voltmeter algorithm (``reference_dvs_voltmeter``, in process, on frames already in memory).

Prints a Markdown table with the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from io_throughput import best_of  # beside this script

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "data" / "events" / "aedat4" / "sample.aedat4"
PEER = "import sys, aedat\nprint(sum(len(p['events']) for p in aedat.Decoder(sys.argv[1]) if 'events' in p))\n"
SWEEP_FRAMES = 200


#: The commands run as installed: bytecode cached (the first, warm-up run writes it even where the environment says
#: not to), as pip leaves a package.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(argv: list[str]) -> float:
    """Seconds a fresh process takes to run ``argv`` (it must succeed)."""
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - t0


def textured_motion(folder: Path) -> np.ndarray:
    """Write :data:`SWEEP_FRAMES` gray 346×260 PNGs of a natural image sliding 2 px per frame; returns them (T, H, W)
    uint8."""
    from PIL import Image

    from neurofocus.simulate.dvs_voltmeter import gray8
    from neurofocus.simulate.textures import bundled_image

    texture = gray8(bundled_image("astronaut"))[:260, :]
    texture = np.concatenate([texture, texture[:, ::-1]], axis=1)
    frames = np.stack([texture[:, 2 * k:2 * k + 346] for k in range(SWEEP_FRAMES)])
    folder.mkdir()
    for k, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f"{k:04d}.png")
    return frames


def run(repeat: int, sample: Path = SAMPLE) -> None:
    """Time the commands (see the module docstring) and print the table."""
    from neurofocus.io import load_events, save_events
    from neurofocus.simulate.dvs_voltmeter import VoltmeterParams, reference_dvs_voltmeter, simulate_dvs_voltmeter

    cli = [sys.executable, "-m", "neurofocus.cli", "--quiet"]
    with tempfile.TemporaryDirectory() as tmp:
        sim, out, frames_dir = Path(tmp) / "sim", Path(tmp) / "out", Path(tmp) / "frames"
        subprocess.run(cli + ["simulate", "--out", str(sim), "--event-model", "ideal"], check=True,
                       stdout=subprocess.DEVNULL, env=ENV)
        frames = textured_motion(frames_dir)
        runs = {"info": cli + ["info", str(sample)], "peer": [sys.executable, "-c", PEER, str(sample)],
                "convert": cli + ["convert", str(sample), str(Path(tmp) / "converted.raw")],
                "aif": cli + ["aif", "--image", str(sim / "image.png"), "--events", str(sim / "events.raw"),
                              "--out", str(out)],
                "simulate-events": cli + ["simulate-events", "--frames", str(frames_dir), "--fps", "1000",
                                          "--event-model", "dvs-voltmeter", "--preset", "DVS346",
                                          "--out", str(Path(tmp) / "simulated.raw")]}
        for argv in runs.values():
            wall(argv)  # compiles and caches the kernels once
        times = {name: [] for name in runs}
        compute = []
        for _ in range(repeat):
            for name, argv in runs.items():
                times[name].append(wall(argv))
                if name == "aif":
                    compute.append(json.loads((out / "result.json").read_text())["runtime_s"])
        target = Path(tmp) / "converted_here.raw"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the note on the absolute clock, printed by the command too
            convert_s = best_of(lambda: save_events(target, load_events(sample), format="evt3"), repeat)
        params, times_us = VoltmeterParams.preset("DVS346"), np.arange(SWEEP_FRAMES) * 1000.0
        simulate_s = best_of(lambda: simulate_dvs_voltmeter(frames, times_us, params, seed=0), repeat)
        t0 = time.perf_counter()
        reference_dvs_voltmeter(frames, times_us, params, np.random.default_rng(0))
        reference_s = time.perf_counter() - t0
    best = {name: min(v) for name, v in times.items()}
    print("| command | whole command (s) | reference | reference (s) | ratio / overhead |")
    print("|---|---:|---|---:|---:|")
    print(f"| neurofocus info {sample.name} | {best['info']:.2f} | script reading it with aedat | "
          f"{best['peer']:.2f} | {best['info'] / best['peer']:.2f}× |")
    print(f"| neurofocus convert {sample.name} → EVT 3 | {best['convert']:.2f} | the same read + write in process | "
          f"{convert_s:.2f} | +{best['convert'] - convert_s:.2f} s |")
    print(f"| neurofocus aif (346×260 simulated sweep) | {best['aif']:.2f} | the pipeline's own time | "
          f"{min(compute):.2f} | +{best['aif'] - min(compute):.2f} s |")
    print(f"| neurofocus simulate-events ({SWEEP_FRAMES} frames 346×260, DVS346) | {best['simulate-events']:.2f} | "
          f"the same simulation in process | {simulate_s:.2f} | +{best['simulate-events'] - simulate_s:.2f} s |")
    print(f"| neurofocus simulate-events (same) | {best['simulate-events']:.2f} | DVS-Voltmeter transcription "
          f"(numpy, in process) | {reference_s:.2f} | {reference_s / best['simulate-events']:.2f}× faster |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sample", type=Path, default=SAMPLE, help="an AEDAT 4 file")
    args = parser.parse_args()
    run(args.repeat, args.sample)


if __name__ == "__main__":
    main()
