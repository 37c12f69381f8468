/* Events into per-pixel maps: count frames (neurofocus/represent/event_frames.py), latest times
 * (represent/time_surface.py), E2VID voxel grids (represent/voxel.py); and the grouping of event times by patch
 * (neurofocus/aif/timestamps.py). */
#include <stdlib.h>

#include "records.h"

/* Add ``n`` events (records ``stride`` bytes apart, times in [t_start, t_end)) to ``out``, int32 (bins, channels,
 * height, width): bin by event count or by time, channel 0 / 1 = ON / OFF counts when ``split``, else channel 0 sums
 * the polarities. Returns 0, or -1 for an event outside the bins or the sensor. */
int64_t accumulate_frames(const char *events, int64_t stride, int64_t n, int64_t t_start, int64_t t_end,
                          int64_t num_bins, int64_t by_count, int64_t split, int64_t width, int64_t height,
                          int32_t *out)
{
    int64_t span = t_end - t_start, channels = split ? 2 : 1;
    for (int64_t i = 0; i < n; i++) {
        const char *e = events + i * stride;
        int64_t x = event_x(e), y = event_y(e), p = event_p(e);
        int64_t b = by_count ? (i * num_bins) / n : ((event_t(e) - t_start) * num_bins) / span;
        if (b < 0 || b >= num_bins || x >= width || y >= height)
            return -1;
        int64_t c = split && p <= 0 ? 1 : 0;
        out[((b * channels + c) * height + y) * width + x] += split ? 1 : (int32_t)p;
    }
    return 0;
}

/* The time of the latest of ``n`` events at each pixel into ``out``, int64 (channels, height, width): channel 1
 * for OFF events when ``split``, else channel 0 for all. Returns 0, or -1 for an event outside the sensor. */
int64_t latest_times(const char *events, int64_t stride, int64_t n, int64_t split, int64_t width, int64_t height,
                     int64_t *out)
{
    for (int64_t k = 0; k < n; k++) {
        const char *e = events + k * stride;
        int64_t x = event_x(e), y = event_y(e);
        if (x >= width || y >= height)
            return -1;
        int64_t c = split && event_p(e) <= 0 ? 1 : 0;
        out[(c * height + y) * width + x] = event_t(e);
    }
    return 0;
}

/* Spread ``n`` (n > 0) time-sorted events over ``num_bins`` bins by linear interpolation in time (the E2VID voxel
 * grid, before normalisation) into ``out``, float64 (num_bins, height, width). Returns 0, or -1 for an event
 * outside the sensor. */
int64_t splat_voxels(const char *events, int64_t stride, int64_t n, int64_t num_bins, int64_t width, int64_t height,
                     double *out)
{
    int64_t t0 = event_t(events), span = event_t(events + (n - 1) * stride) - t0;
    double scale = (double)(num_bins - 1) / (double)(span ? span : 1);
    for (int64_t k = 0; k < n; k++) {
        const char *e = events + k * stride;
        int64_t x = event_x(e), y = event_y(e);
        if (x >= width || y >= height || event_t(e) < t0)
            return -1;
        double ts = (double)(event_t(e) - t0) * scale, p = (double)event_p(e);
        int64_t i = (int64_t)ts;
        double d = ts - (double)i;
        if (i < num_bins)
            out[(i * height + y) * width + x] += p * (1.0 - d);
        if (i + 1 < num_bins)
            out[((i + 1) * height + y) * width + x] += p * d;
    }
    return 0;
}

/* Counting sort of the times of ``n`` events by patch ``row_of[y] * grid + col_of[x]`` (time order kept within a
 * patch): ``bounds`` (int64, grid² + 1) delimits each patch's times in ``out`` (int64, n). Returns 0, -1 for an event
 * outside the ``rows`` x ``cols`` maps or the grid, -2 when memory runs out. */
int64_t group_by_patch(const char *events, int64_t stride, int64_t n, const int64_t *row_of, int64_t rows,
                       const int64_t *col_of, int64_t cols, int64_t grid, int64_t *bounds, int64_t *out)
{
    int64_t num_patches = grid * grid;
    memset(bounds, 0, (size_t)(num_patches + 1) * sizeof *bounds);
    for (int64_t k = 0; k < n; k++) {
        const char *e = events + k * stride;
        int64_t x = event_x(e), y = event_y(e);
        if (x >= cols || y >= rows || row_of[y] < 0 || row_of[y] >= grid || col_of[x] < 0 || col_of[x] >= grid)
            return -1;
        bounds[row_of[y] * grid + col_of[x] + 1] += 1;
    }
    for (int64_t i = 0; i < num_patches; i++)
        bounds[i + 1] += bounds[i];
    int64_t *cursor = malloc((size_t)num_patches * sizeof *cursor);
    if (!cursor)
        return -2;
    memcpy(cursor, bounds, (size_t)num_patches * sizeof *cursor);
    for (int64_t k = 0; k < n; k++) {
        const char *e = events + k * stride;
        out[cursor[row_of[event_y(e)] * grid + col_of[event_x(e)]]++] = event_t(e);
    }
    free(cursor);
    return 0;
}
