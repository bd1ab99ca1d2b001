// How an AVX-512 order-0 rANS step finds a 4-bit symbol, timed alone on
// this CPU (issue 27: the Xeon loses where Zen 4 wins). Eight independent
// vectors of 16 lanes a round (the multi kernel's shape), renormalised from
// a random word stream, symbols packed to bytes; only the lookup differs:
//   search  4-ary search over the cumulative frequencies in a register
//           (the kernel's LOOKUP_SMALL: permutes and compares, port 5 on Intel)
//   gather  one gather of the packed 2^P-entry table (LOOKUP_PACKED)
//   mixed   the two in turn, vector by vector (LOOKUP_MIXED)
//   bucket  the slot's top 7 bits index byte tables held in registers
//           (vpermi2b): the symbol at the bucket's start and the offsets of
//           the at most K boundaries inside it, counted by subtraction
//   bucketg bucket and gather in turn
// All of them must give the search's symbols (checked). A Gaussian 4-bit
// table (min-max groups of 64; or one range of +-T sigma: tiny tails) at P = 12,
// or P from argv[1].
//   dense   bucket with one start at most, buckets with more resolved slot by
//           slot from a third byte table (128 slots: up to 4 buckets at P 12)
//   denseg  dense and gather in turn
//   gcc -O2 -mavx512f -mavx512bw -mavx512vbmi bench/lookup_probe.c -o /tmp/lookup_probe -lm && /tmp/lookup_probe [P [T]]
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { NV = 8, WORDS = 1 << 25 };
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

static int P;
static uint32_t freq[16], cum[17];
static uint32_t *packed;      // freq | (slot - cum) << 14 | s << 28
static uint8_t s0_tab[128], off_tab[3][128];
static int K;
static uint8_t e_tab[128], o1_tab[128], l2_tab[128];
static int dense_ok;
static uint32_t dense_slots;

static float tails;   // one range for the whole tensor (+-tails sigma): tiny tail frequencies

