/* The frames a model's tensors become: quantized, given symbols, or kept. */
#include <stdlib.h>
#include <string.h>

#include "../common/trace.h"
#include "wqc/model_encode.h"
#include "wqc/stats.h"

enum { CONVERT_BLOCK = 1 << 22, ROW_BLOCK = 1 << 20 };

void wqc_frame_raw(wqc_frame *f, const wqc_tensor *t)
{
    wqc_frame_init(f, t);
    f->encoding = WQC_ENC_RAW;
    f->payload = t->data;
    f->payload_len = f->raw_len = t->nbytes;
}

static wqc_status not_converted(const wqc_tensor *t, wqc_status st, wqc_error *err)
{
    return wqc_fail(err, st, "tensor '%s': dtype %s cannot be converted to F32", t->name, wqc_dtype_name(t->dtype));
}

/* Row-wise quantizers: the floats made a block of rows at a time, so that a
 * tensor in flight holds its symbols and its blocks, not a float copy of
 * itself. With threads, a group of blocks (one a thread) is converted and
 * quantized at once; the statistics then take the group's blocks (their
 * second pass converts the blocks again, from input pages kept until then),
 * exactly the whole-tensor figures at any thread count, and the first
 * failing block (in order) is the error. */
typedef struct row_blocks {
    const wqc_model *m;
    const wqc_tensor *t;
    uint64_t rows, cols, per;
    float *w;                    /* per x cols floats a block of the group */
} row_blocks;

static const unsigned char *block_input(const row_blocks *b, uint64_t r0) { return b->t->data + r0 * b->cols * wqc_dtype_size(b->t->dtype); }

static uint64_t block_end(const row_blocks *b, uint64_t r0) { return b->rows - r0 < b->per ? b->rows : r0 + b->per; }

static wqc_status quantize_by_rows(const wqc_model *m, size_t i, uint64_t rows, uint64_t cols, int threads, wqc_frame *f,
                                   wqc_tensor_stats *stats, wqc_error *err)
{
    const wqc_tensor *t = wqc_model_tensor(m, i);
    size_t size = wqc_dtype_size(t->dtype);
    row_blocks b = {m, t, rows, cols, cols < ROW_BLOCK ? ROW_BLOCK / cols : 1, NULL};
    uint64_t nblocks = (rows + b.per - 1) / b.per, group = threads > 1 ? (uint64_t)threads : 1;
    if (group > nblocks) group = nblocks;
    b.w = malloc((size_t)(group * b.per * cols) * sizeof *b.w);
    wqc_status *status = calloc((size_t)group, sizeof *status);
    wqc_error *errs = calloc((size_t)group, sizeof *errs);
    wqc_status st = b.w && status && errs ? wqc_quantized_alloc(rows, cols, &f->quant, t->name, &f->q, err)
                                          : wqc_fail(err, WQC_ERR_NOMEM, "out of memory for tensor '%s'", t->name);
    wqc_stats_stream s = {.threads = threads};
    for (int pass = 1; pass <= (stats ? 2 : 1); pass++) {
        for (uint64_t g0 = 0; st == WQC_OK && g0 < nblocks; g0 += group) {
            uint64_t gn = nblocks - g0 < group ? nblocks - g0 : group;
            WQC_TRACE(pass == 1 ? "quantize rows" : "convert rows", g0 * b.per);
#ifdef _OPENMP
#pragma omp parallel for schedule(static, 1) num_threads((int)gn) if (gn > 1)
#endif
            for (uint64_t j = 0; j < gn; j++) {
                uint64_t r0 = (g0 + j) * b.per, r1 = block_end(&b, r0), n = (r1 - r0) * cols;
                float *w = b.w + j * b.per * cols;
                status[j] = wqc_convert_to_f32(t->dtype, block_input(&b, r0), (size_t)n, w);
                if (status[j] != WQC_OK) status[j] = not_converted(t, status[j], &errs[j]);
                /* Input pages go once no pass needs them. */
                if (pass == (stats ? 2 : 1)) wqc_model_release_data(m, block_input(&b, r0), n * size);
                if (status[j] == WQC_OK && pass == 1)
                    status[j] = wqc_quantize_rows(w, r0, r1, &f->quant, t->name, &f->q, &errs[j]);
            }
            for (uint64_t j = 0; st == WQC_OK && j < gn; j++) {
                if (status[j] != WQC_OK) {
                    st = status[j];
                    if (err) *err = errs[j];
                }
            }
            WQC_TRACE("statistics", g0 * b.per);
            /* The group's blocks lie one after another in b.w. */
            uint64_t r0 = g0 * b.per, r1 = block_end(&b, (g0 + gn - 1) * b.per);
            if (st == WQC_OK && stats && pass == 1) {
                wqc_stats_stream_first(&s, b.w, (size_t)((r1 - r0) * cols));
                wqc_stats_stream_quantized(&s, b.w, &f->q, r0, r1);
            } else if (st == WQC_OK && stats) {
                wqc_stats_stream_second(&s, b.w, (size_t)((r1 - r0) * cols));
            }
        }
    }
    if (st == WQC_OK && stats) wqc_stats_stream_end(&s, stats);
    wqc_model_release(m, i);
    free(b.w);
    free(status);
    free(errs);
    if (st != WQC_OK) wqc_quantized_free(&f->q);
    else f->quant.bits = f->q.bits;
    return st;
}

