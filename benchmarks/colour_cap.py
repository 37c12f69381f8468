"""How much colour a refocused slice can get back from the blurred RGB image, given a perfect luminance.

Run:  python benchmarks/colour_cap.py [--rgbd ../shared/data/rgbd] [--slices 16]

Each real Middlebury scene (image + dense depth) is rendered as the benchmark's 120-frame sweep (``neurofocus bench
aif --rgbd``: largest blur 25 px, the image captured at 15 % or 85 % of the sweep, the same seeds). For ``--slices``
uniform slice times, every colour model gets the *true* luminance of the frame at that time and the captured image
(8-bit sRGB), and returns a colour slice; per pixel the slice nearest its true in-focus time is picked (the
decomposition's oracle pick) and compared with the true frames, in 8-bit sRGB. The luminance is exact, so every dB
lost is colour. Models:

* keep chromaticity: the image's linear RGB scaled by the luminance ratio;
* colour line (the pipeline's, :func:`neurofocus.aif.refocus.colour_line_slope`): colour moved along the local line
  of the image's colours, for the default window radius (4) and the larger ones given by ``--radii``;
* bilateral chroma: the image's chromaticity spread along the slice's sharp luminance (a bilateral grid over log
  luminance, Gaussian spatial weights) and weighted by how uniform the image's chromaticity is nearby, so that
  chroma comes from the inside of surfaces rather than from mixed edges.

Also prints, for the colour line, where the squared error lies: by the pixel's input blur (its in-focus time's
distance from the image time, as a fraction of the sweep). Prints Markdown tables.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from neurofocus import filters
from neurofocus.aif.refocus import colour_line_slope, recolour
from neurofocus.color import linear_to_srgb, luminance, srgb_to_linear
from neurofocus.metrics import psnr
from neurofocus.simulate.dvs_voltmeter import VoltmeterParams
from neurofocus.simulate.optics import ThinLens
from neurofocus.simulate.sources import depth_from_disparity, image_depth_sweep, read_rgbd, rgbd_scenes
from neurofocus.simulate.sweep import SweepSpec

_FLOOR = 1e-4


def captured(linear: np.ndarray) -> np.ndarray:
    """Linear RGB as the camera records it: 8-bit sRGB, as float32 in [0, 1]."""
    return (np.rint(linear_to_srgb(linear) * 255) / 255).astype(np.float32)


def bilateral_chroma(image: np.ndarray, image_y: np.ndarray, slice_y: np.ndarray, spatial_px: float = 6.0,
                     range_log: float = 0.1, uniform_chroma: float = 0.02) -> np.ndarray:
    """Linear RGB (H, W, 3) with luminance ``slice_y`` and the chromaticity of ``image`` spread along it (see the
    module notes): image (H, W, 3) and its luminance (H, W), linear; ``spatial_px`` the Gaussian σ, ``range_log``
    the grid's spacing in log luminance, ``uniform_chroma`` the chromaticity spread at which a pixel's weight halves."""
    chroma = image / image_y[..., None]
    mean = filters.gaussian(chroma, 3.0)
    spread = np.maximum(filters.gaussian(chroma * chroma, 3.0) - mean * mean, 0).sum(-1)
    weight = 1.0 / (1.0 + spread / uniform_chroma ** 2)
    log_y = np.log(np.maximum(slice_y, _FLOOR))
    low, high = np.percentile(log_y, [0.5, 99.5])
    num = np.zeros(image.shape, np.float32)
    den = np.zeros(image_y.shape, np.float32)
    for centre in low + range_log * (np.arange(int(np.ceil((high - low) / range_log)) + 2) - 0.5):
        tent = np.maximum(0, 1 - np.abs(log_y - centre) / range_log).astype(np.float32)
        if not tent.any():
            continue
        weighted = weight * tent
        num += tent[..., None] * filters.gaussian((chroma * weighted[..., None]).astype(np.float32),
                                                  spatial_px)
        den += tent * filters.gaussian(weighted.astype(np.float32), spatial_px)
    spread_chroma = np.where((den > 1e-3)[..., None], num / np.maximum(den, 1e-6)[..., None], chroma)
    spread_chroma /= np.maximum(luminance(spread_chroma), _FLOOR)[..., None]
    return spread_chroma * slice_y[..., None]


def sweeps(folder: Path, num_frames: int = 120, seed: int = 2024):
    """(scene name, frames (K, H, W, 3) linear, frame times µs, per-pixel in-focus time µs, image frame index) per
    scene, rendered as ``neurofocus bench aif --rgbd`` renders its defocused rows."""
    lens = ThinLens()
    for i, scene in enumerate(rgbd_scenes(folder)):
        rng = np.random.default_rng([seed, i])
        image, disparity = read_rgbd(scene)
        VoltmeterParams.random(rng)  # the benchmark draws its random-k sensor first
        position = 0.15 if i % 2 == 0 else 0.85
        spec = SweepSpec(num_frames=num_frames, image_frame=int(round(position * (num_frames - 1))))
        source = image_depth_sweep(image, depth_from_disparity(disparity, lens, max_blur_px=25.0), lens, spec, rng)
        frames = np.stack([source.frame(k) for k in range(num_frames)]).astype(np.float32)
        times_us = np.asarray(source.schedule.times_us, np.float64)
        yield scene.name, frames, times_us, source.infocus_time_us(), spec.image_frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rgbd", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/rgbd")
    parser.add_argument("--slices", type=int, default=16, help="uniform slice times (16)")
    parser.add_argument("--radii", default="8,12", help="larger colour-line window radii to try (8,12)")
    args = parser.parse_args()

    radii = [4] + [int(r) for r in args.radii.split(",") if r]
    names = ["keep chromaticity"] + [f"colour line, radius {r}" for r in radii] + ["bilateral chroma"]
    blur_bins = ((0.0, 0.3), (0.3, 0.6), (0.6, 1.01))
    rows, blur_rows = [], []
    for name, frames, times, infocus, image_frame in sweeps(args.rgbd):
        image = srgb_to_linear(captured(frames[image_frame]))
        image_y = np.maximum(luminance(image), _FLOOR)
        slopes = [colour_line_slope(image, image_y, radius=r) for r in radii]
        slice_frames = np.linspace(0, len(frames) - 1, args.slices).round().astype(int)
        nearest = np.abs(infocus[None] - times[slice_frames][:, None, None]).argmin(0)
        truth = np.zeros_like(image)
        picked = {n: np.zeros_like(image) for n in names}
        for j, k in enumerate(slice_frames):
            mask = nearest == j
            if not mask.any():
                continue
            slice_y = luminance(frames[k])
            truth[mask] = captured(frames[k])[mask]
            made = [image * (slice_y / image_y)[..., None]] + [recolour(image, image_y, slice_y, s) for s in slopes]
            made.append(bilateral_chroma(image, image_y, slice_y))
            for n, m in zip(names, made):
                picked[n][mask] = captured(m)[mask]
        rows.append((name, [psnr(picked[n], truth) for n in names]))
        error = ((picked[names[1]] - truth) ** 2).mean(-1)
        blur = np.abs(infocus - times[image_frame]) / (times[-1] - times[0])
        bins = [(blur >= lo) & (blur < hi) for lo, hi in blur_bins]
        blur_rows.append((name, [(b.mean(), error[b].sum() / error.sum()) for b in bins]))
        print(f"  {name}: " + ", ".join(f"{n} {v:.2f}" for n, v in zip(names, rows[-1][1])), flush=True)

    print("\nPSNR (dB) of the picked colour slices against the true frames, given the true luminance:\n")
    print("| scene | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for name, values in rows:
        print(f"| {name} | " + " | ".join(f"{v:.2f}" for v in values) + " |")
    print("| mean | " + " | ".join(f"{np.mean([r[1][i] for r in rows]):.2f}" for i in range(len(names))) + " |")
    print("\nColour line (radius 4): share of pixels / share of the squared error, by the pixel's input blur (its "
          "in-focus time's distance from the image time, fraction of the sweep):\n")
    print("| scene | " + " | ".join(f"blur {lo:.1f}–{min(hi, 1):.1f}" for lo, hi in blur_bins) + " |")
    print("|---|" + "---:|" * len(blur_bins))
    for name, shares in blur_rows:
        print(f"| {name} | " + " | ".join(f"{p:.0%} / {e:.0%}" for p, e in shares) + " |")


if __name__ == "__main__":
    main()
