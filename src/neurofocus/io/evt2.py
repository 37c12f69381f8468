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
"""

from __future__ import annotations

import numba
import numpy as np

from .kernels import popcount32, put, put_mask
from .records import BACKWARDS, LAST_T, OFF, ON

_HIGH, _LOOP, _HAVE_TIME, _NO_TIME, _OUT_OF_RANGE = range(5)
STATE_SIZE = 5
NO_TIME_SLOT = _NO_TIME
OUT_OF_RANGE_SLOT = _OUT_OF_RANGE
_HIGH_BITS = 28


def new_state() -> np.ndarray:
    """Fresh decoder state for the start of a stream."""
    return np.zeros(STATE_SIZE, np.int64)


@numba.njit(cache=True, nogil=True, inline="always")
def _time_high(value, high, loop, have_time):
    """(high, wrap count, time base in µs) after a TIME_HIGH ``value`` (28 bits) that follows ``high``."""
    if have_time and value < high and high - value >= (1 << (_HIGH_BITS - 1)):
        loop += 1
    return value, loop, ((loop << _HIGH_BITS) | value) << 6


@numba.njit(cache=True, nogil=True, inline="always")
def _load(state, stats):
    """The decoder's state and statistics as locals: high, loop, have_time, no_time, out_of_range, backwards,
    last_t, time base (µs)."""
    high, loop = state[_HIGH], state[_LOOP]
    return (high, loop, state[_HAVE_TIME], state[_NO_TIME], state[_OUT_OF_RANGE], stats[BACKWARDS], stats[LAST_T],
            ((loop << _HIGH_BITS) | high) << 6)


@numba.njit(cache=True, nogil=True, inline="always")
def _store(state, stats, high, loop, have_time, no_time, out_of_range, backwards, last_t):
    """Save the locals of :func:`_load` back (the time base is derived)."""
    state[_HIGH], state[_LOOP], state[_HAVE_TIME] = high, loop, have_time
    state[_NO_TIME], state[_OUT_OF_RANGE] = no_time, out_of_range
    stats[BACKWARDS], stats[LAST_T] = backwards, last_t


@numba.njit(cache=True, nogil=True)
def decode_evt2(words, state, width, height, out, n, stats):
    """Decode EVT 2.0 ``words`` (uint32) into the records ``out`` (int64 (N, 2) view, see :mod:`.records`) from
    index ``n``; returns the new count. ``state`` carries the decoder between chunks; ``stats`` gets the time steps
    back and the last time. ``out`` must hold ``n + len(words)`` records (at most one event per word)."""
    high, loop, have_time, no_time, out_of_range, backwards, last_t, base = _load(state, stats)
    for i in range(len(words)):
        w = np.int64(words[i])
        kind = w >> 28
        if kind <= 1:
            if not have_time:
                no_time += 1
                continue
            xx = (w >> 11) & 0x7FF
            yy = w & 0x7FF
            if xx >= width or yy >= height:
                out_of_range += 1
                continue
            tt = base | ((w >> 22) & 0x3F)
            backwards += tt < last_t
            last_t = tt
            put(out, n, tt, xx, yy, ON if kind == 1 else OFF)
            n += 1
        elif kind == 0x8:
            high, loop, base = _time_high(w & 0x0FFFFFFF, high, loop, have_time)
            have_time = 1
    _store(state, stats, high, loop, have_time, no_time, out_of_range, backwards, last_t)
    return n


@numba.njit(cache=True, nogil=True, inline="always")
def _split21(w, legacy):
    """(header, mask) halves of an EVT 2.1 word (int64)."""
    lo = w & 0xFFFFFFFF
    hi = (w >> 32) & 0xFFFFFFFF
    return (lo, hi) if legacy else (hi, lo)


@numba.njit(cache=True, nogil=True)
def max_events_evt21(words, legacy):
    """Upper bound of the events in EVT 2.1 ``words`` (an int64 view): the set mask bits of event words."""
    n = 0
    for i in range(len(words)):
        head, mask = _split21(words[i], legacy)
        if (head >> 28) <= 1:
            n += popcount32(mask)
    return n


@numba.njit(cache=True, nogil=True)
def decode_evt21(words, legacy, state, width, height, out, n, stats):
    """Decode EVT 2.1 ``words`` (an int64 view of the u64 words) into the records ``out`` from index ``n``, as
    :func:`decode_evt2`; ``out`` must hold ``n + max_events_evt21(words)`` records. Returns the new count."""
    high, loop, have_time, no_time, out_of_range, backwards, last_t, base = _load(state, stats)
    for i in range(len(words)):
        head, mask = _split21(words[i], legacy)
        kind = head >> 28
        if kind <= 1:
            if not have_time:
                no_time += popcount32(mask)
                continue
            tt = base | ((head >> 22) & 0x3F)
            x0 = (head >> 11) & 0x7FF
            yy = head & 0x7FF
            pbits = ON if kind == 1 else OFF
            if yy >= height:
                out_of_range += popcount32(mask)
                continue
            first = n
            n, outside = put_mask(out, n, tt, x0, yy, pbits, mask, width)
            out_of_range += outside
            if n > first:
                backwards += tt < last_t
                last_t = tt
        elif kind == 0x8:
            high, loop, base = _time_high(head & 0x0FFFFFFF, high, loop, have_time)
            have_time = 1
    _store(state, stats, high, loop, have_time, no_time, out_of_range, backwards, last_t)
    return n


@numba.njit(cache=True, nogil=True)
def _emit_time_high(th, cur_th, out, n_out):
    """Write TIME_HIGH words (as EVT 2.0 header values) moving from ``cur_th`` to ``th`` in wrap-safe steps."""
    step_from = 0 if cur_th < 0 else cur_th
    step = 1 << (_HIGH_BITS - 2)
    while th - step_from > step:
        step_from += step
        out[n_out] = (0x8 << 28) | (step_from & 0x0FFFFFFF)
        n_out += 1
    out[n_out] = (0x8 << 28) | (th & 0x0FFFFFFF)
    return n_out + 1


@numba.njit(cache=True, nogil=True)
def _encode_evt2(t, x, y, p, out):
    n_out = 0
    cur_th = -1
    for i in range(len(t)):
        th = t[i] >> 6
        if th != cur_th:
            n_out = _emit_time_high(th, cur_th, out, n_out)
            cur_th = th
        out[n_out] = ((1 if p[i] > 0 else 0) << 28) | ((t[i] & 0x3F) << 22) | ((x[i] & 0x7FF) << 11) | (y[i] & 0x7FF)
        n_out += 1
    return n_out


@numba.njit(cache=True, nogil=True)
def _encode_evt21_heads(t, x, y, p, heads, masks):
    """EVT 2.1 words as (header, mask) pairs of 32-bit values; TIME_HIGH words get mask 0."""
    n_out = 0
    cur_th = -1
    i = 0
    n = len(t)
    while i < n:
        th = t[i] >> 6
        if th != cur_th:
            start = n_out
            n_out = _emit_time_high(th, cur_th, heads, n_out)
            for k in range(start, n_out):
                masks[k] = 0
            cur_th = th
        x0 = x[i] & ~31
        mask = np.int64(1) << (x[i] - x0)
        j = i + 1
        while (j < n and t[j] == t[i] and y[j] == y[i] and (p[j] > 0) == (p[i] > 0)
               and x[j] > x[j - 1] and x[j] < x0 + 32):
            mask |= np.int64(1) << (x[j] - x0)
            j += 1
        heads[n_out] = ((1 if p[i] > 0 else 0) << 28) | ((t[i] & 0x3F) << 22) | ((x0 & 0x7FF) << 11) | (y[i] & 0x7FF)
        masks[n_out] = mask
        n_out += 1
        i = j
    return n_out


def _bound(t: np.ndarray) -> int:
    return 2 * len(t) + (int(t[-1] >> 6) >> (_HIGH_BITS - 2) if len(t) else 0) + 8


def encode_evt2(t, x, y, p) -> np.ndarray:
    """Encode time-sorted events (t µs >= 0, x, y < 2048, p ±1) as EVT 2.0 words (uint32)."""
    t = np.ascontiguousarray(t, np.int64)
    out = np.empty(_bound(t), np.int64)
    n = _encode_evt2(t, np.ascontiguousarray(x, np.int64), np.ascontiguousarray(y, np.int64),
                     np.ascontiguousarray(p, np.int64), out)
    return out[:n].astype(np.uint32)


def encode_evt21(t, x, y, p, legacy: bool = False) -> np.ndarray:
    """Encode time-sorted events as EVT 2.1 words (uint64), grouping runs of x in 32-pixel blocks into masks."""
    t = np.ascontiguousarray(t, np.int64)
    heads = np.empty(_bound(t), np.int64)
    masks = np.empty_like(heads)
    n = _encode_evt21_heads(t, np.ascontiguousarray(x, np.int64), np.ascontiguousarray(y, np.int64),
                            np.ascontiguousarray(p, np.int64), heads, masks)
    heads, masks = heads[:n].astype(np.uint64), masks[:n].astype(np.uint64)
    return (masks << np.uint64(32)) | heads if legacy else (heads << np.uint64(32)) | masks
