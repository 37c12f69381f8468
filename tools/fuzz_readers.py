"""Mutation fuzzer of every neurofocus reader, through the command line.

For each readable format (``neurofocus formats``) it builds small valid seed files with the project's own writers and
simulators (plus the cut-down real samples vendored in tests/data), mutates them (bit and byte flips,
interesting integers, truncation, chunk deletion / duplication / insertion, splices between seeds, huge declared
sizes, header line edits, sidecar edits) and runs ``neurofocus info FILE`` and ``neurofocus convert FILE OUT`` on
each mutant in a forked child with an address-space limit and a time limit. The child runs the CLI's own ``main``
(stdout and stderr captured at the file-descriptor level, so Rust panics and C messages count), then checks what the
reader returned and what convert wrote. Outcomes:

* ok: exit 0, and the data keep their invariants (coordinates inside the sensor, sorted non-negative times,
  polarity +1/-1, non-empty frames; convert's output reads back with the same number of events or ticks);
* rejected: exit 2 with exactly one stderr line ``neurofocus: error: <file>: ...`` naming the input or output;
* crash: any other exit status, a signal, a traceback, "internal error", or stray stderr output;
* hang: the child ran past the time limit;
* blow-up: the child's resident memory grew by more than 1 GB, an allocation failed under the limit (a MemoryError
  turned into "more data than fits in memory"), or convert wrote an output out of all proportion to the input;
* accepted-broken: exit 0 but an invariant does not hold.

Run:  python tools/fuzz_readers.py [--mutants-per-format N] [--seed S] [--formats evt3,npz,...] [--time-budget-s T]
                                   [--save-failures DIR]

Prints a Markdown table per format (mutants, outcome counts, run time) and one line per failure signature.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

import neurofocus.cli  # noqa: F401 - imported once here, not in every forked child
from neurofocus.errors import NeurofocusError
from neurofocus.io import FORMATS, load_events, load_spikes, save_events, save_spikes
from neurofocus.io.common import sidecar_path
from neurofocus.types import MAX_SENSOR_SIDE, Events, Spikes

OUTCOMES = ("ok", "rejected", "crash", "hang", "blow-up", "accepted-broken")
FAILURES = ("crash", "hang", "blow-up", "accepted-broken")
TIMEOUT_S = 10.0
MEMORY_HEADROOM_BYTES = 1_200_000_000  # address space a child may add to what it inherits (~1.5 GB in all)
BLOW_UP_BYTES = 1 << 30
ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
TEST_DATA = ROOT / "tests" / "data"
SAMPLES = TEST_DATA / "samples"

#: Output formats convert writes, rotated over the mutants (extension, --to).
EVENT_OUTPUTS = ((".npz", "npz"), (".raw", "evt3"), (".hdf5", "prophesee-hdf5"), (".h5", "hdf5"), (".dat", "dat"),
                 (".raw", "evt2"), (".raw", "evt21"), (".txt", "voltmeter-txt"), (".mat", "mat"), (".npy", "npy"))
SPIKE_OUTPUTS = ((".npz", "spike-npz"), (".dat", "vidar-dat"), (".h5", "spike-hdf5"), (".npy", "spike-npy"))
_EXTENSION = {"evt3": ".raw", "evt2": ".raw", "evt21": ".raw", "evt21-legacy": ".raw", "dat": ".dat",
              "prophesee-hdf5": ".hdf5", "hdf5": ".h5", "aedat4": ".aedat4", "rpg-txt": ".txt",
              "voltmeter-txt": ".txt", "npy": ".npy", "efs-npy": ".npy", "npz": ".npz", "mat": ".mat",
              "vidar-dat": ".dat", "spike-npz": ".npz", "spike-npy": ".npy", "spike-hdf5": ".h5"}


@dataclasses.dataclass
class Seed:
    """A valid file to mutate, its sidecar (or None) and the numbers worth making huge (counts, sizes)."""

    data: bytes
    sidecar: bytes | None
    numbers: tuple[int, ...]
    label: str


# --- seeds ------------------------------------------------------------------------------------------------------------

def _random_events(rng, n: int, size: tuple[int, int], t_max: int, bursts: bool = False) -> Events:
    w, h = size
    t = np.sort(rng.integers(0, t_max, n))
    x, y = rng.integers(0, w, n), rng.integers(0, h, n)
    if bursts:  # runs of neighbours on one row at one time: EVT 3.0 vectors, EVT 2.1 masks
        for start in range(0, n - 16, 40):
            run = slice(start, start + 12)
            t[run], y[run] = t[start], y[start]
            x[run] = np.minimum(w - 1, x[start] + np.arange(12) * rng.integers(1, 3))
        order = np.lexsort((x, t))
        t, x, y = t[order], x[order], y[order]
    return Events.from_arrays(t, x, y, rng.integers(0, 2, n), size)


def _simulated_events() -> Events:
    from neurofocus.simulate.patterns import moving_bars_events

    return moving_bars_events((64, 48), 20_000, num_bars=2, seed=1)[:1500]


def _simulated_spikes(rng) -> Spikes:
    from neurofocus.simulate.spikes import SpikeSimulator

    frames = np.clip(rng.random((4, 24, 32)) * np.linspace(0.2, 1, 32), 0, 1).astype(np.float32)
    return SpikeSimulator((32, 24), tick_us=50.0, seed=1).feed(frames, np.arange(4) * 1000.0)


def _event_sets(rng) -> list[tuple[str, Events]]:
    return [("random 64x48", _random_events(rng, 300, (64, 48), 20_000)),
            ("bursts 346x260", _random_events(rng, 600, (346, 260), 50_000, bursts=True)),
            ("sparse 1280x720, 40 s", _random_events(rng, 60, (1280, 720), 40_000_000)),
            ("moving bars", _simulated_events())]


def _spike_sets(rng) -> list[tuple[str, Spikes]]:
    return [("random 24x32", Spikes.from_frames(rng.random((12, 24, 32)) < 0.2, tick_us=50.0)),
            ("random 10x13", Spikes.from_frames(rng.random((6, 10, 13)) < 0.3, tick_us=25.0, start_us=100.0)),
            ("simulated", _simulated_spikes(rng))]


def _written(fmt: str, data, folder: Path, label: str) -> Seed:
    path = folder / f"seed{_EXTENSION[fmt]}"
    for old in (path, sidecar_path(path)):
        old.unlink(missing_ok=True)
    if isinstance(data, Events):
        save_events(path, data, format=fmt)
        numbers = (len(data), data.width, data.height)
    else:
        save_spikes(path, data, format=fmt)
        numbers = (data.num_ticks, data.height, data.width, data.packed.size)
    side = sidecar_path(path)
    return Seed(path.read_bytes(), side.read_bytes() if side.exists() else None, numbers, label)


def _real_seeds(fmt: str, folder: Path) -> list[Seed]:
    """The cut-down real samples of ``fmt`` vendored in tests/data (see its README), plus a structured .npy cut from
    ../shared/data where that is present."""
    raw: list[tuple[str, bytes]] = []
    if fmt == "aedat4":
        raw.append(("aedat4_cut.aedat4 (sample.aedat4, 6 packets)", (SAMPLES / "aedat4_cut.aedat4").read_bytes()))
    if fmt == "evt3":
        data = (SAMPLES / "evt3_cut.raw").read_bytes()
        raw.append(("evt3_cut.raw, first 24 kB", data[:len(data) - 96_000]))  # the header and 24,000 data bytes
    if fmt == "evt2":
        raw.append(("evt2_cut.raw (evt2_sample.raw, 32 kB)", (SAMPLES / "evt2_cut.raw").read_bytes()))
    if fmt == "mat":
        raw.append(("night_run.mat", (SAMPLES / "night_run.mat").read_bytes()))
    if fmt == "prophesee-hdf5":
        raw.append(("prophesee_ecf_sample.hdf5", (TEST_DATA / "prophesee_ecf_sample.hdf5").read_bytes()))
    seeds = []
    for label, data in raw:
        path = folder / f"real{_EXTENSION[fmt]}"
        path.write_bytes(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ev = load_events(path, format=fmt)
        seeds.append(Seed(data, None, (len(ev), ev.width, ev.height), label))
    if fmt in ("npy", "efs-npy") and (SHARED / "events/prophesee/evt3_sample.npy").exists():
        sample = np.load(SHARED / "events/prophesee/evt3_sample.npy", mmap_mode="r")[:1500]
        path = folder / "real.npy"
        np.save(path, np.ascontiguousarray(sample))
        seeds.append(Seed(path.read_bytes(), json.dumps({"sensor_size": [1280, 720]}).encode(),
                          (len(sample), 1280, 720), "evt3_sample.npy, 1500 events"))
    if fmt in ("spike-npz", "spike-npy", "vidar-dat", "spike-hdf5"):
        with np.load(SAMPLES / "uhsr_cut.npz") as z:
            frames = z["spk"][:16, :64, :96]
        seeds.append(_written(fmt, Spikes.from_frames(frames, tick_us=50.0), folder, "uhsr_cut.npz, 16x64x96"))
    return seeds


def build_seeds(fmt: str, folder: Path, rng) -> list[Seed]:
    """Small valid files of ``fmt``: the project's writers on random and simulated data, plus real samples."""
    folder.mkdir(parents=True, exist_ok=True)
    seeds = []
    if FORMATS[fmt].write is not None:
        sets = _event_sets(rng) if FORMATS[fmt].kind == "events" else _spike_sets(rng)
        for label, data in sets:
            try:
                seeds.append(_written(fmt, data, folder, label))
            except NeurofocusError:  # e.g. a Vidar .dat of a frame that is not a whole number of bytes
                pass
    seeds += _real_seeds(fmt, folder)
    if not seeds:
        raise SystemExit(f"no seed files for {fmt} (no writer, and no real sample in {SAMPLES})")
    return seeds


