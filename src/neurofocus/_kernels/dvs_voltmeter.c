/* The DVS-Voltmeter pixel model (neurofocus/simulate/dvs_voltmeter.py, whose module docstring states the model):
 * pixel rows run through the intervals between frames, each pixel drawing from its own stream (rng.h). */
#include <stdlib.h>

#include "rng.h"

#define SPAN 256 /* pixels of a row whose first draws are made before any of them fires */

/* A pixel's drift μ (per µs), 1/μ (0 when μ = 0) and 1/σ² (σ: diffusion per √µs) in an interval. */
struct drift {
    double mu, inv_mu, inv_sig2;
};

/* 1/(Lm + k2), k5·Lm and 1/σ² for each sum L0 + L1 (0..510) of two 8-bit gray values: the same operations as for
 * any frame values, computed once per call. */
struct gray_terms {
    double denom[511], k5_lm[511], inv_sig2[511];
};

static void gray_terms_init(struct gray_terms *terms, const double *k)
{
    for (int sum = 0; sum <= 510; sum++) {
        double lm = 0.5 * (double)sum;
        double denom = 1.0 / (lm + k[1]);
        double sigma = k[2] * sqrt(lm) * denom + k[5];
        terms->denom[sum] = denom;
        terms->k5_lm[sum] = k[4] * lm;
        terms->inv_sig2[sum] = 1.0 / (sigma * sigma);
    }
}

/* The drift of a pixel going from gray value l0 to l1 with k1/Δt = ``k1_dt``: the module docstring's μ and σ. */
static inline struct drift pixel_drift(double l0, double l1, double k1_dt, const double *k)
{
    double lm = 0.5 * (l0 + l1);
    double denom = 1.0 / (lm + k[1]);
    double sigma = k[2] * sqrt(lm) * denom + k[5];
    struct drift d = {k1_dt * (l1 - l0) * denom + k[3] + k[4] * lm, 0.0, 1.0 / (sigma * sigma)};
    d.inv_mu = d.mu != 0.0 ? 1.0 / d.mu : 0.0;
    return d;
}

/* The same from 8-bit gray values, by ``terms``. */
static inline struct drift gray_drift(int l0, int l1, double k1_dt, const double *k, const struct gray_terms *terms)
{
    struct drift d = {k1_dt * (double)(l1 - l0) * terms->denom[l0 + l1] + k[3] + terms->k5_lm[l0 + l1], 0.0,
                      terms->inv_sig2[l0 + l1]};
    d.inv_mu = d.mu != 0.0 ? 1.0 / d.mu : 0.0;
    return d;
}

/* Time for Brownian motion with drift c (1/c = inv_c) and diffusion σ (1/σ² = inv_sig2) to first travel ep (> 0):
 * inverse Gaussian towards the drift, the published transformed truncated normal against it, Lévy without drift. */
static inline double first_passage(const struct ziggurat *zig, double ep, double c, double inv_c, double inv_sig2,
                                   uint64_t *state)
{
    double lam = ep * ep * inv_sig2;
    if (c > 0.0)
        return rng_inverse_gaussian(zig, ep * inv_c, lam, state);
    if (c < 0.0) {
        /* X from N(0,1) truncated to X <= -sqrt(4 ep |c| / σ²), transformed by the inverse-Gaussian formulas with a
         * negative mean; this reduces to the closed form below */
        double a = sqrt(4.0 * ep * -c * inv_sig2);
        double z = rng_normal_tail(a, state);
        double arg = z * z / (2.0 * ep * -c * inv_sig2) - 1.0;
        return -ep * inv_c * exp(-acosh(arg > 1.0 ? arg : 1.0));
    }
    double e = rng_erfinv(1.0 - rng_uniform(state));
    return lam / (e * e);
}

/* The sign of a pixel's next event where it is sure: with p_on = (e^{2μB/σ²} − 1)/(e^{2μB/σ²} − e^{−2μA/σ²})
 * (A = 1 − r, B = 1 + r), beyond an exponent of 40 p_on is 1 (or below 1e-17, under the smallest uniform draw) in
 * float64, so the exponentials and the draw are skipped. Returns 1 (ON), 0 (OFF), or -1 when a draw decides. */
static inline int sure_polarity(struct drift d, double r)
{
    if (2.0 * d.mu * (1.0 + r) * d.inv_sig2 > 40.0)
        return 1;
    if (-2.0 * d.mu * (1.0 - r) * d.inv_sig2 > 40.0)
        return 0;
    return -1;
}

/* The events of pixel (x, y) from time s (µs) to the interval's end t1, from residual voltage ``*r``, appended to
 * the outputs (t, x, y, p; ``capacity`` of each) at ``*n``; ``*r`` and ``*state`` advance. Returns 0, or -1 when the
 * outputs are full. */
