/* The forward pass, one token at a time with a key/value cache. */
#include "llama.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int llama_state_alloc(llama_state *s, const llama_config *c)
{
    memset(s, 0, sizeof *s);
    size_t kv_dim = (size_t)c->dim / c->heads * c->kv_heads, wide = c->hidden > c->dim ? c->hidden : c->dim;
    s->x = calloc((size_t)c->dim, sizeof(float));
    s->xb = calloc(wide + 32, sizeof(float));
    s->xb2 = calloc((size_t)c->dim + 32, sizeof(float));
    s->hb = calloc(wide + 32, sizeof(float));
    s->hb2 = calloc((size_t)c->hidden, sizeof(float));
    s->q = calloc((size_t)c->dim, sizeof(float));
    s->att = calloc((size_t)c->heads * c->seq_len, sizeof(float));
    s->logits = calloc((size_t)c->vocab, sizeof(float));
    s->key_cache = calloc((size_t)c->layers * c->seq_len * kv_dim, sizeof(float));
    s->value_cache = calloc((size_t)c->layers * c->seq_len * kv_dim, sizeof(float));
    s->xq = calloc((wide + 31) / 32 + 1, sizeof(wqc_q8_block));
    return s->x && s->xb && s->xb2 && s->hb && s->hb2 && s->q && s->att && s->logits && s->key_cache &&
           s->value_cache && s->xq;
}

void llama_state_free(llama_state *s)
{
    free(s->x), free(s->xb), free(s->xb2), free(s->hb), free(s->hb2), free(s->q), free(s->att), free(s->logits);
    free(s->key_cache), free(s->value_cache), free(s->xq);
    memset(s, 0, sizeof *s);
}

void llama_linear_apply(const llama_model *m, const llama_linear *l, float *x, float *y, wqc_q8_block *xq)
{
    switch (l->path) {
    case PATH_F32: {
        /* Rows in blocks of 4 (the kernel's tile) spread over the threads,
         * each given at least 64 Ki weights (a team costs more than a small product). */
        uint64_t most = l->rows * l->cols >> 16;
        int nt = m->threads > 1 ? m->threads : 1;
        if ((uint64_t)nt > most) nt = most ? (int)most : 1;
        uint64_t per = (l->rows + 4 * (uint64_t)nt - 1) / (4 * (uint64_t)nt) * 4;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (int i = 0; i < nt; i++) {
            uint64_t r0 = (uint64_t)i * per;
            if (r0 < l->rows) llama_gemm(x, 1, l->w + r0 * l->cols, l->rows - r0 < per ? l->rows - r0 : per, l->cols, y + r0);
        }
        break;
    }
    case PATH_Q4_0: {
        /* x is padded with zeros to the blocks' width; the callers' buffers leave room. */
        for (uint64_t c = l->cols; c < l->padded_cols; c++) x[c] = 0.0f;
        wqc_q8_quantize(x, l->padded_cols, xq);
        wqc_q4_0_gemv_q8(m->isa, l->q4, l->rows, l->padded_cols, xq, y, m->threads);
        break;
    }
    case PATH_FUSED: wqc_gemv_run(l->gemv, x, y, m->threads, m->isa, NULL); break;
    }
}

void llama_linear_free(llama_linear *l)
{
    free(l->w);
    free(l->q4);
    wqc_gemv_free(l->gemv);
    memset(l, 0, sizeof *l);
}

void llama_rmsnorm(float *out, const float *x, const float *w, int n, float eps)
{
    double ss = 0.0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float scale = (float)(1.0 / sqrt(ss / n + eps));
    for (int i = 0; i < n; i++) out[i] = w[i] * (scale * x[i]);
}

void llama_softmax(float *x, int n)
{
    float max = x[0];
    for (int i = 1; i < n; i++) max = x[i] > max ? x[i] : max;
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += x[i] = expf(x[i] - max);
    for (int i = 0; i < n; i++) x[i] = (float)(x[i] / sum);
}

