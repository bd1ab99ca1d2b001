/* XXH3-64 through libxxhash, or its AVX2 build (xxh3.h). */
#include "xxh3.h"

#include <xxhash.h>

#include "xxh3_kernel.h"

static int use_avx2(wqc_isa isa)
{
#ifdef WQC_HAVE_X86_KERNELS
    return isa == WQC_ISA_AVX2 && wqc_isa_available(WQC_ISA_AVX2);
#else
    (void)isa;
    return 0;
#endif
}

/* AVX2 where the CPU has it (AVX-512's XXH3 kernel is no faster on Zen 4). */
static wqc_isa best(void) { return wqc_isa_available(WQC_ISA_AVX2) ? WQC_ISA_AVX2 : WQC_ISA_SCALAR; }

uint64_t wqc_xxh3_isa(const void *p, size_t n, uint64_t seed, wqc_isa isa)
{
#ifdef WQC_HAVE_X86_KERNELS
    if (use_avx2(isa)) return wqc_xxh3_avx2(p, n, seed);
#endif
    (void)isa;
    return XXH3_64bits_withSeed(p, n, seed);
}

int wqc_xxh3_start_isa(wqc_xxh3_state *h, uint64_t seed, wqc_isa isa)
{
    h->avx2 = use_avx2(isa);
#ifdef WQC_HAVE_X86_KERNELS
    if (h->avx2) return (h->state = wqc_xxh3_avx2_start(seed)) != NULL;
#endif
    XXH3_state_t *s = XXH3_createState();
    if (s && XXH3_64bits_reset_withSeed(s, seed) != XXH_OK) {
        XXH3_freeState(s);
        s = NULL;
    }
    h->state = s;
    return s != NULL;
}

uint64_t wqc_xxh3(const void *p, size_t n, uint64_t seed) { return wqc_xxh3_isa(p, n, seed, best()); }

int wqc_xxh3_start(wqc_xxh3_state *h, uint64_t seed) { return wqc_xxh3_start_isa(h, seed, best()); }

void wqc_xxh3_add(wqc_xxh3_state *h, const void *p, size_t n)
{
#ifdef WQC_HAVE_X86_KERNELS
    if (h->avx2) {
        wqc_xxh3_avx2_add(h->state, p, n);
        return;
    }
#endif
    XXH3_64bits_update(h->state, p, n);
}

uint64_t wqc_xxh3_end(wqc_xxh3_state *h)
{
    uint64_t r;
#ifdef WQC_HAVE_X86_KERNELS
    if (h->avx2) {
        r = wqc_xxh3_avx2_end(h->state);
        h->state = NULL;
        return r;
    }
#endif
    r = XXH3_64bits_digest(h->state);
    XXH3_freeState(h->state);
    h->state = NULL;
    return r;
}
