"""Recurrent building blocks shared by E2VID and EvFocus, and streaming reconstruction from an event stream.

Both networks start with the same recurrent encoder (E2VID, Rebecq et al. 2019; EvFocus §4 "Temporal Information
Encoder" and appendix B.1), N_b = 32 · width channels:

    head      conv 5×5, num_bins → N_b, ReLU                                    full resolution
    encoder k conv 5×5 stride 2, C → 2C, ReLU, then a ConvLSTM (3×3, 2C → 2C)   1/2, 1/4, 1/8     (k = 1, 2, 3)
    2 residual blocks at 8·N_b channels (conv 3×3, ReLU, conv 3×3, + input, ReLU) 1/8

:class:`RecurrentEncoder` returns the bottleneck (after the residual blocks) and the skip features [head, e1, e2, e3]
(e_k = the k-th ConvLSTM's hidden state), and the new recurrent state.

Recurrent state
    A tuple of three ``(h, c)`` pairs, one per ConvLSTM, each float (B, C_k, H_k, W_k) at the padded resolution.
    ``state=None`` starts from zeros. The returned state keeps its autograd graph (for truncated back-propagation
    through time, call :func:`detach_state` between chunks); under ``torch.no_grad()`` it carries none.

Input
    :class:`VoxelGrid`: the E2VID voxel grid of one window of events, :func:`neurofocus.represent.voxel_grid` with
    ``normalize=True`` (events spread over ``num_bins`` bins by linear interpolation between the window's first and
    last event, then mean/std-normalised over the non-zero voxels), float32 (num_bins, H, W), batched to
    (B, num_bins, H, W). H and W are zero-padded (no events) at the bottom and right to a multiple of 8 and the
    outputs cropped back.

Resolution (``config.downscale``; not in either paper)
    With downscale s > 1 the input (zero-padded to a multiple of 8·s) is pixel-unshuffled into s² × its channels
    at 1/s of its resolution, the whole network (and its recurrent state) runs there, and every prediction layer
    predicts s² logits per pixel, pixel-shuffled back to full resolution before the sigmoid (and before the
    integrator's log intensity, itself at full resolution, is added). Every pixel keeps its own value; the cost
    falls about s²-fold.

Integrator input (``config.integrator``; not in either paper)
    The input gets one more channel, last: the relative log intensity L (float32, 0 = no change seen recently) of
    the classical leaky event integrator (:class:`~neurofocus.represent.leaky_integration.LeakyIntegrator`,
    contrast :data:`INTEGRATOR_CONTRAST`, cut-off :data:`INTEGRATOR_CUTOFF_HZ`) at the window's end time, computed
    on the whole sensor by one integrator that runs over the whole stream: each window integrates the events after
    the last one already integrated, so overlapping windows count every event once, and its per-pixel state is
    carried across windows exactly as the network's recurrent state (:class:`WindowInputs`; the same object builds
    the input at training, validation, evaluation and in ``neurofocus evfocus``). Every output is then
    ``sigmoid(L + prediction)`` with zero-initialised prediction layers, so a new network returns the integrator's
    image sigmoid(L) (:func:`integrator_image`: mid-grey where nothing changed) and training learns only the
    correction (deblurring, denoising, intensity of static regions).

:func:`reconstruct_sequence` slices an :class:`~neurofocus.types.Events` stream into windows (fixed event count or
fixed duration), builds each window's input and runs a recurrent model over them, carrying its state.
:func:`frame_windows` makes windows that end at given frame times instead (one reconstruction per ground-truth frame:
training and evaluation on simulated videos), :func:`reconstruct_windows` runs a model over any such windows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..config_dicts import positive_float, positive_int
from ..errors import NeurofocusError
from ..represent import voxel_grid
from ..represent.windows import event_windows
from ..types import Events
from .blocks import check_tensor

#: H and W are padded to a multiple of this (three stride-2 stages).
SIZE_MULTIPLE = 8
#: Encoder stages (each halves H and W and doubles the channels).
NUM_ENCODERS = 3
#: Residual blocks at the bottleneck.
NUM_RESIDUAL_BLOCKS = 2
#: Log-intensity step per event (c) and high-pass cut-off (Hz) of the integrator input (``neurofocus evfocus
#: --method integrate``'s defaults).
INTEGRATOR_CONTRAST = 0.2
INTEGRATOR_CUTOFF_HZ = 5.0

State = tuple[tuple[torch.Tensor, torch.Tensor], ...]


def recurrent_base_channels(width: float) -> int:
    """N_b, the head's channels: 32 · width rounded to a multiple of 4 (at least 4). 1.0 → 32, 0.5 → 16, 0.25 → 8."""
    return max(4, 4 * round(8 * positive_float(width, "width")))


