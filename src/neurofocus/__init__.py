"""neurofocus: neuromorphic all-in-focus imaging.

The data model lives in :mod:`neurofocus.types`, file formats in :mod:`neurofocus.io`, event and spike
representations in :mod:`neurofocus.represent`. The names below are loaded on first use, so that a command imports
only what it needs.
"""

__version__ = "0.1.0"

_EXPORTS = {"NeurofocusError": "errors", "load_events": "io", "load_spikes": "io", "save_events": "io",
            "save_spikes": "io", "EVENT_DTYPE": "types", "Events": "types", "FocalSweep": "types",
            "GroundTruth": "types", "Spikes": "types"}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'neurofocus' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
