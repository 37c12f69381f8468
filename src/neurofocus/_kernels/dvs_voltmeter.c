/* The DVS-Voltmeter pixel model (neurofocus/simulate/dvs_voltmeter.py, whose module docstring states the model):
 * pixel rows run through the intervals between frames, each pixel drawing from its own stream (rng.h). */
#include "rng.h"

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
        return -ep * inv_c * exp(-acosh(fmax(arg, 1.0)));
    }
    double e = rng_erfinv(1.0 - rng_uniform(state));
    return lam / (e * e);
}

/* Run rows row0..row1-1 of ``frames`` (n_frames, height, width), uint8 when ``frames_uint8`` else float64, through
 * the intervals between consecutive frames at ``times`` (µs) with the parameters k1..k6 ``k``. ``resid`` and
 * ``states`` (per pixel of those rows) carry each pixel's residual voltage and stream between calls. Events go to
 * t_out (µs, unrounded), x_out, y_out, p_out (+1 / -1), ``capacity`` of each, pixel by pixel within an interval.
 * Returns the number of events, or -1 when the outputs are full (resid and states are then partly advanced). */
int64_t voltmeter_rows(const void *frames, int64_t frames_uint8, int64_t n_frames, int64_t height, int64_t width,
                       const double *times, const double *k, int64_t row0, int64_t row1, double *resid,
                       uint64_t *states, int64_t capacity, double *t_out, uint16_t *x_out, uint16_t *y_out,
                       int8_t *p_out)
{
    const uint8_t *frames8 = frames;
    const double *frames64 = frames;
    double k1 = k[0], k2 = k[1], k3 = k[2], k4 = k[3], k5 = k[4], k6 = k[5];
    struct ziggurat zig;
    ziggurat_init(&zig);
    int64_t n = 0, frame_size = height * width;
    for (int64_t fi = 0; fi + 1 < n_frames; fi++) {
        double t0 = times[fi], t1 = times[fi + 1];
        double k1_dt = k1 / (t1 - t0);
        for (int64_t yy = row0; yy < row1; yy++) {
            for (int64_t xx = 0; xx < width; xx++) {
                int64_t j = (yy - row0) * width + xx, at = fi * frame_size + yy * width + xx;
                double l0 = frames_uint8 ? frames8[at] : frames64[at];
                double l1 = frames_uint8 ? frames8[at + frame_size] : frames64[at + frame_size];
                double lm = 0.5 * (l0 + l1);
                double denom = 1.0 / (lm + k2);
                double mu = k1_dt * (l1 - l0) * denom + k4 + k5 * lm;
                double sigma = k3 * sqrt(lm) * denom + k6;
                double inv_sig2 = 1.0 / (sigma * sigma);
                double inv_mu = mu != 0.0 ? 1.0 / mu : 0.0;
                double r = resid[j], s = t0;
                uint64_t state = states[j];
                for (;;) {
                    double a_on = 1.0 - r, b_off = 1.0 + r;
                    /* p_on = (e^{2μB/σ²} − 1)/(e^{2μB/σ²} − e^{−2μA/σ²}): beyond an exponent of 40 it is 1 (or below
                     * 1e-17, under the smallest uniform draw) in float64, so the exponentials and the draw are
                     * skipped */
                    double exp_b = 2.0 * mu * b_off * inv_sig2, exp_a = -2.0 * mu * a_on * inv_sig2;
                    int on;
                    if (exp_b > 40.0) {
                        on = 1;
                    } else if (exp_a > 40.0) {
                        on = 0;
                    } else {
                        double p_on = 0.5;
                        if (mu != 0.0) {
                            double e_b = exp(exp_b);
                            p_on = (e_b - 1.0) / (e_b - exp(exp_a));
                        }
                        on = rng_uniform(&state) <= p_on;
                    }
                    double ep = on ? a_on : b_off;
                    double tau = first_passage(&zig, ep, on ? mu : -mu, on ? inv_mu : -inv_mu, inv_sig2, &state);
                    if (!(s + tau < t1)) {
                        r = r + (on ? ep : -ep) * (t1 - s) / tau;
                        break;
                    }
                    if (n >= capacity)
                        return -1;
                    s = s + tau;
                    t_out[n] = s;
                    x_out[n] = (uint16_t)xx;
                    y_out[n] = (uint16_t)yy;
                    p_out[n] = on ? 1 : -1;
                    n++;
                    r = 0.0;
                }
                resid[j] = r;
                states[j] = state;
            }
        }
    }
    return n;
}
