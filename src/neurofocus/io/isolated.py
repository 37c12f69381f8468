"""Run a third-party decoder in a forked child, where an abort, a segfault or a hang cannot take the caller down.

Used for the decoders that were seen to crash the process on corrupt files (the Rust AEDAT 4 decoder on failed
allocations, scipy's loadmat) or to hang in C (HDF5 on a corrupt variable-length attribute).
"""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
import resource
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


def _child(conn, fn, args, memory_bytes) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)  # Rust panics and C libraries print to fd 2; the parent reports in one line instead
    os.close(devnull)
    faulthandler.disable()  # its dump (to a copy of the old fd 2) would bypass that
    if memory_bytes is not None:
        _limit_address_space(memory_bytes)
    try:
        conn.send((True, fn(*args)))
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which re-raises or reports it
        conn.send((False, exc if isinstance(exc, Exception) else RuntimeError(f"{type(exc).__name__}: {exc}")))
    finally:
        conn.close()


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
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(send, fn, args, memory_bytes), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(timeout_s):
            raise NeurofocusError(f"{what} did not finish in {timeout_s:g} s: corrupt file")
        try:
            ok, value = receive.recv()
        except EOFError:
            child.join()
            raise NeurofocusError(f"{what} crashed on this file (exit status {child.exitcode}): corrupt file") from None
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join()
    if not ok:
        raise value
    return value
