/* NEON kernel: 4 lanes per vector, two vectors (8 lanes) per step. NEON has
 * no gather, so each lane's table entry is a scalar load; the state update,
 * renormalisation (a byte shuffle chosen from the 4-bit lane mask) and the
 * output are vector operations. */
#include <arm_neon.h>
#include <string.h>

#include "decode_kernel.h"

enum { V = 4 };

/* For each 4-bit mask of lanes that read a word: the byte shuffle that
 * moves word number rank(l) into lane l (index 0xff gives 0). */
static uint8_t expand_shuffle[16][16];

/* Filled before main: the kernels only read it. */
__attribute__((constructor)) static void init_expand_shuffle(void)
{
    for (int m = 0; m < 16; m++) {
        int rank = 0;
        for (int l = 0; l < V; l++) {
            uint8_t *b = expand_shuffle[m] + 4 * l;
            if (m >> l & 1) {
                b[0] = (uint8_t)(2 * rank), b[1] = (uint8_t)(2 * rank + 1);
                rank++;
            } else {
                b[0] = b[1] = 0xff;
            }
            b[2] = b[3] = 0xff;
        }
    }
}

static inline __attribute__((always_inline)) uint32x4_t lookup(const uint32_t *table, uint32x4_t slot)
{
    uint32_t e[V] = {table[vgetq_lane_u32(slot, 0)], table[vgetq_lane_u32(slot, 1)],
                     table[vgetq_lane_u32(slot, 2)], table[vgetq_lane_u32(slot, 3)]};
    return vld1q_u32(e);
}

static inline __attribute__((always_inline)) uint32x4_t lookup_symbol(const uint8_t *table, uint32x4_t slot)
{
    uint32_t s[V] = {table[vgetq_lane_u32(slot, 0)], table[vgetq_lane_u32(slot, 1)],
                     table[vgetq_lane_u32(slot, 2)], table[vgetq_lane_u32(slot, 3)]};
    return vld1q_u32(s);
}

/* Decodes one vector of lanes, each lane's table starting at slot base (0
 * without a context); returns its symbols and advances *w. */
static inline __attribute__((always_inline)) uint32x4_t step(const wqc_rans_dtable *d, uint32_t *state,
                                                             const uint8_t **w, int packed, uint32x4_t base)
{
    const int32x4_t shift = vdupq_n_s32(-d->precision);
    uint32x4_t x = vld1q_u32(state);
    uint32x4_t slot = vaddq_u32(vandq_u32(x, vdupq_n_u32((1u << d->precision) - 1)), base), f, b, s;
    if (packed) {
        uint32x4_t e = lookup(d->packed, slot);
        f = vandq_u32(e, vdupq_n_u32(RANS_PACKED_FIELD));
        b = vandq_u32(vshrq_n_u32(e, 14), vdupq_n_u32(RANS_PACKED_FIELD));
        s = vshrq_n_u32(e, 28);
    } else {
        uint32x4_t e = lookup(d->entry, slot);
        f = vandq_u32(e, vdupq_n_u32(0xffff));
        b = vshrq_n_u32(e, 16);
        s = lookup_symbol(d->symbol, slot);
    }
    x = vaddq_u32(vmulq_u32(f, vshlq_u32(x, shift)), b);
    uint32x4_t need = vcltq_u32(x, vdupq_n_u32(WQC_RANS_STATE_LOW));
    const uint32x4_t bit = {1, 2, 4, 8};
    uint32_t m = vaddvq_u32(vandq_u32(need, bit));
    uint8x16_t raw = vcombine_u8(vld1_u8(*w), vdup_n_u8(0));
    uint32x4_t words = vreinterpretq_u32_u8(vqtbl1q_u8(raw, vld1q_u8(expand_shuffle[m])));
    x = vbslq_u32(need, vorrq_u32(vshlq_n_u32(x, 16), words), x);
    *w += 2 * (size_t)__builtin_popcount(m);
    vst1q_u32(state, x);
    return s;
}

static inline __attribute__((always_inline)) float32x4_t dequant(rans_group_cursor *c, uint64_t pos, uint32x4_t s)
{
    float scale[V], offset[V];
    rans_group_reach(c, pos);
    if (pos + V <= c->end) {
        for (int l = 0; l < V; l++) scale[l] = c->scale, offset[l] = c->offset;
    } else {
        rans_group_lanes(c, pos, V, scale, offset);
    }
    /* Separate multiply and add (no fused vmla): the same rounding as C. */
    return vaddq_f32(vld1q_f32(offset), vmulq_f32(vld1q_f32(scale), vcvtq_f32_u32(s)));
}

/* acc[row] = fma(q, x[col], acc[row]) for the 4 elements at pos. */
static inline __attribute__((always_inline)) void dot(rans_dot_cursor *c, uint64_t pos, uint32x4_t s)
{
    if (rans_dot_whole(c, pos, V)) {
        rans_dot_reach(c, pos);
        float *a = rans_dot_acc(c, pos);
        vst1q_f32(a, vfmaq_n_f32(vld1q_f32(a), vcvtq_f32_u32(s), c->xj));
    } else {
        uint32_t q[V];
        vst1q_u32(q, s);
        for (int l = 0; l < V; l++) rans_dot_add(c, pos + (uint64_t)l, q[l]);
    }
}

/* Rounds to nearest even on the 16 dropped bits (the values are finite). */
static inline __attribute__((always_inline)) uint16x4_t bf16_round(float32x4_t v)
{
    uint32x4_t u = vreinterpretq_u32_f32(v);
    u = vaddq_u32(u, vaddq_u32(vdupq_n_u32(0x7fff), vandq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(1))));
    return vshrn_n_u32(u, 16);
}

