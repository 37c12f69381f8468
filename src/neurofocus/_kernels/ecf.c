/* ECF chunk codec of Prophesee HDF5 event files (the format: neurofocus/io/ecf.py), and the copy of decoded event
 * fields into records. Every read is checked against the chunk's end, every write against the output's size. */
#include "records.h"

enum { TRUNCATED = -1, TOO_MANY = -2 };

static inline int64_t u16(const uint8_t *buf, int64_t i)
{
    return (int64_t)buf[i] | (int64_t)buf[i + 1] << 8;
}

static inline int64_t u32(const uint8_t *buf, int64_t i)
{
    return u16(buf, i) | u16(buf, i + 2) << 16;
}

/* Decode ``n`` run-length coded values from byte ``i``: words of ``word_bytes`` (1 or 2) holding the value above the
 * low ``count_bits`` and the run length in them (all ones: a u16 run length follows). Returns the next byte index,
 * or TRUNCATED. */
static int64_t read_runs(const uint8_t *buf, int64_t size, int64_t i, int64_t n, int word_bytes, int count_bits,
                         int64_t *values)
{
    int64_t escape = ((int64_t)1 << count_bits) - 1;
    for (int64_t k = 0; k < n;) {
        if (i + word_bytes > size)
            return TRUNCATED;
        int64_t v = word_bytes == 2 ? u16(buf, i) : buf[i];
        i += word_bytes;
        int64_t c = v & escape;
        if (c == escape) {
            if (i + 2 > size)
                return TRUNCATED;
            c = u16(buf, i);
            i += 2;
        }
        if (k + c > n)
            return TRUNCATED;
        for (int64_t end = k + c; k < end; k++)
            values[k] = v >> count_bits;
    }
    return i;
}

/* Decode one chunk of ``size`` bytes into the arrays t (µs), x, y, p (0/1), each of ``capacity``; returns the
 * number of events, TRUNCATED (-1) or TOO_MANY (-2). */
int64_t ecf_decode(const uint8_t *buf, int64_t size, int64_t *t, int64_t *x, int64_t *y, int64_t *p, int64_t capacity)
{
    if (size < 12)
        return TRUNCATED;
    int64_t info = u32(buf, 0), n = info >> 2, pack_yxp = (info >> 1) & 1, pack_xp = info & 1;
    if (n > capacity)
        return TOO_MANY;
    int64_t cur_t = u32(buf, 4) | u32(buf, 8) << 32, i = 12, k = 0;
    while (k < n) { /* times: (d << 4) | c emits c events d µs on; bytes 0xF_ accumulate a longer advance */
        if (i >= size)
            return TRUNCATED;
        int64_t d = buf[i] >> 4, c = buf[i] & 0xF;
        if (d != 0xF) {
            cur_t += d;
            if (c == 0xF) {
                if (i + 2 >= size)
                    return TRUNCATED;
                c = u16(buf, i + 1);
                i += 2;
            }
            if (k + c > n)
                return TRUNCATED;
            for (int64_t end = k + c; k < end; k++)
                t[k] = cur_t;
            i += 1;
        } else {
            int64_t dt = 0;
            for (int shift = 0; d == 0xF; shift += 4) {
                dt |= c << shift;
                i += 1;
                if (i >= size || shift + 4 > 60)
                    return TRUNCATED;
                d = buf[i] >> 4, c = buf[i] & 0xF;
            }
            cur_t += dt;
        }
    }
    int64_t groups = (n + 3) / 4;
    if (pack_yxp) { /* four 24-bit y << 12 | x << 1 | p in three u32 words, the first value in the high bits */
        if (i + 12 * groups > size)
            return TRUNCATED;
        for (int64_t g = 0; g < groups; g++, i += 12) {
            int64_t w0 = u32(buf, i), w1 = u32(buf, i + 4), w2 = u32(buf, i + 8);
            int64_t vals[4] = {w0 >> 8, (w0 & 0xFF) | (w1 >> 16) << 8, (w1 & 0xFFFF) | (w2 >> 24) << 16,
                               w2 & 0xFFFFFF};
            for (int64_t j = 0, e = 4 * g; j < 4 && e < n; j++, e++)
                y[e] = (vals[j] >> 12) & 0x7FF, x[e] = (vals[j] >> 1) & 0x7FF, p[e] = vals[j] & 1;
        }
        return n;
    }
    if ((i = read_runs(buf, size, i, n, 2, 5, y)) < 0)
        return i;
    if (pack_xp) { /* four 12-bit x << 1 | p in three u16 words */
        if (i + 6 * groups > size)
            return TRUNCATED;
        for (int64_t g = 0; g < groups; g++, i += 6) {
            int64_t w0 = u16(buf, i), w1 = u16(buf, i + 2), w2 = u16(buf, i + 4);
            int64_t vals[4] = {w0 >> 4, (w0 & 0xF) | (w1 >> 8) << 4, (w1 & 0xFF) | (w2 >> 12) << 8, w2 & 0xFFF};
            for (int64_t j = 0, e = 4 * g; j < 4 && e < n; j++, e++)
                x[e] = vals[j] >> 1, p[e] = vals[j] & 1;
        }
        return n;
    }
    for (k = 0; k < n;) { /* masked xs: x, then x + j + 1 for each set bit 4 - j; entries beyond n are ignored */
        if (i + 1 >= size)
            return TRUNCATED;
        int64_t v = u16(buf, i), base = v >> 5;
        i += 2;
        x[k++] = base;
        for (int j = 0; j < 5; j++)
            if ((v >> (4 - j)) & 1) {
                if (k < n)
                    x[k] = base + j + 1;
                k++;
            }
    }
    i = read_runs(buf, size, i, n, 1, 7, p);
    return i < 0 ? i : n;
}

