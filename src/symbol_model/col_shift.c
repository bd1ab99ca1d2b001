/* Column shifts of a zero-point model (wqc/symbol_model.h): in trained
 * matrices whole columns (input channels) sit off the row's zero point, so
 * an element's bin is its group's moved by its column's shift. */
#include <math.h>
#include <stdlib.h>

#include "../common/threads.h"
#include "col_shift_field.h"
#include "../side/range_coder.h"

/* Columns c0..c1-1 over every row: each column's sum in row order, as one
 * thread would add it. */
static void column_sums(const wqc_quantized *q, uint64_t c0, uint64_t c1, double *sum, uint64_t *n)
{
    uint64_t glen = q->group_len && q->ngroups > 1 ? q->group_len : q->cols;
    uint64_t per_row = glen ? (q->cols + glen - 1) / glen : 0;
    for (uint64_t r = 0; r < q->rows; r++) {
        const uint8_t *s = q->symbols + r * q->cols;
        for (uint64_t c = c0 - c0 % glen, j = c0 / glen; c < c1; c += glen, j++) {
            uint64_t g = q->ngroups == 1 ? 0 : r * per_row + j;
            double z = wqc_symbol_model_zero_point(q->scale[g], q->offset[g]);
            uint64_t start = c > c0 ? c : c0, end = c + glen < c1 ? c + glen : c1;
            if (isnan(z)) continue;
            for (uint64_t i = start; i < end; i++) sum[i] += (double)s[i] - z, n[i]++;
        }
    }
}

void wqc_symbol_model_col_shifts(const wqc_quantized *q, uint32_t resolution, int threads, int8_t *out)
{
    double *sum = calloc(q->cols ? (size_t)q->cols : 1, sizeof *sum);
    uint64_t *n = calloc(q->cols ? (size_t)q->cols : 1, sizeof *n);
    for (uint64_t c = 0; c < q->cols; c++) out[c] = 0;
    if (!sum || !n || resolution == 0) {
        free(sum), free(n);
        return;
    }
    /* Threads take column ranges (of whole 64-byte lines): every sum is
     * the same at any thread count. */
    threads = wqc_threads_for_work(threads < 1 ? 1 : threads, q->rows * q->cols);
    uint64_t lines = (q->cols + 63) / 64;
    if ((uint64_t)threads > lines) threads = lines ? (int)lines : 1;
#ifdef _OPENMP
#pragma omp parallel for schedule(static, 1) num_threads(threads) if (threads > 1)
#endif
    for (int t = 0; t < threads; t++) {
        uint64_t c0 = 64 * (lines * (uint64_t)t / (uint64_t)threads);
        uint64_t c1 = 64 * (lines * (uint64_t)(t + 1) / (uint64_t)threads);
        column_sums(q, c0, c1 < q->cols ? c1 : q->cols, sum, n);
    }
    for (uint64_t c = 0; c < q->cols; c++) {
        double shift = n[c] ? nearbyint((double)resolution * sum[c] / (double)n[c]) : 0.0;
        out[c] = (int8_t)(shift < -127.0 ? -127 : shift > 127.0 ? 127 : shift);
    }
    free(sum), free(n);
}

/* Per shift: is it non-zero (modelled on whether the previous one was),
 * then its sign and its magnitude - 1. */
typedef struct shift_models {
    wqc_rc_bit nonzero[2], sign;
    wqc_rc_uint magnitude;
} shift_models;

void wqc_col_shifts_write(const int8_t *shift, uint64_t cols, wqc_bytes *out)
{
    shift_models m = {0};
    wqc_rc_enc e;
    wqc_rc_enc_init(&e, out);
    int prev = 0;
    for (uint64_t c = 0; c < cols; c++) {
        int s = shift[c];
        wqc_rc_encode(&e, &m.nonzero[prev], s != 0);
        if (s) {
            wqc_rc_encode(&e, &m.sign, s < 0);
            wqc_rc_encode_uint(&e, &m.magnitude, (uint64_t)(s < 0 ? -s : s) - 1);
        }
        prev = s != 0;
    }
    wqc_rc_enc_finish(&e);
}

size_t wqc_col_shifts_bytes(const int8_t *shift, uint64_t cols)
{
    wqc_bytes b = {0};
    wqc_col_shifts_write(shift, cols, &b);
    size_t len = b.failed ? SIZE_MAX : b.len;
    wqc_bytes_free(&b);
    return len;
}

wqc_status wqc_col_shifts_read(const uint8_t *in, size_t len, uint64_t cols, int8_t **out, wqc_error *err)
{
    *out = NULL;
    if (cols == 0 || cols > WQC_COL_SHIFT_COLS_MAX) return wqc_fail(err, WQC_ERR_FORMAT, "bad COLUMNS field: %llu columns", (unsigned long long)cols);
    int8_t *shift = malloc((size_t)cols);
    if (!shift) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    shift_models m = {0};
    wqc_rc_dec d;
    wqc_rc_dec_init(&d, in, len);
    int prev = 0, bad = 0;
    for (uint64_t c = 0; c < cols && !bad; c++) {
        int s = 0;
        if (wqc_rc_decode(&d, &m.nonzero[prev])) {
            int negative = wqc_rc_decode(&d, &m.sign);
            uint64_t mag = wqc_rc_decode_uint(&d, &m.magnitude);
            bad = mag >= 127;
            s = bad ? 0 : negative ? -(int)(mag + 1) : (int)(mag + 1);
        }
        shift[c] = (int8_t)s;
        prev = s != 0;
        bad |= d.overrun > WQC_RC_TAIL;
    }
    if (bad) {
        free(shift);
        return wqc_fail(err, WQC_ERR_FORMAT, "bad COLUMNS field: %s", d.overrun > WQC_RC_TAIL ? "truncated" : "shift beyond 127");
    }
    *out = shift;
    return WQC_OK;
}
