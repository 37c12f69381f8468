"""Whole datasets: one folder per scene or sequence, written atomically, resumable and shardable.

A dataset folder holds ``config.json`` (the settings; a rerun with other settings is refused), the item folders
(``scene_00000`` ... or ``seq_00000`` ..., :data:`~.folders.KINDS`) and ``manifest.json``. Item i depends only on
(seed, i), so shards (``--shard i/n``: items with index % n == i) and reruns produce the same data. An item is built
in a ``*.partial-*`` folder and renamed when complete: rerunning skips finished items and redoes interrupted ones.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

from ..atomic import write_text_atomic
from ..errors import NeurofocusError
from ..progress import progress_bar
from .folders import dataset_kind, kind_of_config, read_info


def _build_scene(args) -> dict:
    out, kind, config_json, seed, index = args
    spec = dataset_kind(kind)
    config = spec.resolve("config").from_json(config_json)
    final = Path(out) / f"{spec.prefix}_{index:05d}"
    partial = Path(out) / f"{spec.prefix}_{index:05d}.partial-{uuid.uuid4().hex[:8]}"
    try:
        simulated, meta = spec.resolve("simulate")(config, seed, index, workers=1)
        info = spec.write(partial, simulated, meta)
        os.replace(partial, final)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return info


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` -> (i, n) with 0 <= i < n."""
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise NeurofocusError(f"shard {text!r} is not of the form i/n (e.g. 0/4)") from None
    if not 0 <= i < n:
        raise NeurofocusError(f"shard {text!r}: need 0 <= i < n")
    return i, n


def write_manifest(out: Path) -> dict:
    """(Re)write ``manifest.json`` from the finished scene folders; returns it."""
    config = json.loads((out / "config.json").read_text())
    spec = dataset_kind(config.get("kind", "focal-sweep"))
    scenes = []
    for folder in sorted(out.glob(f"{spec.prefix}_?????")):
        if (folder / spec.info_file).is_file():
            info = read_info(folder, spec.name)
            size = sum(f.stat().st_size for f in folder.iterdir())
            entry = {"index": info["index"], "folder": folder.name, "bytes": size,
                     "num_events": info.get("num_events"), "num_spikes": info.get("num_spikes"),
                     "seconds": info.get("seconds")}
            if "num_events_sharp" in info:
                entry["num_events_sharp"] = info["num_events_sharp"]
            scenes.append(entry)
    manifest = {"config": config, "num_scenes": len(scenes), "total_bytes": sum(s["bytes"] for s in scenes),
                "scenes": scenes}
    write_text_atomic(out / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return manifest


def synthesize(out: str | os.PathLike, num_scenes: int, *, seed: int = 0, config=None,
               shard: tuple[int, int] = (0, 1), workers: int | None = None, dask_address: str | None = None,
               progress: bool = True) -> dict:
    """Generate (or complete) a dataset of ``num_scenes`` scenes in ``out``; returns the manifest.

    Parameters
    ----------
    config : SynthConfig or DefocusVideoConfig, optional
        The settings of a registered kind (:data:`~.folders.KINDS`): focal sweeps
        (:class:`~neurofocus.simulate.dataset.SynthConfig`, the default) or defocused-event videos
        (:class:`~neurofocus.simulate.defocus_video.DefocusVideoConfig`).
    shard : (i, n)
        Only scenes with index % n == i (several machines can split a job).
    workers : int, optional
        Local processes (default: all cores).
    dask_address : str, optional
        Submit scenes to this dask.distributed scheduler instead ("local" starts a local cluster); needs the
        ``dask`` extra.
    """
    if config is None:
        config = dataset_kind("focal-sweep").resolve("config")()
    spec = kind_of_config(config)
    prefix, marker = spec.prefix, spec.info_file
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config_path = out / "config.json"
    wanted = json.loads(json.dumps({"seed": seed, **config.to_json()}))  # tuples as JSON lists
    if config_path.exists():
        existing = json.loads(config_path.read_text())
        if existing != wanted:
            raise NeurofocusError(f"{out} holds a dataset made with other settings (see config.json): use another "
                                  "folder or the same settings")
    else:
        write_text_atomic(config_path, json.dumps(wanted, indent=2) + "\n")
    for stale in out.glob(f"{prefix}_*.partial-*"):  # interrupted earlier: redo
        shutil.rmtree(stale, ignore_errors=True)
    todo = [i for i in range(num_scenes)
            if i % shard[1] == shard[0] and not (out / f"{prefix}_{i:05d}" / marker).is_file()]
    tasks = [(str(out), spec.name, config.to_json(), seed, i) for i in todo]
    bar = progress_bar(total=len(tasks), desc="scenes", unit="scene", disable=not progress)
    if dask_address:
        _run_dask(tasks, dask_address, bar)
    elif (workers or os.cpu_count() or 1) > 1 and len(tasks) > 1:
        from concurrent.futures import ProcessPoolExecutor  # (multiprocessing: 15 ms, for this only)

        with ProcessPoolExecutor(min(len(tasks), workers or os.cpu_count() or 1)) as pool:
            for _ in pool.map(_build_scene, tasks):
                bar.update()
    else:
        for task in tasks:
            _build_scene(task)
            bar.update()
    bar.close()
    return write_manifest(out)


def _run_dask(tasks, address: str, bar) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise NeurofocusError("dask is not installed: pip install 'neurofocus[dask]'") from None
    cluster = LocalCluster(processes=True, threads_per_worker=1) if address == "local" else None
    with Client(cluster or address) as client:
        for future in as_completed(client.map(_build_scene, tasks, pure=False)):
            future.result()
            bar.update()
    if cluster is not None:
        cluster.close()
