/* Random numbers for the C kernels: one independent, reproducible stream per pixel, the C twin of
 * neurofocus/simulate/rng.py (whose numba samplers the other simulators use); a stream here draws the same numbers as
 * there, bit for bit.
 *
 * Each stream is a 64-bit state advanced by the SplitMix64 step (Steele, Lea & Flood, OOPSLA 2014); the state of
 * pixel i under seed s is a hash of (s, i). Samplers: uniform (53-bit), exponential, the normal tail beyond a
 * (Robert 1995), the standard normal (ziggurat, Marsaglia & Tsang 2000), the inverse Gaussian (Michael, Schucany &
 * Haas 1976) and erfinv (Giles 2010). Compiled without -ffast-math: the results depend on the exact operations. */
#ifndef NEUROFOCUS_RNG_H
#define NEUROFOCUS_RNG_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define RNG_GOLDEN 0x9E3779B97F4A7C15u
#define RNG_PI 3.141592653589793 /* math.pi (C99 has no M_PI) */
#define ZIGGURAT_LAYERS 256

static inline uint64_t rng_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Initial state of the stream ``index`` under ``seed``. */
static inline uint64_t rng_stream_state(uint64_t seed, uint64_t index)
{
    return rng_mix(rng_mix(seed + RNG_GOLDEN) ^ (index * RNG_GOLDEN + 0x632BE59BD9B4E019u));
}

