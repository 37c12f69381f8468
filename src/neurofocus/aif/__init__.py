"""All-in-focus imaging from a neuromorphic focal stack: refocusing, time selection, merge weights, the pipeline."""

from .pipeline import AifConfig, AifResult, all_in_focus
from .timestamps import SearchSettings

__all__ = ["AifConfig", "AifResult", "SearchSettings", "all_in_focus"]
