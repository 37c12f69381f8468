"""Run a third-party decoder in a forked child, where an abort, a segfault or a hang cannot take the caller down.

Used for the decoders that were seen to crash the process on corrupt files (scipy's loadmat) or to hang in C (HDF5 on
a corrupt variable-length attribute).
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import resource
import select
import signal
from collections.abc import Callable

from ..errors import NeurofocusError


def _limit_address_space(extra_bytes: int) -> None:
    """Let this process grow by at most ``extra_bytes`` of address space (a failed allocation is a MemoryError)."""
    with open("/proc/self/status") as f:
        size = next((int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:")), None)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if size is not None:
        limit = size + extra_bytes
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        if soft == resource.RLIM_INFINITY or limit < soft:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _child(write_fd: int, fn, args, memory_bytes) -> None:
    """Run ``fn(*args)`` in the forked child and send (ok, value or exception) to ``write_fd``; never returns."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)  # Rust panics and C libraries print to fd 2; the parent reports in one line instead
        os.close(devnull)
        faulthandler.disable()  # its dump (to a copy of the old fd 2) would bypass that
        if memory_bytes is not None:
            _limit_address_space(memory_bytes)
        try:
            message = pickle.dumps((True, fn(*args)))
        except BaseException as exc:  # noqa: BLE001 - handed to the parent, which re-raises or reports it
            message = pickle.dumps((False, exc if isinstance(exc, Exception)
                                    else RuntimeError(f"{type(exc).__name__}: {exc}")))
        with os.fdopen(write_fd, "wb") as f:
            f.write(message)
    finally:
        os._exit(0)


def memory_for(path, per_byte: int = 64, floor: int = 1 << 30) -> int:
    """Memory a decoder may use for ``path``: ``per_byte`` times its size, at least ``floor`` bytes."""
    return max(floor, per_byte * os.path.getsize(path))


def call_isolated(fn: Callable, *args, what: str, timeout_s: float | None = None, memory_bytes: int | None = None):
    """``fn(*args)`` in a forked child; its exceptions are re-raised here.

    ``memory_bytes`` caps how much the child may grow (see :func:`memory_for`): beyond it, its allocations fail
    with MemoryError, which is re-raised here.

    Raises
    ------
    NeurofocusError
        If the child dies (``what`` crashed) or runs past ``timeout_s`` seconds.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(write_fd, fn, args, memory_bytes)
    os.close(write_fd)
    message = b""
    try:
        with os.fdopen(read_fd, "rb") as f:
            if not select.select([f], [], [], timeout_s)[0]:
                raise NeurofocusError(f"{what} did not finish in {timeout_s:g} s: corrupt file")
            message = f.read()
    finally:
        if not message:  # hung, crashed or interrupted: make sure it is gone
            os.kill(pid, signal.SIGKILL)  # a child that already died is a zombie until waited for: no error
        status = os.waitpid(pid, 0)[1]
    if not message:
        raise NeurofocusError(f"{what} crashed on this file (exit status {os.waitstatus_to_exitcode(status)}): "
                              f"corrupt file")
    ok, value = pickle.loads(message)
    if not ok:
        raise value
    return value
