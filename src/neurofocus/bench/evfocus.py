"""EvFocus evaluation: the paper's Table 1 (simulated, per blur level) and Table 2 (real, no reference) for trained
E2VID / EvFocus weight files.

Run ``python benchmarks/evfocus_eval.py --data DIR --weights A.safetensors --weights B.safetensors [...]`` (or
:func:`main`). Printed as Markdown:

1. Simulated sequences (``neurofocus synth --kind defocus-video``): each model runs over each whole sequence with
   windows ending at the frame times (:func:`neurofocus.models.recurrent.frame_windows`, the windows it was trained
   on), its state carried through the sequence, and every reconstruction is scored against the sharp frame (8-bit
   gray, as the training targets): MSE, SSIM (:func:`neurofocus.metrics.ssim`) and LPIPS
   (:class:`neurofocus.metrics.LPIPS`, AlexNet, the gray image repeated to three channels). Frames are grouped by
   their blur level, the mean blur-circle diameter of the frame's pixels (``frames.npz: blur_px``): "sharp"
   (< 1 px), then the bins between ``blur_edges`` (default 1, 5, 7, 9, 11 px, and beyond; a disk of diameter d has
   the spread of a Gaussian of σ ≈ d/4, so the bins sit around the paper's σ = 1 … 3 kernels), each cell the mean
   over its frames (EvFocus §5: "the average value of each metric on all frames in different blur degree
   groups"); "Mean" is over all frames. Rows are the models, fed the defocused events. When the sequences also
   hold the events of the sharp frames (``synth --sharp-events``), a column "in-focus events" gives every model
   those events instead — the paper's first column ("reconstruction results of clear events and sharp ground
   truth").
   The first two rows are the leaky event integrator (no network), shown as ``neurofocus evfocus --method
   integrate`` shows it and as sigmoid of its log intensity (what an untrained integrator-input network returns);
   a second table gives each model's mean SSIM per sequence.
2. Parameter count (beside the paper's network) and mean model time per frame (the forward pass only, on the
   evaluation device and frame size).
3. Real recordings (default: the DAVIS346 recordings of ``shared/data/events/davis346-motionblur``, 346x260; their
   blur is from motion, not defocus): windows of ``window_events`` events (:func:`~neurofocus.models.recurrent.
   reconstruct_sequence`), mean BRISQUE and NIQE of the reconstructions (both lower is better; frames on which
   BRISQUE has no statistics, e.g. flat images, are counted and left out) and the model time per frame at the
   recordings' size.

Sequences that a model's weight file lists among its training sequences are reported with a note.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from ..datasets import read_info
from ..errors import NeurofocusError

#: Edges (px) of the blur levels after "sharp" (< the first edge).
BLUR_EDGES = (1.0, 5.0, 7.0, 9.0, 11.0)
DAVIS346_SIZE = (346, 260)
#: The DAVIS346 recordings of the shared data (night_run is a DAVIS240 recording and is left out).
DAVIS346_NAMES = ("keyboard", "toy", "text_cambridge", "badminton", "low_light_model1", "low_light_model2")
METRICS = ("mse", "ssim", "lpips")
#: Parameters of the papers' networks (EvFocus Table 4: width 1.0, 5 bins).
PAPER_PARAMETERS = {"evfocus": 12_110_000, "e2vid": 10_710_000}
IN_FOCUS = "in-focus events"


@dataclasses.dataclass
class Entry:
    """A model under evaluation."""

    label: str
    path: Path | None
    model: object  # a torch model, or None for the leaky event integrator
    train_data: str | None = None
    train_scenes: tuple[str, ...] = ()
    display: str = "percentile"  # the integrator's image: LeakyIntegrator.image, or sigmoid of its log intensity

    @property
    def parameters(self) -> int:
        return 0 if self.model is None else sum(p.numel() for p in self.model.parameters())


#: The classical baseline every table shows: leaky integration at the evfocus command's defaults, shown as
#: ``neurofocus evfocus --method integrate`` shows it (robust percentiles), and as sigmoid(L), the image a new
#: integrator-input network returns (:func:`neurofocus.models.recurrent.integrator_image`).
INTEGRATORS = (Entry("leaky event integration (no network)", None, None),
               Entry("leaky event integration, sigmoid(L) (no network)", None, None, display="sigmoid"))


def load_entries(paths, labels=None) -> list[Entry]:
    """Load E2VID / EvFocus weight files; labels default to ``name (events the run trained on)``."""
    from ..models import load_model, read_metadata

    labels = list(labels or [])
    if labels and len(labels) != len(paths):
        raise NeurofocusError(f"{len(labels)} --label for {len(paths)} --weights")
    entries = []
    for i, path in enumerate(paths):
        path = Path(path)
        model = load_model(path)
        if model.name not in ("evfocus", "e2vid"):
            raise NeurofocusError(f"holds a {model.name!r} model, not evfocus or e2vid", path)
        user = read_metadata(path).get("user") or {}
        train = user.get("train_config") or {}
        recipe = user.get("data_recipe") or {}
        label = labels[i] if labels else (f"{model.name} ({train['events']} events, {user.get('steps', '?')} steps)"
                                          if "events" in train else model.name)
        entries.append(Entry(label, path, model, recipe.get("data"), tuple(recipe.get("train_scenes") or ())))
    names = [e.label for e in entries]
    if len(set(names)) != len(names):
        raise NeurofocusError(f"two models have the same label ({', '.join(names)}): give --label for each")
    return entries


def blur_levels(edges=BLUR_EDGES) -> list[str]:
    """Names of the blur levels: "sharp" (< edges[0]), "a–b px", ..., "≥ last px"."""
    edges = [float(e) for e in edges]
    if not edges or any(b <= a for a, b in itertools.pairwise(edges)) or edges[0] <= 0:
        raise NeurofocusError(f"blur edges must be increasing positive pixels, got {edges}")
    names = ["sharp"] + [f"{a:g}–{b:g} px" for a, b in itertools.pairwise(edges)] + [f"≥{edges[-1]:g} px"]
    return names


def level_of(blur_px: np.ndarray, edges=BLUR_EDGES) -> np.ndarray:
    """Blur level index of each frame's mean blur diameter (0 = sharp)."""
    return np.searchsorted(np.asarray(edges, np.float64), np.asarray(blur_px, np.float64), side="right")