@dataclasses.dataclass(frozen=True)
class VoxelGrid:
    """The input representation of E2VID and EvFocus: :func:`neurofocus.represent.voxel_grid` of one window.

    Attributes
    ----------
    num_bins : int
        B, the voxel grid's temporal bins (5 in both papers).
    normalize : bool
        The E2VID normalisation (always True for these networks: they were defined on normalised grids).
    integrator : bool
        One more channel, last: the leaky integrator's log intensity (module docstring, "Integrator input").
    """

    num_bins: int = 5
    normalize: bool = True
    integrator: bool = False

    kind = "voxel_grid"

    def __call__(self, events: Events) -> np.ndarray:
        """float32 (num_bins, H, W) voxel grid of ``events`` (one window; no integrator channel)."""
        return voxel_grid(events, self.num_bins, normalize=self.normalize)

    def stream(self, events: Events) -> WindowInputs:
        """The stateful input builder of one stream (:class:`WindowInputs`)."""
        return WindowInputs(self, events)


class WindowInputs:
    """The inputs of a recurrent model over the windows of one event stream, in time order.

    ``inputs(start, stop, t_us)`` → float32 (channels, H, W): the voxel grid of ``events[start:stop]`` and, with
    the integrator, its log intensity at ``t_us`` after integrating the events up to ``stop`` (each event once, the
    per-pixel state carried from the previous call). Windows must come in time order (``stop`` non-decreasing).
    """

    def __init__(self, grid: VoxelGrid, events: Events):
        from ..represent.leaky_integration import LeakyIntegrator

        self.grid = grid
        self.events = events
        self.integrator = LeakyIntegrator(events.width, events.height, INTEGRATOR_CONTRAST, INTEGRATOR_CUTOFF_HZ) \
            if grid.integrator else None
        self.done = 0

    def integrated(self, stop: int, t_us: int) -> np.ndarray:
        """float32 (H, W): the integrator's log intensity L at ``t_us`` after the events before index ``stop``."""
        if stop < self.done:
            raise NeurofocusError(f"windows must come in time order (event {stop} after event {self.done})")
        self.integrator.update(self.events[self.done:stop])
        self.done = stop
        return self.integrator.log_intensity(t_us).astype(np.float32)

    def __call__(self, start: int, stop: int, t_us: int) -> np.ndarray:
        voxel = self.grid(self.events[start:stop])
        if self.integrator is None:
            return voxel
        return np.concatenate([voxel, self.integrated(stop, t_us)[None]])


# layers ------------------------------------------------------------------------------------------------------------
class ConvLSTMCell(nn.Module):
    """Convolutional LSTM (Shi et al. 2015), no peephole connections.

    One convolution over [x, h] gives the input, forget and output gates and the candidate:
    i, f, o = σ(·), g = tanh(·); c' = f ⊙ c + i ⊙ g; h' = o ⊙ tanh(c'). 'Same' padding, so H and W are kept.

    Parameters
    ----------
    input_channels, hidden_channels : int
    kernel_size : int
        Odd kernel size of the gate convolution (3 in E2VID and EvFocus).
    """

    def __init__(self, input_channels: int, hidden_channels: int, kernel_size: int = 3):
        super().__init__()
        if kernel_size % 2 != 1:
            raise NeurofocusError(f"the ConvLSTM kernel size must be odd, got {kernel_size}")
        self.hidden_channels = hidden_channels
        self.gates = nn.Conv2d(input_channels + hidden_channels, 4 * hidden_channels, kernel_size,
                               padding=kernel_size // 2)

    def zero_state(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, _, h, w = x.shape
        z = x.new_zeros(b, self.hidden_channels, h, w)
        return z, z

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """x (B, C_in, H, W), state (h, c) each (B, C_h, H, W) or None → (h', (h', c'))."""
        h, c = self.zero_state(x) if state is None else state
        i, f, o, g = self.gates(torch.cat([x, h], dim=1)).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, (h, c)


class ConvReLU(nn.Sequential):
    """Conv (k × k, 'same' padding; stride 2 halves H and W) → [BatchNorm] → ReLU. No conv bias with batch norm."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, norm: str = "none"):
        layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2,
                                             bias=norm == "none")]
        if norm == "batch":
            layers.append(nn.BatchNorm2d(out_channels))
        layers.append(nn.ReLU())
        super().__init__(*layers)


class ResidualBlock(nn.Module):
    """conv 3×3 → [BN] → ReLU → conv 3×3 → [BN], plus the input, then ReLU (E2VID's residual block)."""

    def __init__(self, channels: int, norm: str = "none"):
        super().__init__()
        bias = norm == "none"
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=bias)
        self.norm1 = nn.BatchNorm2d(channels) if norm == "batch" else nn.Identity()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=bias)
        self.norm2 = nn.BatchNorm2d(channels) if norm == "batch" else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.norm1(self.conv1(x)))
        return F.relu(self.norm2(self.conv2(y)) + x)


