/* Plumbing of the streaming sensor simulators (neurofocus/simulate/streaming.py): the per-pixel random streams'
 * initial states, and the merge of the simulated events into time order. */
#include <math.h>
#include <stdlib.h>

#include "records.h"
#include "rng.h"

/* Initial states of the random streams of pixels 0..n-1 (pixel index y·W + x) under ``seed`` into ``out``. */
void stream_states(uint64_t seed, int64_t n, uint64_t *out)
{
    for (int64_t i = 0; i < n; i++)
        out[i] = rng_stream_state(seed, (uint64_t)i);
}

/* Round the times ``t_float`` (µs) of ``n`` events (x, y, p) to µs and write the events as records ``stride`` bytes
 * apart into ``out``, ordered by (rounded time, frame interval of ``frame_times``), stably: input order breaks ties.
 * The input is ``n_parts`` parts ending at ``part_ends``, each listed interval by interval. Interval after interval,
 * its events (gathered from every part, in part order) are counting-sorted by rounded time: the histogram spans one
 * interval's µs and stays in cache; O(n + µs). Returns 0, or -2 when memory runs out. */
int64_t sort_events(const double *t_float, const uint16_t *x, const uint16_t *y, const int8_t *p, int64_t n,
                    const int64_t *part_ends, int64_t n_parts, const double *frame_times, int64_t n_frames,
                    char *out, int64_t stride)
{
    int64_t n_intervals = n_frames - 1, status = 0, capacity = 0;
    int64_t *first = malloc((size_t)(n_parts * (n_intervals + 1)) * sizeof *first); /* [part, k]: first event of
                                                                                        interval >= k */
    int64_t *t_round = malloc((size_t)(n > 0 ? n : 1) * sizeof *t_round);
    int64_t *position = NULL;
    if (!first || !t_round) {
        status = -2;
        goto done;
    }
    for (int64_t q = 0, start = 0; q < n_parts; start = part_ends[q], q++) {
        int64_t *part_first = first + q * (n_intervals + 1), interval = 0;
        part_first[0] = start;
        for (int64_t i = start; i < part_ends[q]; i++) {
            t_round[i] = (int64_t)rint(t_float[i]);
            while (interval + 1 < n_intervals && t_float[i] >= frame_times[interval + 1])
                part_first[++interval] = i;
        }
        for (int64_t k = interval + 1; k <= n_intervals; k++)
            part_first[k] = part_ends[q];
    }
    int64_t written = 0;
    for (int64_t k = 0; k < n_intervals; k++) {
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (int64_t q = 0; q < n_parts; q++)
            for (int64_t i = first[q * (n_intervals + 1) + k]; i < first[q * (n_intervals + 1) + k + 1]; i++) {
                lo = t_round[i] < lo ? t_round[i] : lo;
                hi = t_round[i] > hi ? t_round[i] : hi;
            }
        if (hi < lo)
            continue;
        if (hi - lo + 2 > capacity) {
            free(position);
            capacity = hi - lo + 2;
            position = malloc((size_t)capacity * sizeof *position);
            if (!position) {
                status = -2;
                goto done;
            }
        }
        memset(position, 0, (size_t)(hi - lo + 2) * sizeof *position);
        for (int64_t q = 0; q < n_parts; q++)
            for (int64_t i = first[q * (n_intervals + 1) + k]; i < first[q * (n_intervals + 1) + k + 1]; i++)
                position[t_round[i] - lo + 1] += 1;
        position[0] = written;
        for (int64_t d = 0; d <= hi - lo; d++)
            position[d + 1] += position[d];
        written = position[hi - lo + 1];
        for (int64_t q = 0; q < n_parts; q++)
            for (int64_t i = first[q * (n_intervals + 1) + k]; i < first[q * (n_intervals + 1) + k + 1]; i++) {
                int64_t to = position[t_round[i] - lo]++;
                set_event(out + to * stride, t_round[i], x[i], y[i], p[i]);
            }
    }
done:
    free(first);
    free(t_round);
    free(position);
    return status;
}