def _integrate_all(events, windows, display: str) -> tuple[np.ndarray, float]:
    """(images float32 (N, H, W), seconds) of the leaky integrator run over ``windows`` from a zero state, each
    event integrated once (overlapping windows too; the integrator input of the networks,
    :class:`~neurofocus.models.recurrent.WindowInputs`), shown by ``display`` ("percentile" or "sigmoid")."""
    from ..models.recurrent import VoxelGrid, integrator_image

    inputs = VoxelGrid(integrator=True).stream(events)
    images, seconds = [], 0.0
    for _, stop, t_us in windows:
        t0 = time.perf_counter()
        log_intensity = inputs.integrated(stop, t_us)
        images.append(integrator_image(log_intensity) if display == "sigmoid" else inputs.integrator.image(t_us))
        seconds += time.perf_counter() - t0
    return np.stack(images), seconds


def _forward_all(entry: Entry, events, windows, device) -> tuple[np.ndarray, float]:
    """(images float32 (N, H, W), model seconds) of an entry's model (or integrator) over ``windows``, zero
    state."""
    model = entry.model
    if model is None:
        return _integrate_all(events, windows, entry.display)
    import torch

    from ..models.recurrent import model_grid

    inputs = model_grid(model).stream(events)
    model.to(device).eval()
    images, seconds, state = [], 0.0, None
    with torch.inference_mode():
        for start, stop, t_us in windows:
            voxel = torch.from_numpy(inputs(start, stop, t_us))[None].to(device)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            t0 = time.perf_counter()
            out, state = model(voxel, state)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            seconds += time.perf_counter() - t0
            images.append(out.image[0, 0].to("cpu", torch.float32).numpy())
    return np.stack(images), seconds


