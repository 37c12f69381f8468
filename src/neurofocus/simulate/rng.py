"""Random numbers for numba kernels: one independent, reproducible stream per pixel.

Each stream is a 64-bit state advanced by the SplitMix64 step (Steele, Lea & Flood, OOPSLA 2014); the state of pixel
``i`` under seed ``s`` is a hash of (s, i). Because a pixel's draws never depend on other pixels or on which thread
runs it, simulations are bit-identical for a given seed whatever the parallel schedule.

The samplers are written out here because numba cannot call numpy's Generator: uniform (53-bit), exponential, the
normal tail beyond ``a`` (Robert 1995), the standard normal (ziggurat, Marsaglia & Tsang 2000; its two halves are
exposed so that a kernel can run the fast branch-free first step over a whole row), the inverse Gaussian (Michael,
Schucany & Haas 1976) and erfinv (Giles 2010).

The C kernels have the same streams and samplers, drawing the same numbers (``_kernels/rng.h``, used by the
DVS-Voltmeter kernel); these serve the numba simulators (ideal events, spikes).
"""

from __future__ import annotations

import math

import numba
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@numba.njit(cache=True, nogil=True, inline="always")
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, nogil=True)
def stream_state(seed, index):
    """Initial state (uint64) of the stream ``index`` under ``seed``."""
    return _mix(_mix(np.uint64(seed) + _GOLDEN) ^ (np.uint64(index) * _GOLDEN + np.uint64(0x632BE59BD9B4E019)))


@numba.njit(cache=True, nogil=True, inline="always")
def uniform(state):
    """(u in (0, 1), new state): 53-bit uniform, never exactly 0 or 1."""
    state = state + _GOLDEN
    u = (np.float64(_mix(state) >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)
    return u, state


@numba.njit(cache=True, nogil=True)
def exponential(state):
    """(e ~ Exp(1), new state)."""
    u, state = uniform(state)
    return -math.log(u), state


@numba.njit(cache=True, nogil=True)
def _box_muller(state):
    """(z ~ N(0, 1), new state): Box–Muller, for :func:`normal_tail` (the ziggurat itself relies on normal_tail)."""
    u1, state = uniform(state)
    u2, state = uniform(state)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2), state


@numba.njit(cache=True, nogil=True)
def normal_tail(a, state):
    """(z, new state) with z ~ N(0, 1) conditioned on z >= a (exact for every a)."""
    if a < 0.5:
        while True:  # plain rejection: acceptance >= P(z >= 0.5) = 31 %
            z, state = _box_muller(state)
            if z >= a:
                return z, state
    lam = 0.5 * (a + math.sqrt(a * a + 4.0))  # Robert's optimal exponential proposal
    while True:
        e, state = exponential(state)
        z = a + e / lam
        u, state = uniform(state)
        if u <= math.exp(-0.5 * (z - lam) ** 2):
            return z, state


def _ziggurat_tables(layers: int = 256, r: float = 3.6541528853610088) -> tuple[np.ndarray, np.ndarray]:
    """Ziggurat of the unnormalised normal density f(x) = exp(−x²/2) (Marsaglia & Tsang, J. Stat. Softw. 2000).

    Returns the layer edges x, float64 (``layers`` + 1,): x[0] = v/f(r) (the base layer: rectangle [0, r] plus the
    tail), x[1] = r, ..., x[layers] = 0, every layer of area v; and f(x). ``r`` is Marsaglia & Tsang's edge for 256
    layers (the top layer then closes to 1e-13).
    """
    v = r * math.exp(-0.5 * r * r) + math.sqrt(math.pi / 2) * math.erfc(r / math.sqrt(2))
    x = [v / math.exp(-0.5 * r * r), r]
    for i in range(1, layers - 1):
        x.append(math.sqrt(-2.0 * math.log(v / x[i] + math.exp(-0.5 * x[i] * x[i]))))
    x.append(0.0)
    x = np.array(x, np.float64)
    return x, np.exp(-0.5 * x * x)


_ZIG_X, _ZIG_F = _ziggurat_tables()
_ZIG_R = float(_ZIG_X[1])


@numba.njit(cache=True, nogil=True, inline="always")
def ziggurat_start(state):
    """First step of a ziggurat draw: (candidate z, accepted, layer, new state). One uniform: its top 9 bits pick
    the layer and the sign, the other 44 the abscissa; branch-free, so a loop of these vectorises."""
    u, state = uniform(state)
    v = u * 512.0
    j = int(v)
    i = j & 255
    x = (v - j) * _ZIG_X[i]
    return (1.0 - 2.0 * (j >> 8)) * x, x < _ZIG_X[i + 1], i, state


@numba.njit(cache=True, nogil=True)
def ziggurat_finish(z, i, state):
    """Complete a draw that :func:`ziggurat_start` did not accept: (z ~ N(0, 1), new state)."""
    while True:
        sign = 1.0 if z >= 0.0 else -1.0
        if i == 0:  # base layer beyond r: the tail
            t, state = normal_tail(_ZIG_R, state)
            return sign * t, state
        x = abs(z)
        u, state = uniform(state)
        if _ZIG_F[i] + u * (_ZIG_F[i + 1] - _ZIG_F[i]) < math.exp(-0.5 * x * x):
            return z, state
        z, ok, i, state = ziggurat_start(state)
        if ok:
            return z, state


@numba.njit(cache=True, nogil=True)
def normal(state):
    """(z ~ N(0, 1), new state) by the ziggurat (Marsaglia & Tsang 2000): one uniform 99 % of the time."""
    z, ok, i, state = ziggurat_start(state)
    if ok:
        return z, state
    return ziggurat_finish(z, i, state)


@numba.njit(cache=True, nogil=True)
def inverse_gaussian(mean, shape, state):
    """(x ~ InverseGaussian(mean, shape), new state) by Michael, Schucany & Haas (as numpy's ``wald``).

    The smaller root mean + mean/(2·shape)·(y − √(4·shape·y + y²)) is computed in the cancellation-free form
    mean·f, f = 1 − 2y/(y + √(y² + 4·shape·y)) (at least 1e-300), and the other root mean²/x = mean/f is taken
    with probability x/(mean + x), i.e. when u·(1 + f) > 1. The choice is arithmetic, not a branch: a coin-flip
    branch would stall the processor on every draw (this draw dominates DVS-Voltmeter's time).
    """
    z, state = normal(state)
    y = mean * z * z
    f = max(1.0 - 2.0 * y / (y + math.sqrt(y * y + 4.0 * shape * y)), 1e-300)
    u, state = uniform(state)
    large = np.float64(u * (1.0 + f) > 1.0)
    return mean * (f + large * (1.0 / f - f)), state


@numba.njit(cache=True, nogil=True)
def erfinv(x):
    """Inverse error function on (-1, 1) (Giles' single-precision approximation, refined by two Newton steps)."""
    w = -math.log((1.0 - x) * (1.0 + x))
    if w < 5.0:
        w -= 2.5
        p = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                  -0.00417768164, 0.246640727, 1.50140941):
            p = c + p * w
    else:
        w = math.sqrt(w) - 3.0
        p = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                  0.00943887047, 1.00167406, 2.83297682):
            p = c + p * w
    r = p * x
    for _ in range(2):  # Newton on erf(r) = x
        r -= (math.erf(r) - x) / (2.0 / math.sqrt(math.pi) * math.exp(-r * r))
    return r
