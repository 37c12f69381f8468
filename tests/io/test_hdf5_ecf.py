"""Prophesee HDF5 with ECF-compressed chunks, against chunks written by Prophesee's own codec."""

import subprocess
import sys

import h5py
import numpy as np
import pytest

from neurofocus.errors import NeurofocusError
from neurofocus.io import ecf, load_events, save_events
from neurofocus.io.prophesee_raw import read_raw

from ..conftest import SAMPLES, TEST_DATA, random_events

FIXTURE = TEST_DATA / "prophesee_ecf_sample.hdf5"


def test_fixture_encoded_by_prophesee_codec_decodes_exactly():
    ev = load_events(FIXTURE)
    assert ev.sensor_size == (1280, 720)
    assert len(ev) == 40_000
    assert (int(ev.t[0]), int(ev.t[-1])) == (11_718_656, 11_720_229)
    assert ev.polarity_stats() == (21_255, 18_745)
    source = read_raw(SAMPLES / "evt3_cut.raw")[:40_000]  # the first events of the same recording
    assert ev == source


def test_plain_hdf5_cannot_read_the_fixture_without_our_decoder():
    with h5py.File(FIXTURE, "r") as f, pytest.raises(OSError):
        f["CD/events"][:10]


def test_record_layout_is_prophesee_eventcd():
    assert ecf.ECF_EVENT_DTYPE.itemsize == 16 and ecf.ECF_EVENT_DTYPE.fields["t"][1] == 8


@pytest.mark.parametrize("mode", ["masked", "xp", "yxp", "auto"])
def test_chunk_round_trip_all_layouts(mode):
    rng = np.random.default_rng(5)
    n = 5000
    t = np.sort(np.concatenate([rng.integers(0, 50, n - 10), rng.integers(0, 2**40, 10)]))
    x = np.where(rng.random(n) < 0.5, np.arange(n) % 2048, rng.integers(0, 2048, n))  # runs of consecutive x
    y = np.repeat(rng.integers(0, 2048, n // 50), 50)
    p = (rng.random(n) < 0.9).astype(int)
    rec = ecf.decode_chunk(ecf.encode_chunk(t, x, y, p, mode))
    assert np.array_equal(rec["t"], t) and np.array_equal(rec["x"], x)
    assert np.array_equal(rec["y"], y) and np.array_equal(rec["p"], p)


def test_stale_mask_bits_after_the_last_event_are_ignored():
    # Metavision reuses one encoder for every chunk, so the last masked-x word of a short chunk can flag x values
    # beyond the event count; the reference decoder ignores them.
    chunk = bytearray(ecf.encode_chunk([0, 0, 0], [10, 11, 12], [0, 0, 0], [1, 1, 1], "masked"))
    chunk[0:4] = (2 << 2).to_bytes(4, "little")  # claim 2 events: x=12 is now a stale flag
    # the other streams must describe 2 events: time byte (delta 0, count 2) at 12, y word (y 0, count 2) at 13,
    # the x word (x 10, mask for x+1 and x+2) at 15 stays, polarity byte (p 1, count 2) at 17
    assert len(chunk) == 18
    chunk[12] = 0x02
    chunk[13:15] = (2).to_bytes(2, "little")
    chunk[17] = 0x80 | 2
    rec = ecf.decode_chunk(bytes(chunk))
    assert rec["x"].tolist() == [10, 11]


def test_encoder_refuses_what_it_cannot_store():
    with pytest.raises(ValueError):
        ecf.encode_chunk([5, 3], [0, 0], [0, 0], [1, 1])
    with pytest.raises(ValueError):
        ecf.encode_chunk([0], [2048], [0], [1])


def test_truncated_chunk_is_a_clear_error(tmp_path):
    ev = random_events(1000, (640, 480), seed=2)
    path = tmp_path / "ev.hdf5"
    save_events(path, ev)
    with h5py.File(path, "r+") as f:
        dset = f["CD/events"]
        _, raw = dset.id.read_direct_chunk((0,))
        dset.id.write_direct_chunk((0,), raw[: len(raw) // 2], filter_mask=0)
    with pytest.raises(NeurofocusError, match=r"ev\.hdf5: ECF chunk at event 0 is corrupt"):
        load_events(path)


def test_uncompressed_prophesee_layout_reads_too(tmp_path):
    ev = random_events(100, (64, 48), seed=1)
    rec = np.empty(len(ev), ecf.ECF_EVENT_DTYPE)
    rec["t"], rec["x"], rec["y"], rec["p"] = ev.t, ev.x, ev.y, ev.p > 0
    with h5py.File(tmp_path / "plain.h5", "w") as f:
        f.attrs["geometry"] = b"64x48"
        f.create_dataset("CD/events", data=rec, chunks=(32,), compression="gzip")
    assert load_events(tmp_path / "plain.h5") == ev


def test_dat_and_prophesee_hdf5_readers_start_without_numba(tmp_path):
    """DAT and the ECF codec are compiled C (``_kernels/dat.c``, ``ecf.c``): reading either format imports no
    numba (~1 s of start-up), and the events are those written."""
    ev = random_events(3000, (640, 480), seed=4)
    for ext in (".dat", ".hdf5"):
        save_events(tmp_path / f"ev{ext}", ev)
    script = ("import sys\nimport numpy as np\nfrom neurofocus.io import load_events\n"
              "for path in sys.argv[1:]:\n    ev = load_events(path)\n    print(len(ev), int(ev.t.sum()))\n"
              "print(sorted(m for m in sys.modules if m.startswith(('numba', 'llvmlite'))))")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "ev.dat"), str(tmp_path / "ev.hdf5")],
                          capture_output=True, text=True, timeout=120)
    lines = done.stdout.splitlines()
    assert lines == [f"{len(ev)} {int(ev.t.sum())}"] * 2 + ["[]"], done.stderr
