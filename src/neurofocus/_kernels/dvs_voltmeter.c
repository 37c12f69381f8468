/* The DVS-Voltmeter pixel model (neurofocus/simulate/dvs_voltmeter.py, whose module docstring states the model):
 * pixel rows run through the intervals between frames, each pixel drawing from its own stream (rng.h). */
#include "rng.h"

#if defined(__x86_64__) && defined(__GNUC__) /* the AVX2 first draws, chosen at run time where the CPU has AVX2 */
#include <immintrin.h>
#define FIRST_DRAWS_AVX2 1
#endif

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

/* One interval of one row: the model's constants, the row's gray values at both frames (uint8 or float64) and its
 * pixels' residuals and streams. */
struct row_interval {
    const struct ziggurat *zig;
    const struct gray_terms *terms;
    const double *k;
    double k1_dt, t0, t1;
    const uint8_t *l0_8, *l1_8;
    const double *l0_64, *l1_64;
    double *resid;
    uint64_t *states;
};

/* Pixels of a span that fire in their first draw or need the polarity draw, in pixel order: x, the first
 * first-passage time (µs; -1 for those needing the polarity draw), its polarity (+1 / -1) and the residual before
 * it; where the second draw, from the first event, is made already: its first-passage time (µs; else -1), polarity
 * and the residual it leaves if it does not fire. */
struct busy_pixels {
    int64_t count, x[SPAN];
    double tau[SPAN], r[SPAN], next_tau[SPAN], next_r[SPAN];
    int8_t sign[SPAN], next_sign[SPAN];
};

static inline struct drift row_drift(const struct row_interval *row, int64_t x)
{
    return row->l0_8 ? gray_drift(row->l0_8[x], row->l1_8[x], row->k1_dt, row->k, row->terms)
                     : pixel_drift(row->l0_64[x], row->l1_64[x], row->k1_dt, row->k);
}

/* The first draw of pixels x0..x1-1 of ``row`` where the polarity is sure: the new residual and stream of those that
 * do not fire; the others are appended to ``busy``. */
static void first_draws(const struct row_interval *row, int64_t x0, int64_t x1, struct busy_pixels *busy)
{
    for (int64_t x = x0; x < x1; x++) {
        struct drift d = row_drift(row, x);
        double r = row->resid[x];
        int on = sure_polarity(d, r);
        double ep = on ? 1.0 - r : 1.0 + r, tau = -1.0;
        if (on >= 0) { /* the drift's direction: μ > 0 when on, μ < 0 when off */
            uint64_t state = row->states[x];
            tau = rng_inverse_gaussian(row->zig, ep * (on ? d.inv_mu : -d.inv_mu), ep * ep * d.inv_sig2, &state);
            row->states[x] = state;
            row->resid[x] = r + (on ? ep : -ep) * (row->t1 - row->t0) / tau;
        }
        busy->x[busy->count] = x;
        busy->tau[busy->count] = tau;
        busy->sign[busy->count] = on ? 1 : -1;
        busy->r[busy->count] = r;
        busy->next_tau[busy->count] = -1.0;
        busy->count += on < 0 || row->t0 + tau < row->t1;
    }
}

#ifdef FIRST_DRAWS_AVX2
#define AVX2 __attribute__((target("avx2")))
#define AVX2_INLINE __attribute__((target("avx2"), always_inline)) inline

/* Low 64 bits of the lane-wise products a·b (AVX2 multiplies 32-bit halves only). */
static AVX2_INLINE __m256i mul64(__m256i a, __m256i b)
{
    __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), b),
                                     _mm256_mul_epu32(a, _mm256_srli_epi64(b, 32)));
    return _mm256_add_epi64(_mm256_mul_epu32(a, b), _mm256_slli_epi64(cross, 32));
}

/* table[index[k]] for the four lanes k, by four loads: cheaper than the gather instruction on several processors
 * (it is microcoded on AMD's Zen 2, for one). */
static AVX2_INLINE __m256d lookup4(const double *table, __m128i index)
{
    return _mm256_set_pd(table[_mm_extract_epi32(index, 3)], table[_mm_extract_epi32(index, 2)],
                         table[_mm_extract_epi32(index, 1)], table[_mm_extract_epi32(index, 0)]);
}

