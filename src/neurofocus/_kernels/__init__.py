"""The package's C kernels, compiled ahead of time at install (``setup.py``: the ``_lib`` library beside this file)
and called through ctypes, so that a command using them starts without a JIT compiler (loading takes ~2 ms). ctypes
releases the GIL during each call, as the numba kernels they replace did (``nogil``).

Each kernel takes plain pointers: events as their :data:`~neurofocus.types.EVENT_DTYPE` records (:func:`records`),
other arrays by :func:`address`. The C sources lie beside this file; each says what it mirrors.
"""

from __future__ import annotations

import ctypes
import os
from importlib.machinery import EXTENSION_SUFFIXES

import numpy as np

from ..errors import NeurofocusError
from ..types import EVENT_DTYPE

_PATH = os.path.join(os.path.dirname(__file__), "_lib" + EXTENSION_SUFFIXES[0])
try:
    lib = ctypes.CDLL(_PATH)
except OSError as exc:
    raise ImportError(f"neurofocus's compiled kernels are missing ({exc}): install the package with pip, or build "
                      f"them in a checkout with `python setup.py build_ext --inplace`") from None

_P, _I = ctypes.c_void_p, ctypes.c_int64
for _name, (_result, *_arguments) in {  # name: result type (None: void), argument types (pointers and int64)
    "evt3_max_events": (_I, _P, _I),
    "evt3_decode": (_I, _P, _I, _P, _I, _I, _P, _I, _I, _P),
    "evt3_encode": (_I, _P, _I, _I, _P, _P, _I),
    "evt2_decode": (_I, _P, _I, _P, _I, _I, _P, _I, _I, _P),
    "evt21_max_events": (_I, _P, _I, _I),
    "evt21_decode": (_I, _P, _I, _I, _P, _I, _I, _P, _I, _I, _P),
    "evt2_encode": (_I, _P, _I, _I, _P, _P, _I),
    "evt21_encode": (_I, _P, _I, _I, _I, _P, _P, _I),
    "dat_decode": (None, _P, _I, _P, _P),
    "ecf_decode": (_I, _P, _I, _P, _P, _P, _P, _I),
    "ecf_put_fields": (_I, _P, _P, _P, _P, _I, _P, _I, _I, _P),
    "ecf_encode": (_I, _P, _P, _P, _P, _I, _I, _P, _I),
    "polarity_build": (_I, _P, _I, _I, _I, _I, _P, _P, _P),
    "polarity_query": (None, _P, _P, _P, *(_I,) * 8, _P, _P),
    "polarity_positions": (None, _P, _P, _I, _I, _P),
    "polarity_net_from": (None, _P, _P, _P, _P, *(_I,) * 8, _P),
    "polarity_split_counts": (None, _P, _P, _P, _I, _I, _P, _P, _P, _P),
    "accumulate_frames": (_I, _P, *(_I,) * 9, _P),
    "latest_times": (_I, _P, *(_I,) * 5, _P),
    "splat_voxels": (_I, _P, *(_I,) * 5, _P),
    "group_by_patch": (_I, _P, _I, _I, _P, _I, _P, _I, _I, _P, _P),
    "voltmeter_rows": (_I, _P, *(_I,) * 4, _P, _P, _I, _I, _P, _P, _I, _P, _P, _P, _P, _I),
    "stream_states": (None, ctypes.c_uint64, _I, _P),
    "sort_events": (_I, _P, _P, _P, _P, _I, _P, _I, _P, _I, _P, _I),
}.items():
    getattr(lib, _name).restype = _result
    getattr(lib, _name).argtypes = _arguments


def address(array: np.ndarray, dtype, *, writable: bool = False) -> int:
    """Address of the C-contiguous ``array`` of ``dtype`` (checked: a kernel reads it as plain memory)."""
    if array.dtype != dtype or not array.flags.c_contiguous or (writable and not array.flags.writeable):
        raise ValueError(f"a kernel needs a C-contiguous{' writable' if writable else ''} {np.dtype(dtype)} array, "
                         f"got {array.dtype} with flags {array.flags}")
    return array.ctypes.data


def records(data: np.ndarray) -> tuple[int, int, int]:
    """(address, stride in bytes, count) of a 1-D :data:`~neurofocus.types.EVENT_DTYPE` array (any stride)."""
    if data.dtype != EVENT_DTYPE or data.ndim != 1:
        raise ValueError(f"a kernel needs 1-D event records, got {data.dtype} of shape {data.shape}")
    return data.ctypes.data, data.strides[0], len(data)


def check(status: int, problem: str, work: str) -> None:
    """Raise for a kernel's nonzero ``status``: -2 (its scratch allocation failed) as MemoryError about ``work``, any
    other as NeurofocusError(``problem``)."""
    if status == -2:
        raise MemoryError(f"no memory for {work}")
    if status:
        raise NeurofocusError(problem)
