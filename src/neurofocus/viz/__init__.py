"""Pictures of events and spikes."""

from .pictures import event_frame_rgb, save_event_picture, save_spike_picture

__all__ = ["event_frame_rgb", "save_event_picture", "save_spike_picture"]
