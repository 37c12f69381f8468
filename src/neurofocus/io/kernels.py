"""numba helper of the decoding kernels still compiled by numba (DAT, HDF5 fields), kept apart from :mod:`.records`,
which must not import numba: the AEDAT 4 reader fills records with numpy alone, so that ``neurofocus info`` on such a
file starts fast. The C decoders (EVT 2.x, EVT 3) write records with ``put_event`` of ``_kernels/records.h``."""

from __future__ import annotations

import numba


@numba.njit(cache=True, nogil=True, inline="always")
def put(out, n, t, x, y, pbits):
    """Write event ``n`` (t µs, x, y, ``pbits`` = :data:`.records.ON` or :data:`.records.OFF`) into the (N, 2) int64
    view ``out``."""
    out[n, 0] = t
    out[n, 1] = x | (y << 16) | pbits
