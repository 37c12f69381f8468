"""The learned all-in-focus pipeline (NFS §3.4–3.6; EFS): refocus and merge with the networks of
:mod:`neurofocus.models`, the refocusing times chosen by the hand-crafted search (cheap).

    sweep → times (hand-crafted per-patch search, :func:`.pipeline.plan_stack`)
          → one refocus-network pass per distinct time, batched          (Ev/NeuroRefocusNet)
          → merge weights over the stack and the weighted sum            (NeuroMergeNet, any stack size;
                                                                          EvMergeNet, one slice per patch: EFS)

``method="learned"`` pairs a refocus network with NeuroMergeNet over the de-duplicated stack (the image time
included) — or, without a merge network, with the hand-crafted focus measures of :mod:`.pipeline` (the papers'
"RNet + GDF" ablation with ``weights="gradient"``); ``method="efs"`` pairs EvRefocusNet with EvMergeNet over the
EFS stack: one slice per patch (N×N = the merge network's stack size), a patch without a time contributing the
image itself.
"""

from __future__ import annotations

import dataclasses
import time
from importlib import resources
from pathlib import Path

import numpy as np

from ..color import srgb_to_linear, to_uint8
from ..errors import NeurofocusError
from ..progress import progress_bar
from ..types import FocalSweep
from .pipeline import AifConfig, AifResult, merge_slices, plan_stack, weight_rule

#: Shipped weight files, by (method, modality): (refocus network, merge network), in ``neurofocus/weights``.
SHIPPED = {("learned", "events"): ("neuro_refocus_events", "neuro_merge_events"),
           ("learned", "spikes"): ("neuro_refocus_spikes", "neuro_merge_spikes"),
           ("efs", "events"): ("ev_refocus", "ev_merge")}


def shipped_weights(method: str, modality: str) -> tuple[Path | None, Path | None]:
    """The packaged (refocus, merge) weight files for ``method`` and ``modality``; None for a file not shipped."""
    names = SHIPPED.get((method, modality))
    if names is None:
        raise NeurofocusError(f"method {method!r} has no {modality} variant (EFS is events only)")
    folder = Path(str(resources.files("neurofocus").joinpath("weights")))
    paths = [folder / f"{name}.safetensors" for name in names]
    return tuple(p if p.is_file() else None for p in paths)


MERGE_CHOICES = ("auto", "network", "handcrafted")


def load_networks(method: str, modality: str, refocus_path=None, merge_path=None, device: str = "cpu",
                  merge: str = "auto"):
    """(refocus network, merge network or None) from the given files, else the shipped ones.

    ``merge``: "network" needs a merge network (given or shipped); "handcrafted" returns None (the hand-crafted
    focus measures merge the network's slices); "auto" takes the network when there is one, else None. Raises
    NeurofocusError when a needed file is missing or a file holds the wrong network.
    """
    from ..models import load_model
    from ..models.merge import EvMergeNet, NeuroMergeNet

    if merge not in MERGE_CHOICES:
        raise NeurofocusError(f"merge must be one of {MERGE_CHOICES}, got {merge!r}")
    if method == "efs" and merge == "handcrafted":
        raise NeurofocusError("--method efs merges with EvMergeNet; use --method learned for hand-crafted merging")
    shipped_refocus, shipped_merge = shipped_weights(method, modality)
    refocus_path = refocus_path or shipped_refocus
    if refocus_path is None:
        raise NeurofocusError(f"no trained {modality} refocus network for --method {method} ships with this version "
                              f"of neurofocus; give --refocus-weights (from neurofocus train refocus)")
    if merge == "handcrafted":
        merge_path = None
    else:
        merge_path = merge_path or shipped_merge
        if merge_path is None and (merge == "network" or method == "efs"):
            raise NeurofocusError(f"no trained {modality} merge network for --method {method} ships with this "
                                  f"version of neurofocus; give --merge-weights (from neurofocus train merge)")
    refocus = load_model(refocus_path, map_location=device)
    if not hasattr(refocus, "compose"):
        raise NeurofocusError(f"holds a {refocus.name!r} model, not a refocus network", refocus_path)
    nets = [(refocus_path, refocus)]
    merge_net = None
    if merge_path is not None:
        merge_net = load_model(merge_path, map_location=device)
        want = EvMergeNet if method == "efs" else NeuroMergeNet
        if not isinstance(merge_net, want):
            raise NeurofocusError(f"holds a {merge_net.name!r} model; --method {method} needs {want.__name__}",
                                  merge_path)
        nets.append((merge_path, merge_net))
    for path, net in nets:
        if net.modality != modality:
            raise NeurofocusError(f"is a network for {net.modality}, but the recording has {modality}", path)
    return refocus, merge_net


