"""Event-frame and spike-image pictures with a colour legend, written as PNG (atomically)."""

from __future__ import annotations

import functools
import os

import numpy as np

from ..represent import event_frames, tfp
from ..types import Events, FocalSweep, Spikes


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


def sweep_picture(sweep: FocalSweep) -> tuple[str, np.ndarray]:
    """(caption, RGB picture) of a whole sweep: its net event count, or its spikes' firing rate."""
    if sweep.events is not None:
        return ("net events per pixel over the whole sweep: red = brighter (ON), blue = darker (OFF), white = none",
                event_frame_rgb(sweep.events))
    half = sweep.spikes.num_ticks // 2
    rate = tfp(sweep.spikes, half, half)
    return ("spikes per tick over the whole sweep (firing rate; white = the highest rate)",
            np.clip(rate / max(float(rate.max()), 1e-9), 0, 1))


#: Colour maps as evenly spaced stops (matplotlib's viridis and magma at 9 points, ColorBrewer's RdBu at 11),
#: interpolated linearly; a name ending in "_r" runs backwards.
COLOUR_MAPS = {
    "viridis": ("#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725"),
    "magma": ("#000004", "#1c1044", "#4f127b", "#812581", "#b5367a", "#e55064", "#fb8761", "#fec287", "#fcfdbf"),
    "RdBu": ("#67001f", "#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#f7f7f7", "#d1e5f0", "#92c5de", "#4393c3",
             "#2166ac", "#053061"),
    "gray": ("#000000", "#ffffff"),
}
#: Where a map has no value (NaN).
_MISSING_RGB = (204, 204, 204)


def colourise(values: np.ndarray, cmap: str, vmin: float, vmax: float) -> np.ndarray:
    """A scalar map (H, W) in the colours of ``cmap`` between ``vmin`` and ``vmax`` (NaN grey): uint8 (H, W, 3)."""
    stops = COLOUR_MAPS[cmap.removesuffix("_r")]
    stops = stops[::-1] if cmap.endswith("_r") else stops
    table = np.array([[int(h[k:k + 2], 16) for k in (1, 3, 5)] for h in stops], np.float64)
    values = np.asarray(values, np.float64)
    position = np.clip((np.nan_to_num(values, nan=vmin) - vmin) / (vmax - vmin), 0, 1) * (len(stops) - 1)
    low = np.minimum(position.astype(np.int64), len(stops) - 2)
    frac = (position - low)[..., None]
    rgb = table[low] * (1 - frac) + table[low + 1] * frac
    rgb[~np.isfinite(values)] = _MISSING_RGB
    return (rgb + 0.5).astype(np.uint8)


def _tick_labels(vmin: float, vmax: float, count: int = 5) -> list[tuple[float, str]]:
    """(value, text) of ``count`` evenly spaced colour-bar ticks, with as many decimals as the range needs."""
    span = abs(vmax - vmin) or 1.0
    decimals = int(max(0, min(4, 2 - np.floor(np.log10(span)))))
    return [(v, f"{v:.{decimals}f}") for v in np.linspace(vmin, vmax, count)]


