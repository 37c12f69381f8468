"""Event records written by the decoding kernels straight into their final :data:`~neurofocus.types.EVENT_DTYPE`
array: one allocation, filled in one pass, returned as a view trimmed to the events written (no copy).

The C kernels (``_kernels/records.h``) see the records as an int64 array of shape (N, 2): column 0 is ``t`` (µs),
column 1 packs ``x`` (bits 0..15), ``y`` (bits 16..31) and ``p`` (int8 at bits 32..39, 0x01 = ON, 0xFF = OFF); the
padding bytes are zero. Alongside, they keep running statistics in
an int64 :data:`STATS_SIZE` vector (:func:`new_stats`): the number of times time goes backwards, the last time and
the largest x and y, so that no second pass over the output is needed.
"""

from __future__ import annotations

import sys

import numpy as np

from ..errors import NeurofocusError
from ..types import EVENT_DTYPE

assert sys.byteorder == "little", "the packed record layout assumes a little-endian machine"

BACKWARDS, LAST_T, MAX_X, MAX_Y = range(4)
STATS_SIZE = 4


def new_records(capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """Uninitialised records (``EVENT_DTYPE``, shape (capacity,)) and their int64 (capacity, 2) view for kernels."""
    records = np.empty(capacity, EVENT_DTYPE)
    return records, records.view(np.int64).reshape(capacity, 2)


def new_stats() -> np.ndarray:
    """Running statistics (int64, :data:`STATS_SIZE`) for an empty output: no step back, last time -2**63, max -1."""
    return np.array([0, np.iinfo(np.int64).min, -1, -1], np.int64)


def decoder_buffers(state: np.ndarray, state_size: int, out: np.ndarray,
                    stats: np.ndarray) -> tuple[int, int, int, int]:
    """Addresses of a decoder's state (int64, ``state_size``), of the records ``out`` (int64 (N, 2) view) with their
    capacity N, and of the statistics, for a decoding kernel."""
    from .._kernels import address  # here: the AEDAT 4 reader fills records without loading the C library

    if state.shape != (state_size,) or stats.shape != (STATS_SIZE,) or out.ndim != 2 or out.shape[1] != 2:
        raise ValueError("a decoder needs its state, an (N, 2) record view and the statistics vector")
    return (address(state, np.int64, writable=True), address(out, np.int64, writable=True), len(out),
            address(stats, np.int64, writable=True))


def decoded(count: int, encoding: str) -> int:
    """The record count a decoding kernel returned; a negative count means that the records it was given (counted
    before decoding) were too few."""
    if count < 0:
        raise NeurofocusError(f"more {encoding} events than counted before decoding: did the file change while it "
                              f"was read?")
    return count
