/* The forward pass over all positions of one sequence at once: the weight
 * matrices are read once per sequence (a matrix-matrix product), attention
 * is causal over the sequence itself. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"

int llama_batch_alloc(llama_batch *b, const llama_config *c, int cap)
{
    memset(b, 0, sizeof *b);
    size_t n = (size_t)cap, kv_dim = (size_t)c->dim / c->heads * c->kv_heads, half = (size_t)c->dim / c->heads / 2;
    size_t wide = (size_t)(c->hidden > c->dim ? c->hidden : c->dim);
    b->cap = cap;
    b->x = malloc(n * c->dim * sizeof(float));
    b->xb = malloc(n * c->dim * sizeof(float));
    b->xb2 = malloc(n * c->dim * sizeof(float));
    b->q = malloc(n * c->dim * sizeof(float));
    b->k = malloc(n * kv_dim * sizeof(float));
    b->v = malloc(n * kv_dim * sizeof(float));
    b->hb = malloc(n * c->hidden * sizeof(float));
    b->hb2 = malloc(n * c->hidden * sizeof(float));
    b->att = malloc(n * sizeof(float));
    b->row = malloc((wide + 32) * sizeof(float));
    b->logits = malloc(n * c->vocab * sizeof(float));
    b->rope_cos = malloc(n * half * sizeof(float) + 1);
    b->rope_sin = malloc(n * half * sizeof(float) + 1);
    b->xq = malloc(((wide + 31) / 32 + 1) * sizeof(wqc_q8_block));
    int ok = b->x && b->xb && b->xb2 && b->q && b->k && b->v && b->hb && b->hb2 && b->att && b->row && b->logits &&
             b->rope_cos && b->rope_sin && b->xq;
    for (int t = 0; ok && t < cap; t++) llama_rope_table(c, t, b->rope_cos + t * half, b->rope_sin + t * half);
    if (!ok) llama_batch_free(b);
    return ok;
}

void llama_batch_free(llama_batch *b)
{
    free(b->x), free(b->xb), free(b->xb2), free(b->q), free(b->k), free(b->v), free(b->hb), free(b->hb2);
    free(b->att), free(b->row), free(b->logits), free(b->rope_cos), free(b->rope_sin), free(b->xq);
    memset(b, 0, sizeof *b);
}

/* Eight float lanes (GCC/Clang vector extension: AVX registers where the
 * clone below runs, pairs of SSE or NEON registers elsewhere). */
typedef float v8 __attribute__((vector_size(32)));

/* No v8 in a signature: the default clone passes no AVX registers. */
#define LOAD8(v, p) memcpy(&(v), (p), sizeof(v8))

/* The dot product both tile shapes compute, in one summation order: eight
 * lanes over the first cols / 8 * 8 columns, the lanes added in order, then
 * the tail. */