/* Write ``count`` events of the field arrays (t µs, x, y, p in {0, 1}) into the records ``out`` (``capacity``) from
 * index ``start``, updating ``stats`` (steps back, last time, largest x and y); returns how many polarities are not
 * 0 or 1, or -1 when the events do not fit. */
int64_t ecf_put_fields(const int64_t *t, const int64_t *x, const int64_t *y, const int64_t *p, int64_t count,
                       int64_t *out, int64_t start, int64_t capacity, int64_t *stats)
{
    if (start < 0 || count < 0 || start > capacity - count)
        return -1;
    int64_t bad = 0, backwards = stats[STAT_BACKWARDS], last_t = stats[STAT_LAST_T];
    int64_t max_x = stats[STAT_MAX_X], max_y = stats[STAT_MAX_Y];
    for (int64_t i = 0; i < count; i++) {
        int64_t xx = x[i] & 0xFFFF, yy = y[i] & 0xFFFF;
        bad += p[i] != 0 && p[i] != 1;
        backwards += t[i] < last_t;
        last_t = t[i];
        max_x = xx > max_x ? xx : max_x;
        max_y = yy > max_y ? yy : max_y;
        put_event(out, start + i, t[i], xx, yy, p[i] > 0 ? POLARITY_ON : POLARITY_OFF);
    }
    stats[STAT_BACKWARDS] = backwards, stats[STAT_LAST_T] = last_t, stats[STAT_MAX_X] = max_x;
    stats[STAT_MAX_Y] = max_y;
    return bad;
}

/* --- encoder ------------------------------------------------------------------------------------------------------ */

typedef struct {
    uint8_t *out;
    int64_t capacity, i; /* i > capacity once a write did not fit */
} writer;

static void put8(writer *w, int64_t v)
{
    if (w->i < w->capacity)
        w->out[w->i] = (uint8_t)(v & 0xFF);
    w->i += 1;
}

static void put16(writer *w, int64_t v)
{
    put8(w, v);
    put8(w, v >> 8);
}

static void put32(writer *w, int64_t v)
{
    put16(w, v & 0xFFFF);
    put16(w, (v >> 16) & 0xFFFF);
}

