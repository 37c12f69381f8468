"""Prophesee EVT 2.0 and EVT 2.1 codecs.

EVT 2.0: 32-bit little-endian words, type = bits 31..28. 0x0 CD_OFF / 0x1 CD_ON carry ts6 (bits 27..22), x (21..11)
and y (10..0); 0x8 EVT_TIME_HIGH carries bits 27..0 = t >> 6; 0xA EXT_TRIGGER, 0xE OTHERS, 0xF CONTINUED carry no CD
event. Event time = (time_high << 6) | ts6 µs.

EVT 2.1: 64-bit words. The 32-bit *header* half is laid out like an EVT 2.0 word (0x0 EVT_NEG / 0x1 EVT_POS with
ts6, x and y, or 0x8 TIME_HIGH); the other half is a 32-bit validity mask, bit i meaning an event at x + i.
Layout "little": one little-endian u64 with the mask in bits 31..0 and the header in bits 63..32. Layout "legacy":
the halves swapped (header first).

Both: the 28-bit TIME_HIGH wraps every 2**34 µs (4.8 h); a wrap is counted when TIME_HIGH falls by at least 2**27.
Events before the first TIME_HIGH have no time base and are dropped (counted); events outside the sensor are dropped.
The codecs are C (``_kernels/evt2.c``).
"""

from __future__ import annotations

import numpy as np

from .._kernels import address, lib, records
from ..types import Events
from .records import decoded, decoder_buffers

#: Length of the decoder state (int64, carried from one chunk to the next; its layout: ``_kernels/evt2.c``) and the
#: slots of the events dropped for want of a time base and outside the sensor.
STATE_SIZE = 5
NO_TIME_SLOT, OUT_OF_RANGE_SLOT = 3, 4


def new_state() -> np.ndarray:
    """Fresh decoder state for the start of a stream."""
    return np.zeros(STATE_SIZE, np.int64)


def decode_evt2(words: np.ndarray, state: np.ndarray, width: int, height: int, out: np.ndarray, n: int,
                stats: np.ndarray) -> int:
    """Decode EVT 2.0 ``words`` (uint32) into the records ``out`` (int64 (N, 2) view, see :mod:`.records`) from
    index ``n``; returns the new count. ``state`` carries the decoder between chunks; ``stats`` gets the time steps
    back and the last time. ``out`` must hold ``n + len(words)`` records (at most one event per word)."""
    state_at, out_at, capacity, stats_at = decoder_buffers(state, STATE_SIZE, out, stats)
    return decoded(lib.evt2_decode(address(words, np.uint32), len(words), state_at, width, height, out_at, capacity, n,
                                   stats_at), "EVT 2.0")


def max_events_evt21(words: np.ndarray, legacy: bool) -> int:
    """Upper bound of the events in EVT 2.1 ``words`` (uint64): the set mask bits of event words."""
    return lib.evt21_max_events(address(words, np.uint64), len(words), legacy)


def decode_evt21(words: np.ndarray, legacy: bool, state: np.ndarray, width: int, height: int, out: np.ndarray,
                 n: int, stats: np.ndarray) -> int:
    """Decode EVT 2.1 ``words`` (uint64) into the records ``out`` from index ``n``, as :func:`decode_evt2`; ``out``
    must hold ``n + max_events_evt21(words)`` records. Returns the new count."""
    state_at, out_at, capacity, stats_at = decoder_buffers(state, STATE_SIZE, out, stats)
    return decoded(lib.evt21_decode(address(words, np.uint64), len(words), legacy, state_at, width, height, out_at,
                                    capacity, n, stats_at), "EVT 2.1")


def _bound(events: Events) -> int:
    """Most words the encoders write: two per event, and the wrap-safe TIME_HIGH steps."""
    return 2 * len(events) + (int(events.t[-1] >> 6) >> 26 if len(events) else 0) + 8


def new_encoder_state() -> np.ndarray:
    """Fresh EVT 2.0 / 2.1 encoder state (int64 (1,): the last TIME_HIGH written; -1: none) for the start of a
    stream."""
    return np.full(1, -1, np.int64)


def encode_evt2(events: Events, state: np.ndarray | None = None) -> np.ndarray:
    """Encode events (x, y < 2048) as EVT 2.0 words (uint32); ``state`` continues a stream as in
    :func:`~neurofocus.io.evt3.encode`."""
    state = new_encoder_state() if state is None else state
    out = np.empty(_bound(events), np.uint32)
    count = lib.evt2_encode(*records(events.data), address(state, np.int64, writable=True),
                            address(out, np.uint32, writable=True), len(out))
    assert count >= 0, "EVT 2.0 encoder: the output bound is wrong"
    return out[:count]


def encode_evt21(events: Events, legacy: bool = False, state: np.ndarray | None = None) -> np.ndarray:
    """Encode events as EVT 2.1 words (uint64), grouping runs of x in 32-pixel blocks into masks; ``state`` continues
    a stream as in :func:`~neurofocus.io.evt3.encode`."""
    state = new_encoder_state() if state is None else state
    out = np.empty(_bound(events), np.uint64)
    count = lib.evt21_encode(*records(events.data), legacy, address(state, np.int64, writable=True),
                             address(out, np.uint64, writable=True), len(out))
    assert count >= 0, "EVT 2.1 encoder: the output bound is wrong"
    return out[:count]