static void make_table(void)
{
    uint64_t count[16] = {0}, total = 0, r = 12345;
    float g[64];
    for (int grp = 0; grp < 1 << 14; grp++) {
        float lo = 1e9f, hi = -1e9f;
        for (int i = 0; i < 64; i++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull; double u1 = ((r >> 11) + 1.0) / 9007199254740993.0;
            r = r * 6364136223846793005ull + 1442695040888963407ull; double u2 = (r >> 11) / 9007199254740992.0;
            g[i] = (float)(sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
            lo = g[i] < lo ? g[i] : lo, hi = g[i] > hi ? g[i] : hi;
        }
        if (tails) lo = -tails, hi = tails;
        for (int i = 0; i < 64; i++) {
            float q = (g[i] - lo) / (hi - lo) * 15;
            count[(int)lrintf(q < 0 ? 0 : q > 15 ? 15 : q)]++, total++;
        }
    }
    uint32_t sum = 0, big = 0;
    for (int s = 0; s < 16; s++) {
        freq[s] = (uint32_t)llround((double)count[s] * (1 << P) / (double)total);
        if (!freq[s]) freq[s] = 1;
        sum += freq[s];
        if (freq[s] > freq[big]) big = (uint32_t)s;
    }
    freq[big] += (1u << P) - sum;
    for (int s = 0; s < 16; s++) cum[s + 1] = cum[s] + freq[s];
    packed = malloc(sizeof *packed << P);
    for (uint32_t s = 0; s < 16; s++)
        for (uint32_t i = 0; i < freq[s]; i++) packed[cum[s] + i] = freq[s] | i << 14 | s << 28;
    uint32_t w = 1u << (P - 7);
    memset(off_tab, 255, sizeof off_tab);
    K = 0;
    for (uint32_t b = 0; b < 128; b++) {
        s0_tab[b] = (uint8_t)(packed[b * w] >> 28);
        int k = 0;
        for (uint32_t s = 1; s < 16; s++)
            if (cum[s] > b * w && cum[s] < b * w + w) {
                if (k < 3) off_tab[k][b] = (uint8_t)(cum[s] - b * w - 1);
                k++;
            }
        if (k > K) K = k;
    }
    // dense: buckets with more than one start go slot by slot into l2_tab.
    uint32_t used = 0;
    dense_ok = 1;
    memset(o1_tab, 255, sizeof o1_tab);
    for (uint32_t b = 0; b < 128; b++) {
        int k = 0;
        for (uint32_t s = 1; s < 16; s++) k += cum[s] > b * w && cum[s] < b * w + w;
        if (k <= 1) {
            e_tab[b] = s0_tab[b], o1_tab[b] = off_tab[0][b];
        } else if (used + w <= 128) {
            e_tab[b] = (uint8_t)(0x80 | used);
            for (uint32_t i = 0; i < w; i++) l2_tab[used + i] = (uint8_t)(packed[b * w + i] >> 28);
            used += w;
        } else dense_ok = 0;
    }
    dense_slots = used;
}

typedef struct {
    __m512i cum, freq, c4, c8, c12, fc, mask, shift, low16, state_low, bshift, wmask, one, field;
    __m512i s0a, s0b, o[3][2], e[2], o1[2], l2[2];
} consts;

static __m512i search(const consts *c, __m512i slot)
{
    const __m512i one = c->one;
    __m512i s = _mm512_maskz_mov_epi32(_mm512_cmpge_epu32_mask(slot, c->c4), _mm512_set1_epi32(4));
    s = _mm512_mask_mov_epi32(s, _mm512_cmpge_epu32_mask(slot, c->c8), _mm512_set1_epi32(8));
    s = _mm512_mask_mov_epi32(s, _mm512_cmpge_epu32_mask(slot, c->c12), _mm512_set1_epi32(12));
    __m512i s1 = _mm512_add_epi32(s, one), s2 = _mm512_add_epi32(s, _mm512_set1_epi32(2)), s3 = _mm512_add_epi32(s, _mm512_set1_epi32(3));
    __mmask16 m1 = _mm512_cmpge_epu32_mask(slot, _mm512_permutexvar_epi32(s1, c->cum));
    __mmask16 m2 = _mm512_cmpge_epu32_mask(slot, _mm512_permutexvar_epi32(s2, c->cum));
    __mmask16 m3 = _mm512_cmpge_epu32_mask(slot, _mm512_permutexvar_epi32(s3, c->cum));
    s = _mm512_mask_mov_epi32(s, m1, s1);
    s = _mm512_mask_mov_epi32(s, m2, s2);
    return _mm512_mask_mov_epi32(s, m3, s3);
}

static __m512i bucket(const consts *c, __m512i slot, int k)
{
    const __mmask64 low_bytes = 0x1111111111111111ull;
    __m512i b = _mm512_srlv_epi32(slot, c->bshift), low = _mm512_and_si512(slot, c->wmask);
    __m512i s = _mm512_maskz_permutex2var_epi8(low_bytes, c->s0a, b, c->s0b);
    for (int i = 0; i < k; i++) {
        // o - low < 0 where low > o: the boundary lies at or below the slot.
        __m512i o = _mm512_maskz_permutex2var_epi8(low_bytes, c->o[i][0], b, c->o[i][1]);
        s = _mm512_sub_epi32(s, _mm512_srai_epi32(_mm512_sub_epi32(o, low), 31));
    }
    return s;
}

static __m512i dense(const consts *c, __m512i slot)
{
    const __mmask64 low_bytes = 0x1111111111111111ull;
    __m512i b = _mm512_srlv_epi32(slot, c->bshift), low = _mm512_and_si512(slot, c->wmask);
    __m512i e = _mm512_maskz_permutex2var_epi8(low_bytes, c->e[0], b, c->e[1]);
    __m512i o = _mm512_maskz_permutex2var_epi8(low_bytes, c->o1[0], b, c->o1[1]);
    __m512i s = _mm512_sub_epi32(e, _mm512_srai_epi32(_mm512_sub_epi32(o, low), 31));
    // Dense buckets (e = 0x80 | their place): the symbol of slot place + low.
    __m512i s2 = _mm512_maskz_permutex2var_epi8(low_bytes, c->l2[0], _mm512_add_epi32(e, low), c->l2[1]);
    return _mm512_mask_blend_epi8(_mm512_movepi8_mask(e), s, s2);
}

// One vector: lookup kind 0 search, 1 gather, 2 bucket, 3 dense.
static inline __attribute__((always_inline)) __m512i step(const consts *c, __m512i *x, const uint8_t **w, int kind, int k)
{
    __m512i slot = _mm512_and_si512(*x, c->mask), s, f, b;
    if (kind == 1) {
        __m512i e = _mm512_i32gather_epi32(slot, packed, 4);
        f = _mm512_and_si512(e, c->field);
        b = _mm512_and_si512(_mm512_srli_epi32(e, 14), c->field);
        s = _mm512_srli_epi32(e, 28);
    } else {
        s = kind == 0 ? search(c, slot) : kind == 2 ? bucket(c, slot, k) : dense(c, slot);
        __m512i e = _mm512_permutexvar_epi32(s, c->fc);   // freq | cum << 16
        f = _mm512_and_si512(e, c->low16);
        b = _mm512_sub_epi32(slot, _mm512_srli_epi32(e, 16));
    }
    *x = _mm512_add_epi32(_mm512_mullo_epi32(f, _mm512_srlv_epi32(*x, c->shift)), b);
    __mmask16 m = _mm512_cmplt_epu32_mask(*x, c->state_low);
    __m512i words = _mm512_maskz_expand_epi32(m, _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)*w)));
    *x = _mm512_mask_or_epi32(*x, m, _mm512_slli_epi32(*x, 16), words);
    *w += 2 * (size_t)__builtin_popcount(m);
    return s;
}

