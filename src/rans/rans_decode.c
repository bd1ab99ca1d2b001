/* Chunk decoding: the scalar reference decoder, and the driver that hands
 * whole rounds to a SIMD kernel, then finishes and checks the stream itself
 * so that every ISA reaches the same verdict on a bad stream. */
#include <string.h>

#include "decode_kernel.h"
#include "wqc/dtype.h"

static uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t wqc_rans_output_bytes(wqc_rans_form form, uint64_t n)
{
    switch (form) {
    case WQC_FORM_NIBBLES: return (n + 1) / 2;
    case WQC_FORM_F32: return 4 * n;
    case WQC_FORM_F16:
    case WQC_FORM_BF16: return 2 * n;
    case WQC_FORM_DOT: return 0;
    default: return n;
    }
}

static inline void emit(rans_kernel_ctx *k, wqc_rans_form form, uint64_t pos, uint32_t s)
{
    uint8_t *dst = k->out->dst;
    uint64_t at = pos - k->out->first;
    if (form == WQC_FORM_SYMBOLS) {
        dst[at] = (uint8_t)(s + k->out->add);
    } else if (form == WQC_FORM_NIBBLES) {
        uint8_t *b = dst + at / 2;
        /* Elements come in order: the even one starts the byte, so a lone
         * last element leaves a zero high nibble. */
        *b = pos & 1 ? (uint8_t)((*b & 0x0f) | s << 4) : (uint8_t)s;
    } else if (form == WQC_FORM_DOT) {
        rans_dot_add(&k->dot, pos, s);
    } else {
        rans_group_reach(&k->groups, pos);
        float v = rans_dequant(&k->groups, s);
        if (form == WQC_FORM_F32) {
            memcpy(dst + 4 * at, &v, 4);
        } else {
            uint16_t h = form == WQC_FORM_F16 ? wqc_f32_to_f16(v) : wqc_f32_to_bf16(v);
            memcpy(dst + 2 * at, &h, 2);
        }
    }
}

/* One lane's step without renormalisation; returns the symbol. `base` is
 * the first slot of the element's table (0 without a context). */
static inline uint32_t step(const wqc_rans_dtable *d, uint32_t mask, size_t base, uint32_t *x)
{
    size_t slot = base + (*x & mask);
    uint32_t e = d->entry[slot];
    *x = (e & 0xffff) * (*x >> d->precision) + (e >> 16);
    return d->symbol[slot];
}

/* First slot of the table of element pos. */
static inline size_t table_base(rans_kernel_ctx *k, uint64_t pos)
{
    return k->d->context ? (size_t)rans_context_table(&k->context, pos) << k->d->precision : 0;
}

/* Whole rounds while every lane may read a word without running past the end. */
static inline __attribute__((always_inline)) void scalar_rounds(rans_kernel_ctx *k, wqc_rans_form form)
{
    const wqc_rans_dtable *d = k->d;
    const uint32_t mask = (1u << d->precision) - 1, lanes = k->lanes;
    const uint8_t *w = k->w;
    uint64_t pos = k->pos;
    for (; k->rounds && (size_t)(k->end - w) >= 2 * (size_t)lanes; k->rounds--) {
        for (uint32_t l = 0; l < lanes; l++) {
            uint32_t x = k->state[l];
            emit(k, form, pos + l, step(d, mask, table_base(k, pos + l), &x));
            if (x < WQC_RANS_STATE_LOW) {
                x = (x << 16) | w[0] | (uint32_t)w[1] << 8;
                w += 2;
            }
            k->state[l] = x;
        }
        pos += lanes;
    }
    k->w = w;
    k->pos = pos;
}

static void scalar_kernel(rans_kernel_ctx *k)
{
    switch (k->out->form) {
    case WQC_FORM_SYMBOLS: scalar_rounds(k, WQC_FORM_SYMBOLS); break;
    case WQC_FORM_NIBBLES: scalar_rounds(k, WQC_FORM_NIBBLES); break;
    case WQC_FORM_F32: scalar_rounds(k, WQC_FORM_F32); break;
    case WQC_FORM_F16: scalar_rounds(k, WQC_FORM_F16); break;
    case WQC_FORM_BF16: scalar_rounds(k, WQC_FORM_BF16); break;
    case WQC_FORM_DOT: scalar_rounds(k, WQC_FORM_DOT); break;
    }
}

#if defined(WQC_HAVE_X86_KERNELS)
/* Whether d's AVX-512 chunks of `lanes` take the bucket kernels. */
static int bucket_kernels(const wqc_rans_dtable *d, uint32_t lanes)
{
    return lanes == 32 && d->buckets && wqc_avx512_buckets();
}
#endif

