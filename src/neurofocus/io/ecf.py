"""ECF (Prophesee "Event Compression Format") chunk codec, HDF5 filter id 0x8ECF.

Layout of one compressed chunk (all multi-byte values little-endian), written from the public description of
Prophesee's Apache-2.0 ``hdf5_ecf`` codec:

* u32 info: number of events N = info >> 2; bit 1 set = y, x, p packed together; bit 0 set = x and p packed.
* u64 origin time t0, then a byte stream of time deltas. A byte ``(d << 4) | c`` with d < 15 advances time by d
  and emits c events at that time (c = 15: the count follows as a u16). Bytes with high nibble 15 accumulate a
  larger advance, 4 bits per byte, least significant first; the next ordinary byte then emits.
* Packed y/x/p (bit 1): ceil(N/4) groups of three u32 words holding four 24-bit values (y << 12 | x << 1 | p),
  first value in the high bits.
* Otherwise run-length ys: u16 words ``(y << 5) | c`` (c = 31: the count follows as a u16); then either
  packed x/p (bit 0: ceil(N/4) groups of three u16 words holding four 12-bit values x << 1 | p), or masked xs (u16
  words ``(x << 5) | m``: an event at x, then at x + j + 1 for each set bit 4 - j of m) followed by run-length
  polarities (bytes ``(p << 7) | c``; c = 127: the count follows as a u16).

The decoded record is Prophesee's EventCD {x u16, y u16, p i16, t i64} (16 bytes, aligned). The decoder checks every
read against the buffer's end and returns an error code on corrupt input instead of reading past it. The last masked-x
word of a chunk may flag up to 5 entries beyond N (Metavision reuses one encoder across chunks, leaving stale x
values); like the reference decoder, they are ignored.
"""

from __future__ import annotations

import numba
import numpy as np

FILTER_ID = 0x8ECF
#: Prophesee's decoded event record, C layout of EventCD: 16 bytes, t at offset 8.
ECF_EVENT_DTYPE = np.dtype([("x", "<u2"), ("y", "<u2"), ("p", "<i2"), ("t", "<i8")], align=True)
MAX_EVENTS = 65535

# error codes returned by decode (negative)
_TRUNCATED, _TOO_MANY = -1, -2


@numba.njit(cache=True, nogil=True, inline="always")
def _u16(buf, i):
    return np.int64(buf[i]) | (np.int64(buf[i + 1]) << 8)


@numba.njit(cache=True, nogil=True, inline="always")
def _u32(buf, i):
    return _u16(buf, i) | (_u16(buf, i + 2) << 16)


@numba.njit(cache=True, nogil=True)
def _read_runs(buf, i, n, word_bytes, count_bits, out):
    """Decode n run-length coded values starting at byte i: words of ``word_bytes`` with the value above the low
    ``count_bits`` and the run length in them (all ones: a u16 run length follows). Returns the next byte index, or
    a negative error code."""
    size = len(buf)
    escape = (1 << count_bits) - 1
    k = 0
    while k < n:
        if i + word_bytes > size:
            return _TRUNCATED
        v = _u16(buf, i) if word_bytes == 2 else np.int64(buf[i])
        i += word_bytes
        c = v & escape
        if c == escape:
            if i + 2 > size:
                return _TRUNCATED
            c = _u16(buf, i)
            i += 2
        if k + c > n:
            return _TRUNCATED
        out[k:k + c] = v >> count_bits
        k += c
    return i


