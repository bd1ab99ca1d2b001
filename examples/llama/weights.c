/* Loading a Llama model's weights through libwqc's public API: any input
 * wqc_weights opens (safetensors F32/F16/BF16, a `wqc quantize` output, a
 * .wqc, dequantized by the library), the streams of a gemv-layout .wqc for
 * fused products, or a GGUF file of F32, F16, Q4_0 and Q8_0 tensors
 * (`wqc quantize --format gguf`), dequantized here as ggml defines them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"

/* Where the tensors come from. */
typedef struct source {
    const char *path;
    wqc_weights *w;             /* anything but GGUF */
    wqc_mapped_file map;        /* GGUF */
    wqc_gguf g;
    int gguf;
    char meta[128];             /* a GGUF string value, NUL-terminated */
} source;

static int fail(const char *path, const char *fmt, const char *what)
{
    fprintf(stderr, "wqc-llama: %s: ", path);
    fprintf(stderr, fmt, what);
    fputc('\n', stderr);
    return 0;
}

static const wqc_gguf_tensor *gguf_find(const source *s, const char *name)
{
    for (size_t i = 0; i < s->g.ntensors; i++)
        if (strcmp(s->g.tensors[i].name, name) == 0) return &s->g.tensors[i];
    return NULL;
}

static const char *meta_value(source *s, const char *key)
{
    if (!s->gguf) return wqc_weights_metadata(s->w, key);
    char full[96];
    snprintf(full, sizeof full, "source.%s", key);
    const wqc_gguf_kv *kv = wqc_gguf_find(&s->g, full);
    if (!kv || kv->type != WQC_GGUF_STRING || kv->value_len >= sizeof s->meta) return NULL;
    memcpy(s->meta, kv->value, (size_t)kv->value_len);
    s->meta[kv->value_len] = 0;
    return s->meta;
}

/* Shape of a tensor (rows, cols), without reading it; 0 if absent. */
static int shape_of(const source *s, const char *name, uint64_t shape[2], int *ndim)
{
    uint64_t full[WQC_MAX_DIMS];
    if (s->gguf) {
        const wqc_gguf_tensor *t = gguf_find(s, name);
        if (!t) return 0;
        *ndim = (int)t->ndim;
        for (uint32_t d = 0; d < t->ndim; d++) full[d] = t->dims[t->ndim - 1 - d]; /* ggml order is innermost first */
    } else {
        size_t i = wqc_weights_find(s->w, name);
        if (i == (size_t)-1 || (*ndim = wqc_weights_shape(s->w, i, full)) < 0) return 0;
    }
    shape[0] = *ndim > 0 ? full[0] : 1, shape[1] = *ndim > 1 ? full[1] : 1;
    return 1;
}

/* A GGUF tensor's weights: F32, F16, or ggml's Q8_0 (F16 d, 32 int8) and
 * Q4_0 (F16 d, 16 bytes: element j in the low nibble of byte j, element
 * j + 16 in its high nibble; w = d * (q - 8)). */
static int gguf_floats(const wqc_gguf_tensor *t, float *out)
{
    const uint8_t *p = t->data;
    switch (t->type) {
    case WQC_GGML_F32: memcpy(out, p, (size_t)t->nelem * sizeof(float)); return 1;
    case WQC_GGML_F16: return wqc_convert_to_f32(WQC_DTYPE_F16, p, (size_t)t->nelem, out) == WQC_OK;
    case WQC_GGML_Q8_0:
    case WQC_GGML_Q4_0: {
        int q8 = t->type == WQC_GGML_Q8_0;
        size_t block = q8 ? 34 : 18;
        for (uint64_t b = 0; b < t->nelem / 32; b++, p += block) {
            float d = wqc_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
            float *o = out + b * 32;
            for (int j = 0; j < 32; j++)
                o[j] = q8 ? d * (float)(int8_t)p[2 + j]
                          : d * (float)((j < 16 ? p[2 + j] & 15 : p[2 + j - 16] >> 4) - 8);
        }
        return t->nelem % 32 == 0;
    }
    default: return 0;
    }
}

/* Tensor `name` as float32 (n elements expected), dequantized if it is stored quantized. */
static float *floats(const source *s, const char *name, uint64_t n)
{
    if (s->gguf) {
        const wqc_gguf_tensor *t = gguf_find(s, name);
        float *out = t && t->nelem == n ? malloc((size_t)n * sizeof *out) : NULL;
        if (out && gguf_floats(t, out)) return out;
        free(out);
        return fail(s->path, "no tensor '%s' of the expected size in F32, F16, Q4_0 or Q8_0", name), NULL;
    }
    size_t i = wqc_weights_find(s->w, name);
    wqc_float_tensor t = {0};
    wqc_error err;
    wqc_error_clear(&err);
    if (i == (size_t)-1) return fail(s->path, "no tensor '%s'", name), NULL;
    if (wqc_weights_floats(s->w, i, 1, &t, &err) != WQC_OK) return fail(s->path, "%s", err.msg), NULL;
    wqc_weights_release(s->w, i);
    if (t.nelem != n) {
        free(t.w);
        return fail(s->path, "tensor '%s' is not of the model's size", name), NULL;
    }
    return t.w;
}