/* Run-length code ``values`` (the inverse of read_runs). */
static void write_runs(writer *w, const int64_t *values, int64_t n, int word_bytes, int count_bits)
{
    int64_t escape = ((int64_t)1 << count_bits) - 1;
    for (int64_t k = 0, c; k < n; k += c) {
        for (c = 1; k + c < n && values[k + c] == values[k]; c++)
            ;
        int64_t word = values[k] << count_bits | (c < escape ? c : escape);
        if (word_bytes == 2)
            put16(w, word);
        else
            put8(w, word);
        if (c >= escape)
            put16(w, c);
    }
}

/* Encode ``n`` (1..65535) time-sorted events (t ≥ 0 µs, x and y < 2048, p in {0, 1}) as one chunk into ``out``
 * (``capacity`` bytes) with the x/y/p layout ``mode`` (0 masked xs + run-length ps, 1 packed x/p, 2 packed y/x/p);
 * returns the chunk's size in bytes, or -1 when it does not fit. */
int64_t ecf_encode(const int64_t *t, const int64_t *x, const int64_t *y, const int64_t *p, int64_t n, int64_t mode,
                   uint8_t *out, int64_t capacity)
{
    writer w = {out, capacity, 0};
    put32(&w, n << 2 | (mode == 2 ? 2 : 0) | (mode == 1 ? 1 : 0));
    int64_t cur_t = t[0];
    put32(&w, cur_t & 0xFFFFFFFF);
    put32(&w, (cur_t >> 32) & 0xFFFFFFFF);
    for (int64_t k = 0, c; k < n; k += c) {
        if (t[k] - cur_t >= 15) { /* a long advance, 4 bits per 0xF_ byte, least significant first */
            for (int64_t dt = t[k] - cur_t; dt > 0; dt >>= 4)
                put8(&w, 0xF0 | (dt & 0xF));
            cur_t = t[k];
        }
        int64_t d = t[k] - cur_t;
        cur_t = t[k];
        for (c = 1; k + c < n && t[k + c] == cur_t; c++)
            ;
        if (c >= 15) {
            put8(&w, d << 4 | 0xF);
            put16(&w, c);
        } else {
            put8(&w, d << 4 | c);
        }
    }
    if (mode == 2) {
        for (int64_t g = 0; g < (n + 3) / 4; g++) {
            int64_t v[4] = {0, 0, 0, 0};
            for (int64_t j = 0, e = 4 * g; j < 4 && e < n; j++, e++)
                v[j] = y[e] << 12 | x[e] << 1 | p[e];
            put32(&w, (v[0] << 8 | (v[1] & 0xFF)) & 0xFFFFFFFF);
            put32(&w, ((v[1] >> 8) << 16 | (v[2] & 0xFFFF)) & 0xFFFFFFFF);
            put32(&w, ((v[2] >> 16) << 24 | (v[3] & 0xFFFFFF)) & 0xFFFFFFFF);
        }
    } else {
        write_runs(&w, y, n, 2, 5);
        if (mode == 1) {
            for (int64_t g = 0; g < (n + 3) / 4; g++) {
                int64_t v[4] = {0, 0, 0, 0};
                for (int64_t j = 0, e = 4 * g; j < 4 && e < n; j++, e++)
                    v[j] = x[e] << 1 | p[e];
                put16(&w, (v[0] << 4 | (v[1] & 0xF)) & 0xFFFF);
                put16(&w, ((v[1] >> 4) << 8 | (v[2] & 0xFF)) & 0xFFFF);
                put16(&w, ((v[2] >> 8) << 12 | (v[3] & 0xFFF)) & 0xFFFF);
            }
        } else {
            for (int64_t k = 0; k < n;) {
                int64_t base = x[k], word = base << 5;
                k++;
                for (int j = 0; j < 5; j++)
                    if (k < n && x[k] == base + j + 1) {
                        word |= (int64_t)1 << (4 - j);
                        k++;
                    }
                put16(&w, word);
            }
            write_runs(&w, p, n, 1, 7);
        }
    }
    return w.i <= capacity ? w.i : -1;
}