/* rng_uniform of four streams: advances ``*state``. */
static AVX2_INLINE __m256d uniform4(__m256i *state)
{
    *state = _mm256_add_epi64(*state, _mm256_set1_epi64x((int64_t)RNG_GOLDEN));
    __m256i z = *state;
    z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 30)), _mm256_set1_epi64x((int64_t)0xBF58476D1CE4E5B9u));
    z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 27)), _mm256_set1_epi64x((int64_t)0x94D049BB133111EBu));
    z = _mm256_srli_epi64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 31)), 11);
    /* the 53-bit integer as a double, exactly: its 32-bit halves through the 2^52 exponent, then hi·2^32 + lo */
    __m256i exponent = _mm256_set1_epi64x(0x4330000000000000);
    __m256d two52 = _mm256_set1_pd(4503599627370496.0);
    __m256d lo = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(z, _mm256_set1_epi64x(0xFFFFFFFF)),
                                                                   exponent)), two52);
    __m256d hi = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(z, 32), exponent)), two52);
    __m256d value = _mm256_add_pd(_mm256_mul_pd(hi, _mm256_set1_pd(4294967296.0)), lo);
    return _mm256_mul_pd(_mm256_add_pd(value, _mm256_set1_pd(0.5)), _mm256_set1_pd(1.0 / 9007199254740992.0));
}

/* rng_normal of four streams (``*state`` advances): the ziggurat's first step, its rare second step lane by lane in
 * the ``lanes`` (a bit mask; the other lanes' draws are left incomplete). */
static AVX2_INLINE __m256d normal4(const struct ziggurat *zig, __m256i *state, int lanes)
{
    const __m256d one = _mm256_set1_pd(1.0);
    __m256d v = _mm256_mul_pd(uniform4(state), _mm256_set1_pd(512.0));
    __m128i j = _mm256_cvttpd_epi32(v), layer = _mm_and_si128(j, _mm_set1_epi32(255));
    __m256d abscissa = _mm256_mul_pd(_mm256_sub_pd(v, _mm256_cvtepi32_pd(j)), lookup4(zig->x, layer));
    __m256d z = _mm256_mul_pd(_mm256_sub_pd(one, _mm256_mul_pd(_mm256_set1_pd(2.0),
                                                               _mm256_cvtepi32_pd(_mm_srli_epi32(j, 8)))),
                              abscissa);
    __m256d accepted = _mm256_cmp_pd(abscissa, lookup4(zig->x + 1, layer), _CMP_LT_OQ);
    int rejected = ~_mm256_movemask_pd(accepted) & lanes;
    if (rejected) {
        double lanes_z[4];
        uint64_t lanes_state[4];
        int32_t lanes_layer[4];
        _mm256_storeu_pd(lanes_z, z);
        _mm256_storeu_si256((__m256i *)lanes_state, *state);
        _mm_storeu_si128((__m128i *)lanes_layer, layer);
        for (int lane = 0; lane < 4; lane++)
            if (rejected >> lane & 1)
                lanes_z[lane] = ziggurat_finish(zig, lanes_z[lane], lanes_layer[lane], &lanes_state[lane]);
        z = _mm256_loadu_pd(lanes_z);
        *state = _mm256_loadu_si256((const __m256i *)lanes_state);
    }
    return z;
}