static int make_linear(const source *s, const char *name, uint64_t rows, uint64_t cols, llama_path how, llama_linear *l)
{
    uint64_t shape[2];
    int nd;
    if (!shape_of(s, name, shape, &nd) || nd != 2 || shape[0] != rows || shape[1] != cols)
        return fail(s->path, "no %s matrix of the model's shape", name);
    *l = (llama_linear){.path = how, .rows = rows, .cols = cols, .padded_cols = (cols + 31) / 32 * 32};
    if (how == PATH_FUSED) {
        wqc_archive *a = wqc_weights_archive(s->w);
        const wqc_frame *f;
        wqc_error err;
        if (wqc_archive_frame(a, wqc_archive_find(a, name), &f, &err) != WQC_OK) return fail(s->path, "%s", err.msg);
        if (f->quantized && !f->gemv_tile) return fail(s->path, "tensor '%s' is not in the gemv layout (wqc encode --layout gemv)", name);
        /* The frame stays cached in the archive while the model is open. */
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

/* The config: config.json (given, or beside the model), else llama2.c's
 * metadata keys, else what the shapes say. */
static int config_from(source *s, const char *config_path, llama_rope rope, llama_config *c, int *tied)
{
    char path[4096];
    memset(c, 0, sizeof *c);
    *tied = 0;
    c->norm_eps = 1e-5f, c->rope_theta = 10000.0f;
    config_path = llama_config_path(s->path, config_path, path, sizeof path) ? path : NULL;
    if (config_path && !llama_config_json(config_path, c, tied)) return 0;
    if (!config_path) {
        static const char *const keys[] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
        int *fields[] = {&c->dim, &c->hidden, &c->layers, &c->heads, &c->kv_heads, &c->vocab, &c->seq_len};
        for (int i = 0; i < 7; i++) {
            const char *v = meta_value(s, keys[i]);
            *fields[i] = v ? atoi(v) : 0;
        }
    }
    uint64_t shape[2];
    int nd;
    if (!shape_of(s, "model.embed_tokens.weight", shape, &nd) || nd != 2) return fail(s->path, "%s", "no model.embed_tokens.weight");
    if (!c->vocab) c->vocab = (int)shape[0];
    if (!c->dim) c->dim = (int)shape[1];
    if ((uint64_t)c->vocab != shape[0] || (uint64_t)c->dim != shape[1])
        return fail(s->path, "%s", "model.embed_tokens.weight is not vocab_size x hidden_size");
    if (!c->hidden && shape_of(s, "model.layers.0.mlp.gate_proj.weight", shape, &nd)) c->hidden = (int)shape[0];
    if (!c->layers) {
        char name[96];
        do snprintf(name, sizeof name, "model.layers.%d.input_layernorm.weight", c->layers);
        while (shape_of(s, name, shape, &nd) && ++c->layers < 4096);
    }
    if (!c->kv_heads) c->kv_heads = c->heads;
    if (!c->seq_len) c->seq_len = 2048;
    c->rope = rope;
    if (c->heads <= 0 || c->dim % c->heads || c->dim / c->heads > 1024 || (c->dim / c->heads) % 2 || c->kv_heads <= 0 || c->heads % c->kv_heads || c->layers <= 0 || c->hidden <= 0 ||
        c->seq_len <= 0 || c->seq_len > 1 << 20)
        return fail(s->path, "%s", "no usable config: config.json beside it (or --config), or metadata dim, hidden_dim, n_layers, n_heads, n_kv_heads, seq_len");
    return 1;
}

static float *vector(const source *s, const char *name, int n)
{
    uint64_t shape[2];
    int nd;
    if (!shape_of(s, name, shape, &nd) || nd != 1 || shape[0] != (uint64_t)n) return fail(s->path, "no %s vector of the model's size", name), NULL;
    return floats(s, name, (uint64_t)n);
}

static int open_source(source *s, llama_path how)
{
    wqc_error err;
    wqc_error_clear(&err);
    if (wqc_detect_file(s->path) == WQC_FILE_GGUF) {
        if (how == PATH_FUSED) return fail(s->path, "%s", "fused products need a .wqc encoded with --layout gemv");
        s->gguf = 1;
        if (wqc_map_file(s->path, &s->map, &err) != WQC_OK || wqc_gguf_parse(s->map.data, s->map.size, &s->g, &err) != WQC_OK)
            return fail(s->path, "%s", err.msg);
        return 1;
    }
    if (wqc_weights_open(s->path, NULL, &s->w, &err) != WQC_OK) return fail(s->path, "%s", err.msg);
    if (how == PATH_FUSED && !wqc_weights_archive(s->w)) return fail(s->path, "%s", "fused products need a .wqc encoded with --layout gemv");
    return 1;
}

static void close_source(source *s)
{
    if (s->gguf) {
        wqc_gguf_free(&s->g);
        wqc_unmap_file(&s->map);
    }
    s->gguf = 0;
}

int llama_load(const char *path, const char *config_path, llama_path how, llama_rope rope, int threads, llama_model *m)
{
    memset(m, 0, sizeof *m);
    m->threads = threads;
    m->isa = wqc_isa_active();
    source s = {.path = path};
    int tied = 0, ok = open_source(&s, how);
    m->weights = s.w; /* kept open: fused products read its frames */
    llama_config *c = &m->c;
    ok = ok && config_from(&s, config_path, rope, c, &tied);
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
    int has_head = ok && !tied && shape_of(&s, "lm_head.weight", shape, &nd);
    m->tied = !has_head;
    if (ok) ok = make_linear(&s, has_head ? "lm_head.weight" : "model.embed_tokens.weight", (uint64_t)c->vocab, (uint64_t)c->dim, how, &m->out);
    close_source(&s);
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
    wqc_weights_close(m->weights);
    memset(m, 0, sizeof *m);
}