@numba.njit(cache=True, nogil=True)
def _decode(buf, t, x, y, p):
    """Decode one chunk into preallocated arrays; returns N, or a negative error code."""
    size = len(buf)
    if size < 12:
        return _TRUNCATED
    info = _u32(buf, 0)
    n = info >> 2
    if n > len(t):
        return _TOO_MANY
    pack_yxp = (info >> 1) & 1
    pack_xp = info & 1
    cur_t = _u32(buf, 4) | (_u32(buf, 8) << 32)
    i = 12
    k = 0
    while k < n:  # timestamps
        if i >= size:
            return _TRUNCATED
        v = buf[i]
        d = v >> 4
        c = np.int64(v & 0xF)
        if d != 0xF:
            cur_t += d
            if c == 0xF:
                if i + 2 >= size:
                    return _TRUNCATED
                c = _u16(buf, i + 1)
                i += 2
            if k + c > n:
                return _TRUNCATED
            for _ in range(c):
                t[k] = cur_t
                k += 1
            i += 1
        else:
            dt = np.int64(0)
            shift = 0
            while d == 0xF:
                dt |= c << shift
                shift += 4
                i += 1
                if i >= size or shift > 60:
                    return _TRUNCATED
                v = buf[i]
                d = v >> 4
                c = np.int64(v & 0xF)
            cur_t += dt
    groups = (n + 3) // 4
    if pack_yxp:
        if i + 12 * groups > size:
            return _TRUNCATED
        for g in range(groups):
            w0 = _u32(buf, i)
            w1 = _u32(buf, i + 4)
            w2 = _u32(buf, i + 8)
            i += 12
            vals = ((w0 >> 8), (w0 & 0xFF) | ((w1 >> 16) << 8), (w1 & 0xFFFF) | ((w2 >> 24) << 16), w2 & 0xFFFFFF)
            for j in range(4):
                e = 4 * g + j
                if e < n:
                    y[e] = (vals[j] >> 12) & 0x7FF
                    x[e] = (vals[j] >> 1) & 0x7FF
                    p[e] = vals[j] & 1
        return n
    i = _read_runs(buf, i, n, 2, 5, y)
    if i < 0:
        return i
    if pack_xp:
        if i + 6 * groups > size:
            return _TRUNCATED
        for g in range(groups):
            w0 = _u16(buf, i)
            w1 = _u16(buf, i + 2)
            w2 = _u16(buf, i + 4)
            i += 6
            vals = (w0 >> 4, (w0 & 0xF) | ((w1 >> 8) << 4), (w1 & 0xFF) | ((w2 >> 12) << 8), w2 & 0xFFF)
            for j in range(4):
                e = 4 * g + j
                if e < n:
                    x[e] = vals[j] >> 1
                    p[e] = vals[j] & 1
        return n
    k = 0
    while k < n:  # masked xs
        if i + 1 >= size:
            return _TRUNCATED
        v = _u16(buf, i)
        i += 2
        base = v >> 5
        x[k] = base
        k += 1
        for j in range(5):
            if (v >> (4 - j)) & 1:
                if k < n:
                    x[k] = base + j + 1
                k += 1
    i = _read_runs(buf, i, n, 1, 7, p)
    if i < 0:
        return i
    return n


def decode_into(chunk: bytes | np.ndarray, t: np.ndarray, x: np.ndarray, y: np.ndarray, p: np.ndarray) -> int:
    """Decode one ECF-compressed chunk into the int64 arrays t (µs), x, y, p (in {0, 1}) of length
    :data:`MAX_EVENTS`, reusable from chunk to chunk; returns the number of events.

    Raises
    ------
    ValueError
        If the chunk is truncated or malformed.
    """
    buf = np.frombuffer(chunk, np.uint8) if not isinstance(chunk, np.ndarray) else chunk.view(np.uint8).ravel()
    n = _decode(buf, t, x, y, p)
    if n < 0:
        raise ValueError("truncated or malformed ECF chunk" if n == _TRUNCATED
                         else f"ECF chunk claims more than {MAX_EVENTS} events")
    return n


def decode_chunk(chunk: bytes | np.ndarray) -> np.ndarray:
    """Decode one ECF-compressed chunk into records of :data:`ECF_EVENT_DTYPE` (p in {0, 1}); see
    :func:`decode_into`."""
    t, x, y, p = (np.empty(MAX_EVENTS, np.int64) for _ in range(4))
    n = decode_into(chunk, t, x, y, p)
    out = np.empty(n, ECF_EVENT_DTYPE)
    out["t"], out["x"], out["y"], out["p"] = t[:n], x[:n], y[:n], p[:n]
    return out


# --- encoder ---------------------------------------------------------------------------------------------------------

@numba.njit(cache=True, nogil=True)
def _put_u16(out, i, v):
    out[i] = v & 0xFF
    out[i + 1] = (v >> 8) & 0xFF
    return i + 2


@numba.njit(cache=True, nogil=True)
def _put_u32(out, i, v):
    i = _put_u16(out, i, v & 0xFFFF)
    return _put_u16(out, i, (v >> 16) & 0xFFFF)


@numba.njit(cache=True, nogil=True)
def _encode_times(t, out, i):
    n = len(t)
    cur_t = t[0]
    i = _put_u32(out, i, cur_t & 0xFFFFFFFF)
    i = _put_u32(out, i, (cur_t >> 32) & 0xFFFFFFFF)
    k = 0
    while k < n:
        if t[k] - cur_t >= 15:
            dt = t[k] - cur_t
            while dt > 0:
                out[i] = 0xF0 | (dt & 0xF)
                i += 1
                dt >>= 4
            cur_t = t[k]
        d = t[k] - cur_t
        cur_t = t[k]
        c = 1
        while k + c < n and t[k + c] == cur_t:
            c += 1
        if c >= 15:
            out[i] = (d << 4) | 0xF
            i = _put_u16(out, i + 1, c)
        else:
            out[i] = (d << 4) | c
            i += 1
        k += c
    return i