def _save_figure(path, image, cmap, vmin, vmax, label, title) -> None:
    """Write a scalar map with a title and a labelled colour bar (drawn with Pillow) as a PNG."""
    from PIL import Image, ImageDraw

    from ..images import write_image

    h, w = image.shape[:2]
    zoom = max(1, 700 // max(w, 1))
    picture = Image.fromarray(colourise(image, cmap, vmin, vmax)).resize((w * zoom, h * zoom), Image.Resampling.NEAREST)
    font, small = _font(13), _font(12)
    ink, pad, bar_w = (29, 36, 48), 12, 18
    line_h = font.getbbox("Hg")[3] + 6
    ticks = _tick_labels(vmin, vmax)
    tick_w = max(small.getbbox(text)[2] for _, text in ticks)
    label_w = font.getbbox(label)[2]
    top = pad + (line_h if title else 0)
    canvas = Image.new("RGB", (pad + picture.width + 14 + bar_w + 6 + tick_w + 10 + line_h + pad,
                               top + picture.height + pad), "white")
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((pad, pad), title, fill=ink, font=font)
    canvas.paste(picture, (pad, top))
    x_bar = pad + picture.width + 14
    ramp = np.linspace(vmax, vmin, picture.height)[:, None].repeat(bar_w, 1)
    canvas.paste(Image.fromarray(colourise(ramp, cmap, vmin, vmax)), (x_bar, top))
    draw.rectangle((x_bar - 1, top - 1, x_bar + bar_w, top + picture.height), outline=ink)
    for value, text in ticks:
        y = top + (vmax - value) / ((vmax - vmin) or 1) * (picture.height - 1)
        draw.line((x_bar + bar_w, y, x_bar + bar_w + 4, y), fill=ink)
        draw.text((x_bar + bar_w + 6, y), text, fill=ink, font=small, anchor="lm")
    side = Image.new("RGB", (label_w + 4, line_h), "white")
    ImageDraw.Draw(side).text((2, 2), label, fill=ink, font=font)
    side = side.rotate(90, expand=True)
    canvas.paste(side, (x_bar + bar_w + 6 + tick_w + 8, top + max(0, (picture.height - side.height) // 2)))
    write_image(path, np.asarray(canvas))


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


#: The accent colour that marks the input image, on sheets and in the HTML reports.
ACCENT_RGB = (214, 51, 108)


@functools.lru_cache(maxsize=None)
def _font(size: int, bold: bool = False):
    """DejaVu Sans (matplotlib's font, found without importing matplotlib), else Pillow's built-in font."""
    import importlib.util

    from PIL import ImageFont

    spec = importlib.util.find_spec("matplotlib")
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(folder, "mpl-data", "fonts", "ttf", name)
        if os.path.isfile(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def contact_sheet(images: list[np.ndarray], labels: list[str], *, columns: int = 4, title: str = "",
                  highlight: int | None = None, cell_width: int = 400) -> np.ndarray:
    """Images (sRGB float in [0, 1] or uint8, (H, W, 3)) in a grid, each under its label (lines split at "\\n");
    image ``highlight`` framed and labelled in :data:`ACCENT_RGB`. Labels sit in their own rows, so they never
    cover an image. Returns uint8 (H', W', 3)."""
    from PIL import Image, ImageDraw

    from ..color import to_uint8

    pictures = [Image.fromarray(np.asarray(i) if np.asarray(i).dtype == np.uint8 else to_uint8(np.asarray(i)))
                for i in images]
    w0, h0 = pictures[0].size
    scale = min(1.0, cell_width / w0)
    w, h = max(1, round(w0 * scale)), max(1, round(h0 * scale))
    font, title_font = _font(13), _font(16, bold=True)
    line_h = font.getbbox("Hg")[3] + 4
    label_h = line_h * max(len(label.split("\n")) for label in labels) + 6
    pad, frame = 12, 4
    rows = int(np.ceil(len(pictures) / columns))
    top = pad + (title_font.getbbox("Hg")[3] + 12 if title else 0)
    cell_w, cell_h = w + 2 * frame + pad, label_h + h + 2 * frame + pad
    sheet = Image.new("RGB", (pad + columns * cell_w, top + rows * cell_h), "white")
    draw = ImageDraw.Draw(sheet)
    if title:
        draw.text((pad, pad), title, fill=(29, 36, 48), font=title_font)
    for k, (picture, label) in enumerate(zip(pictures, labels)):
        x, y = pad + (k % columns) * cell_w, top + (k // columns) * cell_h
        colour = ACCENT_RGB if k == highlight else (29, 36, 48)
        for j, line in enumerate(label.split("\n")):
            draw.text((x + frame, y + j * line_h), line, fill=colour, font=font)
        y += label_h
        if k == highlight:
            draw.rectangle((x, y, x + w + 2 * frame - 1, y + h + 2 * frame - 1), fill=ACCENT_RGB)
        sheet.paste(picture.resize((w, h), Image.Resampling.LANCZOS) if scale < 1 else picture, (x + frame, y + frame))
    return np.asarray(sheet)


def save_contact_sheet(path: str | os.PathLike, images: list[np.ndarray], labels: list[str], *,
                       columns: int = 4, title: str = "", highlight: int | None = None) -> None:
    """Write :func:`contact_sheet` of ``images`` as a PNG (atomically)."""
    from ..images import write_image

    write_image(path, contact_sheet(images, labels, columns=columns, title=title, highlight=highlight))


def save_map(path: str | os.PathLike, values: np.ndarray, label: str, title: str = "", cmap: str = "viridis") -> None:
    """Write a scalar map (H, W) as a PNG with a colour bar labelled ``label``."""
    values = np.asarray(values, np.float64)
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    _save_figure(path, values, cmap, lo, hi if hi > lo else lo + 1, label, title)
