"""The AEDAT 4 event decoder on crafted files (every codec, other streams, the data table, corrupt packets) and on the
real sample, bit for bit against the ``aedat`` package."""

import struct

import numpy as np
import pytest

from neurofocus.errors import NeurofocusError
from neurofocus.io import aedat4, load_events
from neurofocus.io.common import NeurofocusWarning

from ..conftest import AEDAT4_EVENT, aedat4_event_packet, aedat4_stream, shared, write_aedat4


def stored_events(n: int, size=(8, 4), seed=0, t0=0) -> np.ndarray:
    """``n`` random events in time order, as AEDAT 4 stores them."""
    rng = np.random.default_rng(seed)
    ev = np.zeros(n, AEDAT4_EVENT)
    ev["t"] = t0 + np.cumsum(rng.integers(0, 50, n))
    ev["x"], ev["y"], ev["on"] = rng.integers(0, size[0], n), rng.integers(0, size[1], n), rng.integers(0, 2, n)
    return ev


def assert_decoded(records: np.ndarray, stored: np.ndarray) -> None:
    """``records`` (EVENT_DTYPE) hold ``stored`` with on 1/0 as p +1/-1 and zero padding."""
    assert records["t"].tolist() == stored["t"].tolist()
    assert records["x"].tolist() == stored["x"].tolist() and records["y"].tolist() == stored["y"].tolist()
    assert records["p"].tolist() == np.where(stored["on"] == 1, 1, -1).tolist()
    assert not records.view(np.uint8).reshape(-1, 16)[:, 13:].any()


@pytest.mark.parametrize("codec", ["none", "lz4", "zstd", "zstd-no-size"])
@pytest.mark.parametrize("data_table", [False, True])
def test_codecs(tmp_path, codec, data_table):
    ev = stored_events(3000)
    packets = [(0, aedat4_event_packet(ev[:1000])), (0, aedat4_event_packet(ev[1000:1000])),
               (0, aedat4_event_packet(ev[1000:]))]
    path = write_aedat4(tmp_path / "f.aedat4", packets, codec, data_table=data_table)
    events = load_events(path)
    assert events.sensor_size == (8, 4)
    assert_decoded(events.data, ev)


def test_any_nonzero_on_byte_is_on(tmp_path):
    """``on`` is a flatbuffer bool: dv-processing, like every flatbuffer reader, takes any byte but 0 as true."""
    ev = stored_events(256)
    ev["on"] = np.arange(256)
    path = write_aedat4(tmp_path / "f.aedat4", [(0, aedat4_event_packet(ev))])
    assert load_events(path).p.tolist() == [-1] + [1] * 255


def test_the_first_event_stream_is_read_and_other_packets_are_skipped(tmp_path):
    streams = aedat4_stream(0, "IMUS") + aedat4_stream(2, "EVTS", (16, 12)) + aedat4_stream(1, "EVTS", (8, 4))
    first, second = stored_events(500, seed=1), stored_events(500, (16, 12), seed=2)
    packets = [(0, b"IMU data, never decompressed"), (2, aedat4_event_packet(second)), (1, aedat4_event_packet(first)),
               (2, aedat4_event_packet(second))]
    path = write_aedat4(tmp_path / "f.aedat4", packets, streams=streams)
    events = load_events(path)
    assert events.sensor_size == (8, 4)
    assert_decoded(events.data, first)


def test_many_batches_in_threads_and_an_output_estimated_short(tmp_path, monkeypatch):
    """Batches of one packet each; the first packets compress poorly (random times), the later ones well (equal
    times), so the output estimated from the first falls short and is grown."""
    monkeypatch.setattr(aedat4, "_BATCH_BYTES", 1)
    noisy = stored_events(2000, seed=3)
    flat = np.zeros(20_000, AEDAT4_EVENT)
    flat["t"] = noisy["t"][-1] + 1
    parts = [noisy[:1000], noisy[1000:], flat[:10_000], flat[10_000:]]
    path = write_aedat4(tmp_path / "f.aedat4", [(0, aedat4_event_packet(p)) for p in parts])
    assert_decoded(load_events(path).data, np.concatenate(parts))


def test_time_steps_back_across_batches(tmp_path, monkeypatch):
    """A step back at the boundary between two batches is counted: sorted with a note when rare, an error when not."""
    monkeypatch.setattr(aedat4, "_BATCH_BYTES", 1)
    late, early = stored_events(600, t0=10_000, seed=4), stored_events(600, seed=5)
    path = write_aedat4(tmp_path / "f.aedat4", [(0, aedat4_event_packet(late)), (0, aedat4_event_packet(early))])
    with pytest.warns(NeurofocusWarning, match="1 events were out of time order"):
        events = load_events(path)
    assert np.all(np.diff(events.t) >= 0) and len(events) == 1200
    packets = [(0, aedat4_event_packet(stored_events(10, t0=(20 - k) * 1000, seed=k))) for k in range(20)]
    path = write_aedat4(tmp_path / "g.aedat4", packets)
    with pytest.raises(NeurofocusError, match="time goes backwards 19 times"):
        load_events(path)


def test_events_outside_the_stream_size(tmp_path):
    ev = stored_events(10)
    ev["x"][4] = -1  # int16 in the file: 65535 as a coordinate
    path = write_aedat4(tmp_path / "f.aedat4", [(0, aedat4_event_packet(ev))])
    with pytest.raises(NeurofocusError, match="outside the 8x4 sensor .x up to 65535"):
        load_events(path)


