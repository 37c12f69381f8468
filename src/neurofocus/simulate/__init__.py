"""Simulation: synthetic event streams with exactly known content."""

from .patterns import moving_bars_events

__all__ = ["moving_bars_events"]
