"""Event-frame and spike-image pictures with a colour legend, written as PNG (atomically)."""

from __future__ import annotations

import os

import numpy as np

from ..atomic import atomic_path
from ..represent import event_frames, tfp
from ..types import Events, Spikes


def _symmetric_limit(values: np.ndarray) -> float:
    """A colour-scale limit: the 99th percentile of the non-zero magnitudes (at least 1)."""
    nonzero = np.abs(values[values != 0])
    return float(max(1.0, np.percentile(nonzero, 99))) if nonzero.size else 1.0


def event_frame_rgb(events: Events) -> np.ndarray:
    """Net event count per pixel as an RGB picture: white = no events, red = brighter (ON), blue = darker (OFF).

    Returns uint8 (H, W, 3).
    """
    net = event_frames(events, 1)[0].astype(np.float32) if len(events) else np.zeros(
        (events.height, events.width), np.float32)
    level = np.clip(net / _symmetric_limit(net), -1, 1)[..., None]
    red, blue, white = np.array([0.84, 0.1, 0.1]), np.array([0.13, 0.3, 0.8]), np.ones(3)
    rgb = np.where(level > 0, white + level * (red - white), white - level * (blue - white))
    return (rgb * 255 + 0.5).astype(np.uint8)


def _save_figure(path, image, cmap, vmin, vmax, label, title) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    h, w = image.shape[:2]
    fig_w = 7.0
    fig, ax = plt.subplots(figsize=(fig_w, fig_w * h / w * 0.9 + 0.8), dpi=max(100, int(1.3 * w / fig_w)))
    shown = ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    fig.colorbar(shown, ax=ax, label=label, fraction=0.046, pad=0.03)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def save_event_picture(path: str | os.PathLike, events: Events, title: str = "") -> None:
    """Write the net event count per pixel of ``events`` as a PNG with a colour bar (red = ON, blue = OFF)."""
    net = event_frames(events, 1)[0] if len(events) else np.zeros((events.height, events.width), np.int32)
    limit = _symmetric_limit(net)
    _save_figure(path, net, "RdBu_r", -limit, limit, "net events per pixel (+ brighter / − darker)", title)


def save_spike_picture(path: str | os.PathLike, spikes: Spikes, center_tick: int, half_window: int,
                       title: str = "") -> None:
    """Write the TFP image (spikes per tick over 2h+1 ticks) around ``center_tick`` as a PNG with a colour bar."""
    image = tfp(spikes, center_tick, half_window)
    _save_figure(path, image, "gray", 0.0, max(float(image.max()), 1e-6), "spikes per tick (TFP)", title)


def save_contact_sheet(path: str | os.PathLike, images: list[np.ndarray], labels: list[str], *,
                       columns: int = 4, title: str = "") -> None:
    """Write images (sRGB float in [0, 1] or uint8, (H, W, 3)) in a labelled grid as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = int(np.ceil(len(images) / columns))
    h, w = np.asarray(images[0]).shape[:2]
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 3.2 * rows * h / w + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, image, label in zip(axes.ravel(), images, labels):
        ax.imshow(np.asarray(image))
        ax.set_title(label, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def save_map(path: str | os.PathLike, values: np.ndarray, label: str, title: str = "", cmap: str = "viridis") -> None:
    """Write a scalar map (H, W) as a PNG with a colour bar labelled ``label``."""
    values = np.asarray(values, np.float64)
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    _save_figure(path, values, cmap, lo, hi if hi > lo else lo + 1, label, title)