static rans_kernel_multi_fn simd_multi_kernel(const wqc_rans_dtable *d, wqc_isa isa, uint32_t lanes)
{
#if defined(WQC_HAVE_X86_KERNELS)
    if (isa == WQC_ISA_AVX512 && lanes == 32) {
        if (bucket_kernels(d, lanes))
            return d->context ? wqc_rans_kernel_context_multi_avx512_bucket : wqc_rans_kernel_multi_avx512_bucket;
        return d->context ? wqc_rans_kernel_context_multi_avx512 : wqc_rans_kernel_multi_avx512;
    }
#endif
    (void)d, (void)isa, (void)lanes;
    return NULL;
}

static rans_kernel_fn simd_context_kernel(const wqc_rans_dtable *d, wqc_isa isa, uint32_t lanes)
{
    switch (isa) {
#if defined(WQC_HAVE_X86_KERNELS)
    case WQC_ISA_AVX512:
        if (lanes % 16) return wqc_rans_kernel_context_avx2;
        return bucket_kernels(d, lanes) ? wqc_rans_kernel_context_avx512_bucket : wqc_rans_kernel_context_avx512;
    case WQC_ISA_AVX2: return wqc_rans_kernel_context_avx2;
#endif
#if defined(WQC_HAVE_NEON_KERNELS)
    case WQC_ISA_NEON: return wqc_rans_kernel_context_neon;
#endif
    default: (void)d, (void)lanes; return NULL;
    }
}

static rans_kernel_fn simd_kernel(const wqc_rans_dtable *d, wqc_isa isa, uint32_t lanes)
{
    if (lanes % 8) return NULL;
    if (d->context) return simd_context_kernel(d, isa, lanes);
    switch (isa) {
#if defined(WQC_HAVE_X86_KERNELS)
    case WQC_ISA_AVX512:
        if (lanes % 16) return wqc_rans_kernel_avx2;
        return bucket_kernels(d, lanes) ? wqc_rans_kernel_avx512_bucket : wqc_rans_kernel_avx512;
    case WQC_ISA_AVX2: return wqc_rans_kernel_avx2;
#endif
#if defined(WQC_HAVE_NEON_KERNELS)
    case WQC_ISA_NEON: return wqc_rans_kernel_neon;
#endif
    default: return NULL;
    }
}

/* A chunk being decoded: the kernel context and the lane states it points at. */
typedef struct chunk_job {
    rans_kernel_ctx k;
    uint32_t state[WQC_RANS_LANES_MAX];
    uint64_t pos;                   /* first element of the chunk */
    size_t n;
    wqc_isa isa;
} chunk_job;

/* Checks the arguments and the initial states and sets up j. */
static wqc_status chunk_begin(chunk_job *j, const wqc_rans_dtable *d, uint32_t lanes, const uint8_t *in,
                              size_t len, const wqc_rans_output *out, uint64_t pos, size_t n, wqc_isa isa,
                              wqc_error *err)
{
    if (!wqc_rans_lanes_valid(lanes))
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "lanes must be 1, 2, 4 or a multiple of 8 up to %d, got %u",
                        WQC_RANS_LANES_MAX, lanes);
    if (!wqc_isa_available(isa))
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "no %s decoder on this CPU or build", wqc_isa_name(isa));
    if (out->form == WQC_FORM_NIBBLES && d->alphabet > 16)
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "nibble output needs at most 16 symbols, the table has %u",
                        d->alphabet);
    int dequant = out->form == WQC_FORM_F32 || out->form == WQC_FORM_F16 || out->form == WQC_FORM_BF16;
    if (dequant && (!out->groups || out->groups->ngroups == 0))
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "dequantized output needs scales and offsets");
    if (out->form == WQC_FORM_DOT && (!out->x || out->rows * out->cols < pos + n))
        return wqc_fail(err, WQC_ERR_INVALID_ARG, "a product needs x and a matrix holding the chunk");
    if (len < 4 * (size_t)lanes)
        return wqc_fail(err, WQC_ERR_FORMAT, "rANS chunk of %zu bytes is shorter than its %u states",
                        len, lanes);
    for (uint32_t l = 0; l < lanes; l++) {
        j->state[l] = load_le32(in + 4 * l);
        if (j->state[l] < WQC_RANS_STATE_LOW)
            return wqc_fail(err, WQC_ERR_FORMAT, "rANS lane %u starts in an invalid state", l);
    }
    j->k = (rans_kernel_ctx){.d = d, .lanes = lanes, .state = j->state, .w = in + 4 * (size_t)lanes,
                             .end = in + len, .pos = pos, .rounds = n / lanes, .out = out};
    if (dequant) rans_group_seek(&j->k.groups, out->groups, pos);
    if (out->form == WQC_FORM_DOT) rans_dot_seek(&j->k.dot, out, lanes, pos);
    if (d->context) rans_context_seek(&j->k.context, d->context, pos);
    j->pos = pos;
    j->n = n;
    j->isa = isa;
    return WQC_OK;
}

