/* Prophesee EVT 3.0 decoder and encoder (the format: neurofocus/io/evt3.py). */
#include "records.h"

/* slots of the decoder state (int64, neurofocus.io.evt3.STATE_SIZE), carried from one chunk to the next */
enum { S_Y, S_HIGH, S_LOW, S_LOOP, S_BASE_X, S_VECT_P, S_HAVE_TIME, S_NO_TIME, S_OUT_OF_RANGE };

/* Upper bound of the events in ``words``: one per EVT_ADDR_X word, one per set mask bit of VECT_12 / VECT_8. */
COUNTING_PASS int64_t evt3_max_events(const uint16_t *words, int64_t num_words)
{
    int64_t n = 0;
    for (int64_t i = 0; i < num_words; i++) {
        unsigned kind = words[i] >> 12;
        if (kind == 0x2)
            n += 1;
        else if (kind == 0x4)
            n += __builtin_popcount(words[i] & 0xFFFu);
        else if (kind == 0x5)
            n += __builtin_popcount(words[i] & 0xFFu);
    }
    return n;
}

/* Decode ``words`` into the records ``out`` (``capacity`` of them) from index ``n``; returns the new count, or -1 when
 * the events do not fit. ``state`` and ``stats`` (steps back in time, last time) are updated in place. */
int64_t evt3_decode(const uint16_t *words, int64_t num_words, int64_t *state, int64_t width, int64_t height,
                    int64_t *out, int64_t capacity, int64_t n, int64_t *stats)
{
    int64_t cur_y = state[S_Y], high = state[S_HIGH], low = state[S_LOW], loop = state[S_LOOP];
    int64_t base_x = state[S_BASE_X], vect_p = state[S_VECT_P], have_time = state[S_HAVE_TIME];
    int64_t no_time = state[S_NO_TIME], out_of_range = state[S_OUT_OF_RANGE];
    int64_t backwards = stats[STAT_BACKWARDS], last_t = stats[STAT_LAST_T];
    int64_t tt = (loop << 24) | (high << 12) | low;
    int64_t result = 0;
    for (int64_t i = 0; i < num_words; i++) {
        int64_t w = words[i];
        switch (w >> 12) {
        case 0x0: /* EVT_ADDR_Y */
            cur_y = w & 0x7FF;
            break;
        case 0x2: { /* EVT_ADDR_X */
            int64_t x = w & 0x7FF;
            if (!have_time) {
                no_time += 1;
            } else if (x < width && cur_y < height) {
                if (n >= capacity) {
                    result = -1;
                    goto done;
                }
                backwards += tt < last_t;
                last_t = tt;
                put_event(out, n++, tt, x, cur_y, (w >> 11) & 1 ? POLARITY_ON : POLARITY_OFF);
            } else {
                out_of_range += 1;
            }
            break;
        }
        case 0x3: /* VECT_BASE_X */
            base_x = w & 0x7FF;
            vect_p = (w >> 11) & 1;
            break;
        case 0x4: /* VECT_12 */
        case 0x5: { /* VECT_8 */
            int nbits = (w >> 12) == 0x4 ? 12 : 8;
            uint32_t mask = (uint32_t)(w & ((1 << nbits) - 1));
            if (!have_time) {
                no_time += __builtin_popcount(mask);
            } else if (cur_y >= height) {
                out_of_range += __builtin_popcount(mask);
            } else {
                int64_t first = n;
                int64_t outside = put_mask(out, &n, capacity, tt, base_x, cur_y, vect_p ? POLARITY_ON : POLARITY_OFF,
                                           mask, width);
                if (outside < 0) {
                    result = -1;
                    goto done;
                }
                out_of_range += outside;
                if (n > first) {
                    backwards += tt < last_t;
                    last_t = tt;
                }
            }
            base_x += nbits;
            break;
        }
        case 0x6: /* EVT_TIME_LOW */
            low = w & 0xFFF;
            tt = (loop << 24) | (high << 12) | low;
            break;
        case 0x8: { /* EVT_TIME_HIGH */
            int64_t new_high = w & 0xFFF;
            if (have_time && new_high < high && high - new_high >= (1 << 11))
                loop += 1;
            high = new_high;
            have_time = 1;
            tt = (loop << 24) | (high << 12) | low;
            break;
        }
        default: /* 0x7 CONTINUED_4, 0xA EXT_TRIGGER, 0xE OTHERS, 0xF CONTINUED_12: no CD events */
            break;
        }
    }
    result = n;
done:
    state[S_Y] = cur_y, state[S_HIGH] = high, state[S_LOW] = low, state[S_LOOP] = loop;
    state[S_BASE_X] = base_x, state[S_VECT_P] = vect_p, state[S_HAVE_TIME] = have_time;
    state[S_NO_TIME] = no_time, state[S_OUT_OF_RANGE] = out_of_range;
    stats[STAT_BACKWARDS] = backwards, stats[STAT_LAST_T] = last_t;
    return result;
}