void llama_rope_table(const llama_config *c, int pos, float *cs, float *sn)
{
    int head_size = c->dim / c->heads;
    for (int i = 0; i < head_size / 2; i++) {
        float freq = powf(c->rope_theta, -(float)(2 * i) / (float)head_size), a = pos * freq;
        cs[i] = cosf(a), sn[i] = sinf(a);
    }
}

void llama_rotate(float *v, int head_size, const float *cs, const float *sn, llama_rope rope)
{
    int half = head_size / 2;
    for (int i = 0; i < half; i++) {
        int j0 = rope == ROPE_HALF ? i : 2 * i, j1 = rope == ROPE_HALF ? i + half : 2 * i + 1;
        float x0 = v[j0], x1 = v[j1];
        v[j0] = x0 * cs[i] - x1 * sn[i];
        v[j1] = x0 * sn[i] + x1 * cs[i];
    }
}

void llama_forward(const llama_model *m, llama_state *s, int token, int pos)
{
    const llama_config *c = &m->c;
    int dim = c->dim, hs = dim / c->heads, kv_dim = hs * c->kv_heads, group = c->heads / c->kv_heads;
    float cs[512], sn[512]; /* head sizes up to 1024 */
    llama_rope_table(c, pos, cs, sn);
    memcpy(s->x, m->embed + (size_t)token * dim, (size_t)dim * sizeof(float));
    for (int l = 0; l < c->layers; l++) {
        const llama_layer *L = &m->layer[l];
        size_t off = (size_t)l * c->seq_len * kv_dim;
        float *k = s->key_cache + off + (size_t)pos * kv_dim, *v = s->value_cache + off + (size_t)pos * kv_dim;
        llama_rmsnorm(s->xb, s->x, L->attn_norm, dim, c->norm_eps);
        llama_linear_apply(m, &L->q, s->xb, s->q, s->xq);
        llama_linear_apply(m, &L->k, s->xb, k, s->xq);
        llama_linear_apply(m, &L->v, s->xb, v, s->xq);
        for (int h = 0; h < c->heads; h++) llama_rotate(s->q + h * hs, hs, cs, sn, c->rope);
        for (int h = 0; h < c->kv_heads; h++) llama_rotate(k + h * hs, hs, cs, sn, c->rope);
        for (int h = 0; h < c->heads; h++) {
            const float *q = s->q + h * hs;
            float *att = s->att + (size_t)h * c->seq_len;
            for (int t = 0; t <= pos; t++) {
                const float *kt = s->key_cache + off + (size_t)t * kv_dim + (h / group) * hs;
                float score = 0.0f;
                for (int i = 0; i < hs; i++) score += q[i] * kt[i];
                att[t] = score / sqrtf((float)hs);
            }
            llama_softmax(att, pos + 1);
            float *out = s->xb2 + h * hs;
            memset(out, 0, (size_t)hs * sizeof(float));
            for (int t = 0; t <= pos; t++) {
                const float *vt = s->value_cache + off + (size_t)t * kv_dim + (h / group) * hs;
                for (int i = 0; i < hs; i++) out[i] += att[t] * vt[i];
            }
        }
        llama_linear_apply(m, &L->o, s->xb2, s->xb, s->xq);
        for (int i = 0; i < dim; i++) s->x[i] += s->xb[i];
        llama_rmsnorm(s->xb, s->x, L->ffn_norm, dim, c->norm_eps);
        llama_linear_apply(m, &L->gate, s->xb, s->hb, s->xq);
        llama_linear_apply(m, &L->up, s->xb, s->hb2, s->xq);
        for (int i = 0; i < c->hidden; i++) {
            float g = s->hb[i];
            s->hb[i] = g / (1.0f + expf(-g)) * s->hb2[i];
        }
        llama_linear_apply(m, &L->down, s->hb, s->xb, s->xq);
        for (int i = 0; i < dim; i++) s->x[i] += s->xb[i];
    }
    llama_rmsnorm(s->xb, s->x, m->final_norm, dim, c->norm_eps);
    llama_linear_apply(m, &m->out, s->xb, s->logits, s->xq);
}
