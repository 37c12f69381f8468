"""Decode/encode throughput of the event readers and writers, and speed of the event representations.

Run:  python benchmarks/io_throughput.py [--num-events 10000000] [--repeat 3]

A stream of moving bars on a 1280x720 sensor (structured like real data: edges sweeping across rows, so EVT 3.0
vector words and ECF runs occur as in recordings) is written in each format to a temporary folder, then read back;
each figure is the best of ``--repeat`` runs after a warm-up (numba compilation excluded). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from neurofocus.io import load_events, save_events
from neurofocus.represent import PolarityTable, event_frames, voxel_grid
from neurofocus.simulate import moving_bars_events


def best_of(fn, repeat: int) -> float:
    fn()  # warm-up (JIT, page cache)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-events", type=int, default=10_000_000, help="approximate stream length")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    # 4 bars x 2 edges x 4 events per pixel per pass over 1280 px: ~29.5 M events per full pass
    duration = int(1e6 * args.num_events / (32 * 1280 * 720))
    ev = moving_bars_events((1280, 720), duration, speed_px_per_s=1280, num_bars=4, seed=0)
    n = len(ev)
    print(f"# neurofocus I/O and representation throughput\n\n{n:,} events, 1280x720, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPU(s), numpy {np.__version__}\n")
    print("| path | file size | write | read | read throughput |\n|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, ext in [("evt3", ".raw"), ("evt2", ".raw"), ("evt21", ".raw"), ("dat", ".dat"),
                         ("prophesee-hdf5", ".hdf5"), ("hdf5", ".h5"), ("npy", ".npy"), ("voltmeter-txt", ".txt"),
                         ("rpg-txt", ".txt")]:
            path = Path(tmp) / f"bench_{fmt}{ext}"
            slow = fmt.endswith("txt")
            t_write = best_of(lambda: save_events(path, ev, format=fmt), 1 if slow else args.repeat)
            t_read = best_of(lambda: load_events(path, format=fmt, progress=False), 1 if slow else args.repeat)
            assert len(load_events(path, format=fmt, progress=False)) == n
            print(f"| {fmt} | {path.stat().st_size / 1e6:,.1f} MB | {t_write:.2f} s | {t_read:.3f} s | "
                  f"{n / t_read / 1e6:,.1f} M ev/s |", flush=True)
            path.unlink()

    print("\n| representation | time | throughput |\n|---|---:|---:|")
    rows = [
        ("64-bin signed count stack, time bins", lambda: event_frames(ev, 64)),
        ("64-bin signed count stack, count bins", lambda: event_frames(ev, 64, binning="count")),
        ("64-bin ON/OFF count stack, time bins", lambda: event_frames(ev, 64, polarity="split")),
        ("5-bin voxel grid (E2VID, normalised)", lambda: voxel_grid(ev, 5)),
        ("polarity table build", lambda: PolarityTable(ev)),
    ]
    for name, fn in rows:
        t = best_of(fn, args.repeat)
        print(f"| {name} | {t:.3f} s | {n / t / 1e6:,.1f} M ev/s |", flush=True)
    table = PolarityTable(ev)
    t0, t1 = ev.time_range
    t = best_of(lambda: table.net(t0, (t0 + t1) // 2), args.repeat)
    print(f"| polarity table query, full 1280x720 frame | {1e3 * t:.1f} ms | {1280 * 720 / t / 1e6:,.1f} M px/s |")
    t = best_of(lambda: table.net(t0, (t0 + t1) // 2, region=(0, 90, 0, 160)), args.repeat)
    print(f"| polarity table query, one 160x90 patch | {1e3 * t:.2f} ms | {160 * 90 / t / 1e6:,.1f} M px/s |")


if __name__ == "__main__":
    main()
