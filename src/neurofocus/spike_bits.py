"""The numba kernel behind :meth:`neurofocus.types.Spikes.count`, in a module of its own so that importing the data
model does not load numba (about 0.4 s)."""

from __future__ import annotations

import numba


@numba.njit(cache=True, nogil=True)
def count_bits(packed, start, stop, y0, y1, x0, x1, out):
    """Add the set bits of ``packed`` (T, H, ceil(W / 8)) uint8, little bit order, over ticks ``start..stop-1`` and
    pixels [y0, y1) × [x0, x1) to ``out`` (y1 - y0, x1 - x0) int32."""
    for k in range(start, stop):
        for y in range(y0, y1):
            row = packed[k, y]
            for x in range(x0, x1):
                out[y - y0, x - x0] += (row[x >> 3] >> (x & 7)) & 1