def fit_gain_offset(images: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Each image (N, H, W) replaced by its least-squares affine fit to its target, a·x + b, clipped to [0, 1]
    (a per-frame gain and offset: what is left is structure, not exposure). Flat images get their target's mean."""
    x = images.reshape(len(images), -1).astype(np.float64)
    y = targets.reshape(len(targets), -1).astype(np.float64)
    xc, yc = x - x.mean(1, keepdims=True), y - y.mean(1, keepdims=True)
    var = (xc ** 2).sum(1)
    gain = np.where(var > 0, (xc * yc).sum(1) / np.where(var > 0, var, 1), 0.0)
    fitted = gain[:, None] * xc + y.mean(1, keepdims=True)
    return np.clip(fitted, 0, 1).reshape(images.shape).astype(np.float32)


def evaluate_sequences(entries: list[Entry], sequences, *, window_frames: int = 1, blur_edges=BLUR_EDGES,
                       device="cpu", in_focus: bool | None = None, fit: bool = False) -> dict:
    """Table 1 numbers; with ``fit``, every reconstruction is scored after :func:`fit_gain_offset`.

    Returns
    -------
    dict with ``levels`` (column names, "in-focus events" first when used), ``counts`` (frames per column),
    ``table`` {label: {column: {metric: mean}}}, ``per_sequence`` {label: {sequence: {metric: mean over its
    frames}}} (defocused events), ``seconds_per_frame`` {label: float}, ``frame_size`` (W, H), ``notes`` (list of
    str).
    """
    import torch

    from ..metrics import LPIPS
    from ..train.video import VideoScene, frame_scores

    device = torch.device(device)
    names = blur_levels(blur_edges)
    sequences = [Path(s) for s in sequences]
    infos = [read_info(s, "defocus-video") for s in sequences]
    have_sharp = all("event_sharp_file" in info for info in infos)
    if in_focus is None:
        in_focus = have_sharp
    elif in_focus and not have_sharp:
        raise NeurofocusError("the in-focus column needs sequences with events_sharp.hdf5 (synth --sharp-events)")
    metric = LPIPS("alex")
    per = {e.label: {name: {m: [] for m in METRICS} for name in [IN_FOCUS, *names]} for e in entries}
    seconds = {e.label: [0.0, 0] for e in entries}
    per_sequence = {e.label: {} for e in entries}
    counts = {name: 0 for name in [IN_FOCUS, *names]}
    notes, size = [], None
    for folder in sequences:
        for e in entries:
            if e.train_scenes and folder.name in e.train_scenes and e.train_data \
                    and Path(e.train_data).resolve() == folder.parent.resolve():
                notes.append(f"{folder.name} is one of the training sequences of {e.label}")
        sources = [("defocused", None)] + ([("sharp", IN_FOCUS)] if in_focus else [])
        for events, column in sources:
            scene = VideoScene(folder, events)
            size = (scene.shape[1], scene.shape[0])
            windows = scene.windows(window_frames)
            frames = np.arange(window_frames, len(scene))
            targets = scene.sharp[frames].astype(np.float32) / np.float32(255.0)
            levels = level_of(scene.blur_px[frames], blur_edges)
            groups = [column] * len(frames) if column else [names[i] for i in levels]
            for g in groups:
                counts[g] += 1
            for e in entries:
                images, secs = _forward_all(e, scene.events, windows, device)
                scores = frame_scores(fit_gain_offset(images, targets) if fit else images, targets, metric)
                if column is None:
                    seconds[e.label][0] += secs
                    seconds[e.label][1] += len(frames)
                    per_sequence[e.label][folder.name] = {m: float(np.mean(scores[m])) for m in METRICS}
                for j, g in enumerate(groups):
                    for m in METRICS:
                        per[e.label][g][m].append(float(scores[m][j]))
    columns = ([IN_FOCUS] if in_focus else []) + [n for n in names if counts[n]] + ["Mean"]
    table = {}
    for e in entries:
        row = {}
        for c in columns:
            if c == "Mean":
                values = {m: [v for n in names for v in per[e.label][n][m]] for m in METRICS}
            else:
                values = per[e.label][c]
            row[c] = {m: float(np.mean(values[m])) for m in METRICS}
        table[e.label] = row
    counts["Mean"] = sum(counts[n] for n in names)
    return {"levels": columns, "all_levels": names, "counts": counts, "table": table,
            "seconds_per_frame": {k: s / max(n, 1) for k, (s, n) in seconds.items()}, "frame_size": size,
            "notes": sorted(set(notes)), "sequences": [s.name for s in sequences], "fit": fit,
            "per_sequence": per_sequence}


def default_recordings(root: str | Path | None = None) -> list[Path]:
    """The DAVIS346 recordings of the shared data folder (``../shared/data`` from the project root, or ``root``)."""
    if root is None:
        here = Path(__file__).resolve()
        candidates = [p / "shared" / "data" / "events" / "davis346-motionblur" for p in here.parents]
        root = next((c for c in candidates if c.is_dir()), None)
        if root is None:
            return []
    root = Path(root)
    return [root / f"{name}.mat" for name in DAVIS346_NAMES if (root / f"{name}.mat").is_file()]


def evaluate_real(entries: list[Entry], recordings, *, window_events: int = 5000, device="cpu",
                  sensor_size=None) -> dict:
    """Table 2 numbers: ``table`` {label: {"brisque", "niqe", "frames", "skipped", "ms_per_frame" (the model or
    integrator alone, at the recordings' size)}}, ``recordings``.

    ``sensor_size`` (W, H) is for files that do not store it (the shared DAVIS346 .mat files: 346x260)."""
    import torch

    from ..io import NeurofocusWarning, load_events
    from ..metrics import brisque, niqe
    from ..models.recurrent import event_windows

    device = torch.device(device)
    out = {e.label: {"brisque": [], "niqe": [], "frames": 0, "skipped": 0, "seconds": 0.0} for e in entries}
    used = []
    for path in recordings:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NeurofocusWarning)
            events = load_events(path, sensor_size=sensor_size)
        if len(events) == 0:
            continue
        used.append(f"{Path(path).stem} ({len(events):,} events)")
        windows = list(event_windows(events, window_events=window_events))
        for e in entries:
            images, seconds = _forward_all(e, events, windows, device)
            out[e.label]["seconds"] += seconds
            for image in images:
                out[e.label]["frames"] += 1
                try:
                    b = brisque(np.clip(image, 0, 1))
                    n = niqe(np.clip(image, 0, 1))
                except NeurofocusError:
                    out[e.label]["skipped"] += 1
                    continue
                if not (np.isfinite(b) and np.isfinite(n)):
                    out[e.label]["skipped"] += 1
                    continue
                out[e.label]["brisque"].append(b)
                out[e.label]["niqe"].append(n)
    table = {}
    for label, r in out.items():
        table[label] = {"brisque": float(np.mean(r["brisque"])) if r["brisque"] else float("nan"),
                        "niqe": float(np.mean(r["niqe"])) if r["niqe"] else float("nan"),
                        "frames": r["frames"], "skipped": r["skipped"],
                        "ms_per_frame": 1000 * r["seconds"] / max(r["frames"], 1)}
    return {"table": table, "recordings": used, "window_events": window_events}


