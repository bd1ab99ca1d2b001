/* AVX-512 builds of the lane-sum loops (lane_blocks.h): GCC's 64-byte
 * vectors, one register each with -mavx512f/dq. Elements that do not fill
 * a vector of eight aligned lanes go to their lane one at a time. */
#include <math.h>
#include <string.h>

#include "lane_blocks.h"

typedef double oct __attribute__((vector_size(64)));
typedef int64_t oct_mask __attribute__((vector_size(64)));
typedef float oct_float __attribute__((vector_size(32)));
typedef int32_t oct_float_mask __attribute__((vector_size(32)));
typedef uint8_t oct_byte __attribute__((vector_size(8)));
typedef uint16_t oct_short __attribute__((vector_size(16)));

static inline oct widen(const float *w)
{
    oct_float v;
    memcpy(&v, w, sizeof v);
    return __builtin_convertvector(v, oct);
}

/* Elements before the first whole vector of aligned lanes, and after the
 * last: counts of the head (from lane0) and of the whole vectors. The head
 * and tail go to their lanes in memory, the vectors stay in registers
 * (a lane subscripted inside the loop would keep them on the stack). */
static void split(uint64_t n, int lane0, uint64_t *head, uint64_t *vectors)
{
    uint64_t h = (uint64_t)((8 - lane0) & 7);
    *head = h < n ? h : n;
    *vectors = (n - *head) / 8;
}

static void first_one(float v, int lane, double *sum, float *lo, float *hi, int *nan)
{
    sum[lane] += (double)v;
    lo[lane] = v < lo[lane] ? v : lo[lane];
    hi[lane] = v > hi[lane] ? v : hi[lane];
    *nan |= v != v;
}

void wqc_lane_first_avx512(const float *w, uint64_t n, int lane0, double *sum, float *lo, float *hi, int *nan)
{
    uint64_t head, vectors, k = 0;
    split(n, lane0, &head, &vectors);
    for (; k < head; k++) first_one(w[k], (lane0 + (int)k) & 7, sum, lo, hi, nan);
    oct s;
    oct_float l, h;
    oct_float_mask bad = {0};
    memcpy(&s, sum, sizeof s);
    memcpy(&l, lo, sizeof l);
    memcpy(&h, hi, sizeof h);
    for (uint64_t e = k + 8 * vectors; k < e; k += 8) {
        oct_float v;
        memcpy(&v, w + k, sizeof v);
        s += __builtin_convertvector(v, oct);
        oct_float_mask below = v < l, above = v > h;
        l = (oct_float)(((oct_float_mask)v & below) | ((oct_float_mask)l & ~below));
        h = (oct_float)(((oct_float_mask)v & above) | ((oct_float_mask)h & ~above));
        bad |= v != v;
    }
    memcpy(sum, &s, sizeof s);
    memcpy(lo, &l, sizeof l);
    memcpy(hi, &h, sizeof h);
    for (int i = 0; i < 8; i++) *nan |= bad[i] != 0;
    for (; k < n; k++) first_one(w[k], (lane0 + (int)k) & 7, sum, lo, hi, nan);
}

void wqc_lane_second_avx512(const float *w, uint64_t n, int lane0, double mean, double *m2, double *m4)
{
    uint64_t head, vectors, k = 0;
    split(n, lane0, &head, &vectors);
    for (; k < head; k++) {
        double d = (double)w[k] - mean, d2 = d * d;
        m2[(lane0 + (int)k) & 7] += d2;
        m4[(lane0 + (int)k) & 7] += d2 * d2;
    }
    oct a, b;
    memcpy(&a, m2, sizeof a);
    memcpy(&b, m4, sizeof b);
    for (uint64_t e = k + 8 * vectors; k < e; k += 8) {
        oct d = widen(w + k) - mean, d2 = d * d;
        a += d2;
        b += d2 * d2;
    }
    memcpy(m2, &a, sizeof a);
    memcpy(m4, &b, sizeof b);
    for (; k < n; k++) {
        double d = (double)w[k] - mean, d2 = d * d;
        m2[(lane0 + (int)k) & 7] += d2;
        m4[(lane0 + (int)k) & 7] += d2 * d2;
    }
}

static void measure_one(float x, uint8_t y, int lane, float s, float o, double lo, double hi, double *signal,
                        double *noise, double *most, int64_t *clipped)
{
    double v = x, d = v - (double)(o + s * (float)y);
    signal[lane] += v * v;
    noise[lane] += d * d;
    most[lane] = fabs(d) > most[lane] ? fabs(d) : most[lane];
    clipped[lane] += v < lo || v > hi;
}

void wqc_lane_measure_avx512(const float *w, const uint8_t *sym, uint64_t n, int lane0, float s, float o, double lo,
                             double hi, double *signal, double *noise, double *most, int64_t *clipped)
{
    uint64_t head, vectors, k = 0;
    split(n, lane0, &head, &vectors);
    for (; k < head; k++) measure_one(w[k], sym[k], (lane0 + (int)k) & 7, s, o, lo, hi, signal, noise, most, clipped);
    const oct_mask magnitude = (oct_mask){0} + INT64_MAX;
    const oct low = {lo, lo, lo, lo, lo, lo, lo, lo}, high = {hi, hi, hi, hi, hi, hi, hi, hi};
    oct sg, ns, mo;
    oct_mask cl;
    memcpy(&sg, signal, sizeof sg);
    memcpy(&ns, noise, sizeof ns);
    memcpy(&mo, most, sizeof mo);
    memcpy(&cl, clipped, sizeof cl);
    for (uint64_t e = k + 8 * vectors; k < e; k += 8) {
        oct_byte y;
        memcpy(&y, sym + k, sizeof y);
        /* Through 16 bits: GCC widens bytes straight to floats one at a time. */
        oct_float grid = o + s * __builtin_convertvector(__builtin_convertvector(y, oct_short), oct_float);
        oct v = widen(w + k), d = v - __builtin_convertvector(grid, oct);
        oct a = (oct)((oct_mask)d & magnitude);
        sg += v * v;
        ns += d * d;
        oct_mask more = a > mo;
        mo = (oct)(((oct_mask)a & more) | ((oct_mask)mo & ~more));
        cl -= (v < low) | (v > high);
    }
    memcpy(signal, &sg, sizeof sg);
    memcpy(noise, &ns, sizeof ns);
    memcpy(most, &mo, sizeof mo);
    memcpy(clipped, &cl, sizeof cl);
    for (; k < n; k++) measure_one(w[k], sym[k], (lane0 + (int)k) & 7, s, o, lo, hi, signal, noise, most, clipped);
}
