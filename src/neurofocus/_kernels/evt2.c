/* Prophesee EVT 2.0 and EVT 2.1 decoders and encoders (the formats: neurofocus/io/evt2.py). */
#include "records.h"

/* slots of the decoder state (int64, neurofocus.io.evt2.STATE_SIZE), carried from one chunk to the next */
enum { S_HIGH, S_LOOP, S_HAVE_TIME, S_NO_TIME, S_OUT_OF_RANGE };

#define HIGH_BITS 28 /* TIME_HIGH holds t >> 6 in 28 bits: it wraps every 2**34 µs */

/* The decoder's state and running statistics as locals; ``base`` is the time (µs) of the last TIME_HIGH. */
typedef struct {
    int64_t high, loop, have_time, no_time, out_of_range, backwards, last_t, base;
} decoder;

static decoder load(const int64_t *state, const int64_t *stats)
{
    decoder d = {state[S_HIGH], state[S_LOOP], state[S_HAVE_TIME], state[S_NO_TIME], state[S_OUT_OF_RANGE],
                 stats[STAT_BACKWARDS], stats[STAT_LAST_T], 0};
    d.base = ((d.loop << HIGH_BITS) | d.high) << 6;
    return d;
}

static void store(const decoder *d, int64_t *state, int64_t *stats)
{
    state[S_HIGH] = d->high, state[S_LOOP] = d->loop, state[S_HAVE_TIME] = d->have_time;
    state[S_NO_TIME] = d->no_time, state[S_OUT_OF_RANGE] = d->out_of_range;
    stats[STAT_BACKWARDS] = d->backwards, stats[STAT_LAST_T] = d->last_t;
}

/* A TIME_HIGH ``value`` (28 bits): a wrap when it falls by at least 2**27 below the previous one. */
static void time_high(decoder *d, int64_t value)
{
    if (d->have_time && value < d->high && d->high - value >= ((int64_t)1 << (HIGH_BITS - 1)))
        d->loop += 1;
    d->high = value;
    d->have_time = 1;
    d->base = ((d->loop << HIGH_BITS) | value) << 6;
}

/* Decode EVT 2.0 ``words`` into the records ``out`` (``capacity`` of them) from index ``n``; returns the new count,
 * or -1 when the events do not fit. ``state`` and ``stats`` are updated in place. */
int64_t evt2_decode(const uint32_t *words, int64_t num_words, int64_t *state, int64_t width, int64_t height,
                    int64_t *out, int64_t capacity, int64_t n, int64_t *stats)
{
    decoder d = load(state, stats);
    int64_t result = 0;
    for (int64_t i = 0; i < num_words; i++) {
        int64_t w = words[i], kind = w >> 28;
        if (kind <= 1) { /* CD_OFF / CD_ON */
            int64_t x = (w >> 11) & 0x7FF, y = w & 0x7FF;
            if (!d.have_time) {
                d.no_time += 1;
            } else if (x >= width || y >= height) {
                d.out_of_range += 1;
            } else if (n >= capacity) {
                result = -1;
                goto done;
            } else {
                int64_t t = d.base | ((w >> 22) & 0x3F);
                d.backwards += t < d.last_t;
                d.last_t = t;
                put_event(out, n++, t, x, y, kind == 1 ? POLARITY_ON : POLARITY_OFF);
            }
        } else if (kind == 0x8) { /* EVT_TIME_HIGH */
            time_high(&d, w & 0x0FFFFFFF);
        } /* 0xA EXT_TRIGGER, 0xE OTHERS, 0xF CONTINUED: no CD events */
    }
    result = n;
done:
    store(&d, state, stats);
    return result;
}

/* The 32-bit header and validity mask of an EVT 2.1 word (layout "legacy": header in the low half). */
static inline void split21(uint64_t word, int64_t legacy, int64_t *head, uint32_t *mask)
{
    uint32_t lo = (uint32_t)word, hi = (uint32_t)(word >> 32);
    *head = legacy ? lo : hi;
    *mask = legacy ? hi : lo;
}

/* Upper bound of the events in EVT 2.1 ``words``: the set mask bits of event words. */
COUNTING_PASS int64_t evt21_max_events(const uint64_t *words, int64_t num_words, int64_t legacy)
{
    int64_t n = 0, head;
    uint32_t mask;
    for (int64_t i = 0; i < num_words; i++) {
        split21(words[i], legacy, &head, &mask);
        if ((head >> 28) <= 1)
            n += __builtin_popcount(mask);
    }
    return n;
}