def format_report(entries: list[Entry], synthetic: dict, real: dict | None) -> str:
    """The Markdown report of :func:`evaluate_sequences` (and :func:`evaluate_real`)."""
    lines = []
    cols = synthetic["levels"]
    w, h = synthetic["frame_size"]
    lines.append(f"### Simulated defocused events: {len(synthetic['sequences'])} sequence(s) "
                 f"({', '.join(synthetic['sequences'])}), {w}x{h}")
    lines.append("")
    header = ["model"] + [f"{c} {m.upper() if m != 'lpips' else 'LPIPS'}" for c in cols for m in METRICS]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for e in entries:
        row = synthetic["table"][e.label]
        cells = [e.label] + [f"{row[c][m]:.4f}" if m == "mse" else f"{row[c][m]:.3f}" for c in cols for m in METRICS]
        lines.append("| " + " | ".join(cells) + " |")
    counts = ", ".join(f"{c}: {synthetic['counts'][c]}" for c in
                       ([IN_FOCUS] if IN_FOCUS in cols else []) + synthetic["all_levels"] + ["Mean"])
    lines.append("")
    scored = ("gain and offset fitted per frame (least squares) before scoring" if synthetic.get("fit")
              else "reconstructions scored as they are (no gain/offset fit)")
    lines.append(f"MSE ↓, SSIM ↑, LPIPS (alex) ↓ against the sharp frames (gray), {scored}; frames per column: "
                 f"{counts}. Blur "
                 f"level = the frame's mean blur-circle diameter; empty levels are left out. "
                 + (f"'{IN_FOCUS}': every model fed the events of the sharp frames; other columns: the defocused "
                    "events." if IN_FOCUS in cols else "Input: the defocused events."))
    for note in synthetic["notes"]:
        lines.append(f"Note: {note} (not held out).")
    lines.append("")
    lines.append("Per sequence (defocused events, mean over its frames): SSIM ↑")
    lines.append("")
    lines.append("| model | " + " | ".join(synthetic["sequences"]) + " |")
    lines.append("|" + "---|" * (len(synthetic["sequences"]) + 1))
    for e in entries:
        scores = synthetic["per_sequence"][e.label]
        lines.append(f"| {e.label} | " + " | ".join(f"{scores[n]['ssim']:.3f}" for n in synthetic["sequences"])
                     + " |")
    lines.append("")
    lines.append(f"### Size and speed ({w}x{h} frames, forward pass only)")
    lines.append("")
    lines.append("| model | parameters | the paper's network (width 1) | ms / frame |")
    lines.append("|---|---|---|---|")
    for e in entries:
        paper = PAPER_PARAMETERS.get(getattr(e.model, "name", None))
        lines.append(f"| {e.label} | {e.parameters:,} | {f'{paper / 1e6:.2f} M' if paper else '–'} | "
                     f"{1000 * synthetic['seconds_per_frame'][e.label]:.2f} |")
    if real is not None:
        lines.append("")
        lines.append(f"### Real recordings, no reference: {len(real['recordings'])} recording(s), windows "
                     f"of {real['window_events']:,} events")
        lines.append("")
        lines.append("| model | BRISQUE ↓ | NIQE ↓ | frames | ms / frame (recording size, model alone) |")
        lines.append("|---|---|---|---|---|")
        for e in entries:
            r = real["table"][e.label]
            frames = f"{r['frames']}" + (f" ({r['skipped']} without statistics, left out)" if r["skipped"] else "")
            lines.append(f"| {e.label} | {r['brisque']:.3f} | {r['niqe']:.3f} | {frames} | {r['ms_per_frame']:.1f} |")
        lines.append("")
        lines.append("Recordings: " + (", ".join(real["recordings"]) or "none found") + ".")
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="evfocus_eval", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, type=Path,
                   help="defocus-video dataset folder (or one sequence folder) with the held-out sequences")
    p.add_argument("--held-out", type=int, metavar="N",
                   help="use only the last N sequences of --data (those a run with val_scenes N held out)")
    p.add_argument("--weights", action="append", default=[], type=Path, metavar="FILE",
                   help="an evfocus or e2vid weight file (repeat for each model); the leaky event integration "
                        "baselines are always the first rows")
    p.add_argument("--label", action="append", help="row label of each --weights, in order")
    p.add_argument("--window-frames", type=int, default=1, help="frames' worth of events per window (1)")
    p.add_argument("--blur-edges", default=",".join(f"{e:g}" for e in BLUR_EDGES),
                   help="edges of the blur levels after 'sharp', px (1,5,7,9,11)")
    p.add_argument("--no-in-focus", action="store_true", help="leave out the in-focus-events column")
    p.add_argument("--fit-gain-offset", action="store_true",
                   help="score each reconstruction after a least-squares gain and offset fit to its target")
    p.add_argument("--real", action="append", type=Path, metavar="FILE",
                   help="a real recording for the no-reference table (default: the shared DAVIS346 recordings)")
    p.add_argument("--no-real", action="store_true", help="leave out the no-reference table")
    p.add_argument("--window-events", type=int, default=5000, help="events per window on real recordings (5000)")
    p.add_argument("--device", default="cpu", help="torch device (cpu)")
    p.add_argument("--threads", type=int, default=0, help="PyTorch CPU threads (0: PyTorch's default)")
    p.add_argument("--output", type=Path, help="also write the report here (Markdown)")
    return p


