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

The decoded record is Prophesee's EventCD {x u16, y u16, p i16, t i64} (16 bytes, aligned). The codec is C
(``_kernels/ecf.c``): the decoder checks every read against the buffer's end and returns an error code on corrupt
input instead of reading past it. The last masked-x
word of a chunk may flag up to 5 entries beyond N (Metavision reuses one encoder across chunks, leaving stale x
values); like the reference decoder, they are ignored.
"""

from __future__ import annotations

import numpy as np

from .._kernels import address, lib

FILTER_ID = 0x8ECF
#: Prophesee's decoded event record, C layout of EventCD: 16 bytes, t at offset 8.
ECF_EVENT_DTYPE = np.dtype([("x", "<u2"), ("y", "<u2"), ("p", "<i2"), ("t", "<i8")], align=True)
MAX_EVENTS = 65535

# error codes of the decoder (negative)
_TRUNCATED, _TOO_MANY = -1, -2


def decode_into(chunk: bytes | np.ndarray, t: np.ndarray, x: np.ndarray, y: np.ndarray, p: np.ndarray) -> int:
    """Decode one ECF-compressed chunk into the int64 arrays t (µs), x, y, p (in {0, 1}) of length
    :data:`MAX_EVENTS`, reusable from chunk to chunk; returns the number of events.

    Raises
    ------
    ValueError
        If the chunk is truncated or malformed.
    """
    buf = np.frombuffer(chunk, np.uint8) if not isinstance(chunk, np.ndarray) else chunk.view(np.uint8).ravel()
    buf = np.ascontiguousarray(buf)
    capacity = min(len(a) for a in (t, x, y, p))
    n = lib.ecf_decode(address(buf, np.uint8), len(buf), *(address(a, np.int64, writable=True) for a in (t, x, y, p)),
                       capacity)
    if n < 0:
        raise ValueError("truncated or malformed ECF chunk" if n == _TRUNCATED
                         else f"ECF chunk claims more than {capacity} events")
    return n


def decode_chunk(chunk: bytes | np.ndarray) -> np.ndarray:
    """Decode one ECF-compressed chunk into records of :data:`ECF_EVENT_DTYPE` (p in {0, 1}); see
    :func:`decode_into`."""
    t, x, y, p = (np.empty(MAX_EVENTS, np.int64) for _ in range(4))
    n = decode_into(chunk, t, x, y, p)
    out = np.empty(n, ECF_EVENT_DTYPE)
    out["t"], out["x"], out["y"], out["p"] = t[:n], x[:n], y[:n], p[:n]
    return out


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
    out = np.empty(64 + 30 * n, np.uint8)  # worst case: 17 time bytes + 6 address bytes per event
    for m in chosen:
        size = lib.ecf_encode(*(address(a, np.int64) for a in (t, x, y, p01)), n, m,
                              address(out, np.uint8, writable=True), len(out))
        assert size >= 0, "ECF encoder: the output bound is wrong"
        if best is None or size < len(best):
            best = out[:size].tobytes()
    return best