static inline __attribute__((always_inline)) __m512i bytes4(__m512i a, __m512i b, __m512i c, __m512i d)
{
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm512_permutexvar_epi32(order, _mm512_packus_epi16(_mm512_packus_epi32(a, b), _mm512_packus_epi32(c, d)));
}

// kinds: per vector (v & 1 ? odd : even); returns symbols written.
static inline __attribute__((always_inline)) size_t run(const consts *c, const uint8_t *words, size_t nwords, uint8_t *out,
                                                        int even, int odd, int k)
{
    __m512i x[NV], s[NV];
    for (int v = 0; v < NV; v++) x[v] = _mm512_add_epi32(_mm512_set1_epi32(1 << 20), _mm512_set1_epi32(v * 7919));
    const uint8_t *w = words, *end = words + 2 * nwords - 2 * 16 * NV;
    size_t n = 0;
    while (w < end) {
        for (int v = 0; v < NV; v++) s[v] = step(c, &x[v], &w, v & 1 ? odd : even, k);
        for (int v = 0; v < NV; v += 4) _mm512_storeu_si512(out + n + 16 * v, bytes4(s[v], s[v + 1], s[v + 2], s[v + 3]));
        n += 16 * NV;
    }
    return n;
}

static size_t by_variant(int variant, const consts *c, const uint8_t *words, uint8_t *out)
{
    switch (variant) {
    case 0: return run(c, words, WORDS, out, 0, 0, 0);
    case 1: return run(c, words, WORDS, out, 1, 1, 0);
    case 2: return run(c, words, WORDS, out, 0, 1, 0);
    case 3: return K == 1 ? run(c, words, WORDS, out, 2, 2, 1) : K == 2 ? run(c, words, WORDS, out, 2, 2, 2) : run(c, words, WORDS, out, 2, 2, 3);
    case 4: return K == 1 ? run(c, words, WORDS, out, 2, 1, 1) : K == 2 ? run(c, words, WORDS, out, 2, 1, 2) : run(c, words, WORDS, out, 2, 1, 3);
    case 5: return run(c, words, WORDS, out, 3, 3, 0);
    default: return run(c, words, WORDS, out, 3, 1, 0);
    }
}

