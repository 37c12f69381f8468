"""Self-contained HTML reports: one file, images inlined as PNG data URIs, no network, no external script.

Three pages share one look (:data:`_STYLE`) and one script (:data:`_SCRIPT`):

* :func:`write_aif_report` — input vs result (draggable split, zoom), a focus slider over the refocused stack
  ("refocus at any time"), the in-focus time map with a colour bar and a per-pixel read-out, the sweep's
  events/spikes, settings, timings and metrics;
* :func:`write_evfocus_report` — a frame player over a reconstructed sequence;
* :func:`write_bench_report` — benchmark tables and per-case picture strips.

The page's widgets are plain HTML elements with stable ids (``focus-slider``, ``focus-image``, ``frame-slider``,
``frame-image``, ...) so that a browser test can drive them.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Sequence

import numpy as np

from ..atomic import write_text_atomic
from ..images import png_bytes
from .pictures import COLOUR_MAPS

#: The in-focus map's colours (the page interpolates linearly between the stops, like the PNG maps).
VIRIDIS_STOPS = COLOUR_MAPS["viridis"]

_STYLE = """
:root { --fg: #1d2430; --muted: #5d6776; --line: #d8dde5; --accent: #d6336c; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg);
       margin: 0; padding: 20px 28px 60px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; }
.summary { color: var(--muted); margin-bottom: 8px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px 16px;
          margin-top: 16px; }
