/* AVX-512 order-0 kernel: one table for every lane. */
#include <stdlib.h>
#include <string.h>

#include <cpuid.h>

#include "decode_avx512_order0.h"

/* Intel cores issue 512-bit permutes and compares on one port (5), where
 * the search spends most of its work; Zen 4 has more. Measured with `wqc
 * bench` on the device's Sapphire Rapids: order-0 by the gather 2.36-2.61
 * G symbols/s against 2.05 by the search, context rounds mixed 1.68 against
 * 1.49; on Zen 4 the search is fastest (4.68 against 2.18 and 3.76). */
static int intel_cpu(void)
{
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __get_cpuid(0, &a, &b, &c, &d) && b == 0x756e6547u && d == 0x49656e69u && c == 0x6c65746eu; /* GenuineIntel */
}

/* Read once (see decode_avx512_step.h). */
int wqc_avx512_small_lookup(int context)
{
    static int choice[2] = {-1, -1};
    int c = __atomic_load_n(&choice[context], __ATOMIC_RELAXED);
    if (c < 0) {
        /* [choice][order-0, context]: search, gather, mixed, Intel's default. */
        static const int lookups[4][2] = {{LOOKUP_SMALL, LOOKUP_SMALL}, {LOOKUP_PACKED, LOOKUP_SMALL},
                                          {LOOKUP_MIXED, LOOKUP_MIXED}, {LOOKUP_PACKED, LOOKUP_MIXED}};
        const char *e = getenv("WQC_AVX512_SMALL");
        int k = e ? (strcmp(e, "gather") == 0 ? 1 : strcmp(e, "mixed") == 0 ? 2 : 0) : intel_cpu() ? 3 : 0;
        c = lookups[k][context];
        __atomic_store_n(&choice[context], c, __ATOMIC_RELAXED);
    }
    return c;
}

/* The bucket kernels (decode_avx512_vbmi.c) where the CPU has VBMI: by
 * default on AMD (Zen 4, wqc bench: context 2.34-2.38 -> 3.04-3.12 G
 * symbols/s, order-0 2.8-4.5 -> 3.0-5.6); on Intel only with
 * WQC_AVX512_SMALL=bucket (Emerald Rapids, one noisy run: no better than
 * the gather). Read once. */
int wqc_avx512_buckets(void)
{
    static int choice = -1;
    int c = __atomic_load_n(&choice, __ATOMIC_RELAXED);
    if (c < 0) {
        const char *e = getenv("WQC_AVX512_SMALL");
        c = (e ? strcmp(e, "bucket") == 0 : !intel_cpu()) && __builtin_cpu_supports("avx512vbmi");
        __atomic_store_n(&choice, c, __ATOMIC_RELAXED);
    }
    return c;
}

size_t wqc_rans_kernel_avx512(rans_kernel_ctx *k)
{
    const int lookup = order0_lookup(k->d);
#define BY_LOOKUP(form)                                                                                       \
    (lookup == LOOKUP_SMALL     ? by_lanes(k, form, LOOKUP_SMALL)                                            \
     : lookup == LOOKUP_MIXED   ? by_lanes(k, form, LOOKUP_MIXED)                                            \
     : lookup == LOOKUP_PACKED  ? by_lanes(k, form, LOOKUP_PACKED)                                           \
     : lookup == LOOKUP_PACKED8 ? by_lanes(k, form, LOOKUP_PACKED8)                                          \
                                : by_lanes(k, form, LOOKUP_GATHERS))
    switch (k->out->form) {
    case WQC_FORM_SYMBOLS: return BY_LOOKUP(WQC_FORM_SYMBOLS);
    case WQC_FORM_NIBBLES: return BY_LOOKUP(WQC_FORM_NIBBLES);
    case WQC_FORM_F32: return BY_LOOKUP(WQC_FORM_F32);
    case WQC_FORM_F16: return BY_LOOKUP(WQC_FORM_F16);
    case WQC_FORM_BF16: return BY_LOOKUP(WQC_FORM_BF16);
    case WQC_FORM_DOT: return BY_LOOKUP(WQC_FORM_DOT);
    }
#undef BY_LOOKUP
    return 0;
}
