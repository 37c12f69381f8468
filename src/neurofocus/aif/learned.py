"""The learned all-in-focus pipeline (NFS §3.4–3.6; EFS): refocus and merge with the networks of
:mod:`neurofocus.models`, the refocusing times chosen by the hand-crafted search (cheap).

    sweep → times (hand-crafted per-patch search, :func:`.pipeline.plan_stack`)
          → one refocus-network pass per distinct time, batched          (Ev/NeuroRefocusNet)
          → merge weights over the stack and the weighted sum            (NeuroMergeNet, any stack size;
                                                                          EvMergeNet, one slice per patch: EFS)

``method="learned"`` pairs a refocus network with NeuroMergeNet over the de-duplicated stack (the image time
included); ``method="efs"`` pairs EvRefocusNet with EvMergeNet over the EFS stack: one slice per patch (N×N = the
merge network's stack size), a patch without a time contributing the image itself.
"""

from __future__ import annotations

import dataclasses
import time
from importlib import resources
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..color import to_uint8
from ..errors import NeurofocusError
from ..types import FocalSweep
from .pipeline import AifConfig, AifResult, plan_stack

#: Shipped weight files, by (method, modality): (refocus network, merge network), in ``neurofocus/weights``.
SHIPPED = {("learned", "events"): ("neuro_refocus_events", "neuro_merge_events"),
           ("learned", "spikes"): ("neuro_refocus_spikes", "neuro_merge_spikes"),
           ("efs", "events"): ("ev_refocus", "ev_merge")}


def shipped_weights(method: str, modality: str) -> tuple[Path, Path] | None:
    """The packaged (refocus, merge) weight files for ``method`` and ``modality``, or None if none ship."""
    names = SHIPPED.get((method, modality))
    if names is None:
        raise NeurofocusError(f"method {method!r} has no {modality} variant (EFS is events only)")
    folder = Path(str(resources.files("neurofocus").joinpath("weights")))
    paths = tuple(folder / f"{name}.safetensors" for name in names)
    return paths if all(p.is_file() for p in paths) else None


def load_networks(method: str, modality: str, refocus_path=None, merge_path=None, device: str = "cpu"):
    """(refocus network, merge network) from the given files, else the shipped ones; checked against ``method``."""
    from ..models import load_model
    from ..models.merge import EvMergeNet, NeuroMergeNet

    if refocus_path is None or merge_path is None:
        shipped = shipped_weights(method, modality)
        if shipped is None:
            raise NeurofocusError(f"no trained weights for --method {method} with {modality} ship with this version "
                                  f"of neurofocus yet; give --refocus-weights and --merge-weights (from neurofocus "
                                  f"train refocus / merge)")
        refocus_path, merge_path = refocus_path or shipped[0], merge_path or shipped[1]
    refocus, merge = load_model(refocus_path, map_location=device), load_model(merge_path, map_location=device)
    want = EvMergeNet if method == "efs" else NeuroMergeNet
    if not hasattr(refocus, "compose"):
        raise NeurofocusError(f"holds a {refocus.name!r} model, not a refocus network", refocus_path)
    if not isinstance(merge, want):
        raise NeurofocusError(f"holds a {merge.name!r} model; --method {method} needs {want.__name__}", merge_path)
    for path, net in ((refocus_path, refocus), (merge_path, merge)):
        if net.modality != modality:
            raise NeurofocusError(f"is a network for {net.modality}, but the recording has {modality}", path)
    return refocus, merge


def learned_all_in_focus(sweep: FocalSweep, refocus_net, merge_net, config: AifConfig = AifConfig(), *,
                         batch_size: int = 4, device: str = "cpu", keep_stack: bool = True,
                         progress: bool = False) -> AifResult:
    """Run the learned pipeline on a focal sweep.

    Parameters
    ----------
    sweep : FocalSweep
        RGB image (on the sensor's grid), its capture time, and events or spikes.
    refocus_net, merge_net : torch.nn.Module
        From :func:`load_networks` (or :func:`neurofocus.models.create_model`); their modality picks the signal.
    config : AifConfig
        Settings of the time search (``times``, ``grid``, ``num_uniform``, ...); its weights are not used.
    batch_size : int
        Refocus-network passes per batch, and merge-network images per chunk.
    device : str
        Torch device of the networks.
    """
    import torch

    from ..models.inputs import merge_inputs, refocus_inputs, tensor_to_image
    from ..models.merge import EvMergeNet

    timings = {}
    t0 = time.perf_counter()
    modality = refocus_net.modality
    if merge_net.modality != modality:
        raise NeurofocusError(f"the refocus network takes {modality} but the merge network {merge_net.modality}")
    efs = isinstance(merge_net, EvMergeNet)
    if efs and config.grid ** 2 != merge_net.config.stack_size:
        config = dataclasses.replace(config, grid=int(round(merge_net.config.stack_size ** 0.5)))
        if config.grid ** 2 != merge_net.config.stack_size:
            raise NeurofocusError(f"EvMergeNet's stack of {merge_net.config.stack_size} is not N×N patches")
    if efs and config.times == "uniform":
        raise NeurofocusError("the EFS merge network takes one slice per patch: use a per-patch time search")
    plan = plan_stack(sweep, dataclasses.replace(config, modality=modality))
    timings.update(plan.timings_s)
    if efs:  # one slice per patch, in patch order; a patch without a time shows the image
        patch_times = plan.selection.patch_times_us
        times = np.where(np.isfinite(patch_times), np.round(patch_times), sweep.image_time_us).astype(np.int64)
    else:
        times = plan.stack_times_us
    distinct = np.unique(times)
    t1 = time.perf_counter()
    refocused = {}
    with torch.inference_mode():
        for start in tqdm(range(0, len(distinct), batch_size), desc="refocusing", disable=not progress, leave=False):
            chunk = distinct[start:start + batch_size]
            inputs = [refocus_inputs(refocus_net, sweep, int(t)) for t in chunk]
            batch = {key: torch.cat([i[key] for i in inputs]).to(device) for key in inputs[0]}
            for t, image in zip(chunk, refocus_net(**batch)):
                refocused[int(t)] = tensor_to_image(image.cpu())
        timings["refocus_s"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        stack = [refocused[int(t)] for t in times]
        inputs = {k: v.to(device) for k, v in merge_inputs(merge_net, sweep, stack, times).items()}
        output = merge_net(**inputs) if efs else merge_net(**inputs, chunk_size=batch_size)
        image = tensor_to_image(output.image[0].cpu())
        weights = output.weights[0].cpu().numpy()
    timings["merge_s"] = time.perf_counter() - t1
    infocus = times[np.argmax(weights, axis=0)].astype(np.float64)
    timings["total_s"] = time.perf_counter() - t0
    kept = [to_uint8(refocused[int(t)]) for t in distinct] if keep_stack else []
    return AifResult(image, infocus, distinct, kept, plan.selection, plan.contrast, modality,
                     "efs-merge-net" if efs else "neuro-merge-net", timings)