section > h2 { margin-top: 0; }
.hint { color: var(--muted); font-size: 12px; }
.viewport { position: relative; overflow: hidden; display: inline-block; border: 1px solid var(--line);
            background: #222; max-width: 100%; cursor: grab; touch-action: none; }
.viewport .zoomed { transform-origin: 0 0; position: relative; }
.viewport img, .viewport canvas { display: block; image-rendering: pixelated; max-width: none; }
.compare .top { position: absolute; left: 0; top: 0; }
.compare .handle { position: absolute; top: 0; bottom: 0; width: calc(3px / var(--scale, 1)); background: var(--accent);
                   cursor: ew-resize; box-shadow: 0 0 0 1px #fff; }
.compare .tag { position: absolute; top: 6px; padding: 1px 6px; font-size: 12px; color: #fff;
                background: rgba(0,0,0,.6); border-radius: 3px; pointer-events: none; }
.controls { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; margin: 8px 0; }
.controls input[type=range] { width: min(640px, 80vw); }
button { font: inherit; padding: 2px 10px; border: 1px solid var(--line); border-radius: 4px; background: #fff;
         cursor: pointer; } button.on { border-color: var(--accent); color: var(--accent); }
.readout { font-variant-numeric: tabular-nums; min-height: 1.4em; }
.marks { position: relative; height: 14px; width: min(640px, 80vw); }
.marks span { position: absolute; top: 0; width: 2px; height: 8px; background: var(--muted); }
.marks span.input { background: var(--accent); height: 14px; width: 3px; }
.colorbar { width: 320px; height: 14px; border: 1px solid var(--line); }
.bar-labels { display: flex; justify-content: space-between; width: 320px; font-size: 12px; color: var(--muted); }
table { border-collapse: collapse; margin: 6px 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #eef1f5; }
.strip { display: flex; gap: 6px; overflow-x: auto; padding-bottom: 4px; }
.strip figure { margin: 0; text-align: center; font-size: 11px; color: var(--muted); }
.strip img { display: block; height: 130px; image-rendering: auto; border: 1px solid var(--line); }
.legend { font-size: 12px; color: var(--muted); }
"""

_SCRIPT = r"""
"use strict";
function zoomable(viewport) {
  // Wheel or the zoom buttons scale the content about the cursor; dragging pans.
  const inner = viewport.querySelector(".zoomed");
  let scale = 1, x = 0, y = 0, drag = null;
  const apply = () => {
    inner.style.transform = `translate(${x}px, ${y}px) scale(${scale})`; inner.style.setProperty("--scale", scale);
  };
  const zoomTo = (s, cx, cy) => {
    s = Math.min(16, Math.max(1, s));
    x = cx - (cx - x) * s / scale; y = cy - (cy - y) * s / scale; scale = s;
    if (scale === 1) { x = 0; y = 0; }
    apply();
  };
  viewport.addEventListener("wheel", e => {
    e.preventDefault();
    const r = viewport.getBoundingClientRect();
    zoomTo(scale * (e.deltaY < 0 ? 1.25 : 0.8), e.clientX - r.left, e.clientY - r.top);
  }, {passive: false});
  viewport.addEventListener("pointerdown", e => {
    if (e.target.classList.contains("handle") || scale === 1) return;
    drag = {px: e.clientX, py: e.clientY, x, y}; viewport.setPointerCapture(e.pointerId);
  });
  viewport.addEventListener("pointermove", e => {
    if (!drag) return; x = drag.x + e.clientX - drag.px; y = drag.y + e.clientY - drag.py; apply();
  });
  viewport.addEventListener("pointerup", () => { drag = null; });
  const group = document.querySelector(`[data-zoom-for="${viewport.id}"]`);
  if (group) group.querySelectorAll("button").forEach(b => b.addEventListener("click", () => {
    const r = viewport.getBoundingClientRect(); zoomTo(Number(b.dataset.scale), r.width / 2, r.height / 2);
  }));
}

function compare(viewport) {
  // The top image (the result) is shown right of the handle, the bottom one (the input) left of it.
  const top = viewport.querySelector(".top"), handle = viewport.querySelector(".handle");
  let frac = 0.5, moving = false;
  const set = f => {
    frac = Math.min(1, Math.max(0, f));
    top.style.clipPath = `inset(0 0 0 ${frac * 100}%)`;
    handle.style.left = `calc(${frac * 100}% - 1px)`;
  };
  const fromEvent = e => { const r = top.getBoundingClientRect(); set((e.clientX - r.left) / r.width); };
  handle.addEventListener("pointerdown", e => { moving = true; handle.setPointerCapture(e.pointerId); });
  handle.addEventListener("pointermove", e => { if (moving) fromEvent(e); });
  handle.addEventListener("pointerup", () => { moving = false; });
  viewport.addEventListener("dblclick", fromEvent);
  set(frac);
}

function player(prefix, items, label) {
  // A slider over images (data URIs) with a read-out; prefix-slider, prefix-image, prefix-label, prefix-play.
  const slider = document.getElementById(prefix + "-slider"), image = document.getElementById(prefix + "-image");
  const text = document.getElementById(prefix + "-label"), play = document.getElementById(prefix + "-play");
  const show = i => { image.src = items[i].src; image.dataset.index = String(i); text.textContent = label(i); };
  slider.addEventListener("input", () => show(Number(slider.value)));
  let timer = null;
  if (play) play.addEventListener("click", () => {
    if (timer) { clearInterval(timer); timer = null; play.textContent = "play"; play.classList.remove("on"); return; }
    const fps = Number(document.getElementById(prefix + "-fps").value) || 10;
    play.textContent = "pause"; play.classList.add("on");
    timer = setInterval(() => {
      slider.value = String((Number(slider.value) + 1) % items.length); show(Number(slider.value));
    }, 1000 / fps);
  });
  show(Number(slider.value));
  return {show, slider};
}

function colour(stops, f) {
  const p = Math.min(1, Math.max(0, f)) * (stops.length - 1), i = Math.min(stops.length - 2, Math.floor(p));
  const a = stops[i], b = stops[i + 1], t = p - i;
  return [0, 1, 2].map(k => Math.round(a[k] + (b[k] - a[k]) * t));
}

function slicemap(canvas, data, onPick) {
  // Paint the per-pixel slice index map in colours of the slice times; hover reads a pixel; click picks a slice.
  const {width, height, index, times_ms, depth_m, stops} = data;
  const rgb = stops.map(h => [1, 3, 5].map(o => parseInt(h.substr(o, 2), 16)));
  const bytes = Uint8Array.from(atob(index), c => c.charCodeAt(0));
  const lo = Math.min(...times_ms), hi = Math.max(...times_ms), span = hi > lo ? hi - lo : 1;
  const lut = times_ms.map(t => colour(rgb, (t - lo) / span));
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(width, height);
  for (let p = 0; p < width * height; p++) {
    const k = bytes[p];
    const c = k < lut.length ? lut[k] : [128, 128, 128];
    img.data[4 * p] = c[0]; img.data[4 * p + 1] = c[1]; img.data[4 * p + 2] = c[2]; img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  const out = document.getElementById("map-readout");
  const at = e => {
    const r = canvas.getBoundingClientRect();
    const x = Math.floor((e.clientX - r.left) / r.width * width);
    const y = Math.floor((e.clientY - r.top) / r.height * height);
    return (x >= 0 && y >= 0 && x < width && y < height) ? {x, y, k: bytes[y * width + x]} : null;
  };
  canvas.addEventListener("mousemove", e => {
    const p = at(e); if (!p || p.k >= times_ms.length) { out.textContent = ""; return; }
    out.textContent = `pixel (${p.x}, ${p.y}): slice ${p.k + 1} of ${times_ms.length}, in focus at ` +
      `${times_ms[p.k].toFixed(2)} ms` + (depth_m ? `, depth ${depth_m[p.k].toFixed(3)} m` : "");
  });
  canvas.addEventListener("click", e => { const p = at(e); if (p && p.k < times_ms.length) onPick(p.k); });
}
"""


def png_data_uri(image: np.ndarray | bytes) -> str:
    """A ``data:image/png;base64,...`` URI of an image (float in [0, 1] or uint8, (H, W) or (H, W, 3)) or of
    PNG bytes."""
    if not isinstance(image, bytes):
        image = png_bytes(image)
    return "data:image/png;base64," + base64.b64encode(image).decode("ascii")


def _table(rows: dict | Sequence[Sequence], header: Sequence[str] = ("quantity", "value")) -> str:
    """An HTML table from a mapping (name → value) or from rows of cells."""
    items = rows.items() if isinstance(rows, dict) else rows
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in row) + "</tr>" for row in items)
    head = "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"
    return f"<table>{head}{body}</table>"


def metrics_table(scores: dict[str, dict[str, float]]) -> tuple[tuple[str, ...], list[tuple]] | dict:
    """(header, rows) of a metrics table from {image name: {metric: value}} (as :func:`neurofocus.metrics.evaluate`
    returns them); {} (no section) when there are no scores."""
    if not scores:
        return {}
    names = list(next(iter(scores.values())))
    header = ("image", *[k.upper().replace("_", "-") + (" (dB)" if k == "psnr" else "") for k in names])
    return header, [(image, *[round(m[k], 2 if k == "psnr" else 4) for k in names]) for image, m in scores.items()]


def _table_section(name: str, rows: dict | tuple[Sequence[str], Sequence[Sequence]]) -> str:
    """A section holding a table: a mapping (name → value) or (header, rows)."""
    table = _table(rows) if isinstance(rows, dict) else _table(rows[1], rows[0])
    return f"<section><h2>{html.escape(name)}</h2>{table}</section>"


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_fmt(v) for v in value)
    return str(value)


def _display_width(width: int) -> int:
    """CSS pixels to show an image ``width`` pixels wide: whole-number magnification up to about 900 px."""
    return width * max(1, min(4, 900 // max(width, 1)))


def _page(title: str, summary: str, sections: list[str], script: str = "") -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{_STYLE}</style></head>"
            f"<body><h1>{html.escape(title)}</h1><div class=\"summary\">{html.escape(summary)}</div>"
            + "".join(sections) + f"<script>{_SCRIPT}\n{script}</script></body></html>\n")


def _zoom_buttons(viewport_id: str) -> str:
    return (f"<span data-zoom-for=\"{viewport_id}\">zoom " + "".join(
        f"<button data-scale=\"{s}\">{s}×</button>" for s in (1, 2, 4, 8)) + "</span>")


def write_aif_report(path: str | os.PathLike, *, title: str, summary: str, input_image: np.ndarray,
                     result_image: np.ndarray, stack: Sequence[np.ndarray | bytes], stack_times_us: Sequence[int],
                     image_time_us: int, infocus_time_us: np.ndarray, slice_depth_m: Sequence[float] | None,
                     sweep_picture: tuple[str, np.ndarray] | None, tables: dict[str, dict]) -> None:
    """Write the all-in-focus report.

    Parameters
    ----------
    input_image, result_image : (H, W, 3) sRGB float in [0, 1] or uint8, or PNG bytes.
    stack : the refocused slices, (H, W, 3) each (or PNG bytes), in the order of ``stack_times_us`` (µs).
    image_time_us : the input image's capture time (its slice is marked on the slider).
    infocus_time_us : float (H, W), each pixel's in-focus time (NaN where unknown); the report shows the nearest
        slice.
    slice_depth_m : the focus depth of each slice (m) when the sweep's focus schedule is known.
    sweep_picture : (caption, RGB picture) of the sweep's events or spikes.
    tables : section name → {name: value} or (header, rows) (settings, timings, metrics).
    """
    times = np.asarray(stack_times_us, np.float64)
    input_index = int(np.abs(times - image_time_us).argmin())
    known = np.isfinite(infocus_time_us)
    nearest = np.abs(np.where(known, infocus_time_us, 0.0)[..., None] - times).argmin(-1)
    index = np.where(known, nearest, 255).astype(np.uint8)  # 255: no slice (shown grey)
    height, width = index.shape
    size = f"style=\"width:{_display_width(width)}px\""
    times_ms = [round(t / 1e3, 4) for t in stack_times_us]
    stack_uris = [png_data_uri(s) for s in stack]
    sections = [
        "<section><h2>Input and all-in-focus result</h2>"
        f"<div class=\"controls\">{_zoom_buttons('compare')}"
        "<span class=\"hint\">drag the red line to compare; wheel to zoom, drag to pan</span></div>"
        "<div class=\"viewport compare\" id=\"compare\"><div class=\"zoomed\">"
        f"<img id=\"compare-input\" {size} alt=\"input image\" src=\"{png_data_uri(input_image)}\">"
        f"<img class=\"top\" id=\"compare-result\" {size} alt=\"all-in-focus result\" "
        f"src=\"{png_data_uri(result_image)}\">"
        "<div class=\"handle\"></div></div><span class=\"tag\" style=\"left:6px\">input</span>"
        "<span class=\"tag\" style=\"right:6px\">all-in-focus</span></div></section>",
        "<section><h2>Refocus at any time</h2>"
        "<div class=\"controls\"><input type=\"range\" id=\"focus-slider\" min=\"0\" "
        f"max=\"{len(stack_uris) - 1}\" step=\"1\" value=\"{input_index}\"><span class=\"readout\" "
        "id=\"focus-label\"></span></div><div class=\"marks\">" + "".join(
            f"<span class=\"{'input' if i == input_index else ''}\" style=\"left:{_mark(i, len(stack_uris))}%\" "
            f"title=\"slice {i + 1}: {t:.2f} ms\"></span>" for i, t in enumerate(times_ms)) +
        f"</div><div class=\"controls\">{_zoom_buttons('focus')}<span class=\"legend\">the red mark is the input "
        "image; the other slices are refocused from it with the sweep's signal</span></div>"
        f"<div class=\"viewport\" id=\"focus\"><div class=\"zoomed\"><img id=\"focus-image\" {size} alt=\"refocused "
        "slice\">"
        "</div></div></section>",
        "<section><h2>In-focus time of each pixel</h2>"
        "<div class=\"hint\">hover to read a pixel; click to show its slice above</div>"
        f"<div class=\"viewport\" id=\"map\"><div class=\"zoomed\"><canvas id=\"map-canvas\" width=\"{width}\" "
        f"height=\"{height}\" {size}></canvas></div></div>"
        f"<div class=\"colorbar\" style=\"background:linear-gradient(to right,{','.join(VIRIDIS_STOPS)})\"></div>"
        f"<div class=\"bar-labels\"><span>{min(times_ms):.2f} ms</span><span>in-focus time (ms)</span>"
        f"<span>{max(times_ms):.2f} ms</span></div><div class=\"readout\" id=\"map-readout\"></div></section>",
    ]
    if sweep_picture is not None:
        caption, picture = sweep_picture
        sections.append(f"<section><h2>The sweep</h2><div class=\"legend\">{html.escape(caption)}</div>"
                        f"<img alt=\"{html.escape(caption)}\" {size} src=\"{png_data_uri(picture)}\"></section>")
    sections += [_table_section(name, rows) for name, rows in tables.items() if rows]
    data = {"width": width, "height": height, "index": base64.b64encode(index.tobytes()).decode("ascii"),
            "times_ms": times_ms, "depth_m": None if slice_depth_m is None else [float(d) for d in slice_depth_m],
            "stops": list(VIRIDIS_STOPS)}
    slices_json = "[" + ", ".join(f'{{"src": "{u}"}}' for u in stack_uris) + "]"  # json.dumps's text, unscanned
    script = (f"const SLICES = {slices_json};\n"
              f"const MAP = {json.dumps(data)};\nconst INPUT = {int(input_index)};\n"
              "document.querySelectorAll('.viewport').forEach(zoomable); compare(document.getElementById('compare'));\n"
              "const focus = player('focus', SLICES, i => `slice ${i + 1} of ${SLICES.length}: refocused to "
              "${MAP.times_ms[i].toFixed(2)} ms` + (MAP.depth_m ? `, focus depth ${MAP.depth_m[i].toFixed(3)} m` : '')"
              " + (i === INPUT ? ' (the input image)' : ''));\n"
              "slicemap(document.getElementById('map-canvas'), MAP, k => { focus.slider.value = String(k); "
              "focus.show(k); });\n")
    write_text_atomic(path, _page(title, summary, sections, script))


def _mark(i: int, count: int) -> float:
    """Position (%) of slice ``i``'s mark under a slider of ``count`` steps (the thumb's travel, roughly)."""
    return round(100.0 * i / max(count - 1, 1), 3)


def write_evfocus_report(path: str | os.PathLike, *, title: str, summary: str, frames: Sequence[np.ndarray | bytes],
                         times_us: Sequence[int], tables: dict[str, dict]) -> None:
    """Write a frame-player report of a reconstructed sequence (frames (H, W) or (H, W, 3), or PNG bytes; times
    in µs)."""
    uris = [png_data_uri(f) for f in frames]
    times_ms = [round(t / 1e3, 3) for t in times_us]
    first = frames[0]
    width = int.from_bytes(first[16:20], "big") if isinstance(first, bytes) else np.asarray(first).shape[1]
    sections = [
        "<section><h2>Reconstructed frames</h2><div class=\"controls\"><button id=\"frame-play\">play</button>"
        "<label>fps <input id=\"frame-fps\" type=\"number\" min=\"1\" max=\"60\" value=\"10\" style=\"width:4em\">"
        f"</label><input type=\"range\" id=\"frame-slider\" min=\"0\" max=\"{len(uris) - 1}\" step=\"1\" value=\"0\">"
        f"<span class=\"readout\" id=\"frame-label\"></span></div><div class=\"controls\">{_zoom_buttons('frames')}"
        f"</div><div class=\"viewport\" id=\"frames\"><div class=\"zoomed\"><img id=\"frame-image\" "
        f"style=\"width:{_display_width(width)}px\" alt=\"frame\">"
        "</div></div></section>",
        *[_table_section(name, rows) for name, rows in tables.items() if rows],
    ]
    script = (f"const FRAMES = {json.dumps([{'src': u} for u in uris])};\nconst TIMES = {json.dumps(times_ms)};\n"
              "document.querySelectorAll('.viewport').forEach(zoomable);\n"
              "player('frame', FRAMES, i => `frame ${i + 1} of ${FRAMES.length} at ${TIMES[i].toFixed(1)} ms`);\n")
    write_text_atomic(path, _page(title, summary, sections, script))


def markdown_tables_html(markdown: str) -> str:
    """HTML of a Markdown report made of '## ' headings, pipe tables and paragraphs (what the benchmarks print)."""
    out, table = [], []

    def flush():
        if table:
            header, *body = [[c.strip() for c in line.strip().strip("|").split("|")] for line in table
                             if not set(line.replace("|", "").strip()) <= set("-: ")]
            out.append(_table(body, header))
            table.clear()

    for line in markdown.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush()
        if line.startswith("#"):
            level = min(4, len(line) - len(line.lstrip("#")))
            out.append(f"<h{level}>{html.escape(line.lstrip('#').strip())}</h{level}>")
        elif line.strip():
            out.append(f"<p>{html.escape(line)}</p>")
    flush()
    return "".join(out)


def write_bench_report(path: str | os.PathLike, *, title: str, summary: str, markdown: str,
                       strips: Sequence[tuple[str, Sequence[tuple[str, np.ndarray]]]]) -> None:
    """Write a benchmark page: the Markdown tables, then one picture strip per case (caption, [(label, image)])."""
    sections = [f"<section>{markdown_tables_html(markdown)}</section>"]
    if strips:
        sections.append("<section><h2>Pictures per case</h2>" + "".join(
            f"<h3>{html.escape(caption)}</h3><div class=\"strip\">" + "".join(
                f"<figure><img alt=\"{html.escape(label)}\" src=\"{png_data_uri(image)}\">"
                f"<figcaption>{html.escape(label)}</figcaption></figure>" for label, image in pictures) + "</div>"
            for caption, pictures in strips) + "</section>")
    write_text_atomic(path, _page(title, summary, sections))
