"""Refocusing the RGB image to any time of the sweep with events (NFS Eq. 8) or spikes (Eq. 9).

Intensity model. Events respond to log irradiance, i.e. to the log of *linear* light, so the image is linearised
(sRGB → linear RGB) and refocused as

    RGB_lin(t) = RGB_lin(t_img) · exp(c · Σp(t_img → t))

per pixel: the luminance changes by the events' log-intensity steps. Σp is the signed event count between the image
time and t (negative going backwards), from a :class:`PolarityTable`.

Colour (the operator C of Eq. 8/9). Events and spikes see luminance only. Keeping each pixel's chromaticity (the
ratios between R, G and B; ``colour="keep"``, the linear-light counterpart of the papers' "process L, keep ab") is
wrong exactly where refocusing matters: a blurred pixel at the border of two colours holds a mixture of both, and
sharpening its luminance leaves the mixed colour. ``colour="line"`` (default) uses the local colour-line model
instead: within a small window the colours of a natural image lie close to a line in RGB, and blur — a linear
filter in linear light — mixes colours along that same line, so the line fitted to the blurred input predicts the
colour of the sharpened pixel. Per pixel, the ridge-regression slope of linear RGB on luminance over a
(2r + 1)² window of the input,

    a = (cov(RGB, Y) + λ·RGB/Y) / (var(Y) + λ),    λ = ε·Ȳ² + κ·s²,

moves the colour with the luminance change: RGB(t) = RGB(t_img) + a · (Y(t) − Y(t_img)). The ridge λ pulls the slope
towards the pixel's own chromaticity RGB/Y (the multiplicative model) where the line is not to be trusted: where
the window has little luminance contrast (var(Y) ≲ ε·Ȳ², ε = 0.01), and where its colours scatter about the line
(s² = var(RGB) − cov(RGB, Y)²/var(Y) per channel, κ = 10: a window of fine multi-coloured texture holds more than
two colours, and its slope would only turn noise in the refocused luminance into colour noise — on the tests'
textured scenes the line without this term lost up to 1 dB against "keep", with it they are within 0.35 dB). The
luminance of the result is Y(t) either way (the slope's luminance is exactly 1). This is the guided-filter /
colourisation local linear model (He et al.; Levin et al.), a Bayesian ridge regression, applied to the change of
luminance.

Contrast threshold. The paper estimates c by minimising −α·Sobel(I) + β·TV(I) (Eq. 11). With Sobel and TV as mean
gradient magnitudes both grow linearly with the refocused contrast, and on our simulated sweeps the energy had no
interior minimum for any α/β (it picks the smallest or the largest candidate). We keep Eq. 11's smoothness term
(α = 0) and evaluate it where its minimum means something: refocusing a patch to the sweep end at which it is most
defocused must give its smoothest image (blur only removes gradients); the patch's c minimises the TV of
log-luminance, smoothed by 1 px so that the event quantisation (steps of c) does not favour small c, over both ends,
keeping the end that smooths the patch most. Patches that no end makes at least 5 % smoother carry no information
and take the median of the others. So do patches with fewer than 0.25 events per pixel towards an end, and patches
whose smoothest trial is the largest candidate (no minimum): a few isolated events make a patch smoothest with one
huge step. Without these two rules the Middlebury sweeps nearly in focus with random-k DVS-Voltmeter events got c =
0.86-1.0 (the largest trial) and lost 4.4 dB against the input; with them they lose 1.2 dB, and the defocused
Middlebury rows change by -0.03 (random-k) to +0.33 dB (ideal events). Per-patch values are median-filtered and
interpolated between patch centres.
On ideal events with c = 0.2 ± 0.03 it recovers 0.12-0.20 (the PSNR-optimal values were 0.13-0.18).

Leak. A stream dominated by ON events (DVS leak, e.g. DVS-Voltmeter with the papers' larger k4/k5) adds a steady
brightening that no refocusing should show; when more than 70 % of the events are ON ("auto"), a leak rate is
removed as a linear drift before refocusing. The leak rate depends on the pixel's illumination (DVS-Voltmeter:
k4 + k5·L), not on what the sweep does at that pixel, so it is estimated as a function of the image's luminance: the
median, over the pixels of each of 8 luminance bins (quantiles), of their mean net rate over the sweep, interpolated
between bin centres. Each pixel's own mean net rate would also remove its signal: a pixel that brightens by three
events as it comes into focus and fires nothing else has a "mean rate" of three events per sweep, and removing it
as a ramp cancels about half of the refocusing (the median over a bin ignores the minority of pixels that carry
signal). On the benchmark's image+depth sweeps, whose ideal events are 73 % ON without any leak, the per-pixel
estimate cost 0.55 dB; on their DVS346 events 0.3 dB.

Spikes count photons: the firing rate in a window around t (TFP) is proportional to the luminance at t. The image is
refocused by the change of rate, Y(t) = Y(t_img) + g·(rate(t) − rate(t_img)), so that where the spikes see no
change the image's own detail is kept; the rate-to-luminance gain g is estimated from the RGB image (smoothed
luminance over smoothed rate at t_img: this absorbs the sensor's threshold non-uniformity); colour as for events.
"""

