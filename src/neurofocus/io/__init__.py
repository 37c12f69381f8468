"""Reading and writing event and spike files.

Use :func:`load_events` / :func:`save_events` and :func:`load_spikes` / :func:`save_spikes`; the format is detected
from magic bytes and the extension (:func:`detect_format`), or named explicitly (see :data:`FORMATS`).

Every reader returns the canonical containers (:class:`~neurofocus.types.Events` with +1 = brighter,
:class:`~neurofocus.types.Spikes`) and raises :class:`~neurofocus.errors.NeurofocusError` naming the file for any
problem with it. Every writer writes atomically.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import stat
import tokenize
import warnings
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from ..errors import NeurofocusError
from ..types import Events, Spikes
from .common import NeurofocusWarning, read_percent_header


class _FormatModules:
    """The format modules as attributes, each imported on first use: a command that reads an AEDAT 4 file never
    loads numba (the RAW decoders) or h5py."""

    def __getattr__(self, name: str):
        if name.startswith("_"):  # e.g. __wrapped__, asked by inspect (doctest collection): not a format module
            raise AttributeError(name)
        module = importlib.import_module(f".{name}", __package__)
        setattr(self, name, module)
        return module


_m = _FormatModules()


def __getattr__(name: str):
    """The AEDAT 4 frame reader and its records, imported on first use like the format modules."""
    if name in ("ApsFrame", "read_aedat4_frames"):
        return getattr(_m.aedat4, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _lazy(module: str, name: str) -> Callable:
    """``module.name``, a function imported when first called."""
    return lambda *args, **kwargs: getattr(getattr(_m, module), name)(*args, **kwargs)


__all__ = ["FORMATS", "ApsFrame", "Format", "ReadOptions", "NeurofocusWarning", "detect_format", "event_writer",
           "load_events", "load_spikes", "read_aedat4_frames", "save_events", "save_spikes"]


class ReadOptions(NamedTuple):
    """What a user may tell a reader about a file that does not say it itself."""

    sensor_size: tuple[int, int] | None = None  # events: (width, height)
    columns: str | None = None  # events: column order of plain (N, 4) arrays
    spike_size: tuple[int, int] | None = None  # spikes: (height, width) of a Vidar .dat
    tick_us: float | None = None
    start_us: float | None = None
    extra_columns: int | None = None
    progress: bool | None = None


class Format(NamedTuple):
    """One file format: what it holds, how it is read and written. (Immutable records are named tuples here, not
    dataclasses: a dataclass takes ~1.4 ms to create, a noticeable share of ``neurofocus info``.)"""

    name: str
    kind: str  # "events" or "spikes"
    description: str
    extensions: tuple[str, ...]
    read: Callable[[Path, ReadOptions], Events | Spikes]
    write: Callable | None = None


def _raw(path, o):
    return _m.prophesee_raw.read_raw(path, sensor_size=o.sensor_size, progress=o.progress)


def _text(seconds: bool):
    return lambda path, o: _m.text.read_text(path, seconds=seconds, sensor_size=o.sensor_size, progress=o.progress)


def _array(reader):
    return lambda path, o: reader(path, columns=o.columns, sensor_size=o.sensor_size)


def _spike_array(path, o):
    return _m.spike_files.read_spike_array(path, tick_us=o.tick_us, start_us=o.start_us)


FORMATS: dict[str, Format] = {f.name: f for f in [
    Format("evt3", "events", "Prophesee RAW, EVT 3.0", (".raw",), _raw,
           lambda p, ev: _m.prophesee_raw.write_raw(p, ev, encoding="evt3")),
    Format("evt2", "events", "Prophesee RAW, EVT 2.0", (".raw",), _raw,
           lambda p, ev: _m.prophesee_raw.write_raw(p, ev, encoding="evt2")),
    Format("evt21", "events", "Prophesee RAW, EVT 2.1", (".raw",), _raw,
           lambda p, ev: _m.prophesee_raw.write_raw(p, ev, encoding="evt21")),
    Format("evt21-legacy", "events", "Prophesee RAW, EVT 2.1 legacy layout", (".raw",), _raw,
           lambda p, ev: _m.prophesee_raw.write_raw(p, ev, encoding="evt21", legacy=True)),
    Format("dat", "events", "Prophesee DAT (CD events)", (".dat",),
           lambda p, o: _m.prophesee_dat.read_dat(p, sensor_size=o.sensor_size),
           _lazy("prophesee_dat", "write_dat")),
    Format("prophesee-hdf5", "events", "Prophesee HDF5 (ECF-compressed /CD/events)", (".hdf5", ".h5"),
           lambda p, o: _m.hdf5.read_prophesee_hdf5(p, sensor_size=o.sensor_size, progress=o.progress),
           _lazy("hdf5", "write_prophesee_hdf5")),
    Format("hdf5", "events", "event_utils / E2VID+ HDF5 (events/xs, ys, ts, ps)", (".h5", ".hdf5"),
           lambda p, o: _m.hdf5.read_event_utils_hdf5(p, sensor_size=o.sensor_size),
           _lazy("hdf5", "write_event_utils_hdf5")),
    Format("aedat4", "events", "iniVation AEDAT 4.0", (".aedat4",),
           lambda p, o: _m.aedat4.read_aedat4(p, sensor_size=o.sensor_size)),
    Format("rpg-txt", "events", "rpg / E2VID text: 'W H' line, then 't x y p' (t in s)", (".txt",), _text(True),
           lambda p, ev: _m.text.write_text(p, ev, seconds=True)),
    Format("voltmeter-txt", "events", "DVS-Voltmeter text: 't x y p' (t in µs)", (".txt",), _text(False),
           lambda p, ev: _m.text.write_text(p, ev, seconds=False)),
    Format("npy", "events", "numpy structured array (t, x, y, p)", (".npy",), _array(_lazy("arrays", "read_npy")),
           _lazy("arrays", "write_npy")),
    Format("efs-npy", "events", "numpy (N, 4) array [t µs, x, y, p∈{0,1}] (EFS layout)", (".npy",),
           _array(_lazy("arrays", "read_npy")), lambda p, ev: _m.arrays.write_npy(p, ev, efs_layout=True)),
    Format("npz", "events", "numpy .npz with arrays t, x, y, p", (".npz",), _array(_lazy("arrays", "read_npz")),
           _lazy("arrays", "write_npz")),
    Format("mat", "events", "MATLAB .mat with an (N, 4) array 'events'", (".mat",),
           _array(_lazy("arrays", "read_mat")),
           _lazy("arrays", "write_mat")),
    Format("vidar-dat", "spikes", "PKU Vidar spike .dat (bit-packed frames)", (".dat",),
           lambda p, o: _m.spike_files.read_vidar_dat(p, size=o.spike_size, tick_us=o.tick_us, start_us=o.start_us,
                                                   extra_columns=o.extra_columns),
           _lazy("spike_files", "write_vidar_dat")),
    Format("spike-npz", "spikes", "numpy .npz with (T, H, W) spike frames", (".npz",), _spike_array,
           _lazy("spike_files", "write_spike_array")),
    Format("spike-npy", "spikes", "numpy .npy with (T, H, W) spike frames", (".npy",), _spike_array,
           _lazy("spike_files", "write_spike_array")),
    Format("spike-hdf5", "spikes", "bit-packed, compressed spike frames in HDF5 (spikes/packed)", (".h5", ".hdf5"),
           lambda p, o: _m.spike_files.read_spike_hdf5(p, tick_us=o.tick_us, start_us=o.start_us),
           _lazy("spike_files", "write_spike_hdf5")),
]}

#: Format written for an output extension when none is named.
DEFAULT_WRITE_FORMAT = {".raw": "evt3", ".dat": "dat", ".hdf5": "prophesee-hdf5", ".h5": "hdf5",
                        ".txt": "voltmeter-txt", ".csv": "voltmeter-txt", ".npy": "npy", ".npz": "npz", ".mat": "mat"}
DEFAULT_SPIKE_WRITE_FORMAT = {".dat": "vidar-dat", ".npz": "spike-npz", ".npy": "spike-npy", ".h5": "spike-hdf5",
                              ".hdf5": "spike-hdf5"}

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _numpy_kind(path: Path, head: bytes) -> str:
    """Events or spike frames, for a ``.npy`` / ``.npz`` file."""
    import numpy as np

    if head.startswith(b"PK"):
        try:
            with np.load(path, allow_pickle=False) as z:
                names = {k.lower() for k in z.files}
        except Exception:  # unreadable: let the events reader report it
            return "npz"
        return "spike-npz" if names & set(_m.spike_files.FRAME_KEYS) else "npz"
    try:
        with open(path, "rb") as fp:
            shape, dtype = _m.arrays.npy_header(fp)
    except Exception:  # unreadable: let the events reader report it
        return "npy"
    return "spike-npy" if len(shape) == 3 and not dtype.names else "npy"


#: What third-party decoders (numpy, scipy, h5py, zipfile, zlib) raise when they choke on a corrupt file.
_DECODER_ERRORS = (OSError, ValueError, KeyError, TypeError, IndexError, EOFError, ArithmeticError, MemoryError,
                   RuntimeError, SyntaxError, UnboundLocalError, zlib.error, tokenize.TokenError)


def _is_scipy_read_error(exc: Exception) -> bool:
    return type(exc).__name__ == "MatReadError"


@contextlib.contextmanager
def _file_errors(path) -> Iterator[None]:
    """Turn whatever a decoder raises on a corrupt ``path`` into a :class:`NeurofocusError` naming it, and silence
    the warnings third-party decoders give on it (numpy overflows, empty loadtxt blocks): only our notes pass."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        for w in caught:  # our notes go on, under the caller's filters
            if issubclass(w.category, NeurofocusWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    except FileNotFoundError:
        raise NeurofocusError("no such file", path) from None
    except NeurofocusError as exc:
        raise exc.with_path(path) from None
    except MemoryError:
        raise NeurofocusError("the file declares more data than fits in memory: corrupt file", path) from None
    except Exception as exc:  # noqa: BLE001 - only the decoder errors above, and scipy's MatReadError
        if not (isinstance(exc, _DECODER_ERRORS) or _is_scipy_read_error(exc)):
            raise
        raise NeurofocusError(f"unreadable or corrupt file ({type(exc).__name__}: {' '.join(str(exc).split())})",
                              path) from None


def _check_regular_file(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise NeurofocusError("no such file", path) from None
    except OSError as exc:  # ELOOP and friends
        raise NeurofocusError(exc.strerror or str(exc), path) from None
    if stat.S_ISDIR(mode):
        raise NeurofocusError("is a folder, not a file", path)
    if not stat.S_ISREG(mode):
        raise NeurofocusError("not a regular file (a pipe, socket or device)", path)


def detect_format(path: str | os.PathLike) -> str:
    """Name of the format of ``path`` (a key of :data:`FORMATS`; RAW files report their encoding).

    Raises
    ------
    NeurofocusError
        If the file is missing, not a regular file, empty, unreadable or in no known format.
    """
    path = Path(path)
    _check_regular_file(path)
    with _file_errors(path):
        return _detect(path)


def _detect(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(1024)
    if not head:
        raise NeurofocusError("the file is empty", path)
    ext = path.suffix.lower()
    if head.startswith(b"MATLAB"):
        return "mat"
    if head.startswith(_HDF5_MAGIC):
        if ext == ".mat":
            return "mat"
        try:
            layout = _m.hdf5.hdf5_layout(path)
        except OSError as exc:
            raise NeurofocusError(f"unreadable HDF5 file ({' '.join(str(exc).split())})", path) from None
        if layout is None:
            raise NeurofocusError("HDF5 file without /CD/events (Prophesee), /events/xs,ys,ts,ps (event_utils) or "
                                  "/spikes/packed (spikes)", path)
        return {"prophesee": "prophesee-hdf5", "event_utils": "hdf5", "spikes": "spike-hdf5"}[layout]
    if head.startswith(b"#!") and head.startswith(_m.aedat4.MAGIC):  # (the decoder is imported for such files only)
        return "aedat4"
    if head.startswith(b"\x93NUMPY") or head.startswith(b"PK\x03\x04"):
        return _numpy_kind(path, head)
    if head.startswith(b"%"):
        header, _ = read_percent_header(path)
        if "evt" in header or "format" in header:
            return _m.prophesee_raw.parse_encoding(header)[0] if ext != ".dat" else "dat"
        if ext == ".raw":
            return "evt3"  # the reader reports the missing encoding
        if _m.prophesee_dat.looks_like_dat(path):
            return "dat"
    if ext == ".dat":
        return "vidar-dat"
    if ext == ".raw":
        raise NeurofocusError("no Prophesee RAW header ('% key value' lines): not a RAW file", path)
    if ext in (".h5", ".hdf5"):
        raise NeurofocusError("no HDF5 signature: not an HDF5 file", path)
    kind = _m.text.sniff_text(path)
    if kind is not None:
        return kind
    by_extension = {".npy": "npy", ".npz": "npz", ".mat": "mat", ".aedat4": "aedat4", ".txt": "voltmeter-txt",
                    ".csv": "voltmeter-txt"}
    if ext in by_extension:  # the format's reader explains what is wrong with the file
        return by_extension[ext]
    raise NeurofocusError(f"unknown file format (known: {', '.join(FORMATS)})", path)


def _read(path, fmt: str | None, kind: str, options: ReadOptions):
    fmt = fmt or detect_format(path)
    spec = FORMATS.get(fmt)
    if spec is None:
        raise NeurofocusError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    if spec.kind != kind:
        label = {"events": "events", "spikes": "spike frames"}
        raise NeurofocusError(f"holds {label[spec.kind]} ({spec.description}), not {label[kind]}"
                              + (": read it as spikes (--spikes)" if spec.kind == "spikes" else ""), path)
    _check_regular_file(Path(path))
    with _file_errors(path):
        return spec.read(Path(path), options)


def load_events(path: str | os.PathLike, *, format: str | None = None, sensor_size: tuple[int, int] | None = None,
                columns: str | None = None, progress: bool | None = None) -> Events:
    """Read an event file.

    Parameters
    ----------
    path : path-like
        The file.
    format : str, optional
        A key of :data:`FORMATS`; default: detected.
    sensor_size : (int, int), optional
        (width, height), overriding what the file says (needed for files that store none, else inferred with a
        warning).
    columns : str, optional
        Column order of plain (N, 4) arrays (``.npy``, ``.mat``), default ``"t,x,y,p"``.
    progress : bool, optional
        Show a progress bar (default: for big files on a terminal).

    Returns
    -------
    Events
    """
    return _read(path, format, "events", ReadOptions(sensor_size=sensor_size, columns=columns, progress=progress))


def load_spikes(path: str | os.PathLike, *, format: str | None = None, size: tuple[int, int] | None = None,
                tick_us: float | None = None, start_us: float | None = None,
                extra_columns: int | None = None) -> Spikes:
    """Read a spike file.

    Parameters
    ----------
    format : str, optional
        ``"vidar-dat"``, ``"spike-npz"`` or ``"spike-npy"``; default: detected.
    size : (int, int), optional
        (height, width) of a Vidar ``.dat`` (required there unless a sidecar JSON gives it).
    tick_us, start_us : float, optional
        Readout interval and time of the first tick in µs (default: the file's or sidecar's; start 0).
    extra_columns : int, optional
        Vidar ``.dat`` only: columns per stored row beyond the frame width, dropped (see
        :func:`~neurofocus.io.spike_files.read_vidar_dat`).
    """
    return _read(path, format, "spikes", ReadOptions(spike_size=size, tick_us=tick_us, start_us=start_us,
                                                     extra_columns=extra_columns))


def _writer(path, format, defaults: dict[str, str], kind: str) -> Format:
    name = format or defaults.get(Path(path).suffix.lower())
    if name is None:
        raise NeurofocusError(f"cannot tell the output format from the extension {Path(path).suffix!r}: name one "
                              f"({', '.join(n for n, f in FORMATS.items() if f.kind == kind and f.write)})", path)
    spec = FORMATS.get(name)
    if spec is None or spec.kind != kind or spec.write is None:
        writable = [n for n, f in FORMATS.items() if f.kind == kind and f.write]
        raise NeurofocusError(f"cannot write {kind} as {name!r} (writable: {', '.join(writable)})", path)
    return spec


def save_events(path: str | os.PathLike, events: Events, *, format: str | None = None) -> None:
    """Write events (atomically) in ``format`` (default: chosen by the extension, see
    :data:`DEFAULT_WRITE_FORMAT`)."""
    spec = _writer(path, format, DEFAULT_WRITE_FORMAT, "events")
    try:
        spec.write(path, events)
    except NeurofocusError as exc:
        raise exc.with_path(path) from None


@contextlib.contextmanager
def event_writer(path: str | os.PathLike, sensor_size: tuple[int, int], *,
                 format: str | None = None) -> Iterator[Callable[[Events], None]]:
    """Write time-sorted chunks of events (atomically, when the block ends without error) into the file
    :func:`save_events` makes of them all: yields the function that takes each chunk. RAW encodings are written chunk
    by chunk (:func:`~neurofocus.io.prophesee_raw.raw_writer`: constant memory); other formats gather the chunks."""
    spec = _writer(path, format, DEFAULT_WRITE_FORMAT, "events")
    if spec.name not in _m.prophesee_raw.ENCODINGS:
        parts = []
        yield parts.append
        save_events(path, Events.concatenate(parts) if parts else Events.empty(sensor_size), format=spec.name)
        return
    with contextlib.ExitStack() as stack:
        try:
            raw = stack.enter_context(_m.prophesee_raw.raw_writer(path, sensor_size, encoding=spec.name))
        except NeurofocusError as exc:
            raise exc.with_path(path) from None

        def write(events: Events) -> None:
            try:
                raw.write(events)
            except NeurofocusError as exc:
                raise exc.with_path(path) from None

        yield write


def save_spikes(path: str | os.PathLike, spikes: Spikes, *, format: str | None = None) -> None:
    """Write spikes (atomically): ``.dat`` (Vidar, with a sidecar JSON), ``.npz`` or ``.npy``."""
    spec = _writer(path, format, DEFAULT_SPIKE_WRITE_FORMAT, "spikes")
    try:
        spec.write(path, spikes)
    except NeurofocusError as exc:
        raise exc.with_path(path) from None
