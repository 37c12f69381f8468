/* Cumulative per-pixel polarity tables (neurofocus/represent/polarity_table.py): the events sorted by pixel, time
 * order kept within a pixel (``offsets``: int64, pixels + 1; ``times``: int64 µs), and a running count of their ON
 * events (``on_prefix``: int32, events + 1). */
#include <stdlib.h>

#include "records.h"

/* Counting sort of ``n`` events (records ``stride`` bytes apart) by pixel; returns 0, -1 for an event outside the
 * width x height sensor, -2 when memory runs out. */
int64_t polarity_build(const char *events, int64_t stride, int64_t n, int64_t width, int64_t height,
                       int64_t *offsets, int64_t *times, int32_t *on_prefix)
{
    int64_t num_pixels = width * height;
    memset(offsets, 0, (size_t)(num_pixels + 1) * sizeof *offsets);
    for (int64_t k = 0; k < n; k++) {
        const char *e = events + k * stride;
        int64_t x = event_x(e), y = event_y(e);
        if (x >= width || y >= height)
            return -1;
        offsets[y * width + x + 1] += 1;
    }
    for (int64_t i = 0; i < num_pixels; i++)
        offsets[i + 1] += offsets[i];
    int64_t *cursor = malloc((size_t)(num_pixels ? num_pixels : 1) * sizeof *cursor);
    if (!cursor)
        return -2;
    memcpy(cursor, offsets, (size_t)num_pixels * sizeof *cursor);
    on_prefix[0] = 0;
    for (int64_t k = 0; k < n; k++) { /* each event's ON flag first, summed below */
        const char *e = events + k * stride;
        int64_t j = cursor[event_y(e) * width + event_x(e)]++;
        times[j] = event_t(e);
        on_prefix[j + 1] = event_p(e) > 0;
    }
    free(cursor);
    for (int64_t j = 0; j < n; j++)
        on_prefix[j + 1] += on_prefix[j];
    return 0;
}

/* Number of entries of the sorted slice times[lo:hi] strictly below tau. */
static inline int64_t before(const int64_t *times, int64_t lo, int64_t hi, int64_t tau)
{
    while (lo < hi) {
        int64_t m = (lo + hi) >> 1;
        if (times[m] < tau)
            lo = m + 1;
        else
            hi = m;
    }
    return lo;
}

/* ON and total counts in [t_a, t_b) of the rows x cols pixels (y0 + i * step, x0 + j * step): int32 (rows, cols). */
void polarity_query(const int64_t *offsets, const int64_t *times, const int32_t *on_prefix, int64_t width,
                    int64_t y0, int64_t x0, int64_t step, int64_t rows, int64_t cols, int64_t t_a, int64_t t_b,
                    int32_t *on_out, int32_t *total_out)
{
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t j = 0; j < cols; j++) {
            int64_t pix = (y0 + i * step) * width + x0 + j * step;
            int64_t ia = before(times, offsets[pix], offsets[pix + 1], t_a);
            int64_t ib = before(times, ia, offsets[pix + 1], t_b);
            on_out[i * cols + j] = on_prefix[ib] - on_prefix[ia];
            total_out[i * cols + j] = (int32_t)(ib - ia);
        }
    }
}

/* Per pixel: the index in ``times`` of its first event at or after ``t`` (int64, pixels). */
void polarity_positions(const int64_t *offsets, const int64_t *times, int64_t num_pixels, int64_t t, int64_t *out)
{
    for (int64_t pix = 0; pix < num_pixels; pix++)
        out[pix] = before(times, offsets[pix], offsets[pix + 1], t);
}

/* Signed count from each pixel's ``anchor`` position to ``t`` over the pixels of polarity_query: events in
 * [anchor time, t) counted positively when ``forward``, else events in [t, anchor time) negatively. */
void polarity_net_from(const int64_t *offsets, const int64_t *times, const int32_t *on_prefix, const int64_t *anchor,
                       int64_t width, int64_t y0, int64_t x0, int64_t step, int64_t rows, int64_t cols, int64_t t,
                       int64_t forward, int32_t *out)
{
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t j = 0; j < cols; j++) {
            int64_t pix = (y0 + i * step) * width + x0 + j * step;
            int64_t a = anchor[pix], lo, hi;
            if (forward)
                lo = a, hi = before(times, a, offsets[pix + 1], t);
            else
                lo = before(times, offsets[pix], a, t), hi = a;
            int32_t net = (int32_t)(2 * (on_prefix[hi] - on_prefix[lo]) - (hi - lo));
            out[i * cols + j] = forward ? net : -net;
        }
    }
}

/* ON and OFF counts of every pixel before ``t`` and at or after it (int32, pixels each). */
void polarity_split_counts(const int64_t *offsets, const int64_t *times, const int32_t *on_prefix,
                           int64_t num_pixels, int64_t t, int32_t *on_before, int32_t *off_before,
                           int32_t *on_after, int32_t *off_after)
{
    for (int64_t pix = 0; pix < num_pixels; pix++) {
        int64_t lo = offsets[pix], hi = offsets[pix + 1];
        int64_t m = before(times, lo, hi, t);
        int32_t on_b = on_prefix[m] - on_prefix[lo], on_a = on_prefix[hi] - on_prefix[m];
        on_before[pix] = on_b;
        off_before[pix] = (int32_t)(m - lo) - on_b;
        on_after[pix] = on_a;
        off_after[pix] = (int32_t)(hi - m) - on_a;
    }
}