def test_truncated_packet(tmp_path):
    packet = (0, aedat4_event_packet(stored_events(100)))
    first_end = write_aedat4(tmp_path / "one.aedat4", [packet]).stat().st_size  # where the second packet starts
    data = write_aedat4(tmp_path / "two.aedat4", [packet] * 2).read_bytes()
    path = tmp_path / "cut.aedat4"
    for cut, match in [(len(data) - 3, "runs past byte"), (first_end + 4, "a packet header cut")]:
        path.write_bytes(data[:cut])
        with pytest.raises(NeurofocusError, match=f"corrupt AEDAT 4 packet .*{match}"):
            load_events(path)


def test_elements_vector_beyond_the_payload(tmp_path):
    packet = bytearray(aedat4_event_packet(stored_events(10)))
    struct.pack_into("<I", packet, 28, 11)  # the vector's length: one struct more than the packet holds
    path = write_aedat4(tmp_path / "f.aedat4", [(0, bytes(packet))])
    with pytest.raises(NeurofocusError, match="corrupt AEDAT 4 packet .a vector of 11 items of 16 bytes runs past"):
        load_events(path)
    struct.pack_into("<I", packet, 24, 1 << 20)  # the uoffset to the vector: far beyond the packet
    path = write_aedat4(tmp_path / "f.aedat4", [(0, bytes(packet))])
    with pytest.raises(NeurofocusError, match="corrupt AEDAT 4 packet .offset 1,048,600 lies outside"):
        load_events(path)


def test_other_corrupt_packets(tmp_path):
    good = aedat4_event_packet(stored_events(10))
    cases = {"stream id 7 is not in the header": [(7, good)],
             "of type b'IMUS'": [(0, good[:8] + b"IMUS" + good[12:])],
             "declares": [(0, good[:-16])]}  # the size prefix counts 16 bytes more than the packet has
    for match, packets in cases.items():
        path = write_aedat4(tmp_path / "f.aedat4", packets)
        with pytest.raises(NeurofocusError, match=f"corrupt AEDAT 4 packet .*{match}"):
            load_events(path)
    path = write_aedat4(tmp_path / "f.aedat4", [(0, good)])
    data = bytearray(path.read_bytes())
    data[-len(good) // 2] ^= 0xFF  # inside the LZ4 frame, whose checksums catch it
    path.write_bytes(bytes(data))
    with pytest.raises(NeurofocusError, match="corrupt AEDAT 4 packet .LZ4"):
        load_events(path)


def test_header_errors(tmp_path):
    path = write_aedat4(tmp_path / "f.aedat4", [(0, aedat4_event_packet(stored_events(10)))])
    data = path.read_bytes()
    for bad, match in [(data[:12] + b"\n\n" + data[14:], "no line end"),
                       (data[:14] + b"\xff\xff\xff\x7f" + data[18:], "a header of 2,147,483,647 bytes"),
                       (data[:18] + b"\xff\xff\x00\x00" + data[22:], "offset 65,535 lies outside")]:
        path.write_bytes(bad)
        with pytest.raises(NeurofocusError, match=f"cannot decode the AEDAT 4 header .*{match}"):
            load_events(path)
    path = write_aedat4(tmp_path / "f.aedat4", [], streams=aedat4_stream(0, "IMUS"))
    with pytest.raises(NeurofocusError, match="no event stream"):
        load_events(path)
    path = write_aedat4(tmp_path / "f.aedat4", [], streams=aedat4_stream(0, "EVTS", ("wide", 4)))
    with pytest.raises(NeurofocusError, match="stream '0': its id, sizeX or sizeY is not a number"):
        load_events(path)


def test_output_out_of_proportion_is_refused(tmp_path, monkeypatch):
    """Decompressed bytes are capped by the file's size (memory_for): here at 2,500 events' worth."""
    path = write_aedat4(tmp_path / "f.aedat4", [(0, aedat4_event_packet(stored_events(1000)))] * 3, "none")
    monkeypatch.setattr(aedat4, "memory_for", lambda path: 2500 * 16)
    with pytest.raises(NeurofocusError, match="decompresses to more than 40,000 bytes, out of all proportion"):
        load_events(path)
    for codec, match in [("lz4", "decompresses to more than 7,936"),  # what the first two packets leave
                         ("zstd", "declares 16,032 decompressed"), ("zstd-no-size", "decompresses to more than 7,936")]:
        path = write_aedat4(tmp_path / "f.aedat4", [(0, aedat4_event_packet(stored_events(1000)))] * 3, codec)
        with pytest.raises(NeurofocusError, match=f"corrupt AEDAT 4 packet .*{match}"):
            load_events(path)


def test_real_sample_is_bit_identical_to_the_aedat_package():
    import aedat

    path = shared("events/aedat4/sample.aedat4")
    decoder = aedat.Decoder(str(path))
    stream = min(i for i, s in decoder.id_to_stream().items() if s["type"] == "events")
    packets = [p["events"] for p in decoder if p["stream_id"] == stream]
    theirs = np.concatenate(packets)
    ours = load_events(path)
    assert ours.sensor_size == (decoder.id_to_stream()[stream]["width"], decoder.id_to_stream()[stream]["height"])
    assert ours.data["t"].view(np.uint64).tolist() == theirs["t"].tolist()
    assert np.array_equal(ours.data["x"], theirs["x"]) and np.array_equal(ours.data["y"], theirs["y"])
    assert np.array_equal(ours.data["p"], np.where(theirs["on"], 1, -1))
    assert not ours.data.view(np.uint8).reshape(-1, 16)[:, 13:].any()