class RecurrentEncoder(nn.Module):
    """Head, three recurrent encoder stages and two residual blocks (module docstring).

    ``forward(x, state)`` with x (B, num_bins, H, W), H and W multiples of :data:`SIZE_MULTIPLE`, returns
    ``(bottleneck, skips, new_state)``: bottleneck (B, 8·N_b, H/8, W/8); skips [head (N_b, H), e1 (2·N_b, H/2),
    e2 (4·N_b, H/4), e3 (8·N_b, H/8)].
    """

    def __init__(self, num_bins: int, base: int, norm: str = "none"):
        super().__init__()
        self.base = base
        self.head = ConvReLU(num_bins, base, 5, norm=norm)
        channels = [base * 2 ** k for k in range(NUM_ENCODERS + 1)]
        self.down = nn.ModuleList(ConvReLU(channels[k], channels[k + 1], 5, stride=2, norm=norm)
                                  for k in range(NUM_ENCODERS))
        self.lstm = nn.ModuleList(ConvLSTMCell(channels[k + 1], channels[k + 1], 3) for k in range(NUM_ENCODERS))
        self.residual = nn.Sequential(*(ResidualBlock(channels[-1], norm) for _ in range(NUM_RESIDUAL_BLOCKS)))

    def state_shapes(self, batch: int, height: int, width: int) -> list[tuple[int, int, int, int]]:
        """Shape of h (and c) of each ConvLSTM for a padded input of (height, width)."""
        return [(batch, self.base * 2 ** (k + 1), height // 2 ** (k + 1), width // 2 ** (k + 1))
                for k in range(NUM_ENCODERS)]

    def forward(self, x: torch.Tensor, state: State | None = None):
        head = self.head(x)
        skips = [head]
        new_state = []
        y = head
        for k in range(NUM_ENCODERS):
            y, s = self.lstm[k](self.down[k](y), None if state is None else state[k])
            skips.append(y)
            new_state.append(s)
        return self.residual(y), skips, tuple(new_state)


# input checks and padding ------------------------------------------------------------------------------------------
def pad_voxel(x: torch.Tensor, multiple: int = SIZE_MULTIPLE) -> torch.Tensor:
    """Zero-pad (B, C, H, W) at the bottom and right to multiples of ``multiple`` (zero = no events)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    return F.pad(x, (0, pw, 0, ph)) if (ph or pw) else x


def input_channels(config) -> int:
    """Input channels of an E2VID / EvFocus config: num_bins (+ 1 with the integrator)."""
    return config.num_bins + int(config.integrator)


def encoder_channels(config) -> int:
    """Channels the recurrent encoder sees: the input's, times downscale² (module docstring, "Resolution")."""
    return input_channels(config) * config.downscale ** 2


def network_input(model: nn.Module, voxel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, low): the input zero-padded to a multiple of :data:`SIZE_MULTIPLE` · downscale, and what the network
    runs on: x pixel-unshuffled by ``config.downscale`` (x itself at 1)."""
    scale = model.config.downscale
    x = pad_voxel(voxel, SIZE_MULTIPLE * scale)
    return x, (F.pixel_unshuffle(x, scale) if scale > 1 else x)


def prediction_layer(config, channels: int) -> nn.Conv2d:
    """A 1×1 prediction conv: downscale² logits per (low-resolution) pixel, zero-initialised with the integrator."""
    conv = nn.Conv2d(channels, config.downscale ** 2, 1)
    if config.integrator:
        zero_init(conv)
    return conv


def check_voxel(model: nn.Module, voxel) -> torch.Tensor:
    """Check a (B, channels, H, W) float tensor for ``model`` (raises NeurofocusError naming the model)."""
    return check_tensor(voxel, "voxel", (None, input_channels(model.config), None, None), model.name)


def base_logit(model: nn.Module, x: torch.Tensor) -> torch.Tensor | None:
    """The integrator's log intensity L (B, 1, H, W), the last channel of an input (B, channels, H, W), for a model
    with ``config.integrator``; None for the others."""
    return x[:, -1:] if model.config.integrator else None


def to_image(logits: torch.Tensor, base_logit: torch.Tensor | None, downscale: int = 1) -> torch.Tensor:
    """The image of a prediction layer's logits: sigmoid(logits [+ L]), the logits pixel-shuffled to full
    resolution first when the network runs at 1/downscale."""
    if downscale > 1:
        logits = F.pixel_shuffle(logits, downscale)
    return torch.sigmoid(logits if base_logit is None else logits + base_logit)


def integrator_image(log_intensity: np.ndarray) -> np.ndarray:
    """float32 image in [0, 1] of the integrator's log intensity L (any shape): sigmoid(L), what a new
    integrator-input network returns."""
    return (1.0 / (1.0 + np.exp(-np.asarray(log_intensity, np.float64)))).astype(np.float32)


def zero_init(conv: nn.Conv2d) -> None:
    """Zero a prediction conv's weight and bias, so that its correction of the integrator image starts at 0."""
    nn.init.zeros_(conv.weight)
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


def check_state(model: nn.Module, encoder: RecurrentEncoder, state, voxel: torch.Tensor) -> State | None:
    """Validate a recurrent state against the (padded) input it is used with; None passes."""
    if state is None:
        return None
    b, _, h, w = voxel.shape
    shapes = encoder.state_shapes(b, h, w)
    ok = isinstance(state, (tuple, list)) and len(state) == len(shapes)
    if ok:
        for pair, shape in zip(state, shapes):
            ok = (isinstance(pair, (tuple, list)) and len(pair) == 2
                  and all(isinstance(t, torch.Tensor) and tuple(t.shape) == shape for t in pair))
            if not ok:
                break
    if not ok:
        raise NeurofocusError(f"{model.name}: the recurrent state does not match this input (a state is "
                              f"{len(shapes)} (h, c) pairs of shapes {shapes} for a {b}×{voxel.shape[1]}×{h}×{w} "
                              f"padded input); pass state=None to start a new sequence")
    return tuple((pair[0], pair[1]) for pair in state)


def detach_state(state: State | None) -> State | None:
    """The state without its autograd history (for truncated back-propagation through time)."""
    if state is None:
        return None
    return tuple((h.detach(), c.detach()) for h, c in state)


# streaming ---------------------------------------------------------------------------------------------------------
def frame_windows(events: Events, frame_times_us, window_frames: int = 1) -> list[tuple[int, int, int]]:
    """Windows of an event stream that end at frame times: ``window_frames`` frames' worth of events each.

    Window k (k = m, ..., T − 1 with m = ``window_frames``) holds the events with t_{k−m} < t <= t_k (µs), the
    brightness changes from frame k − m to frame k, so that its reconstruction has frame k as ground truth. Frames
    0 .. m − 1 get no window. With m = 1 the windows tile the stream between the first and the last frame (E2VID's
    "events between frames" training windows).

    Parameters
    ----------
    events : Events
    frame_times_us : array of int, (T,)
        Increasing frame times in µs.
    window_frames : int
        m, frames per window (>= 1).

    Returns
    -------
    list of (start, stop, t_us) : (int, int, int)
        Per window, event indices [start, stop) and the frame time t_k in µs (as :func:`event_windows`).
    """
    m = positive_int(window_frames, "window_frames", integral=True)
    times = np.asarray(frame_times_us, np.int64)
    if times.ndim != 1 or np.any(np.diff(times) <= 0):
        raise NeurofocusError("frame_times_us must be a 1-D array of increasing times")
    if len(times) <= m:
        raise NeurofocusError(f"{len(times)} frame time(s) leave no window of {m} frame(s)")
    bounds = np.searchsorted(events.t, times, side="right")
    return [(int(bounds[k - m]), int(bounds[k]), int(times[k])) for k in range(m, len(times))]


def reconstruct_windows(model: nn.Module, events: Events, windows, num_bins: int = 5,
                        device: str | torch.device = "cpu") -> Iterator[tuple[int, np.ndarray]]:
    """Run a recurrent model over given windows of ``events`` (see :func:`reconstruct_sequence`).

    ``windows`` is an iterable of ``(start, stop, t_us)`` (:func:`event_windows`, :func:`frame_windows`); yields
    ``(t_us, image)`` per window, image float32 (H, W) in [0, 1].
    """
    return _reconstruct(model, events, list(windows), model_grid(model, num_bins), torch.device(device))


def model_grid(model: nn.Module, num_bins: int | None = None) -> VoxelGrid:
    """The :class:`VoxelGrid` a model takes (its config's bins and integrator channel); ``num_bins``, if given,
    must match the model's."""
    config = getattr(model, "config", None)
    want = getattr(config, "num_bins", None)
    if num_bins is not None:
        num_bins = positive_int(num_bins, "num_bins", integral=True)
        if want is not None and want != num_bins:
            raise NeurofocusError(f"num_bins={num_bins} but model {getattr(model, 'name', '?')!r} takes {want} bins")
    return VoxelGrid(want or num_bins or 5, integrator=bool(getattr(config, "integrator", False)))


def reconstruct_sequence(model: nn.Module, events: Events, window_events: int | None = None,
                         window_us: int | None = None, num_bins: int = 5,
                         device: str | torch.device = "cpu") -> Iterator[tuple[int, np.ndarray]]:
    """Reconstruct intensity images from an event stream with a recurrent model (E2VID, EvFocus).

    The stream is cut by :func:`event_windows` (every event in exactly one window, the last partial window
    included); each window becomes the model's input (:func:`model_grid`: a normalised E2VID voxel grid, and the
    integrator image for models with ``config.integrator``) and the model runs on it with the state of the previous
    window.

    Parameters
    ----------
    model : torch.nn.Module
        A model with ``forward(voxel, state) -> (outputs, state)`` whose outputs have ``.image`` (B, 1, H, W) in
        [0, 1] (``create_model("e2vid")``, ``create_model("evfocus")``). It is moved to ``device`` (in place) and
        run in eval mode; its training flag is restored when the iterator finishes or is closed.
    events : Events
        The stream (µs timestamps, sorted).
    window_events, window_us : int, optional
        Exactly one: events per window, or µs per window.
    num_bins : int
        Voxel grid bins; must equal the model's ``config.num_bins``.
    device : str or torch.device

    Yields
    ------
    (t_us, image) : (int, ndarray of float32 (H, W) in [0, 1])
        One image per window: t_us as in :func:`event_windows` (µs), H × W the sensor size.
    """
    grid = model_grid(model, num_bins)
    windows = list(event_windows(events, window_events, window_us))  # validates the arguments up front
    return _reconstruct(model, events, windows, grid, torch.device(device))


def _reconstruct(model, events, windows, grid, device):
    was_training = model.training
    model.to(device).eval()
    state, inputs = None, grid.stream(events)
    try:
        with torch.inference_mode():
            for start, stop, t_us in windows:
                voxel = torch.from_numpy(inputs(start, stop, t_us))[None].to(device)
                outputs, state = model(voxel, state)
                image = outputs.image if hasattr(outputs, "image") else outputs
                yield t_us, image[0, 0].to("cpu", torch.float32).numpy()
    finally:
        model.train(was_training)


__all__ = ["ConvLSTMCell", "ConvReLU", "RecurrentEncoder", "ResidualBlock", "State", "VoxelGrid", "WindowInputs",
           "check_state", "check_voxel", "detach_state", "encoder_channels", "event_windows", "frame_windows",
           "input_channels", "integrator_image", "model_grid", "network_input", "pad_voxel", "prediction_layer",
           "reconstruct_sequence", "reconstruct_windows", "recurrent_base_channels", "base_logit", "to_image",
           "zero_init"]

