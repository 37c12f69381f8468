"""Third-party decoders run in a forked child: its crashes, hangs and memory blow-ups stay there."""

from __future__ import annotations

import os

import numpy as np
import pytest

from neurofocus.errors import NeurofocusError
from neurofocus.io.isolated import call_isolated


def _allocate(n_bytes: int) -> int:
    return int(np.ones(n_bytes, np.uint8).sum())


def test_result_and_exceptions_come_back():
    assert call_isolated(_allocate, 1000, what="x") == 1000
    with pytest.raises(ValueError, match="negative dimensions"):
        call_isolated(_allocate, -1, what="x")


def test_memory_cap_turns_a_blow_up_into_memory_error():
    assert call_isolated(_allocate, 50 << 20, what="x", memory_bytes=256 << 20) == 50 << 20
    with pytest.raises(MemoryError):
        call_isolated(_allocate, 1 << 30, what="x", memory_bytes=256 << 20)


def test_a_crash_is_an_error_naming_the_decoder():
    with pytest.raises(NeurofocusError, match="the decoder crashed"):
        call_isolated(os.abort, what="the decoder")
