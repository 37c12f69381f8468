"""User-supplied frame sequences (a folder of images or a video) with their timestamps, read in chunks.

Timestamps come from, in order: the folder's ``info.txt`` (DVS-Voltmeter layout: ``<image path> <time µs>`` per
line), a timestamps file (one time in µs per line, or ``<name> <time µs>``), or a frame rate (frame k at k·10⁶/fps).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..config_dicts import check_positive
from ..errors import NeurofocusError
from ..color import rgb8_to_gray8, to_uint8
from ..images import read_gray8, read_image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")


def _read_times(path: Path) -> tuple[list[str] | None, np.ndarray]:
    names, times = [], []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        try:
            times.append(float(fields[-1]))
        except ValueError:
            raise NeurofocusError(f"line {number}: {line!r} does not end with a time in µs", path) from None
        if len(fields) > 1:
            names.append(fields[0])
    return (names if len(names) == len(times) else None), np.asarray(times, np.float64)


class FrameSequence:
    """Frames of a folder or video and their times (µs).

    Parameters
    ----------
    source : path
        A folder of images (or with a DVS-Voltmeter ``info.txt``) or a video file.
    timestamps : path, optional
        Times file (µs).
    fps : float, optional
        Frame rate, when there are no timestamps.
    """

    def __init__(self, source: str | os.PathLike, *, timestamps: str | os.PathLike | None = None,
                 fps: float | None = None):
        self.source = Path(source)
        self._video = None
        if not self.source.exists():
            raise NeurofocusError("no such file or folder", self.source)
        names = None
        times = None
        if self.source.is_dir():
            info = self.source / "info.txt"
            if timestamps is None and info.is_file():
                names, times = _read_times(info)
                if names is None:
                    raise NeurofocusError("info.txt lines must be '<image> <time µs>'", info)
                self.paths = [self._resolve(n) for n in names]
            else:
                self.paths = sorted(p for p in self.source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not self.paths:
                raise NeurofocusError("no images (png, jpg, bmp, tif) in the folder", self.source)
            count = len(self.paths)
        elif self.source.suffix.lower() in VIDEO_SUFFIXES:
            self._video = self._open_video()
            count = len(self._video)
        else:
            raise NeurofocusError(f"expected a folder of images or a video ({', '.join(VIDEO_SUFFIXES)})", self.source)
        if timestamps is not None:
            names_t, times = _read_times(Path(timestamps))
            if names_t is not None and self._video is None:
                self.paths = [self._resolve(n) for n in names_t]
                count = len(self.paths)
        if times is None:
            if fps is None:
                raise NeurofocusError("the frames have no timestamps: give --timestamps FILE or --fps F", self.source)
            check_positive(fps, "fps")
            times = np.arange(count) * 1e6 / fps
        if len(times) != count:
            raise NeurofocusError(f"{count} frames but {len(times)} timestamps", timestamps or self.source)
        if len(times) < 2 or np.any(np.diff(times) <= 0) or not np.all(np.isfinite(times)):
            raise NeurofocusError("timestamps must be at least two strictly increasing times", timestamps or self.source)
        self.times_us = times
        first = self.chunk(0, 1)[0]
        self.height, self.width = first.shape[:2]

    def _resolve(self, name: str) -> Path:
        path = Path(name)
        path = path if path.is_absolute() else self.source / path
        if not path.is_file():
            raise NeurofocusError("listed frame not found", path)
        return path

    def _open_video(self):
        try:
            import imageio.v3 as iio
        except ImportError:
            raise NeurofocusError("reading videos needs the 'video' extra: pip install 'neurofocus[video]'",
                                  self.source) from None
        try:
            return [np.asarray(f, np.float32) / 255.0 for f in iio.imiter(self.source)]
        except Exception as exc:  # the video plugins raise many kinds of errors
            raise NeurofocusError(f"cannot decode the video ({type(exc).__name__}: {exc})", self.source) from None

    def __len__(self) -> int:
        return len(self.times_us)

    def chunk(self, start: int, stop: int, *, gray8: bool = False) -> np.ndarray:
        """Frames ``start..stop-1`` as sRGB float32 (n, H, W, 3) in [0, 1], or (``gray8``) as the 8-bit gray values
        DVS-Voltmeter takes, uint8 (n, H, W): ``gray8`` of the float frames, read without the float detour (see
        :func:`~neurofocus.images.read_gray8`)."""
        if self._video is not None:
            frames = [f[..., :3] if f.ndim == 3 else np.repeat(f[..., None], 3, 2) for f in self._video[start:stop]]
            frames = [rgb8_to_gray8(to_uint8(f)) for f in frames] if gray8 else frames
        else:
            frames = [(read_gray8 if gray8 else read_image)(p) for p in self.paths[start:stop]]
        shapes = {f.shape[:2] for f in frames}
        if len(shapes) > 1 or (hasattr(self, "height") and shapes != {(self.height, self.width)}):
            raise NeurofocusError("the frames differ in size", self.source)
        return np.stack(frames)

    def chunks(self, size: int = 32, *, gray8: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(frames, times µs) in chunks of ``size`` (frames as :meth:`chunk` gives them); the next chunk is read in a
        thread while the caller works on this one (image decoding releases the GIL)."""
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(self.chunk, 0, size, gray8=gray8)
            for start in range(0, len(self), size):
                frames = pending.result()
                if start + size < len(self):
                    pending = pool.submit(self.chunk, start + size, start + 2 * size, gray8=gray8)
                yield frames, self.times_us[start:start + size]