from __future__ import annotations

import numpy as np

from .. import filters
from ..color import LUMINANCE_WEIGHTS, linear_to_srgb, srgb_to_linear
from ..errors import NeurofocusError
from ..represent import PolarityTable
from ..types import Spikes

_EPS = 1e-4
COLOUR_MODELS = ("line", "keep")


def colour_line_slope(linear: np.ndarray, luminance: np.ndarray, radius: int = 4, eps: float = 0.01,
                      scatter_weight: float = 10.0) -> np.ndarray:
    """Per-pixel slope a of the local colour line, d(linear RGB)/dY, for moving colour with luminance (see the
    module notes): float32 (H, W, 3).

    Parameters
    ----------
    linear : ndarray (H, W, 3)
        Linear RGB image.
    luminance : ndarray (H, W)
        Its (positive) linear luminance.
    radius : int
        Window half size r ((2r + 1)² pixels).
    eps : float
        Ridge weight relative to the window's squared mean luminance: a window needs a luminance contrast
        var(Y)/Ȳ² of about ``eps`` before its colour line outweighs the pixel's own chromaticity.
    scatter_weight : float
        Ridge weight per unit of the channel's scatter about the fitted line (var(C) − cov(C, Y)²/var(Y)): a window
        whose colours do not lie on one line (fine multi-coloured texture) keeps the chromaticity model.
    """
    size = 2 * int(radius) + 1
    box = lambda a: filters.box(a, size)  # noqa: E731
    y = luminance.astype(np.float32)
    mean_y = box(y)
    var_y = np.maximum(box(y * y) - mean_y * mean_y, 0)
    floor = np.float32(eps) * mean_y * mean_y
    out = np.empty(linear.shape, np.float32)
    for ch in range(linear.shape[2]):
        c = linear[..., ch].astype(np.float32)
        mean_c = box(c)
        cov = box(c * y) - mean_c * mean_y
        scatter = np.maximum(box(c * c) - mean_c * mean_c - cov * cov / np.maximum(var_y, 1e-12), 0)
        ridge = floor + np.float32(scatter_weight) * scatter
        out[..., ch] = (cov + ridge * (c / y)) / (var_y + ridge)
    return out


def leak_rate_by_luminance(net_rate: np.ndarray, luminance: np.ndarray, bins: int = 8) -> np.ndarray:
    """Leak rate per pixel as a function of luminance: the median ``net_rate`` of the pixels in each of ``bins``
    luminance quantile bins, linearly interpolated between the bins' median luminances. float32 (H, W)."""
    y = luminance.ravel()
    rate = np.asarray(net_rate, np.float64).ravel()
    inner = np.unique(np.quantile(y, np.linspace(0, 1, bins + 1)[1:-1]))  # bin boundaries
    which = np.searchsorted(inner, y, side="right")
    order = np.argsort(which, kind="stable")
    groups = [g for g in np.split(order, np.searchsorted(which[order], np.arange(1, len(inner) + 1))) if len(g)]
    centres = np.array([np.median(y[g]) for g in groups])
    medians = np.array([np.median(rate[g]) for g in groups])
    return np.interp(y, centres, medians).reshape(luminance.shape).astype(np.float32)


def recolour(linear: np.ndarray, luminance: np.ndarray, new_luminance: np.ndarray, slope: np.ndarray | None):
    """Linear RGB with luminance moved to ``new_luminance``: along the colour line (``slope``) or, for None, keeping
    the chromaticity. float32 (H, W, 3), not clipped above."""
    if slope is None:
        return linear * (new_luminance / luminance)[..., None]
    return np.maximum(linear + slope * (new_luminance - luminance)[..., None], 0)


def total_variation(image: np.ndarray) -> float:
    """Mean anisotropic total variation (|∂x| + |∂y| per pixel)."""
    return float(np.abs(np.diff(image, axis=0)).mean() + np.abs(np.diff(image, axis=1)).mean())


