/* The scanline filters of PNG (ISO/IEC 15948, section 9) undone, for the reader of 8-bit gray and RGB PNGs in
 * neurofocus/images.py. */
#include <stdint.h>
#include <string.h>

/* Paeth's predictor of a byte from its left (a), upper (b) and upper-left (c) neighbours: the nearest to a + b - c,
 * ties to a, then b. Without branches (each byte of a row waits for the one before it; a mispredicted branch would
 * add its penalty to every byte). */
static inline int paeth(int a, int b, int c)
{
    int pa = b > c ? b - c : c - b, pb = a > c ? a - c : c - a, pc = a + b - 2 * c;
    pc = pc < 0 ? -pc : pc;
    int nearest = pb < pa ? b : a, distance = pb < pa ? pb : pa;
    return pc < distance ? c : nearest;
}

/* Unfilter ``height`` scanlines of ``row_bytes`` bytes, each after its filter-type byte in ``raw``, of pixels of ``bpp``
 * bytes into ``out`` (height x row_bytes). Returns 0, or -1 for an unknown filter type. */
int64_t png_unfilter(const uint8_t *raw, int64_t height, int64_t row_bytes, int64_t bpp, uint8_t *out)
{
    for (int64_t y = 0; y < height; y++) {
        const uint8_t *in = raw + y * (row_bytes + 1) + 1;
        uint8_t *row = out + y * row_bytes;
        const uint8_t *up = y ? row - row_bytes : NULL;
        switch (in[-1]) {
        case 0:
            memcpy(row, in, (size_t)row_bytes);
            break;
        case 1: /* Sub */
            for (int64_t i = 0; i < row_bytes; i++)
                row[i] = (uint8_t)(in[i] + (i >= bpp ? row[i - bpp] : 0));
            break;
        case 2: /* Up */
            for (int64_t i = 0; i < row_bytes; i++)
                row[i] = (uint8_t)(in[i] + (up ? up[i] : 0));
            break;
        case 3: /* Average */
            for (int64_t i = 0; i < row_bytes; i++)
                row[i] = (uint8_t)(in[i] + (((i >= bpp ? row[i - bpp] : 0) + (up ? up[i] : 0)) >> 1));
            break;
        case 4: /* Paeth */
            if (up && bpp == 1) { /* gray: the left byte kept in a register, not reloaded from the row just written */
                int left = row[0] = (uint8_t)(in[0] + up[0]);
                for (int64_t i = 1; i < row_bytes; i++)
                    left = row[i] = (uint8_t)(in[i] + paeth(left, up[i], up[i - 1]));
                break;
            }
            for (int64_t i = 0; i < row_bytes; i++) {
                int a = i >= bpp ? row[i - bpp] : 0, b = up ? up[i] : 0, c = up && i >= bpp ? up[i - bpp] : 0;
                row[i] = (uint8_t)(in[i] + paeth(a, b, c));
            }
            break;
        default:
            return -1;
        }
    }
    return 0;
}
