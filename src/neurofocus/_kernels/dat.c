/* Prophesee DAT decoder (the format: neurofocus/io/prophesee_dat.py). */
#include "records.h"

/* Decode ``num_events`` DAT records (``words``: uint32 pairs t, then x | y << 14 | p << 28) into the records ``out``,
 * unrolling the 32-bit time's wraps (a fall by more than 2**31 µs). ``stats`` gets the time steps back, the last time
 * and the largest x and y. ``out`` holds at least ``num_events`` records. */
void dat_decode(const uint32_t *words, int64_t num_events, int64_t *out, int64_t *stats)
{
    int64_t backwards = stats[STAT_BACKWARDS], last_t = stats[STAT_LAST_T];
    int64_t max_x = stats[STAT_MAX_X], max_y = stats[STAT_MAX_Y], loop = 0, prev = 0;
    for (int64_t i = 0; i < num_events; i++) {
        int64_t raw = words[2 * i], data = words[2 * i + 1];
        if (i && raw - prev < -((int64_t)1 << 31))
            loop += (int64_t)1 << 32;
        prev = raw;
        int64_t t = raw + loop, x = data & 0x3FFF, y = (data >> 14) & 0x3FFF;
        backwards += t < last_t;
        last_t = t;
        max_x = x > max_x ? x : max_x;
        max_y = y > max_y ? y : max_y;
        put_event(out, i, t, x, y, (data >> 28) & 1 ? POLARITY_ON : POLARITY_OFF);
    }
    stats[STAT_BACKWARDS] = backwards, stats[STAT_LAST_T] = last_t, stats[STAT_MAX_X] = max_x;
    stats[STAT_MAX_Y] = max_y;
}