def crop(array: np.ndarray, region) -> np.ndarray:
    """``array`` restricted to ``region`` = None, (y0, y1, x0, x1) or (y0, y1, x0, x1, step)."""
    if region is None:
        return array
    y0, y1, x0, x1, *rest = region
    step = rest[0] if rest else 1
    return array[y0:y1:step, x0:x1:step]


def upsample_grid(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear interpolation of per-patch values (N, M) to a smooth map (H, W) (patch centres exact)."""
    n, m = values.shape
    h, w = shape
    rows = _linear_rows(np.asarray(values, np.float64), (np.arange(h) + 0.5) * n / h - 0.5)
    return _linear_rows(rows.T, (np.arange(w) + 0.5) * m / w - 0.5).T.astype(np.float32)


def _linear_rows(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Rows of ``values`` (N, ...) linearly interpolated at fractional row ``positions`` (clipped to [0, N − 1])."""
    positions = np.clip(positions, 0, len(values) - 1)
    low = positions.astype(np.int64)
    high = np.minimum(low + 1, len(values) - 1)
    frac = (positions - low).reshape(-1, *[1] * (values.ndim - 1))
    return values[low] * (1 - frac) + values[high] * frac


def subsampled(region, target_pixels: int = 4000) -> tuple[int, int, int, int, int]:
    """``region`` (y0, y1, x0, x1) with a pixel stride that leaves about ``target_pixels`` of it for searches (stride
    1 for small patches), as (y0, y1, x0, x1, step)."""
    y0, y1, x0, x1 = region[:4]
    return y0, y1, x0, x1, max(1, int(round(((y1 - y0) * (x1 - x0) / target_pixels) ** 0.5)))


def patch_regions(shape: tuple[int, int], grid: int) -> list[tuple[int, int, int, int]]:
    """The ``grid`` × ``grid`` non-overlapping patches of an image, as (y0, y1, x0, x1), row-major."""
    h, w = shape
    ys = np.linspace(0, h, grid + 1).round().astype(int)
    xs = np.linspace(0, w, grid + 1).round().astype(int)
    return [(int(ys[i]), int(ys[i + 1]), int(xs[j]), int(xs[j + 1])) for i in range(grid) for j in range(grid)]


class EventRefocuser:
    """Refocuses an RGB image with events.

    Parameters
    ----------
    image : ndarray, float32 (H, W, 3)
        sRGB image in [0, 1], captured at ``image_time_us``.
    image_time_us : int
    table : PolarityTable
        Cumulative per-pixel counts of the sweep's events.
    contrast : float or ndarray (H, W)
        Contrast threshold c (log-intensity step per event); see :meth:`estimate_contrast`.
    sweep_us : (int, int)
        Start and end of the sweep (µs).
    detrend : {"auto", "on", "off"}
        Remove a leak drift (net event rate by image luminance, see the module notes; "auto": when > 70 % of the
        events are ON).
    smoothing_px : float
        Gaussian smoothing of the log gain (the event count quantises it in steps of c): 0.5 px by default.
    colour : {"line", "keep"}
        Colour of the refocused pixels: along the local colour line (default) or the image's chromaticity.
    """

    def __init__(self, image: np.ndarray, image_time_us: int, table: PolarityTable, contrast=0.2, *,
                 sweep_us: tuple[int, int] | None = None, detrend: str = "auto", smoothing_px: float = 0.5,
                 colour: str = "line"):
        if (table.width, table.height) != (image.shape[1], image.shape[0]):
            raise NeurofocusError("the image and the event sensor differ in size")
        if detrend not in ("auto", "on", "off"):
            raise NeurofocusError(f"detrend must be auto, on or off, got {detrend!r}")
        _check_colour(colour)
        self.image_time_us = int(image_time_us)
        self.table = table
        self.from_image = table.anchored(self.image_time_us)
        self.linear = srgb_to_linear(image)
        self.luminance = np.maximum(self.linear @ LUMINANCE_WEIGHTS, _EPS)
        self.contrast = np.broadcast_to(np.asarray(contrast, np.float32), self.luminance.shape)
        self.smoothing_px = float(smoothing_px)
        self.colour_slope = colour_line_slope(self.linear, self.luminance) if colour == "line" else None
        self.drift_rate = None
        if detrend != "off" and sweep_us is not None and sweep_us[1] > sweep_us[0]:
            on, off = table.counts(int(sweep_us[0]), int(sweep_us[1]) + 1)
            total = int(on.sum() + off.sum())
            if detrend == "on" or (total and on.sum() > 0.7 * total):
                self.drift_rate = leak_rate_by_luminance((on - off) / float(sweep_us[1] - sweep_us[0]),
                                                         self.luminance)

    def log_gain(self, t_us: int, region=None) -> np.ndarray:
        """c · (Σp − leak drift) from the image time to ``t_us`` for ``region`` (y0, y1, x0, x1): float32."""
        net = self.from_image.net(int(t_us), region) - self._drift(int(t_us), region)
        gain = (crop(self.contrast, region) * net).astype(np.float32)
        return filters.gaussian(gain, self.smoothing_px)

    def luminance_at(self, t_us: int, region=None) -> np.ndarray:
        """Linear luminance refocused to ``t_us``: float32, (H, W) or the region's."""
        return crop(self.luminance, region) * np.exp(np.clip(self.log_gain(t_us, region), -30.0, 30.0))

    def refocus_linear(self, t_us: int) -> np.ndarray:
        """The image refocused to ``t_us`` in linear light: float32 (H, W, 3) (not clipped above)."""
        return recolour(self.linear, self.luminance, self.luminance_at(t_us), self.colour_slope)

    def refocus(self, t_us: int) -> np.ndarray:
        """The image refocused to ``t_us``: sRGB float32 (H, W, 3) in [0, 1]."""
        return linear_to_srgb(self.refocus_linear(t_us))

    def estimate_contrast(self, start_us: int, end_us: int, grid: int = 8, candidates=None, *,
                          min_drop: float = 0.05, min_events: float = 0.25, default: float = 0.2) -> np.ndarray:
        """Per-patch contrast thresholds: the c making the refocusing to the most-defocused sweep end smoothest
        (Eq. 11 with α = 0, see the module notes). Sets and returns the smooth (H, W) map.

        A patch votes only if refocusing towards an end can make it at least ``min_drop`` (5 %) smoother than it is
        (a patch that is sharper at both ends says nothing about c), with at least ``min_events`` events per pixel
        (mean |net count|) towards that end and a minimum below the largest candidate; the others take the median
        of the votes, or ``default`` when no patch votes.

        Parameters
        ----------
        start_us, end_us : int
            The sweep's ends.
        grid : int
            Patches per side.
        candidates : array, optional
            Trial thresholds (default: 24 values log-spaced in [0.03, 1.0], 16 % apart).
        """
        candidates = np.geomspace(0.03, 1.0, 24) if candidates is None else np.asarray(candidates, np.float64)
        log_y = np.log(self.luminance)
        ends = [self.from_image.net(int(t)) - self._drift(int(t)) for t in (start_us, end_us)]
        best = np.full(grid * grid, np.nan)
        for r, patch in enumerate(patch_regions(self.luminance.shape, grid)):
            largest_drop = min_drop
            region = subsampled(patch)
            for net in ends:
                patch_net = crop(net, region)
                if min(patch_net.shape) < 2 or np.abs(patch_net).mean() < min_events:  # no TV, or too few events
                    continue
                trials = filters.gaussian(crop(log_y, region)[..., None] + patch_net[..., None] * candidates, 1.0)
                tv = np.abs(np.diff(trials, axis=0)).mean(axis=(0, 1)) + np.abs(np.diff(trials, axis=1)).mean(axis=(0, 1))
                k = int(np.argmin(tv))
                drop = 1.0 - tv[k] / max(tv[0], 1e-12)  # how much smoother the end can get
                if drop > largest_drop and k < len(candidates) - 1:  # a minimum at the largest trial is no estimate
                    largest_drop, best[r] = drop, candidates[k]
        if np.all(np.isnan(best)):
            best[:] = default
        best = np.where(np.isnan(best), np.nanmedian(best), best).reshape(grid, grid)
        padded = np.pad(best, 1, mode="edge")  # 3 × 3 median, edges repeated
        best = np.median([padded[i:i + grid, j:j + grid] for i in range(3) for j in range(3)], axis=0)
        self.contrast = upsample_grid(best, self.luminance.shape)
        return self.contrast

    def _drift(self, t_us: int, region=None) -> np.ndarray | float:
        """Leak drift removed from the net count between the image time and ``t_us`` (0 without detrending)."""
        if self.drift_rate is None:
            return 0.0
        return crop(self.drift_rate, region) * (t_us - self.image_time_us)


def _check_colour(colour: str) -> None:
    if colour not in COLOUR_MODELS:
        raise NeurofocusError(f"colour must be one of {COLOUR_MODELS}, got {colour!r}")


def spike_half_window(spikes: Spikes, sweep_us: tuple[float, float], fraction: float | None = None, *,
                      target_spikes: float = 30.0, bounds: tuple[float, float] = (0.01, 0.06)) -> int:
    """TFP half window in ticks (at least 8).

    With ``fraction``: that fraction of the sweep on each side. Otherwise (default) the window is sized by counts:
    long enough that a pixel firing at the median rate of the sweep collects about ``target_spikes`` spikes in it
    (TFP's relative shot noise is 1/√N), and between ``bounds`` (fractions of the sweep on each side) so that the
    focus barely moves within it. A bright sweep thus gets a short window and a dark one a long window: on the
    tests' bright scenes (33 spikes in a 1.5 % window) a 4 % window lost 0.5-1 dB, on the benchmark's darker ones
    (6-19 spikes) it gained 0.5 dB over 1.5 %; 30 spikes serves both.
    """
    duration_ticks = (sweep_us[1] - sweep_us[0]) / spikes.tick_us
    if fraction is not None:
        return max(8, int(round(fraction * duration_ticks)))
    # the median pixel's rate, from 16 evenly spread blocks of 1/128 of the ticks each (an eighth of the counting)
    n = spikes.num_ticks
    starts = np.unique(np.linspace(0, max(n - max(n // 128, 1), 0), 16).astype(int))
    length = max(n // 128, 1)
    counts = sum(spikes.count(int(a), int(a) + length) for a in starts)
    rate = float(np.median(counts)) / max(len(starts) * min(length, n), 1)  # spikes per tick
    half = target_spikes / (2 * max(rate, 1e-6))
    return max(8, int(round(np.clip(half, bounds[0] * duration_ticks, bounds[1] * duration_ticks))))


class SpikeRefocuser:
    """Refocuses an RGB image with spikes (TFP around the target time, gain from the image).

    Parameters
    ----------
    image : ndarray, float32 (H, W, 3)
        sRGB image in [0, 1], captured at ``image_time_us``.
    image_time_us : int
    spikes : Spikes
        The sweep's spikes (tick length known).
    half_window : int
        TFP window half-width in ticks (window 2h + 1); see :func:`spike_half_window`.
    gain_sigma_px : float
        Spatial smoothing of the gain estimate.
    colour : {"line", "keep"}
        Colour of the refocused pixels: along the local colour line (default) or the image's chromaticity.
    """

    def __init__(self, image: np.ndarray, image_time_us: int, spikes: Spikes, *, half_window: int = 200,
                 gain_sigma_px: float = 3.0, colour: str = "line"):
        _check_colour(colour)
        if spikes.sensor_size != (image.shape[1], image.shape[0]):
            raise NeurofocusError("the image and the spike sensor differ in size")
        if spikes.tick_us is None:
            raise NeurofocusError("the spike tick length is unknown (give it with --tick-us)")
        self.spikes = spikes
        self.half_window = int(half_window)
        self.image_time_us = int(image_time_us)
        self.linear = srgb_to_linear(image)
        self.luminance = np.maximum(self.linear @ LUMINANCE_WEIGHTS, _EPS)
        self.rate_image = self.rate(self.image_time_us)
        smooth = lambda a: filters.gaussian(a, gain_sigma_px)  # noqa: E731
        self.gain = (smooth(self.luminance) / np.maximum(smooth(self.rate_image), 1e-3)).astype(np.float32)
        self.colour_slope = colour_line_slope(self.linear, self.luminance) if colour == "line" else None

    def tick(self, t_us: float) -> int:
        return int(np.clip(self.spikes.tick_at(t_us), 0, self.spikes.num_ticks - 1))

    def rate(self, t_us: float, half_window: int | None = None, region=None) -> np.ndarray:
        """TFP firing rate (spikes per tick) around ``t_us``: float32 (H, W) or the region's."""
        h = self.half_window if half_window is None else int(half_window)
        center = self.tick(t_us)
        a, b = max(0, center - h), min(self.spikes.num_ticks, center + h + 1)
        return (self.spikes.count(a, b, region) / np.float32(b - a)).astype(np.float32)

    def luminance_at(self, t_us: float, region=None) -> np.ndarray:
        """Linear luminance at ``t_us``: the image's plus the gain times the change of firing rate: float32."""
        change = self.rate(t_us, region=region) - crop(self.rate_image, region)
        return np.maximum(crop(self.luminance, region) + crop(self.gain, region) * change, _EPS)

    def refocus_linear(self, t_us: float) -> np.ndarray:
        """The image refocused to ``t_us`` in linear light: float32 (H, W, 3) (not clipped above)."""
        return recolour(self.linear, self.luminance, self.luminance_at(t_us), self.colour_slope)

    def refocus(self, t_us: float) -> np.ndarray:
        """The image refocused to ``t_us``: sRGB float32 (H, W, 3) in [0, 1]."""
        return linear_to_srgb(self.refocus_linear(t_us))