/* rng_inverse_gaussian of four streams after their normal ``z``: the roots and the choice (``*state`` advances). */
static AVX2_INLINE __m256d inverse_gaussian4(__m256d mean, __m256d z, __m256d shape, __m256i *state)
{
    const __m256d one = _mm256_set1_pd(1.0), tiny = _mm256_set1_pd(1e-300);
    __m256d y = _mm256_mul_pd(_mm256_mul_pd(mean, z), z);
    __m256d root = _mm256_add_pd(y, _mm256_sqrt_pd(_mm256_add_pd(
        _mm256_mul_pd(y, y), _mm256_mul_pd(_mm256_mul_pd(_mm256_set1_pd(4.0), shape), y))));
    __m256d f = _mm256_blendv_pd(one, _mm256_sub_pd(one, _mm256_div_pd(_mm256_mul_pd(_mm256_set1_pd(2.0), y), root)),
                                 _mm256_cmp_pd(root, _mm256_setzero_pd(), _CMP_GT_OQ));
    f = _mm256_blendv_pd(tiny, f, _mm256_cmp_pd(f, tiny, _CMP_GT_OQ));
    __m256d other = _mm256_sub_pd(_mm256_div_pd(one, f), f);
    __m256d large = _mm256_cmp_pd(_mm256_mul_pd(uniform4(state), _mm256_add_pd(one, f)), one, _CMP_GT_OQ);
    return _mm256_mul_pd(mean, _mm256_add_pd(f, _mm256_and_pd(other, large)));
}

/* A pixel's drift (struct drift, four lanes) and the inverse Gaussian's parameters from residual r where the polarity
 * is sure (sure_polarity): its mask ``*on`` (ON) and ``*sure``, mean, shape and ±ep. */
struct draw4 {
    __m256d on, sure, mean, shape, signed_ep;
};

static AVX2_INLINE struct draw4 sure_draw4(__m256d mu, __m256d inv_mu, __m256d inv_sig2, __m256d r)
{
    const __m256d one = _mm256_set1_pd(1.0), sign_bit = _mm256_set1_pd(-0.0), forty = _mm256_set1_pd(40.0);
    __m256d a_on = _mm256_sub_pd(one, r), b_off = _mm256_add_pd(one, r);
    __m256d on = _mm256_cmp_pd(_mm256_mul_pd(_mm256_mul_pd(_mm256_mul_pd(_mm256_set1_pd(2.0), mu), b_off), inv_sig2),
                               forty, _CMP_GT_OQ);
    __m256d off = _mm256_cmp_pd(_mm256_mul_pd(_mm256_mul_pd(_mm256_mul_pd(_mm256_set1_pd(-2.0), mu), a_on),
                                              inv_sig2), forty, _CMP_GT_OQ);
    __m256d ep = _mm256_blendv_pd(b_off, a_on, on);
    struct draw4 d = {on, _mm256_or_pd(on, off),
                      _mm256_mul_pd(ep, _mm256_blendv_pd(_mm256_xor_pd(inv_mu, sign_bit), inv_mu, on)),
                      _mm256_mul_pd(_mm256_mul_pd(ep, ep), inv_sig2),
                      _mm256_blendv_pd(_mm256_xor_pd(ep, sign_bit), ep, on)};
    return d;
}

/* first_draws, four pixels at a time with the same operations in AVX2, the last (x1 - x0) % 4 pixels by
 * first_draws; then, also four at a time, the second draw of the pixels whose first draw fired (pixel_events' next
 * step, from r = 0 at the event) where its polarity is sure. Passes over the span with short loop bodies, so that
 * the processor overlaps the long latencies (divisions, square roots) of several groups of four. */