uint64_t wqc_frame_quantize_bytes(const wqc_tensor *t, const wqc_quant_params *p)
{
    if (wqc_quantize_by_rows(p)) return 2 * t->nelem + t->nbytes + ROW_BLOCK * sizeof(float);
    return 5 * t->nelem + t->nbytes;
}

wqc_status wqc_frame_quantize(const wqc_model *m, size_t i, const wqc_quant_params *p, int threads, wqc_frame *f,
                              wqc_tensor_stats *stats, wqc_error *err)
{
    const wqc_tensor *t = wqc_model_tensor(m, i);
    wqc_frame_init(f, t);
    f->encoding = WQC_ENC_RANS;
    f->quantized = 1;
    f->quant = *p;
    f->raw_len = t->nelem;
    uint64_t rows, cols;
    wqc_tensor_matrix(t, &rows, &cols);
    if (wqc_quantize_by_rows(p) && rows && cols) return quantize_by_rows(m, i, rows, cols, threads, f, stats, err);
    float *w = malloc(t->nelem ? (size_t)t->nelem * sizeof *w : 1);
    if (!w) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory for tensor '%s'", t->name);
    /* Converted a block at a time, each block's input pages released once
     * read: the input and its floats are never resident together. */
    size_t size = wqc_dtype_size(t->dtype);
    wqc_status st = WQC_OK;
    for (uint64_t at = 0; st == WQC_OK && at < t->nelem; at += CONVERT_BLOCK) {
        size_t n = t->nelem - at < CONVERT_BLOCK ? (size_t)(t->nelem - at) : CONVERT_BLOCK;
        st = wqc_convert_to_f32(t->dtype, t->data + at * size, n, w + at);
        wqc_model_release_data(m, t->data + at * size, (uint64_t)n * size);
    }
    wqc_model_release(m, i);
    if (st != WQC_OK) {
        free(w);
        return not_converted(t, st, err);
    }
    st = wqc_quantize(w, rows, cols, p, t->name, &f->q, err);
    if (st == WQC_OK && stats) {
        wqc_stats_floats(w, t->nelem, stats);
        wqc_stats_quantization(w, &f->q, stats);
    }
    free(w);
    if (st == WQC_OK) f->quant.bits = f->q.bits;
    return st;
}

wqc_status wqc_frame_given(const wqc_tensor *t, wqc_frame *f, wqc_error *err)
{
    wqc_frame_init(f, t);
    f->encoding = WQC_ENC_RANS;
    f->quantized = 1;
    f->raw_len = t->nelem;
    f->quant.method = WQC_QUANT_GIVEN;
    f->quant.granularity = WQC_GRAN_TENSOR;
    wqc_tensor_matrix(t, &f->q.rows, &f->q.cols);
    f->q.ngroups = 1;
    f->q.group_len = f->q.cols;
    f->q.scale = malloc(sizeof(float));
    f->q.offset = malloc(sizeof(float));
    if (!f->q.scale || !f->q.offset) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    /* Separate loops per dtype, through local pointers, so that the
     * compiler vectorises them. */
    int lo = 0, hi = 0;
    if (t->dtype == WQC_DTYPE_I8) {
        const int8_t *v = (const int8_t *)t->data;
        int8_t mn = INT8_MAX, mx = INT8_MIN;
        for (uint64_t i = 0; i < t->nelem; i++) {
            mn = v[i] < mn ? v[i] : mn;
            mx = v[i] > mx ? v[i] : mx;
        }
        if (t->nelem) lo = mn, hi = mx;
    } else {
        const uint8_t *v = t->data;
        uint8_t mn = UINT8_MAX, mx = 0;
        for (uint64_t i = 0; i < t->nelem; i++) {
            mn = v[i] < mn ? v[i] : mn;
            mx = v[i] > mx ? v[i] : mx;
        }
        if (t->nelem) lo = mn, hi = mx;
    }
    if (t->dtype == WQC_DTYPE_U8 && lo == 0) {
        /* The values are the symbols: use the input's bytes, no copy. */
        f->q.symbols = (uint8_t *)t->data;
    } else {
        uint8_t *sym = f->q.symbols = malloc(t->nelem ? (size_t)t->nelem : 1);
        if (!sym) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        const uint8_t *v = t->data;
        uint8_t base = (uint8_t)lo;
        for (uint64_t i = 0; i < t->nelem; i++) sym[i] = (uint8_t)(v[i] - base);
    }
    f->q.alphabet = (uint32_t)(hi - lo + 1);
    f->q.bits = 1;
    while ((1u << f->q.bits) < f->q.alphabet) f->q.bits++;
    f->quant.bits = f->q.bits;
    f->q.scale[0] = 1.0f;
    f->q.offset[0] = (float)lo;
    return WQC_OK;
}

void wqc_frame_release(wqc_frame *f) { wqc_quantized_free(&f->q); }
