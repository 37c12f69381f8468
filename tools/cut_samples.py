"""Cut the real third-party recordings in ../shared/data down to the small samples vendored in tests/data/samples, and
print the figures the reader tests pin, as decoded by independent peer libraries (not by neurofocus).

    python tools/cut_samples.py            # write tests/data/samples/* and print their figures
    python tools/cut_samples.py --check    # only print the figures of the files already there

Each cut keeps its format valid: the RAW files keep their ``%`` header and the first whole words of their event data;
the AEDAT 4 file keeps its header and first packets (its data-table position set to -1, "no table"); the MAT file is
copied whole (it is small); the spike ``.npz`` keeps its first ticks, written back with the same keys by numpy. The
figures (count, first and last event, ON count, and the sha256 of the int64 columns t, x, y, p ±1, stacked in that
order) come from expelliarmus (EVT 2), evlib (EVT 3: expelliarmus and faery decode its time wrongly, see the README's
peer table), dv-processing (AEDAT 4), scipy (MAT) and numpy
(spike npz). ``tests/data/README.md`` records the output.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import struct
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "tests" / "data" / "samples"
sys.path.insert(0, str(ROOT / "benchmarks"))


def aedat4_cut(source: Path, packets: int) -> bytes:
    """The header and the first ``packets`` packets of an AEDAT 4 file (a valid, smaller file: the header's data
    table position, the int64 in its first 64 bytes that points past the packets, becomes -1, "no table")."""
    data = bytearray(source.read_bytes())
    bounds = [18 + struct.unpack_from("<I", data, 14)[0]]
    while bounds[-1] + 8 <= len(data):
        bounds.append(bounds[-1] + 8 + struct.unpack_from("<I", data, bounds[-1] + 4)[0])
    for i in range(18, 18 + 64):
        if struct.unpack_from("<q", data, i)[0] in bounds[1:]:
            struct.pack_into("<q", data, i, -1)
            break
    return bytes(data[:bounds[packets]])


def raw_cut(source: Path, nbytes: int, word: int) -> bytes:
    """The ``%`` header of a Prophesee RAW file and the first ``nbytes`` of its data, rounded down to whole words."""
    data = source.read_bytes()
    offset = 0
    while data.startswith(b"%", offset):
        offset = data.index(b"\n", offset) + 1
    return data[:offset + nbytes - nbytes % word]


def spikes_cut(source: Path, ticks: int) -> bytes:
    """The spike npz with its ``spk`` frames cut to the first ``ticks`` (the other keys kept), compressed by numpy."""
    with np.load(source) as z:
        arrays = {k: (z[k][:ticks] if k == "spk" else z[k]) for k in z.files}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


#: file in tests/data/samples -> (how it is made from ../shared/data, the peer that decodes it for the figures)
SAMPLES = {
    "evt3_cut.raw": (lambda: raw_cut(SHARED / "events/prophesee/evt3_sample.raw", 120_000, 2), "evlib"),
    "evt2_cut.raw": (lambda: raw_cut(SHARED / "events/prophesee/evt2_sample.raw", 32_768, 4), "expelliarmus"),
    "aedat4_cut.aedat4": (lambda: aedat4_cut(SHARED / "events/aedat4/sample.aedat4", 6), "dv-processing"),
    "night_run.mat": (lambda: (SHARED / "events/davis346-motionblur/night_run.mat").read_bytes(), "scipy"),
    "uhsr_cut.npz": (lambda: spikes_cut(SHARED / "spikes/uhsr/uhsr.npz", 20), "numpy"),
}


def digest(t, x, y, p) -> str:
    """sha256 of the int64 columns t, x, y, p (±1) stacked in that order (the reader tests compute the same)."""
    return hashlib.sha256(np.stack([np.asarray(c, dtype="<i8") for c in (t, x, y, p)]).tobytes()).hexdigest()


def peer_columns(path: Path, peer: str):
    from io_peers import PEERS, as_columns

    if peer == "scipy":
        from scipy.io import loadmat

        e = loadmat(path)["events"].astype(np.int64)  # [t_us, x, y, p in {0, 1}]
        return e[:, 0], e[:, 1], e[:, 2], np.where(e[:, 3] > 0, 1, -1)
    fmt = {".raw": path.name[:4], ".aedat4": "aedat4"}[path.suffix]
    return as_columns(PEERS[peer][1][fmt](str(path)))


def figures(path: Path, peer: str) -> str:
    if peer == "numpy":
        with np.load(path) as z:
            spk = z["spk"]
            return (f"{path.name} ({path.stat().st_size:,} B, numpy): spk {spk.dtype} {spk.shape}, "
                    f"{int(spk.sum()):,} spikes, sha256 of the frames {hashlib.sha256(spk.tobytes()).hexdigest()}")
    t, x, y, p = peer_columns(path, peer)
    first, last = (int(t[0]), int(x[0]), int(y[0]), int(p[0])), (int(t[-1]), int(x[-1]), int(y[-1]), int(p[-1]))
    return (f"{path.name} ({path.stat().st_size:,} B, {peer}): {len(t):,} events, first (t, x, y, p) {first}, "
            f"last {last}, ON {int((p > 0).sum()):,}, sha256 {digest(t, x, y, p)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only print the figures of the files already written")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (make, peer) in SAMPLES.items():
        if not args.check:
            (OUT / name).write_bytes(make())
        print(figures(OUT / name, peer))


if __name__ == "__main__":
    main()
