"""``neurofocus bench aif``: the hand-crafted pipeline and its ablations on a fixed, seeded set of sweeps.

Data (each sweep simulated once per sensor from the same rendered frames):

* synthetic: ``num_scenes`` random layered scenes (346x260 by default; 3–8 objects, a quarter of the surfaces
  slanted), and as many "planes" scenes (2–4 fronto-parallel objects: a few discrete depths), each with
  DVS-Voltmeter events with k1..k6 drawn from the papers' ranges, ideal events (C = 0.2 ± 0.03), and spikes (tick
  50 µs);
* real data (``light_field``, e.g. the HCI "backgammon" light field, 512x512): sweeps refocused from its views
  (ideal events), and sweeps rendered from its centre view with its depth (ideal and DVS346-preset events), spikes
  for each, the image captured at 15 %, 50 % and 85 % of the sweep.

Rows (the papers' Table 2 style): the input image, an image-only baseline (unsharp masking), uniform times (16
slices, and as many slices as the golden-section search chose for that sweep), golden-section times, the
hand-crafted pipeline (robust search) for events and for spikes, gradient-energy ("GDF") weights, and an oracle merge
(ground-truth in-focus times). A second table gives PSNR against the input image's focus position (the papers'
Fig. 7), a third PSNR against the number of stack slices (uniform times; the NFS paper's Fig. 17).

With trained networks (``networks``: modality → (refocus network, merge network or None)), rows of the learned
pipeline and its ablations are added (the papers' Table 2: the full pipeline, refocus network + gradient-domain
style weights "GDF", uniform times), and the learned pipeline joins the slice-count table.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import time
from pathlib import Path

import numpy as np

from ..aif import AifConfig, all_in_focus
from ..aif.pipeline import plan_stack
from ..aif.baselines import unsharp_mask
from ..color import luminance
from ..errors import NeurofocusError
from ..metrics import psnr, ssim
from ..progress import say
from ..simulate.dvs_voltmeter import VoltmeterParams
from ..simulate.focal_sweep import SceneSweep, SensorSetup, simulate_focal_sweep
from ..simulate.ideal_events import IdealParams
from ..simulate.optics import ThinLens
from ..simulate.scene import random_scene
from ..simulate.sources import (
    depth_from_disparity,
    image_depth_sweep,
    light_field_sweep,
    load_hci_light_field,
    read_rgbd,
    rgbd_scenes,
)
from ..simulate.spikes import SpikeParams
from ..simulate.sweep import FocusSchedule, SweepSpec, focus_schedule
from ..types import FocalSweep

#: (row label, modality, config or None for the input / "unsharp" for the baseline)
METHODS = (
    ("input image", None, None),
    ("image-only baseline (unsharp mask)", None, "unsharp"),
    ("events: uniform times (16)", "events", AifConfig(times="uniform")),
    ("events: uniform times (golden's count)", "events", "uniform-matched"),
    ("events: golden-section times", "events", AifConfig(times="golden")),
    ("events: hand-crafted (robust search)", "events", AifConfig()),
    ("events: gradient weights (GDF)", "events", AifConfig(weights="gradient")),
    ("events: oracle merge", "events", AifConfig(weights="oracle")),
    ("spikes: hand-crafted", "spikes", AifConfig(modality="spikes")),
    ("spikes: oracle merge", "spikes", AifConfig(modality="spikes", weights="oracle")),
)

#: Rows whose values the progress line shows after each case (all kept rows when ``rows`` selects some).
_PROGRESS_ROWS = ("input image", "events: hand-crafted (robust search)", "spikes: hand-crafted")


class CachedSource:
    """A sweep source whose frames were rendered once (so several sensors see identical frames)."""

    def __init__(self, source):
        self.schedule: FocusSchedule = source.schedule
        self.frames = [source.frame(k) for k in range(len(source.schedule.times_us))]
        self._aif, self._depth, self._infocus = source.all_in_focus(), source.depth_m(), source.infocus_time_us()

    def frame(self, index):
        return self.frames[index]

    def all_in_focus(self):
        return self._aif

    def depth_m(self):
        return self._depth

    def infocus_time_us(self):
        return self._infocus


@dataclasses.dataclass
class Case:
    """One benchmark sweep: a data group, a name, and the sweep with events, spikes and ground truth."""

    group: str
    name: str
    sweep: FocalSweep
    source: CachedSource

    @functools.cached_property
    def best_frame_psnr(self) -> float:
        """PSNR of the best frame (per pixel, the sweep's frame nearest its true in-focus time) against the truth:
        what the sweep allows, whatever the method (computed once per case)."""
        truth = self.sweep.ground_truth.all_in_focus
        frame = _nearest(self.source.schedule.times_us, self.source.infocus_time_us())
        best = np.empty_like(truth)
        for k in np.unique(frame):
            mask = frame == k
            best[mask] = _captured(self.source, int(k))[mask]
        return psnr(best, truth)


def _nearest(ascending: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Index of the entry of ``ascending`` nearest each of ``values`` (the earlier one on a tie): int (values.shape)."""
    ascending = np.asarray(ascending, np.float64)
    if len(ascending) == 1:
        return np.zeros(np.shape(values), np.int64)
    right = np.clip(np.searchsorted(ascending, values), 1, len(ascending) - 1)
    left = right - 1
    return np.where(values - ascending[left] <= ascending[right] - values, left, right)


def _captured(source: CachedSource, frame: int) -> np.ndarray:
    """Frame ``frame`` of the sweep as the RGB camera records it: 8-bit sRGB, as float32 (H, W, 3) in [0, 1]."""
    from ..color import linear_to_srgb

    return np.clip(np.rint(linear_to_srgb(source.frame(frame)) * 255) / 255, 0, 1).astype(np.float32)


def _with_image(sweep: FocalSweep, source: CachedSource, frame: int) -> FocalSweep:
    """The same sweep, with the RGB image captured at another frame."""
    return dataclasses.replace(sweep, image=_captured(source, frame),
                               image_time_us=int(source.schedule.times_us[frame]))


def _simulate(source: CachedSource, voltmeter, seed: int, events: str) -> FocalSweep:
    ideal = IdealParams() if events == "ideal" else None
    setup = SensorSetup(voltmeter=voltmeter if events == "dvs-voltmeter" else None, ideal=ideal,
                        spikes=SpikeParams(), tick_us=50.0)
    return simulate_focal_sweep(source, setup, seed=seed, keep_every=10 ** 6).sweep


#: Scene offsets of the fronto-parallel and the photo-textured scenes in the seed sequence (no two groups share a seed).
_PLANAR_OFFSET = 1000
_TEXTURED_OFFSET = 2000


def synthetic_cases(num_scenes: int, num_frames: int, size=(346, 260), seed: int = 2024, planar: bool = False,
                    progress=lambda message: None, textures: str | Path | None = None):
    """Benchmark sweeps of random scenes: for each scene a DVS-Voltmeter and an ideal-event case (both with
    spikes). ``planar``: scenes of 2–4 fronto-parallel objects over a flat background (a few discrete depths, the
    NFS paper's Fig. 2 case for refocus-time selection) instead of 3–8 objects, a quarter of them slanted.
    ``textures``: every surface a crop of this folder's photographs (:class:`~neurofocus.simulate.textures.
    PhotoTextures`), other scenes than the default ones."""
    lens = ThinLens()
    kind, offset, shapes = "synthetic", 0, {}
    if planar:
        kind, offset, shapes = "synthetic planes", _PLANAR_OFFSET, {"num_objects": (2, 4), "slanted_fraction": 0.0}
    if textures is not None:
        from ..simulate.textures import PhotoTextures

        kind, offset = f"synthetic, {Path(textures).name} photographs", offset + _TEXTURED_OFFSET
        shapes["textures"] = PhotoTextures(textures)
    for i in range(offset, offset + num_scenes):
        progress(f"  rendering and simulating {kind} scene {i - offset + 1} of {num_scenes} ...")
        rng = np.random.default_rng([seed, i])
        scene = random_scene(rng, size, lens, max_blur_px=float(rng.uniform(20, 40)), **shapes)
        spec = SweepSpec(num_frames=num_frames, frame_rate_hz=480.0, speed="hand" if i % 2 else "constant")
        source = CachedSource(SceneSweep(scene, lens, focus_schedule(spec, scene.near_m, scene.far_m, rng)))
        voltmeter = VoltmeterParams.random(rng)
        for events in ("dvs-voltmeter", "ideal"):
            yield Case(f"{kind}, {events} events", f"scene {i - offset}",
                       _simulate(source, voltmeter, seed + i, events), source)


def light_field_cases(folder: str | Path, num_frames: int, positions=(0.15, 0.5, 0.85), seed: int = 2024,
                      progress=lambda message: None):
    """Sweeps from an HCI-layout light field, the image captured at several focus positions: refocused from the
    views (ideal events), and rendered from the centre view with its depth (ideal and DVS346-preset events)."""
    progress(f"  rendering and simulating sweeps of the light field {Path(folder).name} ...")
    views, disparity = load_hci_light_field(folder)
    rng = np.random.default_rng(seed)
    lens = ThinLens()
    refocused = CachedSource(light_field_sweep(views, disparity, SweepSpec(num_frames=num_frames), rng))
    depth = depth_from_disparity(disparity, lens, max_blur_px=25.0)
    centre = views[views.shape[0] // 2, views.shape[1] // 2]
    rendered = CachedSource(image_depth_sweep(centre, depth, lens, SweepSpec(num_frames=num_frames), rng))
    name = Path(folder).name
    for group, source, voltmeter, events in (
            (f"light field ({name}), ideal events", refocused, None, "ideal"),
            (f"image + depth ({name} centre view), ideal events", rendered, None, "ideal"),
            (f"image + depth ({name} centre view), DVS346 events", rendered, VoltmeterParams.preset("DVS346"),
             "dvs-voltmeter")):
        sweep = _simulate(source, voltmeter, seed, events)
        for p in positions:
            frame = int(round(p * (num_frames - 1)))
            yield Case(group, f"image at {p:.0%} of the sweep", _with_image(sweep, source, frame), source)


def rgbd_cases(folder: str | Path, num_frames: int, seed: int = 2024, progress=lambda message: None):
    """Sweeps rendered from real photographs with dense ground-truth depth (a folder of scene folders, each with
    ``image.png``, ``depth.npy`` — disparity in pixels or depth in m, NaN = unknown — and ``meta.json`` saying
    which), largest blur 25 px, the image captured near one end of the sweep (15 % or 85 %, alternating); with
    ideal events, DVS346-preset and random-k DVS-Voltmeter events, and spikes. A second set with a largest blur
    of 4 px and the image at 50 % is the nearly-in-focus case (where the pipeline must do no harm)."""
    scenes = rgbd_scenes(folder)
    lens = ThinLens()
    for i, scene in enumerate(scenes):
        progress(f"  rendering and simulating sweeps of {scene.name} ({i + 1} of {len(scenes)}) ...")
        rng = np.random.default_rng([seed, i])
        image, disparity = read_rgbd(scene)
        random_k = VoltmeterParams.random(rng)
        for group, max_blur, position in (("Middlebury", 25.0, 0.15 if i % 2 == 0 else 0.85),
                                          ("Middlebury nearly in focus", 4.0, 0.5)):
            depth = depth_from_disparity(disparity, lens, max_blur_px=max_blur)
            spec = SweepSpec(num_frames=num_frames, image_frame=int(round(position * (num_frames - 1))))
            source = CachedSource(image_depth_sweep(image, depth, lens, spec, rng))
            for events, voltmeter in (("ideal events", None), ("DVS346 events", VoltmeterParams.preset("DVS346")),
                                      ("random-k events", random_k)):
                if group.endswith("in focus") and events == "ideal events":
                    continue
                sweep = _simulate(source, voltmeter, seed + i, "ideal" if voltmeter is None else "dvs-voltmeter")
                yield Case(f"{group}, {events}", f"{scene.name}, image at {position:.0%} of the sweep", sweep, source)


@dataclasses.dataclass(frozen=True)
class Learned:
    """A row of the learned pipeline: the modality's refocus network, merged by its merge network when it has one
    (else, and with ``handcrafted_merge``, by the hand-crafted measure of ``config.weights``)."""

    config: AifConfig = AifConfig()
    handcrafted_merge: bool = False


def learned_methods(networks: dict) -> list[tuple[str, str, Learned]]:
    """Benchmark rows for the available networks (modality → (refocus, merge or None))."""
    rows = []
    for modality, (_, merge) in networks.items():
        full = "refocus + merge networks" if merge is not None else "refocus network + hand-crafted merge"
        rows.append((f"{modality}: learned ({full})", modality, Learned()))
        if merge is not None:
            rows.append((f"{modality}: refocus network + hand-crafted merge", modality,
                         Learned(handcrafted_merge=True)))
        rows.append((f"{modality}: refocus network + gradient weights (GDF)", modality,
                     Learned(AifConfig(weights="gradient"), handcrafted_merge=True)))
        rows.append((f"{modality}: learned, uniform times (16)", modality, Learned(AifConfig(times="uniform"))))
    return rows


def _learned_result(sweep: FocalSweep, networks: dict, modality: str, row: Learned, keep_stack: bool = False):
    """The learned pipeline's :class:`~neurofocus.aif.pipeline.AifResult` for a row."""
    from ..aif.learned import learned_all_in_focus

    refocus, merge = networks[modality]
    return learned_all_in_focus(sweep, refocus, None if row.handcrafted_merge else merge, row.config,
                                keep_stack=keep_stack)


def score(case: Case, label: str, modality: str | None, config, networks: dict | None = None,
          decomposed: bool = False) -> tuple[float, float, float, np.ndarray, dict | None]:
    """(PSNR, SSIM, seconds, result image, :func:`decompose` figures or None) of one method on one case
    (``decomposed``: a hand-crafted or learned row whose dB are decomposed)."""
    parts = result = None
    truth = case.sweep.ground_truth.all_in_focus
    t0 = time.perf_counter()
    if isinstance(config, Learned):
        result = _learned_result(case.sweep, networks, modality, config, keep_stack=decomposed)
        image = result.image
    elif config is None:
        image = case.sweep.image
    elif config == "unsharp":
        image = unsharp_mask(case.sweep.image)
    elif config == "uniform-matched":
        count = len(plan_stack(case.sweep, AifConfig(times="golden")).selection.times_us)
        t0 = time.perf_counter()
        image = all_in_focus(case.sweep, AifConfig(times="uniform", num_uniform=max(count, 1)), keep_stack=False).image
    else:
        result = all_in_focus(case.sweep, config, keep_stack=decomposed)
        image = result.image
    seconds = time.perf_counter() - t0
    if decomposed and result is not None:
        parts = decompose(case, result)
    return psnr(image, truth), ssim(image, truth), seconds, image, parts


#: Rows whose result is decomposed besides the learned pipelines' (all kept hand-crafted and learned rows when
#: ``rows`` selects some).
_DECOMPOSED_ROWS = ("events: hand-crafted (robust search)", "spikes: hand-crafted")
#: The decomposition's columns (see :func:`decompose`).
DECOMPOSITION = ("result", "own slices, oracle pick", "true frames at the chosen times", "best frame",
                 "picked slices vs true frames, RGB", "picked slices vs true frames, luminance")


def _pick(images: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Per pixel, image ``index[y, x]`` of ``images`` (K, H, W, 3): (H, W, 3)."""
    return np.take_along_axis(images, index[None, ..., None], axis=0)[0]


def decompose(case: Case, result) -> dict[str, float]:
    """Where the dB go, in PSNR against the all-in-focus truth (``result``: an AifResult with its stack):

    * result: the merged image;
    * own slices, oracle pick: per pixel, the pipeline's slice nearest the pixel's true in-focus time (a perfect
      merge of the slices it has);
    * true frames at the chosen times: the same pick among the sweep's true frames at the slices' times (perfect
      slices at the chosen times: what the time selection allows);
    * best frame: per pixel, the sweep's frame nearest its true in-focus time (what the sweep allows);
    * picked slices vs true frames: the refocus error itself, the oracle-picked slices against the oracle-picked
      true frames, in RGB and in luminance only (their gap is the colour error).
    """
    truth = case.sweep.ground_truth.all_in_focus
    nearest_slice = _nearest(result.stack_times_us, case.source.infocus_time_us())  # stack times ascend
    slices = _pick(np.stack(result.stack), nearest_slice).astype(np.float32) / 255
    slice_frames = _nearest(case.source.schedule.times_us, np.asarray(result.stack_times_us, np.float64))
    true_frames = _pick(np.stack([_captured(case.source, k) for k in slice_frames]), nearest_slice)
    values = (psnr(result.image, truth), psnr(slices, truth), psnr(true_frames, truth), case.best_frame_psnr,
              psnr(slices, true_frames), psnr(luminance(slices), luminance(true_frames)))
    return dict(zip(DECOMPOSITION, values))


def _thumbnail(image: np.ndarray, width: int = 240) -> np.ndarray:
    """A uint8 picture at most about ``width`` pixels wide (every n-th pixel of a box-filtered copy)."""
    from ..color import to_uint8

    step = max(1, int(np.ceil(image.shape[1] / width)))
    if step > 1:
        h, w = (image.shape[0] // step) * step, (image.shape[1] // step) * step
        image = image[:h, :w].reshape(h // step, step, w // step, step, -1).mean(axis=(1, 3))
    return to_uint8(image)


@dataclasses.dataclass
class Report:
    """What the benchmark produced: the Markdown tables, and per case a strip of (label, thumbnail) pictures."""

    markdown: str
    strips: list[tuple[str, list[tuple[str, np.ndarray]]]]


def run(num_scenes: int = 6, num_frames: int = 240, light_field: str | Path | None = None,
        lf_frames: int = 120, focus_positions: int = 7, slice_counts=(30, 25, 20, 15, 10, 8, 6),
        networks: dict | None = None, rows=(), progress=say, rgbd: str | Path | None = None,
        size: tuple[int, int] = (346, 260), textures: str | Path | None = None) -> Report:
    """Run the benchmark; returns the report (Markdown tables and picture strips). ``networks``: modality →
    (refocus network, merge network or None), for the learned rows. ``rows``: keep only the rows whose label
    contains one of these texts (and the input image); empty for all. The hand-crafted rows' dB are decomposed
    (:func:`decompose`): the two hand-crafted pipelines, or every kept hand-crafted row when ``rows`` is given.
    ``size``: (width, height) of the synthetic scenes. ``textures``: a folder of photographs; adds ``num_scenes``
    random scenes whose surfaces are crops of them."""
    networks = networks or {}
    every_method = list(METHODS) + learned_methods(networks)
    methods = [m for m in every_method if not rows or m[2] is None or any(text in m[0] for text in rows)]
    if len(methods) == 1:
        raise NeurofocusError(f"no benchmark row matches {list(rows)}; rows: "
                              + "; ".join(label for label, _, config in every_method if config is not None))
    shown = [label for label, _, _ in methods if rows or label in _PROGRESS_ROWS]
    sources = [synthetic_cases(num_scenes, num_frames, size, progress=progress),
               synthetic_cases(num_scenes, num_frames, size, planar=True, progress=progress)]
    if textures is not None:
        sources.append(synthetic_cases(num_scenes, num_frames, size, progress=progress, textures=textures))
    if light_field is not None:
        sources.append(light_field_cases(light_field, lf_frames, progress=progress))
    if rgbd is not None:
        sources.append(rgbd_cases(rgbd, lf_frames, progress=progress))
    decomposed = [label for label, _, config in methods if isinstance(config, (AifConfig, Learned)) and (
        label in _DECOMPOSED_ROWS or ": learned (" in label or rows)]
    cases, strips = [], []
    results: dict[tuple[str, str], list] = {}
    parts: dict[tuple[str, str], list] = {}
    for case in itertools.chain(*sources):  # each case is scored as soon as it is simulated
        cases.append(case)
        pictures = []
        for label, modality, config in methods:
            *numbers, image, figures = score(case, label, modality, config, networks, label in decomposed)
            results.setdefault((label, case.group), []).append(numbers)
            if figures is not None:
                parts.setdefault((label, case.group), []).append(figures)
            pictures.append((f"{label}: {numbers[0]:.2f} dB", _thumbnail(image)))
        strips.append((f"{case.group}, {case.name}",
                       [*pictures, ("ground truth", _thumbnail(case.sweep.ground_truth.all_in_focus))]))
        progress(f"  {case.group}, {case.name}: " + ", ".join(
            f"{label} {results[(label, case.group)][-1][0]:.2f} dB" for label in shown))
    groups = list(dict.fromkeys(c.group for c in cases))
    lines = ["| method | " + " | ".join(f"{g} (n={sum(c.group == g for c in cases)})" for g in groups) + " |",
             "|---|" + "---:|" * len(groups)]
    for label, _, _ in methods:
        cells = []
        for g in groups:
            values = np.array(results[(label, g)])
            cells.append(f"{values[:, 0].mean():.2f} dB / {values[:, 1].mean():.4f}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    report = ["## All-in-focus: mean PSNR / SSIM against the all-in-focus ground truth", "", *lines, ""]
    seconds = {label: np.mean([r[2] for g in groups for r in results[(label, g)]])
               for label, _, config in methods if config not in (None, "unsharp")}
    report += ["Mean seconds per sweep: " + ", ".join(f"{k}: {v:.2f}" for k, v in seconds.items()), ""]
    report += _decomposition_table(results, parts, groups)
    report += _focus_position_table(cases, focus_positions, progress)
    report += _slice_count_table(cases, slice_counts, networks, progress)
    return Report("\n".join(report), strips)


def _decomposition_table(results: dict, parts: dict, groups: list[str]) -> list[str]:
    """Mean PSNR (dB) of each :func:`decompose` figure per data group and decomposed row, beside the input's."""
    if not parts:
        return []
    lines = ["## Where the dB go: mean PSNR (dB) against the all-in-focus truth", "",
             "Oracle picks use the true in-focus time of each pixel; the last two columns compare the picked slices "
             "with the true frames at the same times (the refocus error, in colour and in luminance).", "",
             "| data | row | input | " + " | ".join(DECOMPOSITION) + " |",
             "|---|---|" + "---:|" * (len(DECOMPOSITION) + 1)]
    for g in groups:
        for label, group in parts:
            if group == g:
                means = [np.mean([f[k] for f in parts[(label, g)]]) for k in DECOMPOSITION]
                inputs = np.mean([r[0] for r in results[("input image", g)]])
                lines.append(f"| {g} | {label} | {inputs:.2f} | " + " | ".join(f"{m:.2f}" for m in means) + " |")
    return lines + [""]


def _slice_count_table(cases, counts, networks: dict, progress) -> list[str]:
    """PSNR against the number of uniformly spaced stack slices on the ideal-event synthetic cases (NFS Fig. 17)."""
    chosen = [c for c in cases if c.group.startswith("synthetic, ideal")]
    if not chosen or not counts:
        return []
    columns = ["hand-crafted (events)"] + [f"learned ({m})" for m in networks]
    rows = []
    for count in counts:
        values = {c: [] for c in columns}
        for case in chosen:
            config = AifConfig(times="uniform", num_uniform=int(count))
            truth = case.sweep.ground_truth.all_in_focus
            values[columns[0]].append(psnr(all_in_focus(case.sweep, config, keep_stack=False).image, truth))
            for modality in networks:
                image = _learned_result(case.sweep, networks, modality, Learned(config)).image
                values[f"learned ({modality})"].append(psnr(image, truth))
        rows.append(f"| {count} | " + " | ".join(f"{np.mean(v):.2f}" for v in values.values()) + " |")
        progress(f"  {count} slices done")
    return ["## PSNR (dB) against the number of stack slices (uniform times; synthetic scenes, ideal events)", "",
            "| slices | " + " | ".join(columns) + " |", "|---:|" + "---:|" * len(columns), *rows, ""]


def _focus_position_table(cases, count: int, progress) -> list[str]:
    """PSNR against the input's focus position on the ideal-event synthetic cases (Fig. 7 of the NFS paper)."""
    chosen = [c for c in cases if c.group.startswith("synthetic, ideal")]
    if not chosen or count < 2:
        return []
    positions = np.linspace(0.05, 0.95, count)
    rows = []
    for p in positions:
        values = {"input": [], "events": [], "spikes": []}
        for case in chosen:
            n = len(case.source.schedule.times_us)
            sweep = _with_image(case.sweep, case.source, int(round(p * (n - 1))))
            truth = sweep.ground_truth.all_in_focus
            values["input"].append(psnr(sweep.image, truth))
            values["events"].append(psnr(all_in_focus(sweep, AifConfig(), keep_stack=False).image, truth))
            values["spikes"].append(psnr(all_in_focus(sweep, AifConfig(modality="spikes"), keep_stack=False).image,
                                         truth))
        rows.append(f"| {p:.0%} | " + " | ".join(f"{np.mean(v):.2f}" for v in values.values()) + " |")
        progress(f"  focus position {p:.0%} done")
    return ["## PSNR (dB) against the input image's position in the sweep (synthetic scenes, ideal events)", "",
            "| image captured at | input | hand-crafted (events) | hand-crafted (spikes) |", "|---:|---:|---:|---:|",
            *rows, ""]
