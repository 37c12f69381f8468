"""Time surfaces: per pixel, a decaying function of the time since the latest event."""

from __future__ import annotations

import numpy as np

from .._kernels import lib, records
from ..config_dicts import check_positive
from ..errors import NeurofocusError
from ..types import Events


def latest_timestamps(events: Events, t_us: int, *, split_polarity: bool = False) -> np.ndarray:
    """Time (µs) of the latest event at or before ``t_us`` per pixel; -1 where there is none.

    Returns int64 (H, W), or (2, H, W) with channel 0 = ON, 1 = OFF when ``split_polarity``.
    """
    past = events[:events.index_at(t_us, side="right")]
    out = np.full((2 if split_polarity else 1, events.height, events.width), -1, np.int64)
    if len(past) and lib.latest_times(*records(past.data), split_polarity, events.width, events.height,
                                      out.ctypes.data):
        raise NeurofocusError(f"events outside the {events.width}x{events.height} sensor")
    return out if split_polarity else out[0]


def time_surface(events: Events, t_us: int, tau_us: float, *, kernel: str = "exponential",
                 split_polarity: bool = False) -> np.ndarray:
    """Time surface at ``t_us``: exp(−Δt/τ) (or max(0, 1 − Δt/τ) for ``kernel="linear"``) of the time Δt (µs)
    since each pixel's latest event; 0 where a pixel has had none.

    Returns float32 (H, W), or (2, H, W) [ON, OFF] when ``split_polarity``.
    """
    check_positive(tau_us, "tau_us")
    if kernel not in ("exponential", "linear"):
        raise NeurofocusError(f"kernel must be 'exponential' or 'linear', got {kernel!r}")
    latest = latest_timestamps(events, t_us, split_polarity=split_polarity)
    age = (t_us - latest).astype(np.float64) / tau_us
    value = np.exp(-age) if kernel == "exponential" else np.clip(1.0 - age, 0.0, 1.0)
    return np.where(latest >= 0, value, 0.0).astype(np.float32)