/* Encode ``n`` time-sorted events (records ``stride`` bytes apart) into ``out`` (``capacity`` words), carrying the
 * encoder's ``state`` (int64: t >> 12 of the last TIME_HIGH, the last TIME_LOW and row; -1 before any) from the words
 * before; returns the number of words, or -1 when they do not fit (``state`` then unchanged). */
int64_t evt3_encode(const char *events, int64_t stride, int64_t n, int64_t *state, uint16_t *out, int64_t capacity)
{
#define EMIT(word)                      \
    do {                                \
        if (n_out >= capacity)          \
            return -1;                  \
        out[n_out++] = (uint16_t)(word); \
    } while (0)
#define EV(k) (events + (k) * stride)
    int64_t n_out = 0;
    int64_t cur_th = state[0]; /* t >> 12 of the last TIME_HIGH written (loops included) */
    int64_t cur_low = state[1], cur_y = state[2];
    int64_t i = 0;
    while (i < n) {
        const char *e = EV(i);
        int64_t t = event_t(e), x = event_x(e), y = event_y(e);
        int on = event_p(e) > 0;
        int64_t th = t >> 12;
        if (th != cur_th) {
            /* step in increments small enough for the decoder to see every 24-bit wrap */
            int64_t step_from = cur_th < 0 ? 0 : cur_th;
            while (th - step_from > 1024) {
                step_from += 1024;
                EMIT(0x8000 | (step_from & 0xFFF));
            }
            EMIT(0x8000 | (th & 0xFFF));
            cur_th = th;
            cur_low = -1;
        }
        int64_t low = t & 0xFFF;
        if (low != cur_low) {
            EMIT(0x6000 | low);
            cur_low = low;
        }
        if (y != cur_y) {
            EMIT(y & 0x7FF);
            cur_y = y;
        }
        /* a run of events with the same time, row and polarity and x rising in steps of at most 12 -> vectors */
        int64_t j = i + 1, prev_x = x;
        while (j < n) {
            const char *f = EV(j);
            int64_t fx = event_x(f);
            if (event_t(f) != t || event_y(f) != y || (event_p(f) > 0) != on || fx <= prev_x || fx - prev_x > 12)
                break;
            prev_x = fx;
            j++;
        }
        if (j - i == 1) {
            EMIT(0x2000 | (on << 11) | (x & 0x7FF));
        } else {
            int64_t base = x;
            EMIT(0x3000 | (on << 11) | (base & 0x7FF));
            int64_t k = i;
            while (k < j) {
                int64_t mask = 0;
                while (k < j && event_x(EV(k)) < base + 12) {
                    mask |= (int64_t)1 << (event_x(EV(k)) - base);
                    k++;
                }
                EMIT(0x4000 | mask);
                base += 12;
            }
        }
        i = j;
    }
    state[0] = cur_th, state[1] = cur_low, state[2] = cur_y;
    return n_out;
#undef EV
#undef EMIT
}
