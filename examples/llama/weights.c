/* Loading a Llama model's weights through libwqc's public API: a .wqc
 * (reader, streams dequantized or fused products), a `wqc quantize` output
 * (symbols, scales and offsets dequantized here, as FORMAT.md says), or a
 * plain safetensors file (F32, F16, BF16). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"

/* Where the tensors come from. */
typedef struct source {
    const char *path;
    wqc_model *st;              /* safetensors */
    int quantized_st;           /* a `wqc quantize` output */
    wqc_reader *r;              /* .wqc */
} source;

static int fail(const char *path, const char *fmt, const char *what)
{
    fprintf(stderr, "wqc-llama: %s: ", path);
    fprintf(stderr, fmt, what);
    fputc('\n', stderr);
    return 0;
}

static const char *meta_value(const source *s, const char *key)
{
    size_t n = s->r ? wqc_reader_metadata_count(s->r) : wqc_model_metadata_count(s->st);
    for (size_t i = 0; i < n; i++) {
        const wqc_kv *kv = s->r ? wqc_reader_metadata(s->r, i) : wqc_model_metadata(s->st, i);
        if (strcmp(kv->key, key) == 0) return kv->value;
    }
    return NULL;
}

static const wqc_tensor *st_find(const source *s, const char *name)
{
    for (size_t i = 0; i < wqc_model_count(s->st); i++)
        if (strcmp(wqc_model_tensor(s->st, i)->name, name) == 0) return wqc_model_tensor(s->st, i);
    return NULL;
}

/* Element count and shape of a tensor, without reading it; 0 if absent. */
static int shape_of(const source *s, const char *name, uint64_t shape[2], int *ndim)
{
    if (s->r) {
        size_t i = wqc_reader_find(s->r, name);
        const wqc_frame *f;
        if (i >= wqc_reader_count(s->r) || wqc_reader_describe(s->r, i, &f, NULL) != WQC_OK) return 0;
        *ndim = f->ndim;
        shape[0] = f->ndim > 0 ? f->shape[0] : 1, shape[1] = f->ndim > 1 ? f->shape[1] : 1;
        return 1;
    }
    const wqc_tensor *t = st_find(s, name);
    if (!t) return 0;
    *ndim = t->ndim;
    shape[0] = t->ndim > 0 ? t->shape[0] : 1, shape[1] = t->ndim > 1 ? t->shape[1] : 1;
    return 1;
}

static wqc_status collect(void *ctx, const void *buf, size_t len, wqc_error *err)
{
    (void)err;
    uint8_t **at = ctx;
    memcpy(*at, buf, len);
    *at += len;
    return WQC_OK;
}

/* A quantize output's tensor NAME dequantized: w = offset[g] + scale[g] * q. */
static int dequantize_st(const source *s, const wqc_tensor *t, float *out)
{
    char key[600];
    snprintf(key, sizeof key, "wqc.q.%s", t->name);
    const char *desc = meta_value(s, key);
    snprintf(key, sizeof key, "%s.wqc_scale", t->name);
    const wqc_tensor *sc = st_find(s, key);
    snprintf(key, sizeof key, "%s.wqc_offset", t->name);
    const wqc_tensor *of = st_find(s, key);
    json_t *j = desc ? json_loads(desc, 0, NULL) : NULL;
    if (!j || !sc || !of || sc->dtype != WQC_DTYPE_F32 || of->dtype != WQC_DTYPE_F32 || sc->nelem != of->nelem) {
        json_decref(j);
        return fail(s->path, "tensor '%s': not a well-formed quantized tensor", t->name);
    }
    uint64_t rows = (uint64_t)json_integer_value(json_object_get(j, "rows"));
    uint64_t cols = (uint64_t)json_integer_value(json_object_get(j, "cols"));
    const char *gran = json_string_value(json_object_get(j, "granularity"));
    int grouped = gran && strcmp(gran, "group") == 0;
    uint64_t gsize = (uint64_t)json_integer_value(json_object_get(j, "group_size"));
    json_decref(j);
    uint64_t glen = grouped && gsize ? gsize : cols;
    uint64_t per_row = glen ? (cols + glen - 1) / glen : 0;
    if (rows * cols != t->nelem || (sc->nelem != 1 && sc->nelem != rows * per_row))
        return fail(s->path, "tensor '%s': its scales do not match its shape", t->name);
    const float *scale = (const float *)sc->data, *offset = (const float *)of->data;
    for (uint64_t r = 0; r < rows; r++)
        for (uint64_t c = 0; c < cols; c++) {
            uint64_t g = sc->nelem == 1 ? 0 : r * per_row + c / glen;
            out[r * cols + c] = offset[g] + scale[g] * (float)t->data[r * cols + c];
        }
    return 1;
}