def main(argv=None) -> int:
    """Command-line entry point (``benchmarks/evfocus_eval.py``); prints the report, returns the exit status."""
    import torch

    from ..atomic import write_text_atomic
    from ..train.video import list_sequences

    args = build_parser().parse_args(argv)
    try:
        if args.threads:
            torch.set_num_threads(args.threads)
        try:
            edges = tuple(float(v) for v in args.blur_edges.split(","))
        except ValueError:
            raise NeurofocusError(f"--blur-edges must be numbers separated by commas, got {args.blur_edges!r}") \
                from None
        blur_levels(edges)
        sequences = list_sequences(args.data, "defocused")
        if args.held_out:
            if args.held_out > len(sequences):
                raise NeurofocusError(f"--held-out {args.held_out}, but the dataset has {len(sequences)} sequences",
                                      args.data)
            sequences = sequences[-args.held_out:]
        entries = [*INTEGRATORS] + load_entries(args.weights, args.label)
        t0 = time.perf_counter()
        synthetic = evaluate_sequences(entries, sequences, window_frames=args.window_frames, blur_edges=edges,
                                       device=args.device, in_focus=False if args.no_in_focus else None,
                                       fit=args.fit_gain_offset)
        real = None
        if not args.no_real:
            recordings = args.real or default_recordings()
            real = evaluate_real(entries, recordings, window_events=args.window_events, device=args.device,
                                 sensor_size=None if args.real else DAVIS346_SIZE)
        report = format_report(entries, synthetic, real)
        report += (f"\n{time.perf_counter() - t0:.0f} s; torch {torch.__version__}, {torch.get_num_threads()} "
                   f"thread(s), device {args.device}\n")
    except NeurofocusError as exc:
        print(f"neurofocus: error: {exc}", file=sys.stderr)
        return 2
    print(report, end="")
    if args.output:
        write_text_atomic(args.output, report)
    return 0
