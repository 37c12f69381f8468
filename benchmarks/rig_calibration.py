"""Rig calibration on simulated mismatched rigs: accuracy against the known geometry, and what it costs downstream.

Run:  python benchmarks/rig_calibration.py [--rigs 3] [--views 10] [--size 346x260] [--work DIR]

For each rig seed and each sensor (DVS-Voltmeter DVS346 events, ideal events, a spike camera), ``neurofocus
simulate --rig default`` draws a typical beam-splitter rig (RGB ≈ 1.7× the sensor's pixels, both lenses with barrel
distortion, 1–2° rotation), simulates a focal sweep and a flashing (events) or still (spikes) checkerboard set;
``neurofocus calibrate`` estimates the rig from that set. Printed (Markdown):

* the fit errors (mean reprojection error per camera, homography transfer error), pixels;
* the error of the estimated sensor→RGB mapping against the truth over the sensor's whole view (mean / max, RGB
  pixels), and of each camera's distortion displacement over the sensor's view (mean / max, pixels);
* the all-in-focus PSNR on the sensor's grid against the ground truth (valid region) with the RGB image given on the
  sensor's grid (shared grid), registered with the estimated calibration, and with the true rig.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from pathlib import Path

import numpy as np

from neurofocus.calib.estimate import load_calibration
from neurofocus.cli import main as cli
from neurofocus.images import read_image

SENSORS = {"DVS346 events": (["--event-model", "dvs-voltmeter"], "events"),
           "ideal events": (["--event-model", "ideal"], "events"),
           "spikes": (["--event-model", "none", "--with-spikes"], "spikes")}


def quiet(*argv) -> None:
    """Run a neurofocus command, hiding its output; fail loudly on a non-zero exit."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = cli([str(a) for a in argv])
    if code != 0:
        raise SystemExit(f"neurofocus {' '.join(map(str, argv))} failed ({code})")


def psnr(image: np.ndarray, truth: np.ndarray, valid: np.ndarray) -> float:
    return float(10 * np.log10(1 / np.mean((image - truth)[valid] ** 2)))


def measure(folder: Path, sensor: str, views: int) -> dict:
    """Calibrate one simulated rig folder and run the pipeline three ways; returns the row's numbers."""
    flag, kind = SENSORS[sensor][1], SENSORS[sensor][1]
    files = sorted((folder / "calibration").glob(f"{kind}_*.*[!n]"))  # events_NN.raw or spikes_NN.dat, not .json
    t0 = time.perf_counter()
    quiet("calibrate", "--rgb", *sorted((folder / "calibration").glob("rgb_*.png")), f"--{flag}", *files,
          "--board", "9x6", "--square", "20", "--out", folder / "calib.json")
    seconds = time.perf_counter() - t0
    estimated, truth = load_calibration(folder / "calib.json"), load_calibration(folder / "rig_truth.json").geometry
    grid = truth.sensor.pixel_grid()
    mapping = np.linalg.norm(estimated.geometry.sensor_to_rgb(grid) - truth.sensor_to_rgb(grid), axis=-1)
    inside = np.all((truth.sensor_to_rgb(grid) >= 0) & (truth.sensor_to_rgb(grid) <= np.array(
        [truth.rgb.width - 1, truth.rgb.height - 1])), axis=-1)
    distortion = {}
    for name in ("sensor", "rgb"):
        points = grid if name == "sensor" else truth.sensor_to_rgb(grid)[inside]
        cams = getattr(estimated.geometry, name), getattr(truth, name)
        moved = [np.linalg.norm(c.undistort(points) - points, axis=-1) for c in cams]
        distortion[name] = np.abs(moved[0] - moved[1])
    signal = f"--{flag}", folder / ("events.raw" if flag == "events" else "spikes.dat")
    gt = read_image(folder / "aif.png")
    quiet("aif", "--image", folder / "image_sensor_grid.png", *signal, "--out", folder / "shared")
    results = {}
    for label, calib in (("estimated", folder / "calib.json"), ("true", folder / "rig_truth.json")):
        quiet("aif", "--image", folder / "image.png", *signal, "--calib", calib, "--output-grid", "sensor",
              "--out", folder / label)
        results[label] = read_image(folder / label / "aif.png")
    valid = read_image(folder / "estimated" / "valid.png")[..., 0] > 0.5
    errors = estimated.summary()
    return {"views": len(estimated.views), "of": views, "seconds": seconds, **errors,
            "map_mean": mapping.mean(), "map_max": mapping.max(),
            "dist_s": (distortion["sensor"].mean(), distortion["sensor"].max()),
            "dist_r": (distortion["rgb"].mean(), distortion["rgb"].max()),
            "psnr_shared": psnr(read_image(folder / "shared" / "aif.png"), gt, valid),
            "psnr_est": psnr(results["estimated"], gt, valid), "psnr_true": psnr(results["true"], gt, valid),
            "psnr_input": psnr(read_image(folder / "image_sensor_grid.png"), gt, valid), "valid": valid.mean()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rigs", type=int, default=3, help="rig seeds (3)")
    parser.add_argument("--views", type=int, default=10, help="checkerboard views per rig (10)")
    parser.add_argument("--size", default="346x260", help="sensor size WxH (346x260)")
    parser.add_argument("--work", type=Path, help="keep the simulated folders here (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        print(f"sensor {args.size}, {args.views} board views (9x6, 20 mm) per rig; errors in pixels\n")
        print("| rig | sensor | views found | RGB reproj. | sensor reproj. | homography | mapping vs truth mean / max "
              "| sensor distortion mean / max | RGB distortion mean / max | calibrate (s) | AIF PSNR input / shared "
              "grid / calibrated / true rig (dB) |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        rows = []
        for seed in range(args.rigs):
            for sensor, (flags, _) in SENSORS.items():
                folder = work / f"rig{seed}_{sensor.replace(' ', '_')}"
                quiet("simulate", "--out", folder, "--size", args.size, "--frames", "240", "--scene-seed", seed,
                      "--seed", seed, "--rig", "default", "--rig-views", args.views, *flags)
                r = measure(folder, sensor, args.views)
                rows.append(r)
                print(f"| {seed} | {sensor} | {r['views']}/{r['of']} | {r['rgb_px']:.3f} | {r['sensor_px']:.3f} | "
                      f"{r['homography_px']:.3f} | {r['map_mean']:.3f} / {r['map_max']:.2f} | "
                      f"{r['dist_s'][0]:.3f} / {r['dist_s'][1]:.2f} | {r['dist_r'][0]:.3f} / {r['dist_r'][1]:.2f} | "
                      f"{r['seconds']:.1f} | {r['psnr_input']:.2f} / {r['psnr_shared']:.2f} / {r['psnr_est']:.2f} / "
                      f"{r['psnr_true']:.2f} |", flush=True)
        deltas = np.array([r["psnr_est"] - r["psnr_shared"] for r in rows])
        print(f"\nmean homography error {np.mean([r['homography_px'] for r in rows]):.3f} px; mean mapping error "
              f"{np.mean([r['map_mean'] for r in rows]):.3f} px; calibrated − shared grid PSNR: mean {deltas.mean():+.2f}"
              f" dB, worst {deltas.min():+.2f} dB")


if __name__ == "__main__":
    main()
