"""Shared fixtures: paths to the real third-party samples and small generated streams."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import pytest

from neurofocus.cli import main
from neurofocus.types import Events

#: One PyTorch intra-op thread (read when torch is imported, after this): on a small shared CPU its spinning thread
#: pool makes the tiny networks of the tests many times slower (a bench test: 114 s with the default, 26 s with one).
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"
#: cut-down real recordings, one per reader of a real format (tests/data/README.md, tools/cut_samples.py)
SAMPLES = TEST_DATA / "samples"


def shared(relative: str) -> Path:
    """Path of a file in ../shared/data; skips the test when the shared data is not beside the checkout, and fails it
    under CI (the ``CI`` environment variable set), where the data must be there."""
    path = SHARED_DATA / relative
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"shared sample {relative} missing from {SHARED_DATA} (required under CI)")
        pytest.skip(f"shared sample {relative} not available")
    return path


def random_events(n: int = 2000, sensor_size=(64, 48), seed: int = 0, t_max: int = 100_000) -> Events:
    """Random, time-sorted events with repeated timestamps."""
    rng = np.random.default_rng(seed)
    w, h = sensor_size
    t = np.sort(rng.integers(0, t_max, n))
    return Events.from_arrays(t, rng.integers(0, w, n), rng.integers(0, h, n), rng.integers(0, 2, n), sensor_size)


@pytest.fixture
def events_small() -> Events:
    return random_events()


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """Run ``neurofocus ARGV...`` (arguments str()-ed); returns (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="session")
def simulated(tmp_path_factory):
    """A small simulated sample folder (96x72, 60 frames, ideal events as EVT 3 and spikes)."""
    out = tmp_path_factory.mktemp("sim")
    code = main(["simulate", "--out", str(out), "--size", "96x72", "--frames", "60", "--frame-rate", "240",
                 "--max-blur-px", "14", "--event-model", "ideal", "--with-spikes", "--tick-us", "50",
                 "--image-frame", "10", "--events-format", "evt3"])
    assert code == 0
    return out


#: Flatbuffer ``Event`` structs as AEDAT 4 stores them (t int64 µs, x int16, y int16, on bool, 3 bytes of padding).
AEDAT4_EVENT = np.dtype({"names": ["t", "x", "y", "on"], "formats": ["<i8", "<i2", "<i2", "u1"],
                         "offsets": [0, 8, 10, 12], "itemsize": 16})
#: ``IOHeader.compression`` of each codec ``write_aedat4`` knows ("zstd-no-size": frames without their content size).
AEDAT4_CODECS = {"none": 0, "lz4": 1, "zstd": 3, "zstd-no-size": 3}


def aedat4_event_packet(events: np.ndarray) -> bytes:
    """A size-prefixed ``EventPacket`` flatbuffer (identifier EVTS) holding ``events`` (:data:`AEDAT4_EVENT`), laid
    out as dv-processing writes it: vtable at 14, table at 20, the vector's length at 28 and its structs from 32."""
    body = (struct.pack("<I4s", 16, b"EVTS") + bytes(2) + struct.pack("<HHH", 6, 8, 4)
            + struct.pack("<iII", 6, 4, len(events)) + np.ascontiguousarray(events, AEDAT4_EVENT).tobytes())
    return struct.pack("<I", len(body)) + body


def write_aedat4(path: Path, packets: list[tuple[int, bytes]], codec: str = "lz4", streams: str | None = None,
                 data_table: bool = False) -> Path:
    """An AEDAT 4 file of ``packets`` ((stream id, decompressed payload), each compressed with ``codec``, one of
    :data:`AEDAT4_CODECS`); ``streams`` is the XML of the info node's streams (default: one 8x4 event stream, id 0);
    ``data_table`` sets ``dataTablePosition`` to the end of the packets and appends junk there, as a data table would be."""
    import lz4.frame
    import zstandard

    if streams is None:
        streams = aedat4_stream(0, "EVTS", (8, 4))
    xml = f'<dv version="2.0"><node name="outInfo" path="/mainloop/Recorder/outInfo/">{streams}</node></dv>'.encode()
    compress = {"none": bytes, "lz4": lz4.frame.compress, "zstd": zstandard.ZstdCompressor().compress,
                "zstd-no-size": zstandard.ZstdCompressor(write_content_size=False).compress}[codec]
    data = b"".join(struct.pack("<iI", sid, len(z)) + z for sid, z in ((sid, compress(p)) for sid, p in packets))

    def header(table_position: int) -> bytes:  # root at 24: vtable at 8 (compression, table position, info node)
        return (struct.pack("<I4s", 24, b"IOHE") + struct.pack("<HHHHH", 10, 20, 4, 8, 16) + bytes(6)
                + struct.pack("<iiqI", 16, AEDAT4_CODECS[codec], table_position, 4) + struct.pack("<I", len(xml))
                + xml + b"\0")

    start = 14 + 4 + len(header(-1))
    table = header(start + len(data) if data_table else -1)
    path.write_bytes(b"#!AER-DAT4.0\r\n" + struct.pack("<I", len(table)) + table + data
                     + (b"junk of a data table" if data_table else b""))
    return path


def aedat4_stream(stream_id: int, kind: str, size: tuple[int, int] | None = None) -> str:
    """The info node XML of one stream (``kind`` EVTS, FRME, IMUS, TRIG; ``size`` (sizeX, sizeY))."""
    info = (f'<node name="info" path="x"><attr key="sizeX" type="int">{size[0]}</attr>'
            f'<attr key="sizeY" type="int">{size[1]}</attr></node>' if size else "")
    return (f'<node name="{stream_id}" path="x"><attr key="typeIdentifier" type="string">{kind}</attr>{info}'
            f'</node>')