/* Uniform in (0, 1) with 53 bits, never exactly 0 or 1. */
static inline double rng_uniform(uint64_t *state)
{
    *state += RNG_GOLDEN;
    return ((double)(rng_mix(*state) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Exp(1). */
static inline double rng_exponential(uint64_t *state)
{
    return -log(rng_uniform(state));
}

/* N(0, 1) by Box–Muller, for rng_normal_tail (the ziggurat itself relies on the tail). */
static inline double rng_box_muller(uint64_t *state)
{
    double u1 = rng_uniform(state);
    double u2 = rng_uniform(state);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * RNG_PI * u2);
}

/* N(0, 1) conditioned on z >= a (exact for every a): rejection below a = 0.5, else Robert's exponential proposal. */
static inline double rng_normal_tail(double a, uint64_t *state)
{
    if (a < 0.5) {
        for (;;) { /* acceptance >= P(z >= 0.5) = 31 % */
            double z = rng_box_muller(state);
            if (z >= a)
                return z;
        }
    }
    double lam = 0.5 * (a + sqrt(a * a + 4.0));
    for (;;) {
        double z = a + rng_exponential(state) / lam;
        double u = rng_uniform(state);
        if (u <= exp(-0.5 * ((z - lam) * (z - lam))))
            return z;
    }
}

/* The ziggurat of f(x) = exp(-x²/2) with 256 layers (rng.py's _ziggurat_tables): edges x[0] = v/f(r) (the base
 * layer, rectangle [0, r] plus the tail), x[1] = r, ..., x[256] = 0, every layer of area v; f[i] = f(x[i]). */
struct ziggurat {
    double x[ZIGGURAT_LAYERS + 1], f[ZIGGURAT_LAYERS + 1];
};

static inline void ziggurat_init(struct ziggurat *zig)
{
    const double r = 3.6541528853610088; /* Marsaglia & Tsang's edge for 256 layers */
    double v = r * exp(-0.5 * r * r) + sqrt(RNG_PI / 2) * erfc(r / sqrt(2.0));
    zig->x[0] = v / exp(-0.5 * r * r);
    zig->x[1] = r;
    for (int i = 1; i < ZIGGURAT_LAYERS - 1; i++)
        zig->x[i + 1] = sqrt(-2.0 * log(v / zig->x[i] + exp(-0.5 * zig->x[i] * zig->x[i])));
    zig->x[ZIGGURAT_LAYERS] = 0.0;
    for (int i = 0; i <= ZIGGURAT_LAYERS; i++)
        zig->f[i] = exp(-0.5 * zig->x[i] * zig->x[i]);
}

/* First step of a ziggurat draw from one uniform (its top 9 bits pick the layer and the sign, the other 44 the
 * abscissa): the candidate z, its layer ``*layer``; returns whether z is accepted. */
static inline int ziggurat_start(const struct ziggurat *zig, uint64_t *state, double *z, int *layer)
{
    double v = rng_uniform(state) * 512.0;
    int j = (int)v;
    int i = j & 255;
    double x = (v - (double)j) * zig->x[i];
    *z = (1.0 - 2.0 * (double)(j >> 8)) * x;
    *layer = i;
    return x < zig->x[i + 1];
}

/* Complete a ziggurat draw whose first step rejected the candidate z of layer i: N(0, 1). Out of line: it runs for
 * 1 % of the draws, and keeps rng_normal small enough to inline. */
static double ziggurat_finish(const struct ziggurat *zig, double z, int i, uint64_t *state)
{
    for (;;) {
        double sign = z >= 0.0 ? 1.0 : -1.0;
        if (i == 0) /* base layer beyond r: the tail */
            return sign * rng_normal_tail(zig->x[1], state);
        double x = fabs(z);
        double u = rng_uniform(state);
        if (zig->f[i] + u * (zig->f[i + 1] - zig->f[i]) < exp(-0.5 * x * x))
            return z;
        if (ziggurat_start(zig, state, &z, &i))
            return z;
    }
}

/* N(0, 1) by the ziggurat (Marsaglia & Tsang 2000): one uniform 99 % of the time. */
static inline double rng_normal(const struct ziggurat *zig, uint64_t *state)
{
    double z;
    int i;
    if (ziggurat_start(zig, state, &z, &i))
        return z;
    return ziggurat_finish(zig, z, i, state);
}

/* InverseGaussian(mean, shape) by Michael, Schucany & Haas (as numpy's wald): the smaller root mean·f,
 * f = 1 − 2y/(y + √(y² + 4·shape·y)) (at least 1e-300; 1 when y = 0), y = mean·z², or the other root mean/f with
 * probability f/(1 + f), i.e. when u·(1 + f) > 1: mean·(f + (1/f − f)) then, of rng.py's mean·(f + large·(1/f − f)).
 * The choice is a bit mask, not a branch: a coin-flip branch would stall the processor on every draw (compilers make
 * one of the multiplication by large). */
static inline double rng_inverse_gaussian(const struct ziggurat *zig, double mean, double shape, uint64_t *state)
{
    double z = rng_normal(zig, state);
    double y = mean * z * z;
    double root = y + sqrt(y * y + 4.0 * shape * y);
    double f = root > 0.0 ? 1.0 - 2.0 * y / root : 1.0;
    f = f > 1e-300 ? f : 1e-300;
    double other = 1.0 / f - f;
    uint64_t bits;
    memcpy(&bits, &other, sizeof bits);
    bits &= -(uint64_t)(rng_uniform(state) * (1.0 + f) > 1.0);
    memcpy(&other, &bits, sizeof other);
    return mean * (f + other);
}

/* Inverse error function on (-1, 1): Giles' single-precision approximation refined by two Newton steps. */
static inline double rng_erfinv(double x)
{
    static const double central[] = {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                                     -0.00417768164, 0.246640727, 1.50140941};
    static const double tail[] = {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                                  0.00943887047, 1.00167406, 2.83297682};
    double w = -log((1.0 - x) * (1.0 + x)), p;
    if (w < 5.0) {
        w -= 2.5;
        p = 2.81022636e-08;
        for (int k = 0; k < 8; k++)
            p = central[k] + p * w;
    } else {
        w = sqrt(w) - 3.0;
        p = -0.000200214257;
        for (int k = 0; k < 8; k++)
            p = tail[k] + p * w;
    }
    double r = p * x;
    for (int step = 0; step < 2; step++) /* Newton on erf(r) = x */
        r -= (erf(r) - x) / (2.0 / sqrt(RNG_PI) * exp(-r * r));
    return r;
}

#endif
