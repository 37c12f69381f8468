"""Prophesee EVT 3.0 codec: 16-bit little-endian words, stateful, vectorised x addresses.

Word types (bits 15..12): 0x0 EVT_ADDR_Y (y = bits 10..0), 0x2 EVT_ADDR_X (x = bits 10..0, polarity bit 11),
0x3 VECT_BASE_X (base x = bits 10..0, polarity bit 11), 0x4 VECT_12 (12-bit mask, then base += 12),
0x5 VECT_8 (8-bit mask, then base += 8), 0x6 EVT_TIME_LOW (bits 11..0), 0x8 EVT_TIME_HIGH (bits 11..0),
0x7 CONTINUED_4, 0xA EXT_TRIGGER, 0xE OTHERS, 0xF CONTINUED_12 (skipped).

Time is ``(loop << 24) | (high << 12) | low`` µs; ``loop`` counts wraps of the 24-bit time, detected when a TIME_HIGH
value falls by at least 2**11 below the previous one. Events seen before the first TIME_HIGH have no time base and are
dropped (counted in the decoder state); events with ``y >= height`` or ``x >= width`` are dropped as invalid.
"""

from __future__ import annotations

import numpy as np

from .._kernels import address, lib, records
from ..types import Events
from .records import decoded, decoder_buffers

#: Length of the decoder state (int64, carried from one chunk to the next; its layout: ``_kernels/evt3.c``) and the
#: slots of the events dropped for want of a time base and outside the sensor.
STATE_SIZE = 9
NO_TIME_SLOT, OUT_OF_RANGE_SLOT = 7, 8


def new_state() -> np.ndarray:
    """Fresh decoder state for the start of a stream."""
    return np.zeros(STATE_SIZE, np.int64)


def max_events(words: np.ndarray) -> int:
    """Upper bound of the events a chunk of EVT 3.0 words (uint16) can hold."""
    return lib.evt3_max_events(address(words, np.uint16), len(words))


def decode(words: np.ndarray, state: np.ndarray, width: int, height: int, out: np.ndarray, n: int,
           stats: np.ndarray) -> int:
    """Decode EVT 3.0 ``words`` (uint16) into the records ``out`` (int64 (N, 2) view, see :mod:`.records`) from
    index ``n``; returns the new count. ``out`` must hold ``n + max_events(words)`` records.

    ``state`` (int64, :data:`STATE_SIZE`) carries the decoder state between chunks and is updated in place;
    ``stats`` gets the time steps back and the last time.
    """
    state_at, out_at, capacity, stats_at = decoder_buffers(state, STATE_SIZE, out, stats)
    return decoded(lib.evt3_decode(address(words, np.uint16), len(words), state_at, width, height, out_at, capacity, n,
                                   stats_at), "EVT 3.0")


def new_encoder_state() -> np.ndarray:
    """Fresh encoder state (int64 (3,): the last TIME_HIGH, TIME_LOW and row written; -1: none) for the start of a
    stream."""
    return np.full(3, -1, np.int64)


def encode(events: Events, state: np.ndarray | None = None) -> np.ndarray:
    """Encode events (x, y < 2048) as EVT 3.0 words (uint16).

    Consecutive events with equal time, row and polarity become VECT_BASE_X + VECT_12 words; others EVT_ADDR_X.
    TIME_HIGH words are written in steps of at most 1024 (4.2 s) so that a decoder recovers every 24-bit wrap.
    ``state`` (:func:`new_encoder_state`, updated in place) continues a stream encoded in time-sorted chunks; a chunk
    that ends with all the events of its last µs gives the words of the whole stream encoded at once.
    """
    state = new_encoder_state() if state is None else state
    t = events.t
    span = int(t[-1] >> 12) + 1 if len(t) else 0
    out = np.empty(4 * len(t) + span // 1024 + 8, np.uint16)
    count = lib.evt3_encode(*records(events.data), address(state, np.int64, writable=True),
                            address(out, np.uint16, writable=True), len(out))
    assert count >= 0, "EVT 3.0 encoder: the output bound is wrong"
    return out[:count]
