"""Whole-command time against the work inside it: how much of a ``neurofocus`` command is start-up.

    python benchmarks/command_overhead.py [--repeat 5] [--sample PATH.aedat4] [--commands aif,info,...]

Each command runs as a fresh process (the installed ``neurofocus`` script beside this Python when there is one, else
``python -m neurofocus.cli``), ``--repeat`` rounds interleaved after one warm-up run each; figures are medians (the
minimum in brackets). Rows, with the issue's target for each:

* ``neurofocus info`` on an AEDAT 4 file, beside a script that reads the same file with the ``aedat`` package (the
  peer a user would pick) and prints its event count (target: at most 1.2× the script), in wall time and in CPU time
  (user + system, which other jobs on a shared machine disturb less);
* ``neurofocus convert`` of that file to EVT 3 RAW, beside the same read and write in this (warm) process;
* ``neurofocus aif`` on a simulated 346×260 sweep (``neurofocus simulate`` output, made once), beside the pipeline's
  own time as the command reports it in ``result.json`` (``runtime_s``: the computation, without imports and
  output writing; target: at most 1 s more), and its first run with an empty numba cache (``NUMBA_CACHE_DIR`` set to
  a new folder: every kernel compiles, as after an install; target: not 10 s slower than later runs);
* ``neurofocus simulate-events --event-model dvs-voltmeter`` on 200 frames of 346×260 textured motion (PNG files),
  beside the same simulation in this warm process and beside the vectorised-numpy transcription of the published
  DVS-Voltmeter algorithm (``reference_dvs_voltmeter``, in process, on frames already in memory; target: 5× faster).

Prints a Markdown table with the ratios (``--commands``: only those commands' rows).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "data" / "events" / "aedat4" / "sample.aedat4"
PEER = "import sys, aedat\nprint(sum(len(p['events']) for p in aedat.Decoder(sys.argv[1]) if 'events' in p))\n"
SWEEP_FRAMES = 200


#: The commands run as installed: bytecode cached (the first, warm-up run writes it even where the environment says
#: not to), as pip leaves a package.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def neurofocus_command() -> list[str]:
    """How a user starts ``neurofocus``: the console script pip installed beside this Python, else ``-m``."""
    script = Path(sys.executable).with_name("neurofocus")
    return [sys.executable, str(script)] if script.is_file() else [sys.executable, "-m", "neurofocus.cli"]


def wall(argv: list[str], env: dict | None = None, cpu: list[float] | None = None) -> float:
    """Seconds a fresh process takes to run ``argv`` (it must succeed); its CPU seconds (user + system, its own
    children included) are appended to ``cpu``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env or ENV)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return seconds


