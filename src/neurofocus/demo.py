"""``neurofocus demo``: a self-contained tour of the event data path.

It generates the events of moving bars seen by an ideal event camera (known content), writes them in every writable
format, reads each file back and checks that it round-trips exactly, and draws an event frame. (The all-in-focus demo
replaces this once the pipeline exists.)
"""

from __future__ import annotations

import time
from pathlib import Path

from .cli.files import describe, format_info
from .io import FORMATS, load_events, save_events
from .simulate import moving_bars_events
from .viz import save_event_picture

_EXTENSION = {"evt3": ".raw", "evt2": ".raw", "evt21": ".raw", "evt21-legacy": ".raw", "dat": ".dat",
              "prophesee-hdf5": ".hdf5", "hdf5": ".h5", "rpg-txt": ".txt", "voltmeter-txt": ".txt", "npy": ".npy",
              "efs-npy": ".npy", "npz": ".npz", "mat": ".mat"}


def run_demo(out: Path) -> int:
    """Run the demo, writing into ``out``; returns 0 on success, 1 if a round trip failed."""
    out.mkdir(parents=True, exist_ok=True)
    print("generating 0.5 s of moving bars seen by an ideal 346x260 event camera ...", flush=True)
    events = moving_bars_events((346, 260), 500_000, seed=0)
    print(format_info("(generated)", "npy", describe(events)).split("\n", 2)[2], flush=True)
    print(f"\n{'format':<14} {'file':<26} {'size':>9} {'write':>8} {'read':>8}  round trip")
    failures = 0
    for name, spec in FORMATS.items():
        if spec.kind != "events" or spec.write is None:
            continue
        path = out / "formats" / f"bars_{name}{_EXTENSION[name]}"
        t0 = time.perf_counter()
        save_events(path, events, format=name)
        t1 = time.perf_counter()
        back = load_events(path, format=name)
        t2 = time.perf_counter()
        ok = back == events
        failures += not ok
        print(f"{name:<14} {path.name:<26} {path.stat().st_size / 1e6:>7.2f}MB {1e3 * (t1 - t0):>6.0f}ms "
              f"{1e3 * (t2 - t1):>6.0f}ms  {'exact' if ok else 'MISMATCH'}", flush=True)
    picture = out / "events_20ms.png"
    save_event_picture(picture, events.slice_time(100_000, 120_000), "moving bars, t in [100, 120) ms")
    print(f"\nwrote {picture} and the files in {out / 'formats'}")
    return 1 if failures else 0
