"""numba helpers shared by the decoding kernels (kept apart from :mod:`.records`, which must not import numba: the
AEDAT 4 reader fills records with numpy alone, so that ``neurofocus info`` on such a file starts fast)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, inline="always")
def put(out, n, t, x, y, pbits):
    """Write event ``n`` (t µs, x, y, ``pbits`` = :data:`.records.ON` or :data:`.records.OFF`) into the (N, 2) int64 view ``out``."""
    out[n, 0] = t
    out[n, 1] = x | (y << 16) | pbits


@numba.njit(cache=True, nogil=True, inline="always")
def popcount32(m):
    """Number of set bits of a 32-bit value (int64)."""
    m = m - ((m >> 1) & 0x55555555)
    m = (m & 0x33333333) + ((m >> 2) & 0x33333333)
    return ((((m + (m >> 4)) & 0x0F0F0F0F) * 0x01010101) & 0xFFFFFFFF) >> 24


#: Bit index of a power of two p < 2**32, looked up at ((p * 0x077CB531) mod 2**32) >> 27 (de Bruijn sequence).
_BIT_INDEX = np.array([0, 1, 28, 2, 29, 14, 24, 3, 30, 22, 20, 15, 25, 17, 4, 8,
                       31, 27, 13, 23, 21, 19, 16, 7, 26, 12, 18, 6, 11, 5, 10, 9], np.int64)


@numba.njit(cache=True, nogil=True, inline="always")
def bit_index(power):
    """Index of the one set bit of ``power`` (a power of two below 2**32, int64)."""
    return _BIT_INDEX[((power * 0x077CB531) & 0xFFFFFFFF) >> 27]


@numba.njit(cache=True, nogil=True, inline="always")
def put_mask(out, n, t, x0, y, pbits, mask, width):
    """Write an event (t, x0 + i, y, pbits) for each set bit i of ``mask`` whose x lies below ``width`` into ``out``
    from index ``n``; returns (the new count, the events outside the sensor)."""
    outside = 0
    while mask:
        bit = mask & -mask
        mask ^= bit
        x = x0 + bit_index(bit)
        if x < width:
            put(out, n, t, x, y, pbits)
            n += 1
        else:
            outside += 1
    return n, outside