/* Decode EVT 2.1 ``words`` as evt2_decode does. */
int64_t evt21_decode(const uint64_t *words, int64_t num_words, int64_t legacy, int64_t *state, int64_t width,
                     int64_t height, int64_t *out, int64_t capacity, int64_t n, int64_t *stats)
{
    decoder d = load(state, stats);
    int64_t result = 0, head;
    uint32_t mask;
    for (int64_t i = 0; i < num_words; i++) {
        split21(words[i], legacy, &head, &mask);
        int64_t kind = head >> 28;
        if (kind <= 1) { /* EVT_NEG / EVT_POS */
            int64_t y = head & 0x7FF;
            if (!d.have_time) {
                d.no_time += __builtin_popcount(mask);
            } else if (y >= height) {
                d.out_of_range += __builtin_popcount(mask);
            } else {
                int64_t t = d.base | ((head >> 22) & 0x3F), first = n;
                int64_t outside = put_mask(out, &n, capacity, t, (head >> 11) & 0x7FF, y,
                                           kind == 1 ? POLARITY_ON : POLARITY_OFF, mask, width);
                if (outside < 0) {
                    result = -1;
                    goto done;
                }
                d.out_of_range += outside;
                if (n > first) {
                    d.backwards += t < d.last_t;
                    d.last_t = t;
                }
            }
        } else if (kind == 0x8) {
            time_high(&d, head & 0x0FFFFFFF);
        }
    }
    result = n;
done:
    store(&d, state, stats);
    return result;
}

/* The next TIME_HIGH header on the way from the last one written (``*cur``, -1: none yet) to ``th`` in wrap-safe
 * steps of 2**26, or 0 once ``th`` is written. */
static uint32_t next_time_high(int64_t *cur, int64_t th)
{
    if (*cur == th)
        return 0;
    int64_t from = *cur < 0 ? 0 : *cur, step = (int64_t)1 << (HIGH_BITS - 2);
    *cur = th - from > step ? from + step : th;
    return (uint32_t)((0x8 << 28) | (*cur & 0x0FFFFFFF));
}

/* The EVT 2.0 header of an event (EVT 2.1 too, with its block's first x). */
static inline uint32_t event_head(int64_t t, int64_t x, int64_t y, int on)
{
    return (uint32_t)(((int64_t)on << 28) | ((t & 0x3F) << 22) | ((x & 0x7FF) << 11) | (y & 0x7FF));
}

/* Encode ``n`` time-sorted events (records ``stride`` bytes apart) as EVT 2.0 words into ``out`` (``capacity``),
 * carrying the encoder's ``state`` (int64: t >> 6 of the last TIME_HIGH, -1 before any) from the words before; returns
 * the number of words, or -1 when they do not fit (``state`` then unchanged). */
int64_t evt2_encode(const char *events, int64_t stride, int64_t n, int64_t *state, uint32_t *out, int64_t capacity)
{
    int64_t n_out = 0, cur_th = state[0];
    for (int64_t i = 0; i < n; i++) {
        const char *e = events + i * stride;
        int64_t t = event_t(e);
        for (uint32_t head; (head = next_time_high(&cur_th, t >> 6));) {
            if (n_out >= capacity)
                return -1;
            out[n_out++] = head;
        }
        if (n_out >= capacity)
            return -1;
        out[n_out++] = event_head(t, event_x(e), event_y(e), event_p(e) > 0);
    }
    state[0] = cur_th;
    return n_out;
}

/* Encode ``n`` time-sorted events as EVT 2.1 words into ``out`` (``capacity``; layout "legacy": header in the low
 * half), runs of x within a 32-pixel block as one word's mask, carrying ``state`` as evt2_encode. Returns the number
 * of words, or -1 when they do not fit (``state`` then unchanged). */
int64_t evt21_encode(const char *events, int64_t stride, int64_t n, int64_t legacy, int64_t *state, uint64_t *out,
                     int64_t capacity)
{
#define EV(k) (events + (k) * stride)
#define EMIT(head, mask)                                                          \
    do {                                                                          \
        if (n_out >= capacity)                                                    \
            return -1;                                                            \
        out[n_out++] = legacy ? (uint64_t)(mask) << 32 | (head) : (uint64_t)(head) << 32 | (mask); \
    } while (0)
    int64_t n_out = 0, cur_th = state[0], i = 0;
    while (i < n) {
        int64_t t = event_t(EV(i)), x = event_x(EV(i)), y = event_y(EV(i));
        int on = event_p(EV(i)) > 0;
        for (uint32_t head; (head = next_time_high(&cur_th, t >> 6));)
            EMIT(head, 0u);
        int64_t x0 = x & ~(int64_t)31, prev_x = x, j = i + 1;
        uint32_t mask = 1u << (x - x0);
        while (j < n) {
            int64_t fx = event_x(EV(j));
            if (event_t(EV(j)) != t || event_y(EV(j)) != y || (event_p(EV(j)) > 0) != on || fx <= prev_x ||
                fx >= x0 + 32)
                break;
            mask |= 1u << (fx - x0);
            prev_x = fx;
            j++;
        }
        EMIT(event_head(t, x0, y, on), mask);
        i = j;
    }
    state[0] = cur_th;
    return n_out;
#undef EMIT
#undef EV
}
