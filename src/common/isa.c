/* Run-time choice of the decoder instruction set. */
#include <stdlib.h>
#include <string.h>

#include "lane_blocks.h"
#include "wqc/isa.h"

#if defined(WQC_HAVE_X86_KERNELS)
#include <cpuid.h>

/* F16C (CPUID leaf 1, ECX bit 29): asked of cpuid directly, since not every
 * compiler's __builtin_cpu_supports knows the name. */
static int has_f16c(void)
{
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c >> 29 & 1);
}
#endif

static const char *const isa_names[WQC_ISA_COUNT] = {"scalar", "avx2", "avx512", "neon"};

const char *wqc_isa_name(wqc_isa isa)
{
    return (unsigned)isa < WQC_ISA_COUNT ? isa_names[isa] : "unknown";
}

wqc_status wqc_isa_from_name(const char *name, wqc_isa *out, wqc_error *err)
{
    for (int i = 0; i < WQC_ISA_COUNT; i++) {
        if (strcmp(name, isa_names[i]) == 0) {
            *out = (wqc_isa)i;
            return WQC_OK;
        }
    }
    return wqc_fail(err, WQC_ERR_INVALID_ARG, "unknown ISA '%s' (expected scalar, avx2, avx512 or neon)",
                    name);
}

static int probe(wqc_isa isa)
{
    switch (isa) {
    case WQC_ISA_SCALAR:
        return 1;
#if defined(WQC_HAVE_X86_KERNELS)
    case WQC_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2") &&
               __builtin_cpu_supports("popcnt") && has_f16c();
    case WQC_ISA_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && probe(WQC_ISA_AVX2);
#endif
#if defined(WQC_HAVE_NEON_KERNELS)
    case WQC_ISA_NEON:
        return 1; /* Advanced SIMD is mandatory on AArch64. */
#endif
    default:
        return 0;
    }
}

/* Probed once per ISA: callers ask per chunk and per tensor. */
int wqc_isa_available(wqc_isa isa)
{
    static int known[WQC_ISA_COUNT]; /* 0 unknown, 1 no, 2 yes */
    if ((unsigned)isa >= WQC_ISA_COUNT) return 0;
    int k = __atomic_load_n(&known[isa], __ATOMIC_RELAXED);
    if (!k) {
        k = probe(isa) ? 2 : 1;
        __atomic_store_n(&known[isa], k, __ATOMIC_RELAXED);
    }
    return k == 2;
}

wqc_isa wqc_isa_best(void)
{
    static const wqc_isa order[] = {WQC_ISA_AVX512, WQC_ISA_AVX2, WQC_ISA_NEON};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (wqc_isa_available(order[i])) return order[i];
    return WQC_ISA_SCALAR;
}

wqc_status wqc_isa_from_env(wqc_isa *out, wqc_error *err)
{
    const char *v = getenv("WQC_ISA");
    if (!v || !*v) {
        *out = wqc_isa_best();
        return WQC_OK;
    }
    wqc_isa isa;
    wqc_error why;
    wqc_status st = wqc_isa_from_name(v, &isa, &why);
    if (st != WQC_OK) return wqc_fail(err, st, "WQC_ISA: %s", why.msg);
    if (!wqc_isa_available(isa))
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "WQC_ISA=%s: this CPU or build has no %s decoder", v,
                        v);
    *out = isa;
    return WQC_OK;
}

wqc_isa wqc_isa_active(void)
{
    static int resolved = -1;
    int r = __atomic_load_n(&resolved, __ATOMIC_ACQUIRE);
    if (r < 0) {
        wqc_isa isa;
        if (wqc_isa_from_env(&isa, NULL) != WQC_OK) isa = wqc_isa_best();
        r = (int)isa;
        __atomic_store_n(&resolved, r, __ATOMIC_RELEASE);
    }
    return (wqc_isa)r;
}

#if defined(WQC_HAVE_X86_KERNELS)
int wqc_lane_blocks_avx512(void) { return wqc_isa_active() == WQC_ISA_AVX512; }
#endif
