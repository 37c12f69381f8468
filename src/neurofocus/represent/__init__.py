"""Representations of events and spikes: count frames, voxel grids, time surfaces, cumulative polarity tables,
spike TFP/TFI images."""

from .event_frames import event_frames
from .polarity_table import PolarityTable
from .spike_images import tfi, tfp
from .time_surface import latest_timestamps, time_surface
from .voxel import normalize_voxel_grid, voxel_grid

__all__ = ["PolarityTable", "event_frames", "latest_timestamps", "normalize_voxel_grid", "tfi", "tfp",
           "time_surface", "voxel_grid"]
