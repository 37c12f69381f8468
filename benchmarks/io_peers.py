"""neurofocus's event readers side by side with the peer libraries: correctness and speed in one run.

    python benchmarks/io_peers.py [--num-events 15000000] [--rounds 5] [--formats evt3,evt2,...] [--skip-commands]

Peers (``pip install -e .[peers]``; a missing one shows as "not installed"): expelliarmus (EVT 2, EVT 3, DAT),
faery (EVT 2, EVT 2.1, EVT 3, DAT, AEDAT 4), evlib (EVT 2, EVT 2.1, EVT 3, DAT, AEDAT 4, HDF5), aedat and
dv-processing (AEDAT 4).

1. Correctness: every peer reads the real samples in ``../shared/data`` and two streams whose 24-bit EVT 3 time (and
   so the time words of every format) wraps inside a gap without events, written by neurofocus; a peer is exact on a
   file when its events equal neurofocus's (t, x, y and polarity, in order); "reordered" when they are the same
   events in another order (within equal times), which does not count as exact.
2. Speed: a stream of moving bars on a 1280×720 sensor (``--num-events``) is written in each format by neurofocus's own
   writers (AEDAT 4, which neurofocus does not write, by faery's writer) into a temporary folder; each reader reads
   each file once per round, the rounds interleaved (``--rounds``, after one warm-up read each). A peer counts as
   correct on a format only if its events on that file also equal neurofocus's. Figures are M events/s from the
   median time. Each library returns its own record layout (neurofocus: 16-byte records t i8 µs, x u2, y u2, p i1
   ±1; the peers' are listed in ``PEERS``); converting a peer's output to neurofocus's, for the comparison, is not
   timed.
3. Whole commands (unless ``--skip-commands``): the table of ``benchmarks/command_overhead.py`` (``info`` against a
   script using ``aedat``, ``convert``, ``aif`` and its first run against its compute time, ``simulate-events``
   against the same simulation in process and the DVS-Voltmeter transcription), with the issue's targets.

Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from neurofocus.io import load_events, save_events
from neurofocus.simulate import moving_bars_events
from neurofocus.types import Events

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "events"
SAMPLES = {"evt2": [SHARED / "prophesee" / "evt2_sample.raw"], "evt3": [SHARED / "prophesee" / "evt3_sample.raw"],
           "aedat4": [SHARED / "aedat4" / "sample.aedat4"],
           "prophesee-hdf5": [Path(__file__).resolve().parents[1] / "tests" / "data" / "prophesee_ecf_sample.hdf5"]}
EXTENSIONS = {"evt3": ".raw", "evt2": ".raw", "evt21": ".raw", "dat": ".dat", "prophesee-hdf5": ".hdf5",
              "aedat4": ".aedat4"}
#: Pause before each timed read, so that the previous reader's background threads and freed memory settle.
SETTLE_S = 0.2
LABELS = {"evt3": "EVT 3", "evt2": "EVT 2", "evt21": "EVT 2.1", "dat": "DAT", "prophesee-hdf5": "Prophesee HDF5",
          "aedat4": "AEDAT 4"}


def _expelliarmus(encoding):
    def read(path):
        from expelliarmus import Wizard

        return Wizard(encoding=encoding).read(path)  # t i8, x i2, y i2, p u1 {0, 1}
    return read


def _faery(path):
    import faery

    return faery.events_stream_from_file(path).to_array()  # t u8, x u2, y u2, on bool


def _evlib(path):
    import evlib

    return evlib.load_events(path).collect()  # polars: x i16, y i16, t duration µs, polarity i8


def _aedat(path):
    import aedat

    parts = [packet["events"] for packet in aedat.Decoder(path) if "events" in packet]  # t u8, x u2, y u2, on bool
    return np.concatenate(parts)


def _dv_processing(path):
    import dv_processing as dv

    recording = dv.io.MonoCameraRecording(path)
    parts = []
    while (batch := recording.getNextEventBatch()) is not None:
        parts.append(batch.numpy())  # timestamp i8, x i2, y i2, polarity u1
    return np.concatenate(parts)


#: Peer -> (module it needs, {format: read(path) -> the peer's own output}).
PEERS = {
    "expelliarmus": ("expelliarmus", {"evt2": _expelliarmus("evt2"), "evt3": _expelliarmus("evt3"),
                                      "dat": _expelliarmus("dat")}),
    "faery": ("faery", dict.fromkeys(["evt2", "evt21", "evt3", "dat", "aedat4"], _faery)),
    "evlib": ("evlib", dict.fromkeys(["evt2", "evt21", "evt3", "dat", "aedat4", "prophesee-hdf5"], _evlib)),
    "aedat": ("aedat", {"aedat4": _aedat}),
    "dv-processing": ("dv_processing", {"aedat4": _dv_processing}),
}


def as_columns(out) -> tuple[np.ndarray, ...]:
    """(t, x, y, p ±1) as int64 arrays from neurofocus's or a peer's output (untimed)."""
    if isinstance(out, Events):
        return out.t.astype(np.int64), out.x.astype(np.int64), out.y.astype(np.int64), out.p.astype(np.int64)
    if not isinstance(out, np.ndarray):  # polars frame (evlib)
        t = out["t"].dt.total_microseconds().to_numpy()
        x, y, p = (out[k].to_numpy() for k in ("x", "y", "polarity"))
    else:
        names = out.dtype.names
        t, x, y = (out[n] for n in (("timestamp" if "timestamp" in names else "t"), "x", "y"))
        p = out["on" if "on" in names else "polarity" if "polarity" in names else "p"]
    p = np.asarray(p).astype(np.int64)
    return (np.asarray(t).astype(np.int64), np.asarray(x).astype(np.int64), np.asarray(y).astype(np.int64),
            np.where(p > 0, 1, -1))


def verdict(ours: Events, theirs) -> str:
    """"exact" (same events in the same order), "reordered" (the same events, in another order: not exact either)
    or "WRONG"."""
    try:
        a, b = np.stack(as_columns(ours)), np.stack(as_columns(theirs))
    except Exception:  # noqa: BLE001 - an output we cannot even compare is wrong
        return "WRONG"
    if a.shape != b.shape:
        return "WRONG"
    if np.array_equal(a, b):
        return "exact"
    same = np.array_equal(a[:, np.lexsort(a[::-1])], b[:, np.lexsort(b[::-1])])
    return "reordered" if same else "WRONG"


def installed() -> dict[str, bool]:
    return {name: importlib.util.find_spec(module) is not None for name, (module, _) in PEERS.items()}


def try_read(read, path):
    """The peer's output, or the exception it raised."""
    try:
        return read(os.fspath(path))
    except BaseException as exc:  # noqa: BLE001 - Rust panics derive from BaseException
        if isinstance(exc, KeyboardInterrupt):
            raise
        return exc