/* Tensor `name` as float32 (n elements expected), dequantized if it is stored quantized. */
static float *floats(const source *s, const char *name, uint64_t n)
{
    float *out = malloc((size_t)n * sizeof *out + 32 * sizeof(float));
    if (!out) return fail(s->path, "out of memory for '%s'", name), NULL;
    int ok = 0;
    wqc_error err;
    wqc_error_clear(&err);
    if (s->r) {
        size_t i = wqc_reader_find(s->r, name);
        const wqc_frame *f;
        if (i < wqc_reader_count(s->r) && wqc_reader_frame(s->r, i, &f, &err) == WQC_OK && f->nelem == n) {
            if (f->quantized) {
                uint8_t *at = (uint8_t *)out;
                ok = wqc_frame_stream(f, WQC_FORM_F32, 1, 0, collect, &at, &err) == WQC_OK;
            } else {
                uint8_t *raw = malloc(f->raw_len ? (size_t)f->raw_len : 1);
                ok = raw && wqc_frame_decode_raw(f, raw, &err) == WQC_OK &&
                     wqc_convert_to_f32(f->dtype, raw, (size_t)n, out) == WQC_OK;
                free(raw);
            }
        }
    } else {
        const wqc_tensor *t = st_find(s, name);
        if (t && t->nelem == n) {
            if (s->quantized_st && t->dtype == WQC_DTYPE_U8) ok = dequantize_st(s, t, out);
            else ok = wqc_convert_to_f32(t->dtype, t->data, (size_t)n, out) == WQC_OK;
        }
    }
    if (!ok) {
        free(out);
        return fail(s->path, err.msg[0] ? "cannot read tensor '%s' (damaged or not float)" : "no float tensor '%s' of the expected size", name), NULL;
    }
    return out;
}

static int make_linear(const source *s, const char *name, uint64_t rows, uint64_t cols, llama_path how, llama_linear *l)
{
    uint64_t shape[2];
    int nd;
    if (!shape_of(s, name, shape, &nd) || nd != 2 || shape[0] != rows || shape[1] != cols)
        return fail(s->path, "no %s matrix of the model's shape", name);
    *l = (llama_linear){.path = how, .rows = rows, .cols = cols, .padded_cols = (cols + 31) / 32 * 32};
    if (how == PATH_FUSED) {
        size_t i = wqc_reader_find(s->r, name);
        const wqc_frame *f;
        wqc_error err;
        if (wqc_reader_frame(s->r, i, &f, &err) != WQC_OK) return fail(s->path, "tensor '%s' is damaged", name);
        if (f->quantized && !f->gemv_tile) return fail(s->path, "tensor '%s' is not in the gemv layout (wqc encode --layout gemv)", name);
        if (f->quantized) return wqc_frame_gemv_prepare(f, &l->gemv, &err) == WQC_OK ? 1 : fail(s->path, "tensor '%s': no fused product", name);
        l->path = PATH_F32; /* kept in float: a plain product */
    }
    float *w = floats(s, name, rows * cols);
    if (!w) return 0;
    if (l->path == PATH_F32) {
        l->w = w;
        return 1;
    }
    /* Q4_0 blocks span 32 columns: the matrix is padded with zero columns. */
    float *padded = calloc((size_t)(rows * l->padded_cols), sizeof *padded);
    l->q4 = malloc((size_t)(rows * l->padded_cols / 32) * sizeof *l->q4);
    int ok = padded && l->q4;
    for (uint64_t r = 0; ok && r < rows; r++) memcpy(padded + r * l->padded_cols, w + r * cols, (size_t)cols * sizeof(float));
    ok = ok && wqc_q4_0_quantize(padded, rows, l->padded_cols, l->q4, NULL) == WQC_OK;
    free(padded);
    free(w);
    return ok ? 1 : fail(s->path, "cannot make Q4_0 blocks of '%s'", name);
}

static int config_from(const source *s, llama_rope rope, llama_config *c)
{
    static const char *const keys[] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
    int *fields[] = {&c->dim, &c->hidden, &c->layers, &c->heads, &c->kv_heads, &c->vocab, &c->seq_len};
    for (int i = 0; i < 7; i++) {
        const char *v = meta_value(s, keys[i]);
        *fields[i] = v ? atoi(v) : 0;
    }
    uint64_t shape[2];
    int nd;
    if (!shape_of(s, "model.embed_tokens.weight", shape, &nd) || nd != 2) return fail(s->path, "%s", "no model.embed_tokens.weight");
    if (!c->vocab) c->vocab = (int)shape[0];
    if (!c->dim) c->dim = (int)shape[1];
    if (!c->hidden && shape_of(s, "model.layers.0.mlp.gate_proj.weight", shape, &nd)) c->hidden = (int)shape[0];
    if (!c->layers) {
        char name[96];
        do snprintf(name, sizeof name, "model.layers.%d.input_layernorm.weight", c->layers);
        while (shape_of(s, name, shape, &nd) && ++c->layers < 4096);
    }
    if (!c->kv_heads) c->kv_heads = c->heads;
    if (!c->seq_len) c->seq_len = 2048;
    c->norm_eps = 1e-5f;
    c->rope_theta = 10000.0f;
    c->rope = rope;
    if (c->heads <= 0 || c->dim % c->heads || c->kv_heads <= 0 || c->heads % c->kv_heads || c->layers <= 0 || c->hidden <= 0 ||
        c->seq_len <= 0 || c->seq_len > 1 << 20)
        return fail(s->path, "%s", "metadata lacks a usable config (dim, hidden_dim, n_layers, n_heads, n_kv_heads, seq_len)");
    return 1;
}