static int64_t pixel_events(const struct ziggurat *zig, struct drift d, double s, double t1, double *r,
                            uint64_t *state, uint16_t x, uint16_t y, int64_t *n, int64_t capacity, double *t_out,
                            uint16_t *x_out, uint16_t *y_out, int8_t *p_out)
{
    for (;;) {
        double a_on = 1.0 - *r, b_off = 1.0 + *r;
        int on = sure_polarity(d, *r);
        if (on < 0) {
            double p_on = 0.5;
            if (d.mu != 0.0) {
                double e_b = exp(2.0 * d.mu * b_off * d.inv_sig2);
                p_on = (e_b - 1.0) / (e_b - exp(-2.0 * d.mu * a_on * d.inv_sig2));
            }
            on = rng_uniform(state) <= p_on;
        }
        double ep = on ? a_on : b_off;
        double tau = first_passage(zig, ep, on ? d.mu : -d.mu, on ? d.inv_mu : -d.inv_mu, d.inv_sig2, state);
        if (!(s + tau < t1)) {
            *r = *r + (on ? ep : -ep) * (t1 - s) / tau;
            return 0;
        }
        if (*n >= capacity)
            return -1;
        s = s + tau;
        t_out[*n] = s;
        x_out[*n] = x;
        y_out[*n] = y;
        p_out[*n] = on ? 1 : -1;
        *n += 1;
        *r = 0.0;
    }
}

/* Run rows row0..row1-1 of ``frames`` (n_frames, height, width), uint8 when ``frames_uint8`` else float64, through
 * the intervals between consecutive frames at ``times`` (µs) with the parameters k1..k6 ``k``. ``resid`` and
 * ``states`` (per pixel of those rows) carry each pixel's residual voltage and stream between calls. Events go to
 * t_out (µs, unrounded), x_out, y_out, p_out (+1 / -1), ``capacity`` of each, pixel by pixel within an interval.
 * Returns the number of events, or -1 when the outputs are full (resid and states are then partly advanced).
 *
 * Most pixels do not fire in an interval, and the first draw of those whose polarity is sure is an inverse Gaussian
 * (the drift's own direction). So SPAN pixels of a row at a time make that first draw without a branch on whether
 * it fires (pixels are independent, their draws overlap in the processor); those that fire, or need the polarity
 * draw, then continue in pixel order. Each pixel draws what it would draw alone, so the events are the same. */
int64_t voltmeter_rows(const void *frames, int64_t frames_uint8, int64_t n_frames, int64_t height, int64_t width,
                       const double *times, const double *k, int64_t row0, int64_t row1, double *resid,
                       uint64_t *states, int64_t capacity, double *t_out, uint16_t *x_out, uint16_t *y_out,
                       int8_t *p_out)
{
    const uint8_t *frames8 = frames;
    const double *frames64 = frames;
    struct ziggurat zig;
    ziggurat_init(&zig);
    struct gray_terms terms;
    gray_terms_init(&terms, k);
    int64_t n = 0, frame_size = height * width;
    int64_t busy[SPAN];     /* pixels of the span that fire or need the polarity draw, in order */
    double busy_tau[SPAN];  /* their first first-passage time, or -1 before the polarity draw */
    double busy_r[SPAN];    /* their residual before it */
    for (int64_t fi = 0; fi + 1 < n_frames; fi++) {
        double t0 = times[fi], t1 = times[fi + 1];
        double k1_dt = k[0] / (t1 - t0);
        for (int64_t yy = row0; yy < row1; yy++) {
            for (int64_t x0 = 0; x0 < width; x0 += SPAN) {
                int64_t x1 = x0 + SPAN < width ? x0 + SPAN : width, num_busy = 0;
                for (int64_t xx = x0; xx < x1; xx++) {
                    int64_t j = (yy - row0) * width + xx, at = fi * frame_size + yy * width + xx;
                    struct drift d = frames_uint8 ? gray_drift(frames8[at], frames8[at + frame_size], k1_dt, k, &terms)
                                                  : pixel_drift(frames64[at], frames64[at + frame_size], k1_dt, k);
                    double r = resid[j];
                    int on = sure_polarity(d, r);
                    double ep = on ? 1.0 - r : 1.0 + r, tau = -1.0;
                    if (on >= 0) { /* the drift's direction: μ > 0 when on, μ < 0 when off */
                        uint64_t state = states[j];
                        tau = rng_inverse_gaussian(&zig, ep * (on ? d.inv_mu : -d.inv_mu), ep * ep * d.inv_sig2,
                                                   &state);
                        states[j] = state;
                        resid[j] = r + (on ? ep : -ep) * (t1 - t0) / tau;
                    }
                    busy[num_busy] = xx;
                    busy_tau[num_busy] = tau;
                    busy_r[num_busy] = r;
                    num_busy += on < 0 || t0 + tau < t1;
                }
                for (int64_t b = 0; b < num_busy; b++) {
                    int64_t xx = busy[b], j = (yy - row0) * width + xx, at = fi * frame_size + yy * width + xx;
                    struct drift d = frames_uint8 ? gray_drift(frames8[at], frames8[at + frame_size], k1_dt, k, &terms)
                                                  : pixel_drift(frames64[at], frames64[at + frame_size], k1_dt, k);
                    double r = busy_r[b], s = t0;
                    if (busy_tau[b] >= 0.0) { /* the first draw fired */
                        if (n >= capacity)
                            return -1;
                        s = t0 + busy_tau[b];
                        t_out[n] = s;
                        x_out[n] = (uint16_t)xx;
                        y_out[n] = (uint16_t)yy;
                        p_out[n] = sure_polarity(d, r) ? 1 : -1;
                        n++;
                        r = 0.0;
                    }
                    if (pixel_events(&zig, d, s, t1, &r, &states[j], (uint16_t)xx, (uint16_t)yy, &n, capacity,
                                     t_out, x_out, y_out, p_out))
                        return -1;
                    resid[j] = r;
                }
            }
        }
    }
    return n;
}