static AVX2 void first_draws_avx2(const struct row_interval *row, int64_t x0, int64_t x1, struct busy_pixels *busy)
{
    const __m256d one = _mm256_set1_pd(1.0), all_bits = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
    const __m256d t0 = _mm256_set1_pd(row->t0), t1 = _mm256_set1_pd(row->t1);
    int64_t count = (x1 - x0) & ~(int64_t)3, first_busy = busy->count;
    /* per pixel of the span: its drift; the first draw's parameters, whether the polarity is sure (all bits set) or
     * needs the draw (0); the ziggurat's normal and the stream after it */
    double mu[SPAN], inv_mu[SPAN], inv_sig2[SPAN], mean[SPAN], shape[SPAN], signed_ep[SPAN], sure[SPAN], normal[SPAN];
    uint64_t drawn[SPAN];
    {
        const __m256d k2 = _mm256_set1_pd(row->k[1]), k3 = _mm256_set1_pd(row->k[2]), k4 = _mm256_set1_pd(row->k[3]);
        const __m256d k5 = _mm256_set1_pd(row->k[4]), k6 = _mm256_set1_pd(row->k[5]);
        const __m256d k1_dt = _mm256_set1_pd(row->k1_dt);
        for (int64_t i = 0; i < count; i += 4) {
            int64_t x = x0 + i;
            __m256d m, s2;
            if (row->l0_8) { /* gray_drift: the terms of L0 + L1 gathered from the table */
                int32_t b0, b1;
                memcpy(&b0, row->l0_8 + x, sizeof b0);
                memcpy(&b1, row->l1_8 + x, sizeof b1);
                __m128i l0 = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(b0)), l1 = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(b1));
                __m128i sum = _mm_add_epi32(l0, l1);
                m = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(_mm256_mul_pd(k1_dt, _mm256_cvtepi32_pd(
                                                                  _mm_sub_epi32(l1, l0))),
                                                              lookup4(row->terms->denom, sum)),
                                                k4), lookup4(row->terms->k5_lm, sum));
                s2 = lookup4(row->terms->inv_sig2, sum);
            } else { /* pixel_drift */
                __m256d l0 = _mm256_loadu_pd(row->l0_64 + x), l1 = _mm256_loadu_pd(row->l1_64 + x);
                __m256d lm = _mm256_mul_pd(_mm256_set1_pd(0.5), _mm256_add_pd(l0, l1));
                __m256d denom = _mm256_div_pd(one, _mm256_add_pd(lm, k2));
                __m256d sigma = _mm256_add_pd(_mm256_mul_pd(_mm256_mul_pd(k3, _mm256_sqrt_pd(lm)), denom), k6);
                m = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(_mm256_mul_pd(k1_dt, _mm256_sub_pd(l1, l0)), denom),
                                                k4), _mm256_mul_pd(k5, lm));
                s2 = _mm256_div_pd(one, _mm256_mul_pd(sigma, sigma));
            }
            __m256d im = _mm256_and_pd(_mm256_div_pd(one, m), _mm256_cmp_pd(m, _mm256_setzero_pd(), _CMP_NEQ_UQ));
            struct draw4 d = sure_draw4(m, im, s2, _mm256_loadu_pd(row->resid + x));
            _mm256_storeu_pd(mu + i, m);
            _mm256_storeu_pd(inv_mu + i, im);
            _mm256_storeu_pd(inv_sig2 + i, s2);
            _mm256_storeu_pd(mean + i, d.mean);
            _mm256_storeu_pd(shape + i, d.shape);
            _mm256_storeu_pd(signed_ep + i, d.signed_ep);
            _mm256_storeu_pd(sure + i, d.sure);
        }
    }
    for (int64_t i = 0; i < count; i += 4) { /* rng_normal */
        __m256i state = _mm256_loadu_si256((const __m256i *)(row->states + x0 + i));
        _mm256_storeu_pd(normal + i, normal4(row->zig, &state, _mm256_movemask_pd(_mm256_loadu_pd(sure + i))));
        _mm256_storeu_si256((__m256i *)(drawn + i), state);
    }
    const __m256d dt = _mm256_set1_pd(row->t1 - row->t0);
    for (int64_t i = 0; i < count; i += 4) { /* rng_inverse_gaussian's roots and choice; the residual */
        int64_t x = x0 + i;
        __m256i state = _mm256_loadu_si256((const __m256i *)(drawn + i));
        __m256d tau = inverse_gaussian4(_mm256_loadu_pd(mean + i), _mm256_loadu_pd(normal + i),
                                        _mm256_loadu_pd(shape + i), &state);
        /* new streams and residuals only where the polarity is sure (the residual matters where it does not fire) */
        __m256d is_sure = _mm256_loadu_pd(sure + i), r = _mm256_loadu_pd(row->resid + x);
        __m256d resid = _mm256_add_pd(r, _mm256_div_pd(_mm256_mul_pd(_mm256_loadu_pd(signed_ep + i), dt), tau));
        _mm256_storeu_pd(row->resid + x, _mm256_blendv_pd(r, resid, is_sure));
        __m256i old_state = _mm256_loadu_si256((const __m256i *)(row->states + x));
        _mm256_storeu_si256((__m256i *)(row->states + x),
                            _mm256_castpd_si256(_mm256_blendv_pd(_mm256_castsi256_pd(old_state),
                                                                 _mm256_castsi256_pd(state), is_sure)));
        __m256d fired = _mm256_cmp_pd(_mm256_add_pd(t0, tau), t1, _CMP_LT_OQ);
        int is_busy = _mm256_movemask_pd(_mm256_or_pd(fired, _mm256_xor_pd(is_sure, all_bits)));
        if (is_busy) {
            double lanes_tau[4], lanes_r[4];
            int off = _mm256_movemask_pd(_mm256_loadu_pd(signed_ep + i)); /* the sign of ±ep: OFF */
            _mm256_storeu_pd(lanes_tau, _mm256_blendv_pd(_mm256_set1_pd(-1.0), tau, is_sure));
            _mm256_storeu_pd(lanes_r, r);
            for (int lane = 0; lane < 4; lane++) {
                busy->x[busy->count] = x + lane;
                busy->tau[busy->count] = lanes_tau[lane];
                busy->sign[busy->count] = off >> lane & 1 ? -1 : 1;
                busy->r[busy->count] = lanes_r[lane];
                busy->next_tau[busy->count] = -1.0;
                busy->count += is_busy >> lane & 1;
            }
        }
    }
    int32_t fired[SPAN]; /* busy entries whose first draw fired */
    int num_fired = 0;
    for (int64_t b = first_busy; b < busy->count; b++) {
        fired[num_fired] = (int32_t)b;
        num_fired += busy->tau[b] >= 0.0;
    }
    for (int q = 0; q < num_fired; q += 4) { /* the second draws, from r = 0 at the first event */
        int valid = num_fired - q >= 4 ? 15 : (1 << (num_fired - q)) - 1;
        int32_t entry[4], at[4];
        double first_tau[4];
        for (int lane = 0; lane < 4; lane++) {
            entry[lane] = fired[q + (valid >> lane & 1 ? lane : 0)];
            at[lane] = (int32_t)(busy->x[entry[lane]] - x0);
            first_tau[lane] = busy->tau[entry[lane]];
        }
        __m128i index = _mm_loadu_si128((const __m128i *)at);
        __m256d s = _mm256_add_pd(t0, _mm256_loadu_pd(first_tau)); /* the first event's time */
        struct draw4 d = sure_draw4(lookup4(mu, index), lookup4(inv_mu, index),
                                    lookup4(inv_sig2, index), _mm256_setzero_pd());
        int draw = _mm256_movemask_pd(d.sure) & valid;
        __m256i state = _mm256_i32gather_epi64((const long long *)row->states + x0, index, 8);
        __m256d z = normal4(row->zig, &state, draw);
        __m256d tau = inverse_gaussian4(d.mean, z, d.shape, &state);
        __m256d resid = _mm256_add_pd(_mm256_setzero_pd(),
                                      _mm256_div_pd(_mm256_mul_pd(d.signed_ep, _mm256_sub_pd(t1, s)), tau));
        double lanes_tau[4], lanes_r[4];
        uint64_t states[4];
        _mm256_storeu_pd(lanes_tau, tau);
        _mm256_storeu_pd(lanes_r, resid);
        _mm256_storeu_si256((__m256i *)states, state);
        int off = _mm256_movemask_pd(d.signed_ep);
        for (int lane = 0; lane < 4; lane++)
            if (draw >> lane & 1) {
                busy->next_tau[entry[lane]] = lanes_tau[lane];
                busy->next_r[entry[lane]] = lanes_r[lane];
                busy->next_sign[entry[lane]] = off >> lane & 1 ? -1 : 1;
                row->states[x0 + at[lane]] = states[lane];
            }
    }
    first_draws(row, x0 + count, x1, busy);
}
#endif

