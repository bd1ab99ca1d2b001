/* When general-purpose coders may beat an order-0 coder (byte_probe.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "byte_probe.h"
#include "wqc/entropy.h"

/* Repeats and the previous byte's information, as wqc_byte_structured reads
 * them: a stream with 2% of its positions in long repeats, or where the
 * previous byte removes 3% of the entropy, is worth a try. */
#define REPEATS_WORTH 0.02
#define ORDER1_WORTH 0.03
/* Positions sampled for repeats: those whose rolling hash has its top bits
 * clear (content-defined, so a repeat is sampled at the same offsets in
 * both copies), one in 2^ANCHOR_BITS. */
#define ANCHOR_BITS 3

/* Miller-Madow: the plug-in entropy of m observed symbols in t samples is
 * low by about (m - 1) / (2 t ln 2) bits. */
static double corrected(const uint64_t *count, size_t k, uint64_t total)
{
    size_t seen = 0;
    for (size_t i = 0; i < k; i++) seen += count[i] != 0;
    return total ? wqc_entropy_bits(count, k) + (double)(seen - (seen > 0)) / (2.0 * (double)total * log(2.0)) : 0;
}

/* Over the alphabet the sample uses (A x A pairs: 256 for 4-bit symbols).
 * The context is the previous byte, or its top bits where the sample is too
 * short for every pair: at least 16 samples per (context, symbol seen)
 * pair, else even the corrected estimate of H(X | context) is too low to
 * tell structure from chance. FP8 weights (about 200 codes seen in 256 KiB)
 * take 64 contexts: rows of a block-scaled matrix whose neurons are dead or
 * weak show there (4-5% on gpt2-mini's late MLPs, where brotli beat the
 * order-0 coding by 8%). */
/* Contexts (previous bytes >> shift) among the bytes seen. */
static size_t contexts(const uint64_t *order0, size_t a, unsigned shift)
{
    size_t k = 0;
    for (size_t c = 0; c <= (a - 1) >> shift; c++) {
        int any = 0;
        for (size_t s = c << shift; !any && s < a && s < (c + 1) << shift; s++) any = order0[s] != 0;
        k += (size_t)any;
    }
    return k;
}

static double order1_gain(const uint8_t *p, size_t n, const uint64_t *order0)
{
    size_t a = 256;
    while (a > 1 && !order0[a - 1]) a--;
    size_t seen = 0;
    for (size_t i = 0; i < a; i++) seen += order0[i] != 0;
    unsigned shift = 0;
    while (shift < 8 && n < 16 * contexts(order0, a, shift) * seen) shift++;
    size_t k = ((a - 1) >> shift) + 1;
    if (shift == 8 || contexts(order0, a, shift) < 2) return 0;
    uint64_t *pair = calloc(k * a, sizeof *pair);
    if (!pair) return 0;
    for (size_t i = 1; i < n; i++) pair[(size_t)(p[i - 1] >> shift) * a + p[i]]++;
    double h0 = corrected(order0, a, n), h1 = 0;
    for (size_t c = 0; c < k; c++) {
        uint64_t t = 0;
        for (size_t s = 0; s < a; s++) t += pair[c * a + s];
        if (t) h1 += (double)t / (double)(n - 1) * corrected(pair + c * a, a, t);
    }
    free(pair);
    return h0 > 0 ? 1.0 - fmin(h1, h0) / h0 : 0;
}

/* Keys go into an open-addressed table of `size` slots in the order they
 * come; the slot of the key AHEAD places later is asked for first, since a
 * table of 2^16 slots misses the caches on every key. Returns how many
 * were there before. */
enum { AHEAD = 16 };

static size_t table_insert_all(uint64_t *slot, size_t size, const uint64_t *keys, size_t n)
{
    size_t found = 0;
    for (size_t j = 0; j < n; j++) {
        if (j + AHEAD < n) __builtin_prefetch(&slot[(size_t)(keys[j + AHEAD] >> 7) & (size - 1)]);
        uint64_t key = keys[j] | 1;
        for (size_t s = (size_t)(keys[j] >> 7) & (size - 1);; s = (s + 1) & (size - 1)) {
            if (!slot[s]) {
                slot[s] = key;
                break;
            }
            if (slot[s] == key) {
                found++;
                break;
            }
        }
    }
    return found;
}

/* The polynomial hash of the k bytes at p, and its step to the next window
 * (top = B^(k-1)), and the mixed value whose top bits pick the anchors. */
