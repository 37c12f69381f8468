"""The sample and sequence folders on disk: what each kind holds, how it is written and read back, how a dataset's
folders are listed. Nothing else in the package opens ``sample.json``, ``truth.npz``, ``sequence.json`` or
``frames.npz``.

The kinds (:data:`KINDS`, :func:`dataset_kind`) are registered below with their folder prefix, the JSON file that
marks a complete folder, the other files it must hold, and their signal streams.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..atomic import atomic_path, write_text_atomic
from ..errors import NeurofocusError
from ..images import read_image, write_image
from ..types import FocalSweep, GroundTruth


@dataclasses.dataclass(frozen=True)
class DatasetKind:
    """One kind of dataset folder.

    Attributes
    ----------
    name : str
        The ``kind`` in a dataset's ``config.json`` ("focal-sweep" when absent).
    item : str
        What one folder holds, in messages ("scene", "sequence").
    prefix : str
        Folder names in a dataset: ``<prefix>_00000`` ...
    info_file : str
        The JSON file that describes a folder; it is written last, so it marks a complete folder.
    files : tuple of str
        Every file a complete folder holds besides its streams (``info_file`` included).
    streams : dict
        Signal name → the key of ``info_file`` that names its file, when the folder has it.
    synth : str
        The command that makes such a dataset (for messages).
    config, simulate : str
        ``"module:name"`` (imported on use) of the settings dataclass (``from_json``, ``to_json``, ``KIND``) and of
        ``simulate(config, seed, index, *, workers) -> (simulated, meta)``, one folder's content.
    write : callable
        ``write(folder, simulated, meta) -> info``: the folder written.
    """

    name: str
    item: str
    prefix: str
    info_file: str
    files: tuple[str, ...]
    streams: dict
    synth: str
    config: str
    simulate: str
    write: Callable[..., dict]

    def resolve(self, attribute: str):
        """The settings class (``"config"``) or the simulator (``"simulate"``), imported now."""
        import importlib

        module, name = getattr(self, attribute).split(":")
        return getattr(importlib.import_module(module), name)

    def missing(self, folder: Path) -> list[str]:
        """The files of a complete folder that ``folder`` lacks."""
        return [name for name in self.files if not (folder / name).is_file()]


#: The registered kinds, by name (:func:`register_kind`).
KINDS: dict[str, DatasetKind] = {}


def register_kind(kind: DatasetKind) -> DatasetKind:
    """Add a kind of dataset folder to :data:`KINDS`."""
    KINDS[kind.name] = kind
    return kind


def dataset_kind(name: str) -> DatasetKind:
    """The registered kind ``name``."""
    if name not in KINDS:
        raise NeurofocusError(f"unknown dataset kind {name!r} ({' or '.join(KINDS)})")
    return KINDS[name]


def kind_of_config(config) -> DatasetKind:
    """The kind whose settings ``config`` is (its class's ``KIND``, focal sweeps when it has none)."""
    return dataset_kind(getattr(config, "KIND", "focal-sweep"))


def jsonable(value):
    """``value`` with dataclasses, tuples and numpy scalars turned into JSON types (dicts, lists, numbers)."""
    if dataclasses.is_dataclass(value):
        return {k: jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def read_info(folder: str | os.PathLike, kind: str) -> dict:
    """The JSON description of a folder of ``kind`` (``sample.json``, ``sequence.json``)."""
    path = Path(folder) / dataset_kind(kind).info_file
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise NeurofocusError(f"not a {kind} folder (no {path.name})", folder) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise NeurofocusError(f"not valid JSON ({exc})", path) from None


def dataset_settings_kind(folder: str | os.PathLike) -> str | None:
    """The kind a dataset folder's ``config.json`` names (``"focal-sweep"`` when it names none); None without a
    readable ``config.json``."""
    try:
        settings = json.loads((Path(folder) / "config.json").read_text())
        return settings.get("kind", "focal-sweep")
    except (OSError, json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return None


def list_folders(folder: str | os.PathLike, kind: str, *, purpose: str) -> list[Path]:
    """The complete folders of ``kind`` in a dataset folder (sorted by name), or ``[folder]`` when it is one.

    ``purpose`` ends the message when the dataset is of another kind (e.g. "refocus training needs focal sweeps").
    """
    folder, spec = Path(folder), dataset_kind(kind)
    if not folder.is_dir():
        raise NeurofocusError("no such dataset folder", folder)
    other = dataset_settings_kind(folder)
    if other is not None and other != kind:
        raise NeurofocusError(f"is a {other} dataset; {purpose} ({spec.synth})", folder)
    if (folder / spec.info_file).is_file():
        return [folder]
    found = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".") and not spec.missing(p))
    if not found:
        raise NeurofocusError(f"holds no {spec.item} folders (make a dataset with: {spec.synth} --scenes N --out DIR)",
                              folder)
    return found


def has_stream(folder: str | os.PathLike, kind: str, stream: str) -> bool:
    """Whether a folder of ``kind`` holds the signal ``stream`` (e.g. "spikes", "sharp")."""
    return dataset_kind(kind).streams[stream] in read_info(folder, kind)


# --- focal sweeps -------------------------------------------------------------------------------------------------

def write_sample(folder: str | os.PathLike, simulated, meta: dict, *, event_file: str = "events.hdf5",
                 event_format: str | None = None, spike_file: str = "spikes.h5") -> dict:
    """Write a simulated sweep (:class:`~neurofocus.simulate.focal_sweep.SimulatedSweep`) as a sample folder;
    returns the ``sample.json`` content (``meta`` made JSON-able and added to it).

    ``event_file`` / ``event_format`` and ``spike_file`` choose the neuromorphic files' names and formats.
    """
    from ..io import save_events, save_spikes

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sweep, truth = simulated.sweep, simulated.sweep.ground_truth
    write_image(folder / "image.png", sweep.image)
    write_image(folder / "aif.png", truth.all_in_focus)
    arrays = dict(infocus_time_us=truth.infocus_time_us, frame_times_us=simulated.schedule.times_us,
                  focus_m=simulated.schedule.focus_m, kept_indices=simulated.kept_indices,
                  kept_frames=simulated.kept_frames)
    if truth.depth_m is not None:
        arrays["depth_m"] = truth.depth_m.astype(np.float32)
    with atomic_path(folder / "truth.npz") as tmp:
        np.savez_compressed(tmp, **arrays)
    info = {"image_time_us": sweep.image_time_us, "image_frame": simulated.schedule.image_frame,
            "sweep_start_us": sweep.sweep_start_us, "sweep_end_us": sweep.sweep_end_us,
            "sensor_size": list(sweep.sensor_size)}
    if sweep.events is not None:
        save_events(folder / event_file, sweep.events, format=event_format)
        stats = sweep.events.polarity_stats()
        info.update(event_file=event_file, num_events=len(sweep.events), num_on=stats.num_on)
    if sweep.spikes is not None:
        save_spikes(folder / spike_file, sweep.spikes)
        info.update(spike_file=spike_file)
        info.update(num_spike_ticks=sweep.spikes.num_ticks, spike_tick_us=sweep.spikes.tick_us,
                    num_spikes=sweep.spikes.num_spikes)
    info.update(jsonable(meta))
    write_text_atomic(folder / "sample.json", json.dumps(info, indent=2, sort_keys=True) + "\n")
    return info


@dataclasses.dataclass
class Sample:
    """A sample folder read back: the sweep with ground truth, and the kept frames."""

    sweep: FocalSweep
    kept_frames: np.ndarray
    kept_indices: np.ndarray
    frame_times_us: np.ndarray
    focus_m: np.ndarray
    info: dict

    def kept_frame(self, position: int) -> np.ndarray:
        """Kept frame ``position`` as float32 sRGB (H, W, 3) in [0, 1]."""
        return self.kept_frames[position].astype(np.float32) / 255.0


def load_sample(folder: str | os.PathLike, *, events: bool = True, spikes: bool = True) -> Sample:
    """Read a sample folder written by :func:`write_sample`."""
    from ..io import load_events, load_spikes

    folder = Path(folder)
    missing = KINDS["focal-sweep"].missing(folder)
    if missing:
        raise NeurofocusError(f"not a complete sample folder (missing {', '.join(missing)})", folder)
    info = read_info(folder, "focal-sweep")
    with np.load(folder / "truth.npz") as z:
        arrays = {k: z[k] for k in z.files}
    truth = GroundTruth(read_image(folder / "aif.png"), depth_m=arrays.get("depth_m"),
                        infocus_time_us=arrays["infocus_time_us"])
    ev = load_events(folder / info["event_file"]) if events and "event_file" in info else None
    sp = load_spikes(folder / info["spike_file"]) if spikes and "spike_file" in info else None
    sweep = FocalSweep(read_image(folder / "image.png"), info["image_time_us"], events=ev, spikes=sp,
                       sweep_start_us=info["sweep_start_us"], sweep_end_us=info["sweep_end_us"], ground_truth=truth)
    return Sample(sweep, arrays["kept_frames"], arrays["kept_indices"], arrays["frame_times_us"], arrays["focus_m"],
                  info)


def is_sample_folder(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` is a (simulated) sample folder: it has a ``sample.json``."""
    return (Path(folder) / KINDS["focal-sweep"].info_file).is_file()


def sample_image_time(folder: str | os.PathLike) -> int | None:
    """The image capture time (µs) a sample folder records; None when ``folder`` is not one."""
    return int(read_info(folder, "focal-sweep")["image_time_us"]) if is_sample_folder(folder) else None


def sample_ground_truth(folder: str | os.PathLike) -> np.ndarray | None:
    """A sample folder's all-in-focus ground truth (float32 sRGB), or None when ``folder`` is not a sample folder
    with one."""
    folder = Path(folder)
    if not (is_sample_folder(folder) and (folder / "aif.png").is_file()):
        return None
    return read_image(folder / "aif.png")


def sample_focus_schedule(folder: str | os.PathLike) -> tuple[np.ndarray, np.ndarray] | None:
    """(frame times µs, focus depth m) as float64, sorted by time, from a sample folder's ``truth.npz``; None
    without one (or when it lacks them)."""
    truth = Path(folder) / "truth.npz"
    if not truth.is_file():
        return None
    with np.load(truth) as z:
        if "frame_times_us" not in z.files or "focus_m" not in z.files:
            return None
        times, focus = z["frame_times_us"].astype(np.float64), z["focus_m"].astype(np.float64)
    order = np.argsort(times)
    return times[order], focus[order]


# --- defocused-event video sequences --------------------------------------------------------------------------------

def write_video_sample(folder: str | os.PathLike, simulated, meta: dict) -> dict:
    """Write a simulated video (:class:`~neurofocus.simulate.defocus_video.SimulatedVideo`) as a sequence folder;
    returns the ``sequence.json`` content (also set as ``simulated.info``)."""
    from ..io import save_events

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "frames.npz") as tmp:
        np.savez_compressed(tmp, **{name: getattr(simulated, name) for name in simulated.ARRAYS})
    height, width = simulated.sharp.shape[1:3]
    info = {"size": [width, height], "num_frames": len(simulated.frame_times_us),
            "frame_times_us": simulated.frame_times_us.tolist(), "files": ["frames.npz", "sequence.json"]}
    for key, events in (("", simulated.events), ("_sharp", simulated.sharp_events)):
        if events is not None:
            save_events(folder / f"events{key}.hdf5", events)
            stats = events.polarity_stats()
            info[f"event{key}_file"] = f"events{key}.hdf5"
            info[f"num_events{key}"], info[f"num_on{key}"] = len(events), stats.num_on
            info["files"].append(f"events{key}.hdf5")
    info["flow_valid_fraction"] = round(float(simulated.flow_valid.mean()), 4) if simulated.flow_valid.size else 0.0
    info.update(jsonable(meta))
    write_text_atomic(folder / "sequence.json", json.dumps(info, indent=1, sort_keys=True) + "\n")
    simulated.info = info
    return info


def load_video_sample(folder: str | os.PathLike, *, events: bool = True):
    """Read a sequence folder written by :func:`write_video_sample` (a
    :class:`~neurofocus.simulate.defocus_video.SimulatedVideo`)."""
    from ..io import load_events
    from ..simulate.defocus_video import SimulatedVideo

    folder = Path(folder)
    missing = KINDS["defocus-video"].missing(folder)
    if missing:
        raise NeurofocusError(f"not a complete sequence folder (missing {', '.join(missing)})", folder)
    info = read_info(folder, "defocus-video")
    try:
        with np.load(folder / "frames.npz", allow_pickle=False) as z:
            arrays = {name: z[name] for name in SimulatedVideo.ARRAYS}
    except (KeyError, ValueError, OSError) as exc:
        raise NeurofocusError(f"frames.npz is incomplete or unreadable ({exc})", folder) from None
    ev = load_events(folder / info["event_file"]) if events and "event_file" in info else None
    sharp = load_events(folder / info["event_sharp_file"]) if events and "event_sharp_file" in info else None
    return SimulatedVideo(**arrays, events=ev, sharp_events=sharp, info=info)


register_kind(DatasetKind(
    name="focal-sweep", item="scene", prefix="scene", info_file="sample.json",
    files=("image.png", "aif.png", "truth.npz", "sample.json"), streams={"events": "event_file", "spikes": "spike_file"},
    synth="neurofocus synth", config="neurofocus.simulate.dataset:SynthConfig",
    simulate="neurofocus.simulate.dataset:simulate_scene_sample", write=write_sample))
register_kind(DatasetKind(
    name="defocus-video", item="sequence", prefix="seq", info_file="sequence.json",
    files=("frames.npz", "sequence.json"), streams={"defocused": "event_file", "sharp": "event_sharp_file"},
    synth="neurofocus synth --kind defocus-video", config="neurofocus.simulate.defocus_video:DefocusVideoConfig",
    simulate="neurofocus.simulate.defocus_video:simulate_video_sample", write=write_video_sample))
