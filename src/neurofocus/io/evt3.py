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

import numba
import numpy as np

from .kernels import popcount32, put, put_mask
from .records import BACKWARDS, LAST_T, OFF, ON

# decoder state slots (int64 array carried from one chunk to the next)
_Y, _HIGH, _LOW, _LOOP, _BASE_X, _VECT_P, _HAVE_TIME, _NO_TIME, _OUT_OF_RANGE = range(9)
STATE_SIZE = 9
NO_TIME_SLOT = _NO_TIME
OUT_OF_RANGE_SLOT = _OUT_OF_RANGE


def new_state() -> np.ndarray:
    """Fresh decoder state for the start of a stream."""
    return np.zeros(STATE_SIZE, np.int64)


@numba.njit(cache=True, nogil=True)
def max_events(words):
    """Upper bound of the events a chunk of EVT 3.0 words (uint16) can hold."""
    n = 0
    for i in range(len(words)):
        w = np.int64(words[i])
        kind = w >> 12
        if kind == 0x2:
            n += 1
        elif kind == 0x4:
            n += popcount32(w & 0xFFF)
        elif kind == 0x5:
            n += popcount32(w & 0xFF)
    return n


@numba.njit(cache=True, nogil=True)
def decode(words, state, width, height, out, n, stats):
    """Decode EVT 3.0 ``words`` (uint16) into the records ``out`` (int64 (N, 2) view, see :mod:`.records`) from
    index ``n``; returns the new count. ``out`` must hold ``n + max_events(words)`` records.

    ``state`` (int64, :data:`STATE_SIZE`) carries the decoder state between chunks and is updated in place;
    ``stats`` gets the time steps back and the last time.
    """
    cur_y, high, low, loop = state[_Y], state[_HIGH], state[_LOW], state[_LOOP]
    base_x, vect_p, have_time = state[_BASE_X], state[_VECT_P], state[_HAVE_TIME]
    no_time, out_of_range = state[_NO_TIME], state[_OUT_OF_RANGE]
    backwards, last_t = stats[BACKWARDS], stats[LAST_T]
    tt = (loop << 24) | (high << 12) | low
    for i in range(len(words)):
        w = np.int64(words[i])
        kind = w >> 12
        if kind == 0x0:  # EVT_ADDR_Y
            cur_y = w & 0x7FF
        elif kind == 0x2:  # EVT_ADDR_X
            if not have_time:
                no_time += 1
                continue
            xx = w & 0x7FF
            if xx < width and cur_y < height:
                backwards += tt < last_t
                last_t = tt
                put(out, n, tt, xx, cur_y, ON if (w >> 11) & 1 else OFF)
                n += 1
            else:
                out_of_range += 1
        elif kind == 0x3:  # VECT_BASE_X
            base_x = w & 0x7FF
            vect_p = (w >> 11) & 1
        elif kind == 0x4 or kind == 0x5:  # VECT_12 / VECT_8
            nbits = 12 if kind == 0x4 else 8
            mask = w & ((1 << nbits) - 1)
            if not have_time:
                no_time += popcount32(mask)
            elif cur_y >= height:
                out_of_range += popcount32(mask)
            else:
                first = n
                n, outside = put_mask(out, n, tt, base_x, cur_y, ON if vect_p else OFF, mask, width)
                out_of_range += outside
                if n > first:
                    backwards += tt < last_t
                    last_t = tt
            base_x += nbits
        elif kind == 0x6:  # EVT_TIME_LOW
            low = w & 0xFFF
            tt = (loop << 24) | (high << 12) | low
        elif kind == 0x8:  # EVT_TIME_HIGH
            new_high = w & 0xFFF
            if have_time and new_high < high and high - new_high >= (1 << 11):
                loop += 1
            high = new_high
            have_time = 1
            tt = (loop << 24) | (high << 12) | low
        # 0x7 CONTINUED_4, 0xA EXT_TRIGGER, 0xE OTHERS, 0xF CONTINUED_12: no CD events
    state[_Y], state[_HIGH], state[_LOW], state[_LOOP] = cur_y, high, low, loop
    state[_BASE_X], state[_VECT_P], state[_HAVE_TIME] = base_x, vect_p, have_time
    state[_NO_TIME], state[_OUT_OF_RANGE] = no_time, out_of_range
    stats[BACKWARDS], stats[LAST_T] = backwards, last_t
    return n


@numba.njit(cache=True, nogil=True)
def _encode(t, x, y, p, out):
    n_out = 0
    cur_th = -1  # t >> 12 of the last TIME_HIGH written (loops included)
    cur_low = -1
    cur_y = -1
    i = 0
    n = len(t)
    while i < n:
        th = t[i] >> 12
        if th != cur_th:
            # step in increments small enough for the decoder to see every 24-bit wrap
            step_from = 0 if cur_th < 0 else cur_th
            while th - step_from > 1024:
                step_from += 1024
                out[n_out] = 0x8000 | (step_from & 0xFFF)
                n_out += 1
            out[n_out] = 0x8000 | (th & 0xFFF)
            n_out += 1
            cur_th = th
            cur_low = -1
        low = t[i] & 0xFFF
        if low != cur_low:
            out[n_out] = 0x6000 | low
            n_out += 1
            cur_low = low
        if y[i] != cur_y:
            out[n_out] = y[i] & 0x7FF
            n_out += 1
            cur_y = y[i]
        pol = 1 if p[i] > 0 else 0
        # a run of events with the same time, row and polarity and x rising in steps of at most 12 -> vectors
        j = i + 1
        while (j < n and t[j] == t[i] and y[j] == y[i] and (p[j] > 0) == (p[i] > 0)
               and x[j] > x[j - 1] and x[j] - x[j - 1] <= 12):
            j += 1
        if j - i == 1:
            out[n_out] = 0x2000 | (pol << 11) | (x[i] & 0x7FF)
            n_out += 1
        else:
            base = np.int64(x[i])
            out[n_out] = 0x3000 | (pol << 11) | (base & 0x7FF)
            n_out += 1
            k = i
            while k < j:
                mask = 0
                while k < j and x[k] < base + 12:
                    mask |= 1 << (x[k] - base)
                    k += 1
                out[n_out] = 0x4000 | mask
                n_out += 1
                base += 12
        i = j
    return n_out


def encode(t: np.ndarray, x: np.ndarray, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Encode time-sorted events (t µs >= 0, x, y < 2048, p ±1) as EVT 3.0 words (uint16).

    Consecutive events with equal time, row and polarity become VECT_BASE_X + VECT_12 words; others EVT_ADDR_X.
    TIME_HIGH words are written in steps of at most 1024 (4.2 s) so that a decoder recovers every 24-bit wrap.
    Integer arrays are read where they lie (the fields of :class:`~neurofocus.types.Events` records: no copies).
    """
    t = np.asarray(t, np.int64)
    x, y, p = (a if a.dtype.kind in "iu" else a.astype(np.int64) for a in map(np.asarray, (x, y, p)))
    span = int(t[-1] >> 12) + 1 if len(t) else 0
    out = np.empty(4 * len(t) + span // 1024 + 8, np.uint16)
    return out[:_encode(t, x, y, p, out)]
