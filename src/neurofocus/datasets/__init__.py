"""Datasets on disk: the sample and sequence folder contract, one home for every kind (write, read, list, synthesize).

Two kinds are registered (:data:`KINDS`; :func:`register_kind` adds one): focal sweeps and defocused-event videos.

Layout of a focal-sweep sample folder (:func:`write_sample`, :func:`load_sample`; ``neurofocus simulate`` writes
one, ``neurofocus synth`` a dataset of ``scene_00000`` ...)::

    image.png        the RGB camera's image (8-bit sRGB), captured at ``image_time_us``
    aif.png          all-in-focus ground truth (8-bit sRGB)
    events.hdf5      events (Prophesee HDF5, ECF-compressed; readable by neurofocus and Metavision), or
                     events.<ext> in another event format
    spikes.h5        spikes, when simulated (bit-packed, gzip), or spikes.dat (PKU Vidar, with its sidecar JSON)
    truth.npz        depth_m (H, W) float32 (absent for light fields), infocus_time_us (H, W) float64,
                     frame_times_us (T,), focus_m (T,), kept_indices (K,), kept_frames (K, H, W, 3) uint8 sRGB
    sample.json      everything else: image time, sweep and sensor parameters, seeds, counts, timings

Layout of a defocused-event video sequence folder (:func:`write_video_sample`, :func:`load_video_sample`;
``neurofocus synth --kind defocus-video`` writes a dataset of ``seq_00000`` ...)::

    events.hdf5        events of the defocused frames (Prophesee HDF5, ECF-compressed), when simulated
    events_sharp.hdf5  events of the sharp frames, with ``sharp_events``
    frames.npz         sharp (T, H, W, 3) uint8 sRGB, the pinhole frames
                       defocused (T, H, W, 3) uint8 sRGB
                       blur_px (T, H, W) float16, blur-circle diameter of the visible layer (pixels)
                       depth_m (T, H, W) float16, depth of the visible layer (metres)
                       flow (T-1, H, W, 2) float16, forward flow (dx, dy) from frame k to k+1 (pixels,
                       rounded to 1/1024 px)
                       flow_valid (T-1, H, W) bool, where the flow is defined
                       frame_times_us (T,) int64, focus_m (T,) float64
    sequence.json      size, frame times, lens, PSF, focus schedule, per-layer motion (per-frame centre, angle,
                       scale, depth, blur) and how it was drawn, sensor parameters, seeds, counts, seconds

A dataset folder holds ``config.json`` (with ``"kind"`` for the videos), the item folders and ``manifest.json``
(:func:`synthesize`, :mod:`.synthesize`). What each item holds is simulated by :mod:`neurofocus.simulate`
(:func:`~neurofocus.simulate.dataset.simulate_scene_sample`,
:func:`~neurofocus.simulate.defocus_video.simulate_video_sample`); this package writes and reads it.
"""

from .folders import (
    KINDS,
    DatasetKind,
    Sample,
    dataset_kind,
    has_stream,
    is_sample_folder,
    jsonable,
    kind_of_config,
    list_folders,
    load_sample,
    load_video_sample,
    read_info,
    register_kind,
    sample_focus_schedule,
    sample_ground_truth,
    sample_image_time,
    write_sample,
    write_video_sample,
)
from .synthesize import parse_shard, synthesize, write_manifest

__all__ = ["KINDS", "DatasetKind", "Sample", "dataset_kind", "has_stream", "is_sample_folder", "jsonable",
           "kind_of_config", "list_folders", "load_sample", "load_video_sample", "parse_shard", "read_info",
           "register_kind", "sample_focus_schedule", "sample_ground_truth", "sample_image_time", "synthesize",
           "write_manifest", "write_sample", "write_video_sample"]