/* Run rows row0..row1-1 of ``frames`` (n_frames, height, width), uint8 when ``frames_uint8`` else float64, through
 * the intervals between consecutive frames at ``times`` (µs) with the parameters k1..k6 ``k``. ``resid`` and
 * ``states`` (per pixel of those rows) carry each pixel's residual voltage and stream between calls. Events go to
 * t_out (µs, unrounded), x_out, y_out, p_out (+1 / -1), ``capacity`` of each, pixel by pixel within an interval.
 * Returns the number of events, or -1 when the outputs are full (resid and states are then partly advanced).
 * ``vector``: make the first draws in AVX2 where the CPU has it (0: never; the events are the same).
 *
 * Most pixels do not fire in an interval, and the first draw of those whose polarity is sure is an inverse Gaussian
 * (the drift's own direction). So SPAN pixels of a row at a time make that first draw without a branch on whether
 * it fires (pixels are independent: four at a time in AVX2 where the CPU has it, else overlapping in the processor);
 * those that fire, or need the polarity draw, then continue in pixel order. Each pixel draws what it would draw
 * alone, with the same operations, so the events are the same either way. */
int64_t voltmeter_rows(const void *frames, int64_t frames_uint8, int64_t n_frames, int64_t height, int64_t width,
                       const double *times, const double *k, int64_t row0, int64_t row1, double *resid,
                       uint64_t *states, int64_t capacity, double *t_out, uint16_t *x_out, uint16_t *y_out,
                       int8_t *p_out, int64_t vector)
{
    struct ziggurat zig;
    ziggurat_init(&zig);
    struct gray_terms terms;
    gray_terms_init(&terms, k);
    void (*draws)(const struct row_interval *, int64_t, int64_t, struct busy_pixels *) = first_draws;
#ifdef FIRST_DRAWS_AVX2
    if (vector && __builtin_cpu_supports("avx2"))
        draws = first_draws_avx2;
#else
    (void)vector;
#endif
    struct busy_pixels busy;
    int64_t n = 0, frame_size = height * width;
    for (int64_t fi = 0; fi + 1 < n_frames; fi++) {
        double t0 = times[fi], t1 = times[fi + 1];
        for (int64_t yy = row0; yy < row1; yy++) {
            int64_t at = fi * frame_size + yy * width, first = (yy - row0) * width;
            struct row_interval row = {&zig, &terms, k, k[0] / (t1 - t0), t0, t1, NULL, NULL, NULL, NULL,
                                       resid + first, states + first};
            if (frames_uint8) {
                row.l0_8 = (const uint8_t *)frames + at;
                row.l1_8 = row.l0_8 + frame_size;
            } else {
                row.l0_64 = (const double *)frames + at;
                row.l1_64 = row.l0_64 + frame_size;
            }
            for (int64_t x0 = 0; x0 < width; x0 += SPAN) {
                busy.count = 0;
                draws(&row, x0, x0 + SPAN < width ? x0 + SPAN : width, &busy);
                for (int64_t b = 0; b < busy.count; b++) {
                    int64_t xx = busy.x[b];
                    double r = busy.r[b], s = t0;
                    if (busy.tau[b] >= 0.0) { /* the first draw fired */
                        if (n >= capacity)
                            return -1;
                        s = t0 + busy.tau[b];
                        t_out[n] = s;
                        x_out[n] = (uint16_t)xx;
                        y_out[n] = (uint16_t)yy;
                        p_out[n] = busy.sign[b];
                        n++;
                        r = 0.0;
                        double tau = busy.next_tau[b];
                        if (tau >= 0.0) { /* the second draw made */
                            if (!(s + tau < t1)) {
                                row.resid[xx] = busy.next_r[b];
                                continue;
                            }
                            if (n >= capacity)
                                return -1;
                            s = s + tau;
                            t_out[n] = s;
                            x_out[n] = (uint16_t)xx;
                            y_out[n] = (uint16_t)yy;
                            p_out[n] = busy.next_sign[b];
                            n++;
                        }
                    }
                    struct drift d = row_drift(&row, xx);
                    if (pixel_events(&zig, d, s, t1, &r, &row.states[xx], (uint16_t)xx, (uint16_t)yy, &n, capacity,
                                     t_out, x_out, y_out, p_out))
                        return -1;
                    row.resid[xx] = r;
                }
            }
        }
    }
    return n;
}
