"""Pictures of events, spikes, sweeps and maps."""

from .pictures import (event_frame_rgb, save_contact_sheet, save_event_picture, save_map, save_spike_picture,
                       sweep_picture)

__all__ = ["event_frame_rgb", "save_contact_sheet", "save_event_picture", "save_map", "save_spike_picture",
           "sweep_picture"]