/* Stores the 8 symbols s0 (elements pos..pos+3) and s1 (pos+4..pos+7). */
static inline __attribute__((always_inline)) void store(rans_kernel_ctx *k, wqc_rans_form form, uint64_t pos,
                                                        uint32x4_t s0, uint32x4_t s1)
{
    uint8_t *dst = k->out->dst;
    uint64_t at = pos - k->out->first;
    uint8x8_t bytes = vmovn_u16(vcombine_u16(vmovn_u32(s0), vmovn_u32(s1)));
    switch (form) {
    case WQC_FORM_SYMBOLS:
        vst1_u8(dst + at, vadd_u8(bytes, vdup_n_u8(k->out->add)));
        break;
    case WQC_FORM_NIBBLES: {
        uint16x4_t pairs = vreinterpret_u16_u8(bytes);
        uint16x4_t packed = vorr_u16(pairs, vshr_n_u16(pairs, 4));
        uint8x8_t out = vmovn_u16(vcombine_u16(packed, vdup_n_u16(0)));
        uint32_t four = vget_lane_u32(vreinterpret_u32_u8(out), 0);
        memcpy(dst + at / 2, &four, 4);
        break;
    }
    case WQC_FORM_F32:
        vst1q_f32((float *)(dst + 4 * at), dequant(&k->groups, pos, s0));
        vst1q_f32((float *)(dst + 4 * (at + V)), dequant(&k->groups, pos + V, s1));
        break;
    case WQC_FORM_F16:
        vst1_f16((float16_t *)(dst + 2 * at), vcvt_f16_f32(dequant(&k->groups, pos, s0)));
        vst1_f16((float16_t *)(dst + 2 * (at + V)), vcvt_f16_f32(dequant(&k->groups, pos + V, s1)));
        break;
    case WQC_FORM_BF16:
        vst1_u16((uint16_t *)(dst + 2 * at), bf16_round(dequant(&k->groups, pos, s0)));
        vst1_u16((uint16_t *)(dst + 2 * (at + V)), bf16_round(dequant(&k->groups, pos + V, s1)));
        break;
    case WQC_FORM_DOT:
        dot(&k->dot, pos, s0);
        dot(&k->dot, pos + V, s1);
        break;
    }
}

/* The first slot of each lane's table for the vector at pos (a context). */
static inline __attribute__((always_inline)) uint32x4_t lane_bases(rans_kernel_ctx *k, uint64_t pos)
{
    uint32_t t, bin, lane_table[V];
    const int8_t *shift;
    if (rans_context_uniform(&k->context, pos, V, &t)) return vdupq_n_u32(t << k->d->precision);
    /* Column shifts with precomputed bases: the vector's 4, loaded. */
    if (k->d->shift_base && rans_context_shift_span(&k->context, pos, V, &bin, &shift))
        return vld1q_u32(rans_shift_bases(k->d, bin, shift));
    rans_context_lanes(&k->context, pos, V, lane_table);
    return vshlq_u32(vld1q_u32(lane_table), vdupq_n_s32(k->d->precision));
}

static inline __attribute__((always_inline)) size_t rounds(rans_kernel_ctx *k, wqc_rans_form form, int packed,
                                                           int context)
{
    const uint8_t *w = k->w;
    uint64_t pos = k->pos;
    size_t r = 0;
    const uint32x4_t none = vdupq_n_u32(0);
    for (; r < k->rounds && (size_t)(k->end - w) >= 2 * (size_t)k->lanes; r++) {
        for (uint32_t l = 0; l < k->lanes; l += 2 * V) {
            uint32x4_t s0 = step(k->d, k->state + l, &w, packed, context ? lane_bases(k, pos) : none);
            uint32x4_t s1 = step(k->d, k->state + l + V, &w, packed, context ? lane_bases(k, pos + V) : none);
            store(k, form, pos, s0, s1);
            pos += 2 * V;
        }
    }
    k->w = w;
    k->pos = pos;
    return r;
}

static inline __attribute__((always_inline)) size_t by_table(rans_kernel_ctx *k, wqc_rans_form form, int context)
{
    return k->d->packed ? rounds(k, form, 1, context) : rounds(k, form, 0, context);
}

static size_t kernel(rans_kernel_ctx *k, int context)
{
    switch (k->out->form) {
    case WQC_FORM_SYMBOLS: return context ? by_table(k, WQC_FORM_SYMBOLS, 1) : by_table(k, WQC_FORM_SYMBOLS, 0);
    case WQC_FORM_NIBBLES: return context ? by_table(k, WQC_FORM_NIBBLES, 1) : by_table(k, WQC_FORM_NIBBLES, 0);
    case WQC_FORM_F32: return context ? by_table(k, WQC_FORM_F32, 1) : by_table(k, WQC_FORM_F32, 0);
    case WQC_FORM_F16: return context ? by_table(k, WQC_FORM_F16, 1) : by_table(k, WQC_FORM_F16, 0);
    case WQC_FORM_BF16: return context ? by_table(k, WQC_FORM_BF16, 1) : by_table(k, WQC_FORM_BF16, 0);
    case WQC_FORM_DOT: return context ? by_table(k, WQC_FORM_DOT, 1) : by_table(k, WQC_FORM_DOT, 0);
    }
    return 0;
}

size_t wqc_rans_kernel_neon(rans_kernel_ctx *k) { return kernel(k, 0); }

size_t wqc_rans_kernel_context_neon(rans_kernel_ctx *k) { return kernel(k, 1); }
