"""EVT 2.0 / 2.1 / 3.0 codecs against hand-made words built from the format specification."""

import warnings

import numpy as np
import pytest

from neurofocus.io import evt2, evt3
from neurofocus.io.records import BACKWARDS, new_records, new_stats
from neurofocus.errors import NeurofocusError
from neurofocus.types import Events

from ..conftest import random_events


def decode(kernel, chunks, capacity, *args):
    """Run a decoding kernel over ``chunks`` into one record array: (t, x, y, p, state, stats)."""
    records, out = new_records(capacity)
    state, stats, n = (evt3 if kernel is evt3.decode else evt2).new_state(), new_stats(), 0
    for chunk in chunks:
        n = kernel(chunk, *args[:-2], state, *args[-2:], out, n, stats)
    records = records[:n]
    return records["t"], records["x"], records["y"], records["p"], state, stats


def decode3(words, width=1280, height=720):
    words = np.asarray(words, np.uint16)
    return decode(evt3.decode, [words], evt3.max_events(words), width, height)[:5]


def test_evt3_single_events_vectors_and_skipped_words():
    words = [
        0x8000 | 0x123,          # TIME_HIGH 0x123
        0x6000 | 0x045,          # TIME_LOW 0x045
        0x0000 | (1 << 11) | 7,  # ADDR_Y 7 (master/slave bit set: ignored)
        0x2000 | (1 << 11) | 100,  # ADDR_X 100, ON
        0x2000 | 101,            # ADDR_X 101, OFF
        0x7000 | 0xF,            # CONTINUED_4: no event
        0xA000 | 0x001,          # EXT_TRIGGER: no event
        0xE000,                  # OTHERS
        0xF000 | 0xFFF,          # CONTINUED_12
        0x3000 | (1 << 11) | 200,  # VECT_BASE_X 200, ON
        0x4000 | 0b100000000101,   # VECT_12: 200, 202, 211
        0x5000 | 0b10000001,       # VECT_8: 212, 219
        0x6000 | 0x046,
        0x0000 | 719,
        0x2000 | 5,
        0x0000 | 720,            # y outside a 720-row sensor: dropped
        0x2000 | 6,
    ]
    t, x, y, p, state = decode3(words)
    t0 = (0x123 << 12) | 0x045
    assert t.tolist() == [t0] * 7 + [t0 + 1]
    assert x.tolist() == [100, 101, 200, 202, 211, 212, 219, 5]
    assert y.tolist() == [7] * 7 + [719]
    assert p.tolist() == [1, -1, 1, 1, 1, 1, 1, -1]
    assert state[evt3.OUT_OF_RANGE_SLOT] == 1


def test_evt3_events_before_time_base_are_dropped_and_wraps_counted():
    words = [0x0000 | 3, 0x2000 | 1,             # no TIME_HIGH yet: dropped
             0x8000 | 0xFFF, 0x6000 | 0xFFE, 0x2000 | 2,
             0x8000 | 0x000, 0x6000 | 0x001, 0x2000 | 3,   # 24-bit wrap: loop 1
             0x8000 | 0x7FF, 0x2000 | 4,                   # forward jump < 2**11: no wrap
             ]
    t, x, _, _, state = decode3(words)
    assert state[evt3.NO_TIME_SLOT] == 1
    assert t.tolist() == [(0xFFF << 12) | 0xFFE, (1 << 24) | 1, (1 << 24) | (0x7FF << 12) | 1]
    assert x.tolist() == [2, 3, 4]


def test_evt3_state_carries_across_chunks():
    ev = random_events(5000, (1280, 720), seed=3, t_max=60_000_000)  # spans several 24-bit wraps
    words = evt3.encode(ev)
    t, x, y, p, _, stats = decode(evt3.decode, np.array_split(words, 7), evt3.max_events(words), 1280, 720)
    assert stats[BACKWARDS] == 0
    assert np.array_equal(t, ev.t) and np.array_equal(x, ev.x) and np.array_equal(y, ev.y)
    assert np.array_equal(p, ev.p)


def test_evt3_encoder_uses_vectors_for_runs():
    words = evt3.encode(Events.from_arrays(np.zeros(30), np.arange(100, 130), np.full(30, 5), np.ones(30), (640, 480)))
    kinds = (words >> 12).tolist()
    assert kinds.count(0x3) == 1 and kinds.count(0x4) == 3 and kinds.count(0x2) == 0


