/* The event record of neurofocus.types.EVENT_DTYPE as the kernels read and write it (little-endian, 16 bytes):
 * t int64 µs at byte 0, x uint16 at 8, y uint16 at 10, p int8 (+1 / -1) at 12. Written records are int64 pairs:
 * t, then x | y << 16 | polarity bits (POLARITY_ON / POLARITY_OFF: p as int8 at bits 32..39). */
#ifndef NEUROFOCUS_RECORDS_H
#define NEUROFOCUS_RECORDS_H

#include <stdint.h>
#include <string.h>

/* slots of neurofocus.io.records.new_stats() */
enum { STAT_BACKWARDS = 0, STAT_LAST_T = 1, STAT_MAX_X = 2, STAT_MAX_Y = 3 };

#define POLARITY_ON ((int64_t)0x01 << 32)
#define POLARITY_OFF ((int64_t)0xFF << 32)

static inline int64_t event_t(const char *event)
{
    int64_t t;
    memcpy(&t, event, sizeof t);
    return t;
}

static inline int64_t event_x(const char *event)
{
    uint16_t x;
    memcpy(&x, event + 8, sizeof x);
    return x;
}

static inline int64_t event_y(const char *event)
{
    uint16_t y;
    memcpy(&y, event + 10, sizeof y);
    return y;
}

static inline int64_t event_p(const char *event)
{
    return (int8_t)event[12];
}

/* Write the record (t, x, y, p) at ``event``. */
static inline void set_event(char *event, int64_t t, uint16_t x, uint16_t y, int8_t p)
{
    memcpy(event, &t, sizeof t);
    memcpy(event + 8, &x, sizeof x);
    memcpy(event + 10, &y, sizeof y);
    event[12] = (char)p;
}

/* The counting passes over a file's words are compiled twice on x86-64: with the popcnt and AVX2 instructions, chosen
 * at load time where the machine has them (__builtin_popcount is a library call otherwise), and without. */
#if defined(__x86_64__) && defined(__GLIBC__) /* load-time choice: a glibc ifunc */
#define COUNTING_PASS __attribute__((target_clones("avx2,popcnt", "default")))
#else
#define COUNTING_PASS
#endif

/* Record n of the int64 (N, 2) view ``out``. */
static inline void put_event(int64_t *out, int64_t n, int64_t t, int64_t x, int64_t y, int64_t polarity_bits)
{
    out[2 * n] = t;
    out[2 * n + 1] = x | (y << 16) | polarity_bits;
}

/* Write an event (t, x0 + i, y) for each set bit i of ``mask`` whose x lies below ``width`` into ``out`` (``capacity``
 * records) from index ``*n``, which advances; returns the events outside the sensor, or -1 when ``out`` is full. */
static inline int64_t put_mask(int64_t *out, int64_t *n, int64_t capacity, int64_t t, int64_t x0, int64_t y,
                               int64_t polarity_bits, uint32_t mask, int64_t width)
{
    int64_t outside = 0;
    for (; mask; mask &= mask - 1) {
        int64_t x = x0 + __builtin_ctz(mask);
        if (x >= width)
            outside += 1;
        else if (*n >= capacity)
            return -1;
        else
            put_event(out, (*n)++, t, x, y, polarity_bits);
    }
    return outside;
}

#endif
