"""Rig calibration command: ``calibrate``."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..errors import NeurofocusError
from .common import add_input_options, positive_float, read_any


def _board(text: str) -> tuple[int, int]:
    try:
        cols, rows = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not COLSxROWS (inner corners, e.g. 9x6)") from None
    return cols, rows


def _sensor_image(args, path: Path) -> np.ndarray:
    """The board image of one neuromorphic calibration file (see neurofocus.calib.boards)."""
    from ..calib.boards import aps_board_image, event_board_image, spike_board_image
    from ..io import detect_format
    from ..types import Spikes

    kind = args.sensor_image
    fmt = args.format or detect_format(path)
    if kind in ("aps", "auto") and fmt == "aedat4":
        from ..io.aedat4 import read_aedat4_frames

        frames = read_aedat4_frames(path)
        if frames or kind == "aps":
            return aps_board_image(frames)
    if kind == "aps":
        raise NeurofocusError("--sensor-image aps needs an AEDAT 4 file with APS frames", path)
    signal = read_any(args, path)
    if isinstance(signal, Spikes):
        return spike_board_image(signal)
    return event_board_image(signal, "flash" if kind == "auto" else kind)


def cmd_calibrate(args) -> int:
    from ..calib.boards import Board, find_corners, to_gray8
    from ..calib.estimate import calibrate_rig, save_calibration
    from ..images import read_image, write_image

    sensor_files = args.events or args.spikes
    if bool(args.events) == bool(args.spikes):
        raise NeurofocusError("give the neuromorphic views with exactly one of --events FILES... or --spikes FILES...")
    if len(args.rgb) != len(sensor_files):
        raise NeurofocusError(f"{len(args.rgb)} RGB images but {len(sensor_files)} neuromorphic files: give one "
                              f"recording per RGB image, in the same order")
    board = Board(args.board[0], args.board[1], args.square)
    rgb_corners, sensor_corners, names, missing = [], [], [], []
    rgb_size = sensor_size = None
    for rgb_path, sensor_path in zip(args.rgb, sensor_files):
        rgb_gray = to_gray8(read_image(rgb_path))
        try:
            sensor_gray = to_gray8(_sensor_image(args, sensor_path))
        except NeurofocusError as exc:
            raise exc.with_path(sensor_path) from None
        for path, gray, size in ((rgb_path, rgb_gray, rgb_size), (sensor_path, sensor_gray, sensor_size)):
            if size is not None and (gray.shape[1], gray.shape[0]) != size:
                raise NeurofocusError(f"is {gray.shape[1]}x{gray.shape[0]} but the first view is {size[0]}x{size[1]}",
                                      path)
        rgb_size, sensor_size = (rgb_gray.shape[1], rgb_gray.shape[0]), (sensor_gray.shape[1], sensor_gray.shape[0])
        found_rgb, found_sensor = find_corners(rgb_gray, board), find_corners(sensor_gray, board)
        if args.save_images:
            _save_detection(Path(args.save_images) / f"{Path(sensor_path).stem}_board.png", sensor_gray, board,
                            found_sensor, write_image)
        for path, found in ((rgb_path, found_rgb), (sensor_path, found_sensor)):
            if found is None:
                missing.append(str(path))
        if found_rgb is not None and found_sensor is not None:
            rgb_corners.append(found_rgb)
            sensor_corners.append(found_sensor)
            names.append(Path(rgb_path).name)
    if missing and not args.skip_missing:
        raise NeurofocusError(f"no {board.cols}x{board.rows} checkerboard found in {', '.join(missing)} "
                              f"(check --board, which counts inner corners; or pass --skip-missing)")
    if missing:
        print(f"skipped {len(missing)} view(s) without a board: {', '.join(missing)}")
    calibration = calibrate_rig(rgb_corners, sensor_corners, board, rgb_size, sensor_size, names)
    save_calibration(args.out, calibration)
    g = calibration.geometry
    print(f"{len(names)} views; RGB {rgb_size[0]}x{rgb_size[1]} f={g.rgb.fx:.1f}px k1={g.rgb.k1:+.4f} "
          f"k2={g.rgb.k2:+.4f}; sensor {sensor_size[0]}x{sensor_size[1]} f={g.sensor.fx:.1f}px "
          f"k1={g.sensor.k1:+.4f} k2={g.sensor.k2:+.4f}")
    print(f"{'view':<28} {'RGB px':>8} {'sensor px':>10} {'homography px':>14}")
    for v in calibration.views:
        print(f"{v.name:<28} {v.rgb_px:8.3f} {v.sensor_px:10.3f} {v.homography_px:14.3f}")
    mean = calibration.summary()
    print(f"{'mean':<28} {mean['rgb_px']:8.3f} {mean['sensor_px']:10.3f} {mean['homography_px']:14.3f}")
    print(f"wrote {args.out}")
    return 0


def _save_detection(path: Path, gray: np.ndarray, board, corners, write_image) -> None:
    """The sensor's board image with the detected corners drawn (for checking a failed or poor view)."""
    import cv2

    picture = cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)
    if corners is not None:
        cv2.drawChessboardCorners(picture, (board.cols, board.rows), corners.astype(np.float32).reshape(-1, 1, 2), True)
    write_image(path, picture)


def register(sub) -> None:
    """Add the ``calibrate`` command to the sub-parser collection ``sub``."""
    p = sub.add_parser("calibrate", help="calibrate an RGB + neuromorphic rig from checkerboard views")
    p.add_argument("--rgb", required=True, nargs="+", type=Path, help="RGB images of the board")
    p.add_argument("--events", nargs="+", type=Path, help="event recordings of the same board poses (same order)")
    p.add_argument("--spikes", nargs="+", type=Path, help="spike recordings of the same board poses (same order)")
    p.add_argument("--board", required=True, type=_board, metavar="COLSxROWS", help="inner corners, e.g. 9x6")
    p.add_argument("--square", required=True, type=positive_float, metavar="MM", help="square size in mm")
    p.add_argument("--sensor-image", choices=["auto", "flash", "integrate", "aps"], default="auto",
                   help="how to image the board from events: flashing board (event counts), board moved into a "
                        "still view (integrated polarity), or APS frames; auto: APS frames of AEDAT 4 files that "
                        "have them, else flash")
    p.add_argument("--skip-missing", action="store_true", help="drop views where the board is not found")
    p.add_argument("--save-images", type=Path, metavar="DIR", help="write the sensor's board images with corners")
    p.add_argument("--out", required=True, type=Path, help="calibration JSON to write")
    add_input_options(p)
    p.set_defaults(func=cmd_calibrate)