def learned_all_in_focus(sweep: FocalSweep, refocus_net, merge_net=None, config: AifConfig = AifConfig(), *,
                         batch_size: int = 4, device: str = "cpu", keep_stack: bool = True,
                         progress: bool = False) -> AifResult:
    """Run the learned pipeline on a focal sweep.

    Parameters
    ----------
    sweep : FocalSweep
        RGB image (on the sensor's grid), its capture time, and events or spikes.
    refocus_net, merge_net : torch.nn.Module
        From :func:`load_networks` (or :func:`neurofocus.models.create_model`); their modality picks the signal.
        ``merge_net`` None: the hand-crafted focus measures (``config.weights``) merge the network's slices.
    config : AifConfig
        Settings of the time search (``times``, ``grid``, ``num_uniform``, ...) and, without a merge network, of
        the hand-crafted merge.
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
    if merge_net is not None and merge_net.modality != modality:
        raise NeurofocusError(f"the refocus network takes {modality} but the merge network {merge_net.modality}")
    efs = isinstance(merge_net, EvMergeNet)
    config = dataclasses.replace(config, modality=modality)
    rule = weight_rule(sweep, config, modality) if merge_net is None else None
    if efs and config.grid ** 2 != merge_net.config.stack_size:
        config = dataclasses.replace(config, grid=int(round(merge_net.config.stack_size ** 0.5)))
        if config.grid ** 2 != merge_net.config.stack_size:
            raise NeurofocusError(f"EvMergeNet's stack of {merge_net.config.stack_size} is not N×N patches")
    if efs and config.times == "uniform":
        raise NeurofocusError("the EFS merge network takes one slice per patch: use a per-patch time search")
    plan = plan_stack(sweep, config)
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
        for start in progress_bar(range(0, len(distinct), batch_size), desc="refocusing", disable=not progress,
                                  leave=False):
            chunk = distinct[start:start + batch_size]
            inputs = [refocus_inputs(refocus_net, sweep, int(t), plan.refocuser) for t in chunk]
            batch = {key: torch.cat([i[key] for i in inputs]).to(device) for key in inputs[0]}
            for t, image in zip(chunk, refocus_net(**batch)):
                refocused[int(t)] = tensor_to_image(image.cpu())
        timings["refocus_s"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        if merge_net is None:
            slices = (srgb_to_linear(refocused[int(t)]) for t in times)
            image, infocus = merge_slices(sweep, plan, config, slices, rule)
        else:
            stack = [refocused[int(t)] for t in times]
            inputs = {k: v.to(device) for k, v in merge_inputs(merge_net, sweep, stack, times).items()}
            output = merge_net(**inputs) if efs else merge_net(**inputs, chunk_size=batch_size)
            image = tensor_to_image(output.image[0].cpu())
            infocus = times[np.argmax(output.weights[0].cpu().numpy(), axis=0)].astype(np.float64)
            rule = "efs-merge-net" if efs else "neuro-merge-net"
    timings["merge_s"] = time.perf_counter() - t1
    timings["total_s"] = time.perf_counter() - t0
    kept = [to_uint8(refocused[int(t)]) for t in distinct] if keep_stack else []
    return AifResult(image, infocus, distinct, kept, plan.selection, plan.contrast, modality, rule, timings)
