"""Representations of events and spikes: count frames, voxel grids, time surfaces, cumulative polarity tables,
spike TFP/TFI images, and the networks' neuromorphic-focal-stack channels."""

from .event_frames import event_frames
from .nfs_channels import (
    DEFAULT_COUNT_SCALE,
    event_bins,
    event_bins_region,
    event_slices,
    spike_bins,
    spike_slices,
)
from .polarity_table import PolarityTable
from .spike_images import tfi, tfp
from .time_surface import latest_timestamps, time_surface
from .voxel import normalize_voxel_grid, voxel_grid

__all__ = ["DEFAULT_COUNT_SCALE", "PolarityTable", "event_bins", "event_bins_region", "event_frames", "event_slices",
           "latest_timestamps", "normalize_voxel_grid", "spike_bins", "spike_slices", "tfi", "tfp", "time_surface",
           "voxel_grid"]