static int cmp_double(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(int argc, char **argv)
{
    P = argc > 1 ? atoi(argv[1]) : 12;
    tails = argc > 2 ? (float)atof(argv[2]) : 0;
    if (P < 10 || P > 13) { fprintf(stderr, "P must be 10..13 (the packed table's range)\n"); return 2; }
    make_table();
    printf("P %d, freq:", P);
    for (int s = 0; s < 16; s++) printf(" %u", freq[s]);
    printf("\nbucket boundaries at most K = %d a bucket of %u slots\n", K, 1u << (P - 7));
    if (K > 3) printf("K > 3: the bucket variants are left out\n");
    printf("dense: %u slots of 128 by slot%s\n", dense_slots, dense_ok ? "" : " (do not fit: dense variants left out)");
    consts c;
    uint32_t cum16[16], fc[16];
    for (int s = 0; s < 16; s++) cum16[s] = cum[s], fc[s] = freq[s] | cum[s] << 16;
    c.cum = _mm512_loadu_si512(cum16), c.freq = _mm512_loadu_si512(freq), c.fc = _mm512_loadu_si512(fc);
    c.c4 = _mm512_set1_epi32((int)cum[4]), c.c8 = _mm512_set1_epi32((int)cum[8]), c.c12 = _mm512_set1_epi32((int)cum[12]);
    c.mask = _mm512_set1_epi32((1 << P) - 1), c.shift = _mm512_set1_epi32(P), c.low16 = _mm512_set1_epi32(0xffff);
    c.state_low = _mm512_set1_epi32(1 << 16), c.bshift = _mm512_set1_epi32(P - 7), c.wmask = _mm512_set1_epi32((1 << (P - 7)) - 1);
    c.one = _mm512_set1_epi32(1), c.field = _mm512_set1_epi32(0x3fff);
    c.s0a = _mm512_loadu_si512(s0_tab), c.s0b = _mm512_loadu_si512(s0_tab + 64);
    for (int i = 0; i < 3; i++) c.o[i][0] = _mm512_loadu_si512(off_tab[i]), c.o[i][1] = _mm512_loadu_si512(off_tab[i] + 64);
    c.e[0] = _mm512_loadu_si512(e_tab), c.e[1] = _mm512_loadu_si512(e_tab + 64);
    c.o1[0] = _mm512_loadu_si512(o1_tab), c.o1[1] = _mm512_loadu_si512(o1_tab + 64);
    c.l2[0] = _mm512_loadu_si512(l2_tab), c.l2[1] = _mm512_loadu_si512(l2_tab + 64);
    uint8_t *words = malloc(2 * (size_t)WORDS), *ref = malloc(16 * (size_t)WORDS), *out = malloc(16 * (size_t)WORDS);
    uint64_t r = 99;
    for (size_t i = 0; i < 2 * (size_t)WORDS; i++) r = r * 6364136223846793005ull + 1442695040888963407ull, words[i] = (uint8_t)(r >> 56);
    static const char *names[] = {"search", "gather", "mixed", "bucket", "bucketg", "dense", "denseg"};
    size_t nref = by_variant(0, &c, words, ref);
    for (int round = 0; round < 2; round++)
        for (int v = 0; v < 7; v++) {
            if ((v == 3 || v == 4) && K > 3) continue;
            if (v >= 5 && !dense_ok) continue;
            double t[7];
            size_t n = 0;
            for (int i = 0; i < 7; i++) {
                double t0 = now();
                n = by_variant(v, &c, words, out);
                t[i] = now() - t0;
            }
            qsort(t, 7, sizeof *t, cmp_double);
            int same = n == nref && memcmp(out, ref, n) == 0;
            printf("round %d %-8s %7.0f M symbols/s (median of 7, %zu symbols)%s\n", round + 1, names[v], n / t[3] / 1e6, n,
                   same ? "" : "  WRONG SYMBOLS");
        }
    return 0;
}