def timed(fn, repeat: int) -> list[float]:
    """Seconds of ``repeat`` calls of ``fn`` in this process, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


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


def _cell(times: list[float]) -> str:
    return f"{statistics.median(times):.2f} ({min(times):.2f})"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


#: The commands timed (``info`` with its peer script), in the table's order.
COMMANDS = ("info", "convert", "aif", "simulate-events")


def run(repeat: int, sample: Path = SAMPLE, commands: tuple[str, ...] = COMMANDS) -> None:
    """Time ``commands`` (see the module docstring) and print their rows of the table."""
    from neurofocus.io import load_events, save_events
    from neurofocus.simulate.dvs_voltmeter import VoltmeterParams, reference_dvs_voltmeter, simulate_dvs_voltmeter

    cli = neurofocus_command() + ["--quiet"]
    with tempfile.TemporaryDirectory() as tmp:
        sim, out, frames_dir = Path(tmp) / "sim", Path(tmp) / "out", Path(tmp) / "frames"
        subprocess.run(cli + ["simulate", "--out", str(sim), "--event-model", "ideal"], check=True,
                       stdout=subprocess.DEVNULL, env=ENV)
        frames = textured_motion(frames_dir) if "simulate-events" in commands else None
        runs = {"info": cli + ["info", str(sample)], "peer": [sys.executable, "-c", PEER, str(sample)],
                "convert": cli + ["convert", str(sample), str(Path(tmp) / "converted.raw")],
                "aif": cli + ["aif", "--image", str(sim / "image.png"), "--events", str(sim / "events.raw"),
                              "--out", str(out)],
                "simulate-events": cli + ["simulate-events", "--input", str(frames_dir), "--fps", "1000",
                                          "--event-model", "dvs-voltmeter", "--preset", "DVS346",
                                          "--out", str(Path(tmp) / "simulated.raw")]}
        runs = {name: argv for name, argv in runs.items() if (name if name != "peer" else "info") in commands}
        if "aif" in commands:
            cold_s = wall(runs["aif"], dict(ENV, NUMBA_CACHE_DIR=str(Path(tmp) / "numba-cold")))  # compiles all
            cold_compute = json.loads((out / "result.json").read_text())["runtime_s"]
        for argv in runs.values():
            wall(argv)  # compiles and caches the kernels once (where they are cached normally)
        times = {name: [] for name in runs}
        cpu = {name: [] for name in runs}
        compute = []
        for _ in range(repeat):
            for name, argv in runs.items():
                times[name].append(wall(argv, cpu=cpu[name]))
                if name == "aif":
                    compute.append(json.loads((out / "result.json").read_text())["runtime_s"])
        if "convert" in commands:
            target = Path(tmp) / "converted_here.raw"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the note on the absolute clock, printed by the command too
                convert_s = timed(lambda: save_events(target, load_events(sample), format="evt3"), repeat)
        if "simulate-events" in commands:
            params, times_us = VoltmeterParams.preset("DVS346"), np.arange(SWEEP_FRAMES) * 1000.0
            simulate_s = timed(lambda: simulate_dvs_voltmeter(frames, times_us, params, seed=0), repeat)
            reference_s = timed(lambda: reference_dvs_voltmeter(frames, times_us, params, np.random.default_rng(0)),
                                max(1, repeat // 2))
    med = {name: statistics.median(v) for name, v in times.items()}
    print(f"Command: `{' '.join(Path(a).name if a.startswith('/') else a for a in cli)}`; seconds, median of "
          f"{repeat} interleaved rounds (minimum in brackets)\n")
    print("| command | whole command (s) | reference | reference (s) | ratio / overhead | target |")
    print("|---|---:|---|---:|---:|---|")
    if "info" in commands:
        info_ratio = med["info"] / med["peer"]
        print(f"| neurofocus info {sample.name} | {_cell(times['info'])} | script reading it with aedat | "
              f"{_cell(times['peer'])} | {info_ratio:.2f}× | ≤ 1.2×: {_verdict(info_ratio <= 1.2)} |")
        cpu_ratio = statistics.median(cpu["info"]) / statistics.median(cpu["peer"])
        print(f"| the same, CPU time (user + system) | {_cell(cpu['info'])} | the same script | "
              f"{_cell(cpu['peer'])} | {cpu_ratio:.2f}× | ≤ 1.2×: {_verdict(cpu_ratio <= 1.2)} |")
    if "convert" in commands:
        print(f"| neurofocus convert {sample.name} → EVT 3 | {_cell(times['convert'])} | the same read + write in "
              f"process | {_cell(convert_s)} | +{med['convert'] - statistics.median(convert_s):.2f} s | |")
    if "aif" in commands:
        aif_over, cold_over = med["aif"] - statistics.median(compute), cold_s - med["aif"]
        print(f"| neurofocus aif (346×260 simulated sweep) | {_cell(times['aif'])} | the pipeline's own time | "
              f"{_cell(compute)} | +{aif_over:.2f} s | ≤ +1 s: {_verdict(aif_over <= 1.0)} |")
        print(f"| neurofocus aif, first run (empty numba cache) | {cold_s:.2f} | later runs (above) | "
              f"{med['aif']:.2f} | {cold_over:+.2f} s (pipeline {cold_compute:.2f} s) | < +10 s: "
              f"{_verdict(cold_over < 10)} |")
    if "simulate-events" in commands:
        sim_ratio = statistics.median(reference_s) / med["simulate-events"]
        print(f"| neurofocus simulate-events ({SWEEP_FRAMES} frames 346×260, DVS346) | "
              f"{_cell(times['simulate-events'])} | the same simulation in process | {_cell(simulate_s)} | "
              f"+{med['simulate-events'] - statistics.median(simulate_s):.2f} s | |")
        print(f"| neurofocus simulate-events (same) | {_cell(times['simulate-events'])} | DVS-Voltmeter "
              f"transcription (numpy, in process) | {_cell(reference_s)} | {sim_ratio:.2f}× faster | ≥ 5×: "
              f"{_verdict(sim_ratio >= 5)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sample", type=Path, default=SAMPLE, help="an AEDAT 4 file")
    parser.add_argument("--commands", type=lambda text: tuple(text.split(",")), default=COMMANDS,
                        help=f"comma-separated, of {','.join(COMMANDS)} (default: all)")
    args = parser.parse_args()
    unknown = set(args.commands) - set(COMMANDS)
    if unknown:
        parser.error(f"unknown commands: {', '.join(sorted(unknown))}")
    run(args.repeat, args.sample, args.commands)


if __name__ == "__main__":
    main()