def wrap_in_gap_streams() -> list[Events]:
    """Two streams with a gap over the 24-bit time wrap (16,777,216 µs): one event each side, and a dense one."""
    edge = 1 << 24
    sparse = Events.from_arrays([edge - 300_000, edge + 700_000], [5, 6], [7, 8], [1, -1], (640, 480))
    rng = np.random.default_rng(0)
    t = np.sort(np.concatenate([rng.integers(edge - 2_000_000, edge - 1_000_000, 5000),
                                rng.integers(edge + 3_000_000, edge + 4_000_000, 5000)]))
    dense = Events.from_arrays(t, rng.integers(0, 640, len(t)), rng.integers(0, 480, len(t)),
                               rng.choice([-1, 1], len(t)), (640, 480))
    return [sparse, dense]


def write_aedat4(path: Path, events: Events) -> None:
    """AEDAT 4 with faery's writer (neurofocus reads AEDAT 4 but does not write it)."""
    import faery

    rec = np.empty(len(events), [("t", "<u8"), ("x", "<u2"), ("y", "<u2"), (("p", "on"), "?")])
    rec["t"], rec["x"], rec["y"], rec["on"] = events.t, events.x, events.y, events.p > 0
    faery.events_stream_from_array(rec, dimensions=events.sensor_size).to_file(os.fspath(path))


def write(path: Path, fmt: str, events: Events) -> None:
    if fmt == "aedat4":
        write_aedat4(path, events)
    else:
        save_events(path, events, format=fmt)


def correctness(folder: Path, formats: list[str], have: dict[str, bool]) -> None:
    """Print which peer reads each real sample and each wrap-in-a-gap file exactly as neurofocus does."""
    files = [(fmt, path) for fmt in formats for path in SAMPLES.get(fmt, []) if path.is_file()]
    for i, events in enumerate(wrap_in_gap_streams()):
        for fmt in formats:
            if fmt == "aedat4" and not have["faery"]:
                continue
            path = folder / f"wrap_in_gap_{i}_{fmt}{EXTENSIONS[fmt]}"
            write(path, fmt, events)
            files.append((fmt, path))
    names = [n for n in PEERS if any(f in PEERS[n][1] for f in formats)]
    print("| file | events | " + " | ".join(names) + " |\n|---|---:|" + "---|" * len(names))
    for fmt, path in files:
        ours = load_events(path, format=fmt, progress=False)
        cells = []
        for name in names:
            read = PEERS[name][1].get(fmt)
            if read is None:
                cells.append("—")
            elif not have[name]:
                cells.append("not installed")
            else:
                out = try_read(read, path)
                cells.append(f"fails ({type(out).__name__})" if isinstance(out, BaseException)
                             else verdict(ours, out).replace("WRONG", "**WRONG**"))
        print(f"| {path.name} ({LABELS[fmt]}) | {len(ours):,} | " + " | ".join(cells) + " |", flush=True)


