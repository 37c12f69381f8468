"""neurofocus: neuromorphic all-in-focus imaging.

The data model lives in :mod:`neurofocus.types`, file formats in :mod:`neurofocus.io`, event and spike
representations in :mod:`neurofocus.represent`.
"""

__version__ = "0.1.0"

from .errors import NeurofocusError  # noqa: E402
from .io import load_events, load_spikes, save_events, save_spikes  # noqa: E402
from .types import EVENT_DTYPE, Events, FocalSweep, GroundTruth, Spikes  # noqa: E402

__all__ = ["EVENT_DTYPE", "Events", "FocalSweep", "GroundTruth", "NeurofocusError", "Spikes", "__version__",
           "load_events", "load_spikes", "save_events", "save_spikes"]