# --- mutators ---------------------------------------------------------------------------------------------------------

INTERESTING = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000,
               0xFFFFFFFF, 50_000_000, 1 << 40, (1 << 63) - 1, 1 << 63, (1 << 64) - 1)
HUGE = (50_000_000, 0x7FFFFFFF, 0xFFFFFFFF, 1 << 40, (1 << 62) + 3, (1 << 64) - 1, 0x7FFF, 0xFFFF)
TEXT_NUMBERS = (b"0", b"-1", b"-9223372036854775809", b"99999999999999999999", b"4294967296", b"50000000",
                b"1e308", b"nan", b"inf", b"0x10", b"65536", b"2048", b"")


def _offset(rng, n: int, head_bias: bool = True) -> int:
    if n <= 1:
        return 0
    if head_bias and rng.random() < 0.5:
        return int(rng.integers(0, min(n, 4096)))
    return int(rng.integers(0, n))


def bit_flip(data: bytearray, rng, ctx) -> str:
    for _ in range(int(rng.integers(1, 9))):
        i = _offset(rng, len(data))
        data[i] ^= 1 << int(rng.integers(0, 8))
    return "bit flips"


def byte_set(data: bytearray, rng, ctx) -> str:
    for _ in range(int(rng.integers(1, 9))):
        data[_offset(rng, len(data))] = int(rng.integers(0, 256))
    return "byte sets"