def speed(folder: Path, formats: list[str], have: dict[str, bool], n_events: int, rounds: int) -> None:
    """Print the side-by-side speed table (M events/s from the median of ``rounds`` interleaved reads)."""
    duration = int(1e6 * n_events / (32 * 1280 * 720))  # ~29.5 M events per full pass of 4 bars (io_throughput)
    events = moving_bars_events((1280, 720), duration, speed_px_per_s=1280, num_bars=4, seed=0)
    names = [n for n in PEERS if any(f in PEERS[n][1] for f in formats)]
    readers, exactness, sizes = {}, {}, {}
    for fmt in formats:
        if fmt == "aedat4" and not have["faery"]:
            print("(AEDAT 4 skipped: its test file is written with faery, which is not installed)")
            continue
        path = folder / f"bench_{fmt}{EXTENSIONS[fmt]}"
        write(path, fmt, events)
        sizes[fmt] = path.stat().st_size
        ours = load_events(path, format=fmt, progress=False)  # warm-up (compilation, page cache)
        assert len(ours) == len(events)
        readers[(fmt, "neurofocus")] = (lambda p=path, f=fmt: load_events(p, format=f, progress=False))
        for name in names:
            read = PEERS[name][1].get(fmt)
            if read is not None and have[name]:
                out = try_read(read, path)  # warm-up, and the exactness check
                exactness[(fmt, name)] = "fails" if isinstance(out, BaseException) else verdict(ours, out)
                if not isinstance(out, BaseException):
                    readers[(fmt, name)] = (lambda r=read, p=path: r(os.fspath(p)))
                del out
        del ours
    times = {key: [] for key in readers}
    order = list(readers)
    rng = random.Random(0)
    for _ in range(rounds):
        rng.shuffle(order)  # no reader always follows the same one (polars' threads, say, may still be busy)
        for key in order:
            time.sleep(SETTLE_S)
            t0 = time.perf_counter()
            out = readers[key]()
            times[key].append(time.perf_counter() - t0)
            del out
    n = len(events)
    print(f"\n{n:,} events of moving bars, 1280x720; median of {rounds} interleaved rounds; M events/s "
          f"(exact = same events as neurofocus on this file)\n")
    print("| format | file | neurofocus | " + " | ".join(names) + " | fastest correct peer | ratio |")
    print("|---|---:|---:|" + "---:|" * len(names) + "---|---:|")
    for fmt in sizes:
        ours = n / statistics.median(times[(fmt, "neurofocus")]) / 1e6
        cells, best = [], None
        for name in names:
            if fmt not in PEERS[name][1]:
                cells.append("—")
            elif not have[name]:
                cells.append("not installed")
            elif (fmt, name) not in times:
                cells.append("fails")
            else:
                rate = n / statistics.median(times[(fmt, name)]) / 1e6
                ok = exactness[(fmt, name)] == "exact"
                cells.append(f"{rate:,.1f} ({exactness[(fmt, name)]})")
                if ok and (best is None or rate > best[1]):
                    best = (name, rate)
        ratio = f"{ours / best[1]:.2f}×" if best else "—"
        print(f"| {LABELS[fmt]} | {sizes[fmt] / 1e6:,.0f} MB | {ours:,.1f} | " + " | ".join(cells)
              + f" | {f'{best[0]} {best[1]:,.1f}' if best else 'none'} | {ratio} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-events", type=int, default=15_000_000, help="approximate length of the speed test stream")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--formats", default=",".join(EXTENSIONS), help=f"comma-separated ({', '.join(EXTENSIONS)})")
    parser.add_argument("--peers", default=",".join(PEERS), help=f"comma-separated ({', '.join(PEERS)})")
    parser.add_argument("--skip-commands", action="store_true", help="do not time whole commands (command_overhead.py)")
    parser.add_argument("--command-repeat", type=int, default=5)
    args = parser.parse_args()
    formats = [f for f in args.formats.split(",") if f]
    unknown = set(formats) - set(EXTENSIONS)
    if unknown:
        parser.error(f"unknown formats {sorted(unknown)}")
    chosen = [p for p in args.peers.split(",") if p]
    if set(chosen) - set(PEERS):
        parser.error(f"unknown peers {sorted(set(chosen) - set(PEERS))}")
    for name in set(PEERS) - set(chosen):
        del PEERS[name]
    have = installed()
    print("# Event readers: neurofocus and its peers\n")
    print("Peers: " + ", ".join(f"{n} {'installed' if ok else 'not installed'}" for n, ok in have.items())
          + f"; {os.cpu_count()} CPU(s), numpy {np.__version__}\n")
    with tempfile.TemporaryDirectory() as tmp:
        correctness(Path(tmp), formats, have)
        speed(Path(tmp), formats, have, args.num_events, args.rounds)
    if not args.skip_commands:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import command_overhead

        print()
        command_overhead.run(args.command_repeat)


if __name__ == "__main__":
    main()