#define HASH_B 0x100000001b3ull
static uint64_t window_hash(const uint8_t *p, size_t k)
{
    uint64_t h = 0;
    for (size_t j = 0; j < k; j++) h = h * HASH_B + p[j] + 1;
    return h;
}

static inline uint64_t window_roll(uint64_t h, const uint8_t *p, size_t k, uint64_t top)
{
    return (h - (uint64_t)(p[0] + 1) * top) * HASH_B + p[k] + 1;
}

static inline uint64_t window_mix(uint64_t h) { return (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ull; }

/* The share of sampled positions whose next k bytes occurred before: k
 * bytes carry at least 48 bits of order-0 information, so that chance
 * repeats of near-random data stay rare. The windows' hashes are rolled
 * in two chains at once (the first and second half of the windows), each
 * anchor's key appended without a branch; the keys then go into the
 * table in window order, until it is half full (enough evidence). */
static double repeats(const uint8_t *p, size_t n, double h0)
{
    size_t k = h0 > 0 ? (size_t)ceil(48.0 / h0) : 64;
    if (k < 6) k = 6;
    if (k > 64) k = 64;
    if (n < 2 * k) return 0;
    size_t size = 64;
    while (size < (n >> (ANCHOR_BITS - 1))) size <<= 1;
    size_t cap = size / 2 + 1, windows = n - k + 1, half = windows / 2;
    uint64_t *slot = calloc(size, sizeof *slot), *keys = malloc(2 * (cap + 1) * sizeof *keys);
    if (!slot || !keys) {
        free(slot);
        free(keys);
        return 0;
    }
    uint64_t top = 1;
    for (size_t j = 1; j < k; j++) top *= HASH_B;
    uint64_t *ka = keys, *kb = keys + cap + 1;
    uint64_t ha = window_hash(p, k), hb = window_hash(p + half, k);
    size_t na = 0, nb = 0;
    for (size_t j = 0; j < half; j++) {
        uint64_t xa = window_mix(ha), xb = window_mix(hb);
        ka[na] = xa, kb[nb] = xb;
        na += na < cap && xa >> (64 - ANCHOR_BITS) == 0;
        nb += nb < cap && xb >> (64 - ANCHOR_BITS) == 0;
        if (j + 1 < half) ha = window_roll(ha, p + j, k, top);
        if (half + j + 1 < windows) hb = window_roll(hb, p + half + j, k, top);
    }
    /* The second half has a window more when their count is odd. */
    if (windows % 2) {
        uint64_t xb = window_mix(hb);
        kb[nb] = xb;
        nb += nb < cap && xb >> (64 - ANCHOR_BITS) == 0;
    }
    if (nb > cap - na) nb = cap - na;
    memmove(ka + na, kb, nb * sizeof *kb);
    size_t sampled = na + nb, found = table_insert_all(slot, size, keys, sampled);
    free(slot);
    free(keys);
    return sampled ? (double)found / (double)sampled : 0;
}

/* Streams longer than WQC_PROBE_BYTES are probed on PROBE_SLICES slices
 * spread evenly over them, from the first byte to the last: structure that
 * sits at one end (the untrained rows at the end of an embedding) is seen. */
#define PROBE_SLICES 4

void wqc_byte_probe(const uint8_t *src, size_t n, size_t element_size, wqc_byte_structure *out)
{
    memset(out, 0, sizeof *out);
    uint8_t *sample = NULL;
    if (n > WQC_PROBE_BYTES) {
        size_t slice = WQC_PROBE_BYTES / PROBE_SLICES / element_size * element_size;
        if (!(sample = malloc(slice * PROBE_SLICES))) return;
        for (size_t i = 0; i < PROBE_SLICES; i++) {
            size_t at = (n - slice) / (PROBE_SLICES - 1) * i / element_size * element_size;
            memcpy(sample + i * slice, src + at, slice);
        }
        src = sample, n = slice * PROBE_SLICES;
    }
    if (n >= 64) {
        uint64_t count[256] = {0};
        wqc_histogram(src, n, count);
        double h0 = wqc_entropy_bits(count, 256);
        out->repeats = repeats(src, n, h0);
        /* In wider elements the previous byte is mostly the same value's other byte. */
        if (element_size == 1) out->order1_gain = order1_gain(src, n, count);
    }
    free(sample);
}

int wqc_byte_structured(const wqc_byte_structure *s)
{
    return s->repeats >= REPEATS_WORTH || s->order1_gain >= ORDER1_WORTH;
}