static float *vector(const source *s, const char *name, int n)
{
    uint64_t shape[2];
    int nd;
    if (!shape_of(s, name, shape, &nd) || nd != 1 || shape[0] != (uint64_t)n) return fail(s->path, "no %s vector of the model's size", name), NULL;
    return floats(s, name, (uint64_t)n);
}

int llama_load(const char *path, llama_path how, llama_rope rope, int threads, llama_model *m)
{
    memset(m, 0, sizeof *m);
    m->threads = threads;
    m->isa = wqc_isa_active();
    source s = {.path = path};
    wqc_error err;
    wqc_error_clear(&err);
    if (wqc_map_file(path, &m->file, &err) != WQC_OK) return fail(path, "%s", err.msg);
    m->mapped = 1;
    if (wqc_is_wqc(m->file.data, m->file.size)) {
        if (wqc_reader_open_file(&m->file, 1, NULL, 0, &m->reader, &err) != WQC_OK) return fail(path, "%s", err.msg);
        s.r = m->reader;
    } else {
        if (how == PATH_FUSED) return fail(path, "%s", "fused products need a .wqc encoded with --layout gemv");
        if (wqc_model_open(path, &s.st, &err) != WQC_OK) return fail(path, "%s", err.msg);
        const char *format = meta_value(&s, "wqc.format");
        s.quantized_st = format && strcmp(format, "wqc-quantized-1") == 0;
    }
    llama_config *c = &m->c;
    int ok = config_from(&s, rope, c);
    int kv_dim = ok ? c->dim / c->heads * c->kv_heads : 0;
    if (ok) ok = (m->embed = floats(&s, "model.embed_tokens.weight", (uint64_t)c->vocab * c->dim)) != NULL;
    if (ok) ok = (m->final_norm = vector(&s, "model.norm.weight", c->dim)) != NULL;
    if (ok) ok = (m->layer = calloc((size_t)c->layers, sizeof *m->layer)) != NULL;
    for (int l = 0; ok && l < c->layers; l++) {
        llama_layer *L = &m->layer[l];
        char name[128];
#define NAME(suffix) (snprintf(name, sizeof name, "model.layers.%d.%s", l, suffix), name)
        ok = (L->attn_norm = vector(&s, NAME("input_layernorm.weight"), c->dim)) != NULL &&
             (L->ffn_norm = vector(&s, NAME("post_attention_layernorm.weight"), c->dim)) != NULL &&
             make_linear(&s, NAME("self_attn.q_proj.weight"), (uint64_t)c->dim, (uint64_t)c->dim, how, &L->q) &&
             make_linear(&s, NAME("self_attn.k_proj.weight"), (uint64_t)kv_dim, (uint64_t)c->dim, how, &L->k) &&
             make_linear(&s, NAME("self_attn.v_proj.weight"), (uint64_t)kv_dim, (uint64_t)c->dim, how, &L->v) &&
             make_linear(&s, NAME("self_attn.o_proj.weight"), (uint64_t)c->dim, (uint64_t)c->dim, how, &L->o) &&
             make_linear(&s, NAME("mlp.gate_proj.weight"), (uint64_t)c->hidden, (uint64_t)c->dim, how, &L->gate) &&
             make_linear(&s, NAME("mlp.up_proj.weight"), (uint64_t)c->hidden, (uint64_t)c->dim, how, &L->up) &&
             make_linear(&s, NAME("mlp.down_proj.weight"), (uint64_t)c->dim, (uint64_t)c->hidden, how, &L->down);
#undef NAME
    }
    uint64_t shape[2];
    int nd;
    const char *head = shape_of(&s, "lm_head.weight", shape, &nd) ? "lm_head.weight" : "model.embed_tokens.weight";
    if (ok) ok = make_linear(&s, head, (uint64_t)c->vocab, (uint64_t)c->dim, how, &m->out);
    wqc_model_close(s.st);
    if (!ok) llama_free(m);
    return ok;
}

void llama_free(llama_model *m)
{
    for (int l = 0; m->layer && l < m->c.layers; l++) {
        llama_layer *L = &m->layer[l];
        free(L->attn_norm), free(L->ffn_norm);
        llama_linear *lin[] = {&L->q, &L->k, &L->v, &L->o, &L->gate, &L->up, &L->down};
        for (int i = 0; i < 7; i++) llama_linear_free(lin[i]);
    }
    free(m->layer);
    llama_linear_free(&m->out);
    free(m->embed);
    free(m->final_norm);
    wqc_reader_free(m->reader);
    if (m->mapped) wqc_unmap_file(&m->file);
    memset(m, 0, sizeof *m);
}