def test_evt2_words():
    on = (0x1 << 28) | (5 << 22) | (33 << 11) | 17
    off = (0x0 << 28) | (63 << 22) | (639 << 11) | 479
    words = np.array([on, (0x8 << 28) | 1000, on, 0xA << 28, 0xE << 28, off], np.uint32)
    t, x, y, p, state, _ = decode(evt2.decode_evt2, [words], len(words), 640, 480)
    assert len(t) == 2 and state[evt2.NO_TIME_SLOT] == 1
    assert t.tolist() == [(1000 << 6) | 5, (1000 << 6) | 63]
    assert x.tolist() == [33, 639] and y.tolist() == [17, 479] and p.tolist() == [1, -1]


@pytest.mark.parametrize("legacy", [False, True])
def test_evt21_words_both_layouts(legacy):
    head_th = (0x8 << 28) | 77
    head_ev = (0x1 << 28) | (9 << 22) | (64 << 11) | 12
    mask = (1 << 0) | (1 << 3) | (1 << 31)
    pairs = [(head_th, 0), (head_ev, mask)]
    if legacy:
        raw = [h | (m << 32) for h, m in pairs]
    else:
        raw = [(h << 32) | m for h, m in pairs]
    words = np.array(raw, np.uint64)
    assert evt2.max_events_evt21(words, legacy) == 3
    t, x, y, p, _, _ = decode(evt2.decode_evt21, [words], 3, legacy, 1280, 720)
    assert x.tolist() == [64, 67, 95]
    assert set(t.tolist()) == {(77 << 6) | 9} and set(p.tolist()) == {1} and set(y.tolist()) == {12}


@pytest.mark.parametrize("encoding", ["evt2", "evt21", "evt21-legacy"])
def test_evt2_family_round_trip_with_high_time_wrap(encoding):
    ev = random_events(3000, (640, 480), seed=4)
    # push part of the stream past the 2**34 µs wrap of the 28-bit TIME_HIGH
    t = np.sort(np.concatenate([ev.t[:1500], ev.t[1500:] + (1 << 34) + 12345]))
    wrapped = Events.from_arrays(t, ev.x, ev.y, ev.p, ev.sensor_size)
    if encoding == "evt2":
        words = evt2.encode_evt2(wrapped)
        out = decode(evt2.decode_evt2, np.array_split(words, 3), len(words), 640, 480)
    else:
        legacy = encoding == "evt21-legacy"
        words = evt2.encode_evt21(wrapped, legacy=legacy)
        out = decode(evt2.decode_evt21, np.array_split(words, 3), len(t), legacy, 640, 480)
    assert len(out[0]) == len(t) and out[5][BACKWARDS] == 0
    assert np.array_equal(out[0], t) and np.array_equal(out[1], ev.x)
    assert np.array_equal(out[2], ev.y) and np.array_equal(out[3], ev.p)


@pytest.mark.parametrize("encoding", ["evt3", "evt2", "evt21"])
def test_a_raw_file_written_in_chunks_is_the_file_of_all_events_at_once(tmp_path, encoding):
    """Chunks cut anywhere, inside a µs and a vector run too, and on an absolute clock: the same bytes."""
    from neurofocus.io.prophesee_raw import raw_writer, write_raw

    events = random_events(20_000, (64, 4), seed=5, t_max=3_000)  # ~7 events per µs: ties and runs
    cuts = [0, 1, 1, 2, 4_000, 4_001, 12_345, len(events)]
    for shift in (0, 1 << 33):  # 2**33 µs: an absolute clock, rebased with a note
        shifted = events.shift_time(shift)
        with warnings.catch_warnings(record=True) as notes:
            warnings.simplefilter("always")
            write_raw(tmp_path / "whole.raw", shifted, encoding=encoding)
            with raw_writer(tmp_path / "chunks.raw", shifted.sensor_size, encoding=encoding) as raw:
                for a, b in zip(cuts[:-1], cuts[1:]):
                    raw.write(shifted[a:b])
        assert len(notes) == (2 if shift else 0)
        assert (tmp_path / "chunks.raw").read_bytes() == (tmp_path / "whole.raw").read_bytes()
    with pytest.raises(NeurofocusError, match="sensor"):
        with raw_writer(tmp_path / "bad.raw", (64, 5), encoding=encoding) as raw:
            raw.write(events)
    assert not (tmp_path / "bad.raw").exists()