def interesting_int(data: bytearray, rng, ctx) -> str:
    width = int(rng.choice([1, 2, 4, 8]))
    value = int(rng.choice(INTERESTING)) & ((1 << (8 * width)) - 1)
    order = "little" if rng.random() < 0.7 else "big"
    i = _offset(rng, max(1, len(data) - width))
    data[i:i + width] = value.to_bytes(width, order)
    return f"int{8 * width} {order}"


def truncate(data: bytearray, rng, ctx) -> str:
    keep = _offset(rng, len(data), head_bias=rng.random() < 0.3)
    del data[keep:]
    return "truncation"


def delete_chunk(data: bytearray, rng, ctx) -> str:
    i = _offset(rng, len(data))
    del data[i:i + int(rng.integers(1, max(2, min(len(data) // 4, 4096))))]
    return "chunk deletion"


def duplicate_chunk(data: bytearray, rng, ctx) -> str:
    i = _offset(rng, len(data))
    chunk = data[i:i + int(rng.integers(1, max(2, min(len(data) // 4, 4096))))]
    j = _offset(rng, len(data)) if rng.random() < 0.5 else i
    data[j:j] = chunk
    return "chunk duplication"


def insert_random(data: bytearray, rng, ctx) -> str:
    i = _offset(rng, len(data))
    data[i:i] = rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
    return "random insertion"


def splice(data: bytearray, rng, ctx) -> str:
    other = ctx["pool"][int(rng.integers(0, len(ctx["pool"])))]
    i, j = _offset(rng, len(data)), _offset(rng, len(other))
    data[i:] = other[j:]
    return "splice"


def huge_size(data: bytearray, rng, ctx) -> str:
    """Replace an encoding of a count or size of the seed (binary or decimal text) with a huge value."""
    sites = []
    for number in ctx["numbers"]:
        for width in (2, 4, 8):
            if number < 1 << (8 * width - 1):
                for order in ("little", "big"):
                    needle = number.to_bytes(width, order)
                    sites += [(m.start(), width, order) for m in re.finditer(re.escape(needle), data[:65536])][:8]
        text = str(number).encode()
        sites += [(m.start(), -len(text), "text") for m in re.finditer(rb"(?<![0-9])" + text + rb"(?![0-9])",
                                                                       data[:65536])][:8]
    if not sites:
        return interesting_int(data, rng, ctx)
    pos, width, order = sites[int(rng.integers(0, len(sites)))]
    value = int(rng.choice(HUGE))
    if order == "text":
        data[pos:pos - width] = str(value if rng.random() < 0.8 else -value).encode()
    else:
        data[pos:pos + width] = (value & ((1 << (8 * width)) - 1)).to_bytes(width, order)
    return "huge declared size"


def header_line(data: bytearray, rng, ctx) -> str:
    """Edit a text line of the first 4 kB (RAW/DAT headers, npy headers, text events, AEDAT 4 XML)."""
    head = bytes(data[:4096])
    lines = [m.span() for m in re.finditer(rb"[\x20-\x7e\t]{3,}(\r?\n|'|,|>)", head)]
    if not lines:
        return byte_set(data, rng, ctx)
    a, b = lines[int(rng.integers(0, len(lines)))]
    line = data[a:b]
    action = int(rng.integers(0, 5))
    if action == 0:
        del data[a:b]
        return "header line deleted"
    if action == 1:
        data[b:b] = line
        return "header line duplicated"
    numbers = list(re.finditer(rb"-?\d+", line))
    if action == 2 and numbers:
        m = numbers[int(rng.integers(0, len(numbers)))]
        data[a + m.start():a + m.end()] = TEXT_NUMBERS[int(rng.integers(0, len(TEXT_NUMBERS)))]
        return "header number edited"
    if action == 3:
        data[b - 1:b] = b""
        return "header line joined"
    cut = int(rng.integers(0, len(line)))
    data[a + cut:a + cut] = rng.choice([b" ", b"=", b";", b"x", b"%", b"\x00", b"#", b"\n"]).tobytes()
    return "header character inserted"


MUTATORS = (bit_flip, byte_set, interesting_int, truncate, delete_chunk, duplicate_chunk, insert_random, splice,
            huge_size, header_line)
WEIGHTS = np.array([3, 2, 3, 1, 1, 1, 1, 1, 3, 2], float)


def mutate(seed: Seed, rng, pool: list[bytes]) -> tuple[bytes, bytes | None, str]:
    """One mutant of ``seed``: 1-3 stacked mutations (10 % of the time of its sidecar instead)."""
    ctx = {"numbers": seed.numbers, "pool": pool}
    if seed.sidecar is not None and rng.random() < 0.1:
        side = bytearray(seed.sidecar)
        op = MUTATORS[int(rng.choice(len(MUTATORS), p=WEIGHTS / WEIGHTS.sum()))]
        return seed.data, bytes(side), f"sidecar {op(side, rng, ctx)}"
    data = bytearray(seed.data)
    names = []
    for _ in range(int(rng.choice([1, 1, 1, 2, 2, 3]))):
        op = MUTATORS[int(rng.choice(len(MUTATORS), p=WEIGHTS / WEIGHTS.sum()))]
        names.append(op(data, rng, ctx))
        if not data:
            break
    return bytes(data), seed.sidecar, " + ".join(names)


# --- running one mutant -------------------------------------------------------------------------------------------

def _event_problem(ev: Events) -> str | None:
    w, h = ev.sensor_size
    if not (0 < w <= MAX_SENSOR_SIDE and 0 < h <= MAX_SENSOR_SIDE):
        return f"sensor size {w}x{h}"
    if ev.data.dtype.names != ("t", "x", "y", "p"):
        return "wrong record layout"
    if not len(ev):
        return None
    t = ev.t
    if t[0] < 0:
        return "negative time"
    if np.any(t[1:] < t[:-1]):
        return "unsorted times"
    if int(ev.x.max()) >= w or int(ev.y.max()) >= h:
        return "coordinates outside the sensor"
    if np.any((ev.p != 1) & (ev.p != -1)):
        return "polarity not +1/-1"
    return None


def _spike_problem(sp: Spikes) -> str | None:
    t, h, w = sp.shape
    if t <= 0 or h <= 0 or w <= 0:
        return f"empty frames {t}x{h}x{w}"
    if sp.packed.shape != (t, h, (w + 7) // 8) or sp.packed.dtype != np.uint8:
        return "packed layout"
    if sp.tick_us is not None and not (np.isfinite(sp.tick_us) and sp.tick_us > 0):
        return f"tick {sp.tick_us}"
    if not np.isfinite(sp.start_us):
        return "start time not finite"
    if w % 8 and np.any(sp.packed[..., -1] >> (w % 8)):
        return "bits beyond the frame width"
    return None


def _problem(data) -> str | None:
    return _event_problem(data) if isinstance(data, Events) else _spike_problem(data)


def _load(path: Path, fmt: str | None = None):
    from neurofocus.io import detect_format

    fmt = fmt or detect_format(path)
    return (load_events if FORMATS[fmt].kind == "events" else load_spikes)(path, format=fmt)


def _cli(argv: list[str], err_file: Path) -> tuple[int, str]:
    """``neurofocus ARGV`` with fds 1 and 2 captured; (exit status, stderr text)."""
    from neurofocus.cli import main

    fd = os.open(err_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # not a test runner's
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse
        rc = exc.code if isinstance(exc.code, int) else 1
    sys.stdout.flush()
    sys.stderr.flush()
    return rc, err_file.read_text(errors="replace")


def _child(path: Path, out: Path, to: str, result_file: Path) -> None:
    """Runs in the forked child: info, the reader's invariants, convert, the output's invariants."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(1, "w", closefd=False)
    result = {}
    try:
        rc, err = _cli(["info", str(path)], path.with_name("info.err"))
        result["info"] = [rc, err]
        if rc == 0:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data = _load(path)
            result["problem"] = _problem(data)
            result["count"] = len(data)
            rc, err = _cli(["convert", str(path), str(out), "--to", to], path.with_name("convert.err"))
            result["convert"] = [rc, err]
            if rc == 0:
                result["out_bytes"] = out.stat().st_size
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    back = _load(out, to)
                result["out_problem"] = _problem(back)
                result["out_count"] = len(back)
    except BaseException as exc:  # noqa: BLE001 - anything escaping is a finding
        result["exception"] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    result_file.write_text(json.dumps(result))


def _status_bytes(key: str) -> int:
    """A size from /proc/self/status (``VmRSS``, ``VmSize``) in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) * 1024
    return 0


@dataclasses.dataclass
class Running:
    """A mutant's child, started by :func:`start_mutant`."""

    pid: int
    path: Path
    out: Path
    result_file: Path
    deadline: float
    timeout_s: float
    base_rss: int


def start_mutant(path: Path, out: Path, to: str, timeout_s: float = TIMEOUT_S,
                 memory_limit: int | None = None) -> Running:
    """Fork the child that runs info and convert on ``path`` (its result goes to ``result.json`` beside it)."""
    result_file = path.with_name("result.json")
    result_file.unlink(missing_ok=True)
    limit = memory_limit or _status_bytes("VmSize") + MEMORY_HEADROOM_BYTES
    base_rss = _status_bytes("VmRSS")
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        try:
            os.setpgid(0, 0)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            _child(path, out, to, result_file)
        except BaseException:  # noqa: BLE001
            code = 3
        finally:
            os._exit(code)
    return Running(pid, path, out, result_file, time.monotonic() + timeout_s, timeout_s, base_rss)


def finish_mutant(run: Running) -> tuple[str, str] | None:
    """(outcome, detail) once the child has ended or ran past its time (then killed); None while it runs."""
    done, status, usage = os.wait4(run.pid, os.WNOHANG)
    if not done:
        if time.monotonic() <= run.deadline:
            return None
        with _ignore_missing():
            os.killpg(run.pid, signal.SIGKILL)
        os.wait4(run.pid, 0)
        return "hang", f"ran past {run.timeout_s:g} s"
    with _ignore_missing():
        os.killpg(run.pid, signal.SIGKILL)  # stray grandchildren
    grown = usage.ru_maxrss * 1024 - run.base_rss
    if os.WIFSIGNALED(status):
        return "crash", f"killed by signal {signal.Signals(os.WTERMSIG(status)).name}"
    if not run.result_file.exists():
        return "crash", f"child exited with status {os.WEXITSTATUS(status)} and no result"
    return classify(json.loads(run.result_file.read_text()), run.path, run.out, grown)


def run_mutant(path: Path, out: Path, to: str, timeout_s: float = TIMEOUT_S,
               memory_limit: int | None = None) -> tuple[str, str]:
    """Run info and convert on ``path`` in a forked child; (outcome, detail)."""
    run = start_mutant(path, out, to, timeout_s, memory_limit)
    while (result := finish_mutant(run)) is None:
        time.sleep(0.002)
    return result


class _ignore_missing:
    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        return kind is not None and issubclass(kind, ProcessLookupError)


def _stderr_problem(rc: int, err: str, names: tuple[str, ...]) -> tuple[str, str] | None:
    """(outcome, detail) when a command's exit status and stderr break the contract, else None."""
    lines = err.splitlines()
    if "Traceback" in err or "internal error" in err or "panicked" in err:
        first = next((line for line in lines if "error" in line.lower() or "panicked" in line), lines[-1])
        return "crash", first
    if rc == 0:
        stray = [line for line in lines if not line.startswith("neurofocus: note: ")]
        return ("crash", f"exit 0 with stray stderr: {stray[0][:200]}") if stray else None
    if rc != 2:
        return "crash", f"exit status {rc}: {(lines or [''])[-1][:200]}"
    if len(lines) != 1:
        return "crash", f"{len(lines)} stderr lines on rejection: {lines[:3]}"
    if not lines[0].startswith("neurofocus: error: ") or not any(f"error: {n}: " in lines[0] for n in names):
        return "crash", f"rejection does not name the file: {lines[0][:200]}"
    return None


def classify(result: dict, path: Path, out: Path, grown: int) -> tuple[str, str]:
    """The outcome of one mutant from what its child recorded."""
    if grown > BLOW_UP_BYTES:
        return "blow-up", f"resident memory grew by {grown / 2**30:.1f} GiB"
    if "exception" in result:
        return "crash", f"escaped: {result['exception'][:300]}"
    names = (str(path), str(out))
    steps = [result["info"]] + ([result["convert"]] if "convert" in result else [])
    for rc, err in steps:
        if "more data than fits in memory" in err:
            return "blow-up", "allocation failed under the memory limit"
        bad = _stderr_problem(rc, err, names)
        if bad:
            return bad
    if result["info"][0] != 0:
        return "rejected", result["info"][1].strip()
    if result.get("problem"):
        return "accepted-broken", f"reader: {result['problem']}"
    if result["convert"][0] != 0:
        return "rejected", result["convert"][1].strip()
    if result.get("out_problem"):
        return "accepted-broken", f"convert output: {result['out_problem']}"
    if result["out_count"] != result["count"]:
        return "accepted-broken", f"convert wrote {result['out_count']} of {result['count']}"
    in_bytes = path.stat().st_size
    if result["out_bytes"] > max(100 * in_bytes, 256 << 20):
        return "blow-up", f"convert wrote {result['out_bytes']:,} bytes for a {in_bytes:,}-byte input"
    return "ok", ""


def signature(outcome: str, detail: str) -> str:
    """A failure's signature: its outcome and detail with numbers and paths blanked."""
    detail = re.sub(r"/\S+", "<path>", detail)
    return f"{outcome}: {re.sub(r'[0-9]+', '#', detail)[:160]}"


# --- campaign -----------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class FormatReport:
    fmt: str
    mutants: int = 0
    counts: Counter = dataclasses.field(default_factory=Counter)
    seconds: float = 0.0
    failures: dict = dataclasses.field(default_factory=dict)  # signature -> (count, example file or None, mutation)


def fuzz_format(fmt: str, mutants: int, seed: int, work: Path, deadline: float,
                save_dir: Path | None = None, jobs: int = 1) -> FormatReport:
    """Fuzz one format; stops after ``mutants`` mutants or at ``deadline`` (time.monotonic()). ``jobs`` children run
    at once; the mutants and the report do not depend on it."""
    rng = np.random.default_rng([seed, sorted(FORMATS).index(fmt)])
    folder = work / fmt
    seeds = build_seeds(fmt, folder / "seeds", rng)
    for s in seeds:  # warm up (numba compilation) in the parent, so each child starts ready
        (folder / "seeds" / f"warm{_EXTENSION[fmt]}").write_bytes(s.data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                _load(folder / "seeds" / f"warm{_EXTENSION[fmt]}", fmt)
            except NeurofocusError:
                pass
    pool = [s.data for s in seeds]
    outputs = EVENT_OUTPUTS if FORMATS[fmt].kind == "events" else SPIKE_OUTPUTS
    report = FormatReport(fmt)
    t0 = time.monotonic()
    running: dict[int, tuple[Running, bytes, bytes | None, str]] = {}
    finished: dict[int, tuple[str, str, bytes, bytes | None, str]] = {}
    i = 0
    while running or (i < mutants and time.monotonic() <= deadline):
        while len(running) < jobs and i < mutants and time.monotonic() <= deadline:
            s = seeds[int(rng.integers(0, len(seeds)))]
            data, side, how = mutate(s, rng, pool)
            case = folder / "cases" / f"{i:05d}"
            shutil.rmtree(case, ignore_errors=True)
            case.mkdir(parents=True)
            path = case / f"{fmt}-{i:05d}{_EXTENSION[fmt]}"
            path.write_bytes(data)
            if side is not None:
                sidecar_path(path).write_bytes(side)
            ext, to = outputs[i % len(outputs)]
            running[i] = (start_mutant(path, case / f"out{ext}", to), data, side, f"{how} of {s.label}, --to {to}")
            i += 1
        for k in list(running):
            result = finish_mutant(running[k][0])
            if result is not None:
                _, data, side, how = running.pop(k)
                keep = result[0] in FAILURES  # the bytes of a failing mutant, to save
                finished[k] = (*result, data if keep else b"", side if keep else None, how)
                shutil.rmtree(folder / "cases" / f"{k:05d}", ignore_errors=True)
        time.sleep(0.002)
    for k in sorted(finished):  # in mutant order: the same report for any number of jobs
        outcome, detail, data, side, how = finished[k]
        report.mutants += 1
        report.counts[outcome] += 1
        if outcome in FAILURES:
            sig = signature(outcome, detail)
            count, example, _ = report.failures.get(sig, (0, None, ""))
            if example is None and save_dir is not None and len(data) < (1 << 20):
                save_dir.mkdir(parents=True, exist_ok=True)
                example = save_dir / f"{fmt}-s{seed}-{k:05d}{_EXTENSION[fmt]}"
                example.write_bytes(data)
                if side is not None:
                    sidecar_path(example).write_bytes(side)
            report.failures[sig] = (count + 1, example, how)
    shutil.rmtree(folder / "cases", ignore_errors=True)
    report.seconds = time.monotonic() - t0
    return report


def campaign(formats: list[str], mutants: int, seed: int, time_budget_s: float | None = None,
             save_dir: Path | None = None, progress=None, jobs: int = 1) -> list[FormatReport]:
    """Fuzz ``formats`` in turn, ``jobs`` mutants at once; the time budget is shared equally among the formats not
    yet run."""
    reports = []
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="neurofocus-fuzz-") as work:
        for k, fmt in enumerate(formats):
            if time_budget_s is None:
                deadline = float("inf")
            else:
                left = time_budget_s - (time.monotonic() - start)
                deadline = time.monotonic() + left / (len(formats) - k)
            reports.append(fuzz_format(fmt, mutants, seed, Path(work), deadline, save_dir, jobs))
            if progress:
                progress(reports[-1])
    return reports


def table(reports: list[FormatReport]) -> str:
    """The Markdown table of a campaign."""
    head = "| format | mutants | " + " | ".join(OUTCOMES) + " | time (s) |"
    rows = [head, "|" + "---|" * (len(OUTCOMES) + 3)]
    for r in reports:
        rows.append(f"| {r.fmt} | {r.mutants} | " + " | ".join(str(r.counts[o]) for o in OUTCOMES)
                    + f" | {r.seconds:.0f} |")
    total = Counter()
    for r in reports:
        total.update(r.counts)
    rows.append(f"| **all** | {sum(r.mutants for r in reports)} | " + " | ".join(str(total[o]) for o in OUTCOMES)
                + f" | {sum(r.seconds for r in reports):.0f} |")
    return "\n".join(rows)


def failure_lines(reports: list[FormatReport]) -> list[str]:
    lines = []
    for r in reports:
        for sig, (count, example, how) in sorted(r.failures.items(), key=lambda kv: -kv[1][0]):
            lines.append(f"- {r.fmt}: {sig} (x{count}; e.g. {how}{f'; {example}' if example else ''})")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mutants-per-format", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--formats", help="comma-separated formats (default: every readable one)")
    p.add_argument("--time-budget-s", type=float, help="stop each format early to finish in about this time")
    p.add_argument("--save-failures", type=Path, help="write one mutant per failure signature here")
    p.add_argument("--jobs", type=int, default=1, help="mutants run at once (the results do not depend on it)")
    args = p.parse_args(argv)
    formats = args.formats.split(",") if args.formats else list(FORMATS)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        p.error(f"unknown formats {unknown} (known: {', '.join(FORMATS)})")
    t0 = time.monotonic()
    reports = campaign(formats, args.mutants_per_format, args.seed, args.time_budget_s, args.save_failures,
                       jobs=args.jobs, progress=lambda r: print(f"{r.fmt}: {r.mutants} mutants, {dict(r.counts)}, {r.seconds:.0f} s",
                                                file=sys.stderr, flush=True))
    print(table(reports))
    failures = failure_lines(reports)
    print(f"\n{len(failures)} failure signatures" + (":" if failures else "."))
    print("\n".join(failures))
    print(f"\nTotal {time.monotonic() - t0:.0f} s; command: python tools/fuzz_readers.py --mutants-per-format "
          f"{args.mutants_per_format} --seed {args.seed}" + (f" --formats {args.formats}" if args.formats else "")
          + (f" --time-budget-s {args.time_budget_s:g}" if args.time_budget_s else ""))
    return 1 if any(r.counts[o] for r in reports for o in FAILURES) else 0


if __name__ == "__main__":
    sys.exit(main())