static inline float finish(const v8 *acc, const float *w, const float *x, uint64_t c8, uint64_t cols)
{
    float s = 0.0f;
    for (int i = 0; i < 8; i++) s += (*acc)[i];
    for (uint64_t c = c8; c < cols; c++) s += w[c] * x[c];
    return s;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define KERNEL_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define KERNEL_CLONES
#endif

/* In tiles of 4 rows x 4 positions: each weight row is loaded once per 4
 * positions. */
KERNEL_CLONES void llama_gemm(const float *X, int n, const float *W, uint64_t rows, uint64_t cols, float *Y)
{
    uint64_t c8 = cols / 8 * 8;
    for (uint64_t r0 = 0; r0 < rows; r0 += 4) {
        const float *w0 = W + r0 * cols;
        for (int t0 = 0; t0 < n; t0 += 4) {
            const float *x0 = X + (size_t)t0 * cols;
            if (r0 + 4 <= rows && t0 + 4 <= n) {
                v8 acc[4][4] = {{{0}}};
                for (uint64_t c = 0; c < c8; c += 8) {
                    v8 w[4], x[4];
                    for (int i = 0; i < 4; i++) LOAD8(w[i], w0 + i * cols + c), LOAD8(x[i], x0 + i * cols + c);
                    for (int i = 0; i < 4; i++)
                        for (int t = 0; t < 4; t++) acc[i][t] += w[i] * x[t];
                }
                for (int i = 0; i < 4; i++)
                    for (int t = 0; t < 4; t++)
                        Y[(size_t)(t0 + t) * rows + r0 + i] = finish(&acc[i][t], w0 + i * cols, x0 + t * cols, c8, cols);
                continue;
            }
            for (uint64_t r = r0; r < rows && r < r0 + 4; r++)
                for (int t = t0; t < n && t < t0 + 4; t++) {
                    const float *w = W + r * cols, *x = X + (size_t)t * cols;
                    v8 acc = {0}, wv, xv;
                    for (uint64_t c = 0; c < c8; c += 8) LOAD8(wv, w + c), LOAD8(xv, x + c), acc += wv * xv;
                    Y[(size_t)t * rows + r] = finish(&acc, w, x, c8, cols);
                }
        }
    }
}

/* Y = X W^T for n positions, whichever way W is held. */
static void linear(const llama_model *m, llama_batch *b, const llama_linear *l, const float *X, int n, float *Y)
{
    if (l->path == PATH_F32) {
        llama_gemm(X, n, l->w, l->rows, l->cols, Y);
        return;
    }
    for (int t = 0; t < n; t++) {
        memcpy(b->row, X + (size_t)t * l->cols, (size_t)l->cols * sizeof(float));
        llama_linear_apply(m, l, b->row, Y + (size_t)t * l->rows, b->xq);
    }
}

void llama_forward_batch(const llama_model *m, llama_batch *b, const int *tokens, int n)
{
    const llama_config *c = &m->c;
    int dim = c->dim, hs = dim / c->heads, half = hs / 2, kv_dim = hs * c->kv_heads, group = c->heads / c->kv_heads;
    float inv_sqrt = 1.0f / sqrtf((float)hs);
    for (int t = 0; t < n; t++) memcpy(b->x + (size_t)t * dim, m->embed + (size_t)tokens[t] * dim, (size_t)dim * sizeof(float));
    for (int l = 0; l < c->layers; l++) {
        const llama_layer *L = &m->layer[l];
        for (int t = 0; t < n; t++) llama_rmsnorm(b->xb + (size_t)t * dim, b->x + (size_t)t * dim, L->attn_norm, dim, c->norm_eps);
        linear(m, b, &L->q, b->xb, n, b->q);
        linear(m, b, &L->k, b->xb, n, b->k);
        linear(m, b, &L->v, b->xb, n, b->v);
        for (int t = 0; t < n; t++) {
            const float *cs = b->rope_cos + (size_t)t * half, *sn = b->rope_sin + (size_t)t * half;
            for (int h = 0; h < c->heads; h++) llama_rotate(b->q + (size_t)t * dim + h * hs, hs, cs, sn, c->rope);
            for (int h = 0; h < c->kv_heads; h++) llama_rotate(b->k + (size_t)t * kv_dim + h * hs, hs, cs, sn, c->rope);
        }
        for (int t = 0; t < n; t++)
            for (int h = 0; h < c->heads; h++) {
                const float *q = b->q + (size_t)t * dim + h * hs;
                for (int u = 0; u <= t; u++) {
                    const float *ku = b->k + (size_t)u * kv_dim + (h / group) * hs;
                    float score = 0.0f;
                    for (int i = 0; i < hs; i++) score += q[i] * ku[i];
                    b->att[u] = score * inv_sqrt;
                }
                llama_softmax(b->att, t + 1);
                float *out = b->xb2 + (size_t)t * dim + h * hs;
                memset(out, 0, (size_t)hs * sizeof(float));
                for (int u = 0; u <= t; u++) {
                    const float *vu = b->v + (size_t)u * kv_dim + (h / group) * hs;
                    for (int i = 0; i < hs; i++) out[i] += b->att[u] * vu[i];
                }
            }
        linear(m, b, &L->o, b->xb2, n, b->xb);
        for (size_t i = 0; i < (size_t)n * dim; i++) b->x[i] += b->xb[i];
        for (int t = 0; t < n; t++) llama_rmsnorm(b->xb + (size_t)t * dim, b->x + (size_t)t * dim, L->ffn_norm, dim, c->norm_eps);
        linear(m, b, &L->gate, b->xb, n, b->hb);
        linear(m, b, &L->up, b->xb, n, b->hb2);
        for (size_t i = 0; i < (size_t)n * c->hidden; i++) {
            float g = b->hb[i];
            b->hb[i] = g / (1.0f + expf(-g)) * b->hb2[i];
        }
        linear(m, b, &L->down, b->hb, n, b->xb);
        for (size_t i = 0; i < (size_t)n * dim; i++) b->x[i] += b->xb[i];
    }
    for (int t = 0; t < n; t++) llama_rmsnorm(b->xb + (size_t)t * dim, b->x + (size_t)t * dim, m->final_norm, dim, c->norm_eps);
    linear(m, b, &m->out, b->xb, n, b->logits);
}
