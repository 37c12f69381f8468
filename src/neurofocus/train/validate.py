"""Validation on held-out scenes: the network's PSNR next to the hand-crafted method's and the input's.

Refocus
    ``val_pairs`` fixed (input frame, target frame) pairs per held-out scene, drawn like the training pairs (seeded,
    no flips; whole frames unless ``val_crop``). Logged: mean PSNR of the network's refocused image vs the target
    frame (``val_psnr``), of the hand-crafted refocus of the same input frame to the same time (``aif.refocus``:
    events with the per-patch contrast estimate, spikes with the TFP refocus; ``val_psnr_handcrafted``) and of the
    input frame itself, i.e. no refocusing (``val_psnr_input``). Also the in-focus PSNR of the network and of the
    hand-crafted refocus (``val_psnr_infocus``, ``val_psnr_infocus_handcrafted``): the squared error weighted by
    each pair's focus map (:class:`.refocus_pairs.RefocusPairs`, σ = ``focus_sigma``), pooled over a scene's pairs, the
    PSNR averaged over the scenes — the pixels that the all-in-focus merge takes from a slice.
Merge
    One stack per held-out scene (as in training, no flips). Logged: PSNR of the network's all-in-focus image vs the
    ground truth, of the hand-crafted pipeline :func:`neurofocus.aif.all_in_focus` (default settings for the
    modality), and of the captured RGB image.

PSNR is per image (``neurofocus.metrics.psnr``, data range 1), averaged over the items. The hand-crafted and input
values do not change during training and are computed once.
"""

from __future__ import annotations

import numpy as np
import torch

from ..models.inputs import tensor_to_image
from .merge_stacks import MergeStacks
from .refocus_pairs import RefocusPairs

COLUMNS = ("val_psnr", "val_psnr_handcrafted", "val_psnr_input", "val_psnr_infocus", "val_psnr_infocus_handcrafted")


def _weighted_psnr(errors: list[tuple[int, np.ndarray, np.ndarray]]) -> float:
    """Mean over scenes of the PSNR (data range 1) of the weighted squared error pooled over a scene's
    (scene, pred − target (h, w, 3), weight (h, w)) items."""
    totals: dict[int, list[float]] = {}
    for scene, d, w in errors:
        sums = totals.setdefault(scene, [0.0, 0.0])
        sums[0] += float(np.sum(w[..., None] * d ** 2))
        sums[1] += 3 * float(np.sum(w))
    return float(np.mean([10 * np.log10(weight / max(total, 1e-20)) for total, weight in totals.values()]))


def _crop(image: np.ndarray, region) -> np.ndarray:
    y0, y1, x0, x1 = (int(v) for v in region)
    return image[y0:y1, x0:x1]


class Validation:
    """Validation items of a run and their fixed baselines.

    Parameters
    ----------
    config : TrainConfig
    representation
        The model's ``config.nfs``.
    scenes : list of Path
        Held-out scene folders.
    refocus_model : torch.nn.Module, optional
        For network-refocused merge stacks.
    event_image : str
        The refocus model's event image input (refocus task).
    """

    def __init__(self, config, representation, scenes, refocus_model=None, event_image: str = "handcrafted"):
        self.task = config.task
        common = {"seed": config.seed, "crop": config.val_crop, "flips": False, "cache_scenes": config.cache_scenes}
        if self.task == "refocus":
            self.dataset = RefocusPairs(scenes, representation, samples_per_scene=config.val_pairs,
                                        direction=config.direction, min_gap_frames=config.min_gap_frames,
                                        event_image=event_image, focus_sigma=config.focus_sigma, **common)
        else:
            self.dataset = MergeStacks(scenes, representation, stack_size=config.stack_size,
                                       stack_times=config.stack_times, source=config.stack_source,
                                       refocus_model=refocus_model, search_grid=config.search_grid,
                                       samples_per_scene=1, **common)
        self.search_grid = config.search_grid
        self._baselines: dict | None = None

    def __len__(self) -> int:
        return len(self.dataset)

    def baselines(self) -> dict[str, float]:
        """Mean PSNR of the hand-crafted method and of the input (computed on the first call)."""
        if self._baselines is None:
            from ..metrics import psnr

            hand, inp, infocus = [], [], []
            for i in range(len(self.dataset)):
                item = self.dataset[i]
                target = item["target"].numpy().transpose(1, 2, 0)
                handcrafted, original = (self._refocus_baselines(item) if self.task == "refocus"
                                         else self._merge_baselines(item))
                hand.append(psnr(handcrafted, target))
                inp.append(psnr(original, target))
                if self.task == "refocus":
                    infocus.append((int(item["scene"]), handcrafted - target, item["focus"][0].numpy()))
            self._baselines = {"val_psnr_handcrafted": float(np.mean(hand)), "val_psnr_input": float(np.mean(inp))}
            if infocus:
                self._baselines["val_psnr_infocus_handcrafted"] = _weighted_psnr(infocus)
        return self._baselines

    def _refocus_baselines(self, item):
        from ..aif.pipeline import AifConfig, build_refocuser

        scene = self.dataset.scene(int(item["scene"]))
        a, region = int(item["input_frame"]), item["region"].tolist()
        t_in, t_tgt = int(item["input_time_us"]), int(item["target_time_us"])
        frame = scene.frame(a)
        refocuser = build_refocuser(frame, t_in, scene.sweep_us, table=scene.table, spikes=scene.spikes,
                                    config=AifConfig(grid=self.search_grid))[0]
        return _crop(refocuser.refocus(t_tgt), region), _crop(frame, region)

    def _merge_baselines(self, item):
        from ..aif import AifConfig, all_in_focus
        from ..datasets import load_sample

        scene = self.dataset.scenes[int(item["scene"])]
        modality = self.dataset.modality
        sweep = load_sample(scene, events=modality == "events", spikes=modality == "spikes").sweep
        result = all_in_focus(sweep, AifConfig(modality=modality, grid=self.search_grid), keep_stack=False)
        region = item["region"].tolist()
        return _crop(result.image, region), _crop(sweep.image, region)

    @torch.no_grad()
    def run(self, model, device) -> dict[str, float]:
        """The network's mean PSNR (model put in eval mode, then back in its former mode) and the baselines."""
        from ..metrics import psnr
        from ..models.merge import NeuroMergeNet

        baselines = self.baselines()
        was_training = model.training
        model.eval()
        values, infocus = [], []
        try:
            for i in range(len(self.dataset)):
                item = self.dataset[i]
                if self.task == "refocus":
                    pred = model(item["image"][None].to(device), item["nfs"][None].to(device))
                else:
                    kwargs = {"chunk_size": 8} if isinstance(model, NeuroMergeNet) else {}
                    pred = model(item["stack"][None].to(device), item["nfs"][None].to(device), **kwargs).image
                image, target = tensor_to_image(pred), item["target"].numpy().transpose(1, 2, 0)
                values.append(psnr(image, target))
                if self.task == "refocus":
                    infocus.append((int(item["scene"]), image - target, item["focus"][0].numpy()))
        finally:
            model.train(was_training)
        measured = {"val_psnr": float(np.mean(values)), **baselines}
        if infocus:
            measured["val_psnr_infocus"] = _weighted_psnr(infocus)
        return measured