/* SIMD kernels store whole bytes of nibbles, so they start on an even element. */
static int simd_allowed(const chunk_job *j)
{
    return !(j->k.out->form == WQC_FORM_NIBBLES && ((j->k.pos | j->k.out->first) & 1));
}

/* Decodes what is left of j and checks the end of the stream. */
static wqc_status chunk_finish(chunk_job *j, wqc_error *err)
{
    rans_kernel_ctx *k = &j->k;
    rans_kernel_fn simd = simd_kernel(k->d, j->isa, k->lanes);
    if (simd && simd_allowed(j)) k->rounds -= simd(k);
    scalar_kernel(k);
    /* The last partial round, and rounds near the end of a damaged stream. */
    const wqc_rans_dtable *d = k->d;
    const uint32_t mask = (1u << d->precision) - 1, lanes = k->lanes;
    for (uint64_t i = k->pos - j->pos; i < j->n; i++) {
        uint32_t l = (uint32_t)(i % lanes), x = j->state[l];
        emit(k, k->out->form, j->pos + i, step(d, mask, table_base(k, j->pos + i), &x));
        if (x < WQC_RANS_STATE_LOW) {
            if (k->end - k->w < 2)
                return wqc_fail(err, WQC_ERR_FORMAT, "rANS stream ends early at symbol %llu",
                                (unsigned long long)i);
            x = (x << 16) | k->w[0] | (uint32_t)k->w[1] << 8;
            k->w += 2;
        }
        j->state[l] = x;
    }
    if (k->w != k->end)
        return wqc_fail(err, WQC_ERR_FORMAT, "rANS stream has %zu bytes left after the last symbol",
                        (size_t)(k->end - k->w));
    for (uint32_t l = 0; l < lanes; l++)
        if (j->state[l] != WQC_RANS_STATE_LOW)
            return wqc_fail(err, WQC_ERR_FORMAT, "rANS lane %u does not end in the initial state", l);
    return WQC_OK;
}

wqc_status wqc_rans_decode_chunk_to(const wqc_rans_dtable *d, uint32_t lanes, const uint8_t *in,
                                    size_t len, const wqc_rans_output *out, uint64_t pos,
                                    size_t n, wqc_isa isa, wqc_error *err)
{
    chunk_job j;
    wqc_status st = chunk_begin(&j, d, lanes, in, len, out, pos, n, isa, err);
    return st == WQC_OK ? chunk_finish(&j, err) : st;
}

wqc_status wqc_rans_decode_chunks_to(const wqc_rans_dtable *d, uint32_t lanes, int nk, const uint8_t *const *in,
                                     const size_t *len, const wqc_rans_output *out, const uint64_t *pos,
                                     const size_t *n, wqc_isa isa, wqc_status *st, wqc_error *err)
{
    chunk_job j[RANS_MULTI_MAX];
    rans_kernel_ctx *k[RANS_MULTI_MAX];
    int ready = 1;
    for (int c = 0; c < nk; c++) {
        st[c] = chunk_begin(&j[c], d, lanes, in[c], len[c], out, pos[c], n[c], isa, &err[c]);
        ready &= st[c] == WQC_OK && simd_allowed(&j[c]);
        k[c] = &j[c].k;
    }
    rans_kernel_multi_fn multi = simd_multi_kernel(d, isa, lanes);
    if (multi && ready && nk > 1) {
        size_t r = multi(k, nk);
        for (int c = 0; c < nk; c++) j[c].k.rounds -= r;
    }
    wqc_status first = WQC_OK;
    for (int c = 0; c < nk; c++) {
        if (st[c] == WQC_OK) st[c] = chunk_finish(&j[c], &err[c]);
        if (first == WQC_OK) first = st[c];
    }
    return first;
}

wqc_status wqc_rans_decode_chunk(const wqc_rans_dtable *d, uint32_t lanes, const uint8_t *in,
                                 size_t len, uint8_t *sym, size_t n, wqc_error *err)
{
    wqc_rans_output out = {.form = WQC_FORM_SYMBOLS, .dst = sym};
    return wqc_rans_decode_chunk_to(d, lanes, in, len, &out, 0, n, WQC_ISA_SCALAR, err);
}