@numba.njit(cache=True, nogil=True)
def _encode_yxp_packed(x, y, p, out, i):
    n = len(x)
    for g in range((n + 3) // 4):
        vals = np.zeros(4, np.int64)
        for j in range(4):
            e = 4 * g + j
            if e < n:
                vals[j] = (y[e] << 12) | (x[e] << 1) | p[e]
        i = _put_u32(out, i, ((vals[0] << 8) | (vals[1] & 0xFF)) & 0xFFFFFFFF)
        i = _put_u32(out, i, (((vals[1] >> 8) << 16) | (vals[2] & 0xFFFF)) & 0xFFFFFFFF)
        i = _put_u32(out, i, (((vals[2] >> 16) << 24) | (vals[3] & 0xFFFFFF)) & 0xFFFFFFFF)
    return i


@numba.njit(cache=True, nogil=True)
def _write_runs(values, out, i, word_bytes, count_bits):
    """Run-length code ``values`` (inverse of :func:`_read_runs`); returns the next byte index."""
    n = len(values)
    escape = (1 << count_bits) - 1
    k = 0
    while k < n:
        c = 1
        while k + c < n and values[k + c] == values[k]:
            c += 1
        word = (values[k] << count_bits) | min(c, escape)
        if word_bytes == 2:
            i = _put_u16(out, i, word)
        else:
            out[i] = word
            i += 1
        if c >= escape:
            i = _put_u16(out, i, c)
        k += c
    return i


@numba.njit(cache=True, nogil=True)
def _encode_xp_packed(x, p, out, i):
    n = len(x)
    for g in range((n + 3) // 4):
        vals = np.zeros(4, np.int64)
        for j in range(4):
            e = 4 * g + j
            if e < n:
                vals[j] = (x[e] << 1) | p[e]
        i = _put_u16(out, i, ((vals[0] << 4) | (vals[1] & 0xF)) & 0xFFFF)
        i = _put_u16(out, i, (((vals[1] >> 4) << 8) | (vals[2] & 0xFF)) & 0xFFFF)
        i = _put_u16(out, i, (((vals[2] >> 8) << 12) | (vals[3] & 0xFFF)) & 0xFFFF)
    return i


@numba.njit(cache=True, nogil=True)
def _encode_xs_masked_ps(x, p, out, i):
    n = len(x)
    k = 0
    while k < n:
        base = x[k]
        word = base << 5
        k += 1
        for j in range(5):
            if k < n and x[k] == base + j + 1:
                word |= 1 << (4 - j)
                k += 1
        i = _put_u16(out, i, word)
    return _write_runs(p, out, i, 1, 7)


@numba.njit(cache=True, nogil=True)
def _encode(t, x, y, p, mode, out):
    n = len(t)
    i = _put_u32(out, 0, (n << 2) | (2 if mode == 2 else 0) | (1 if mode == 1 else 0))
    i = _encode_times(t, out, i)
    if mode == 2:
        return _encode_yxp_packed(x, y, p, out, i)
    i = _write_runs(y, out, i, 2, 5)
    if mode == 1:
        return _encode_xp_packed(x, p, out, i)
    return _encode_xs_masked_ps(x, p, out, i)


def encode_chunk(t, x, y, p01, mode: str = "auto") -> bytes:
    """Encode up to 65535 time-sorted events (p in {0, 1}) as one ECF chunk.

    ``mode`` picks the x/y/p layout: ``"yxp"`` (bit 1), ``"xp"`` (bit 0), ``"masked"`` or ``"auto"`` (the smallest).
    """
    t, x, y, p01 = (np.ascontiguousarray(a, np.int64) for a in (t, x, y, p01))
    n = len(t)
    if not 0 < n <= MAX_EVENTS:
        raise ValueError(f"an ECF chunk holds 1..{MAX_EVENTS} events, got {n}")
    if np.any(np.diff(t) < 0) or t[0] < 0:
        raise ValueError("ECF needs non-negative, non-decreasing times")
    if x.min() < 0 or y.min() < 0 or x.max() >= 2048 or y.max() >= 2048:
        raise ValueError("ECF stores 11-bit coordinates (0..2047)")
    if np.any((p01 != 0) & (p01 != 1)):
        raise ValueError("ECF polarities must be 0 or 1")
    modes = {"masked": 0, "xp": 1, "yxp": 2}
    chosen = list(modes.values()) if mode == "auto" else [modes[mode]]
    best = None
    for m in chosen:
        out = np.empty(64 + 30 * n, np.uint8)  # worst case: 17 time bytes + 6 address bytes per event
        size = _encode(t, x, y, p01, m, out)
        if best is None or size < len(best):
            best = out[:size].tobytes()
    return best
