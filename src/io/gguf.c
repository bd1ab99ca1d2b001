/* The GGUF reader: every size is checked against what is left of the
 * buffer before it is used, so a hostile file can make it fail, never read
 * out of bounds or allocate more than the file could describe. */
#include <stdlib.h>
#include <string.h>

#include "wqc/gguf.h"

#define BAD(...) wqc_fail(err, WQC_ERR_FORMAT, __VA_ARGS__)
/* Arrays may hold arrays; deeper nesting than this is refused. */
#define NEST_MAX 4

typedef struct cursor {
    const uint8_t *p, *end;
} cursor;

static int take(cursor *c, void *out, size_t n)
{
    if ((size_t)(c->end - c->p) < n) return 0;
    if (out) memcpy(out, c->p, n);
    c->p += n;
    return 1;
}

static const struct {
    const char *name;
    uint32_t weights, bytes;
} types[] = {
    [WQC_GGML_F32] = {"F32", 1, 4},        [WQC_GGML_F16] = {"F16", 1, 2},
    [WQC_GGML_Q4_0] = {"Q4_0", 32, 18},    [WQC_GGML_Q4_1] = {"Q4_1", 32, 20},
    [WQC_GGML_Q5_0] = {"Q5_0", 32, 22},    [WQC_GGML_Q5_1] = {"Q5_1", 32, 24},
    [WQC_GGML_Q8_0] = {"Q8_0", 32, 34},    [WQC_GGML_Q8_1] = {"Q8_1", 32, 36},
    [WQC_GGML_Q2_K] = {"Q2_K", 256, 84},   [WQC_GGML_Q3_K] = {"Q3_K", 256, 110},
    [WQC_GGML_Q4_K] = {"Q4_K", 256, 144},  [WQC_GGML_Q5_K] = {"Q5_K", 256, 176},
    [WQC_GGML_Q6_K] = {"Q6_K", 256, 210},  [WQC_GGML_Q8_K] = {"Q8_K", 256, 292},
    [WQC_GGML_I8] = {"I8", 1, 1},          [WQC_GGML_I16] = {"I16", 1, 2},
    [WQC_GGML_I32] = {"I32", 1, 4},        [WQC_GGML_I64] = {"I64", 1, 8},
    [WQC_GGML_F64] = {"F64", 1, 8},        [WQC_GGML_BF16] = {"BF16", 1, 2},
};
#define NTYPES (sizeof types / sizeof *types)

const char *wqc_ggml_type_name(uint32_t type) { return type < NTYPES ? types[type].name : NULL; }

int wqc_ggml_type_block(uint32_t type, uint32_t *block_weights, uint32_t *block_bytes)
{
    if (type >= NTYPES || !types[type].name) return 0;
    *block_weights = types[type].weights;
    *block_bytes = types[type].bytes;
    return 1;
}

int wqc_gguf_is(const uint8_t *buf, size_t len) { return len >= 4 && memcmp(buf, "GGUF", 4) == 0; }

static uint64_t scalar_size(uint32_t type)
{
    static const uint8_t size[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return type <= WQC_GGUF_FLOAT64 ? size[type] : 0;
}

/* A string: u64 length, bytes. *s points at the bytes. */
static int read_string(cursor *c, const uint8_t **s, uint64_t *len)
{
    if (!take(c, len, 8) || *len > (uint64_t)(c->end - c->p)) return 0;
    *s = c->p;
    c->p += *len;
    return 1;
}

/* Skips a value of `type`, checking it fits; depth bounds nested arrays. */
static int skip_value(cursor *c, uint32_t type, int depth)
{
    if (type == WQC_GGUF_STRING) {
        const uint8_t *s;
        uint64_t n;
        return read_string(c, &s, &n);
    }
    if (type == WQC_GGUF_ARRAY) {
        uint32_t at;
        uint64_t n;
        if (depth >= NEST_MAX || !take(c, &at, 4) || !take(c, &n, 8)) return 0;
        uint64_t size = scalar_size(at);
        if (size) return n <= (uint64_t)(c->end - c->p) / size && take(c, NULL, (size_t)(n * size));
        if (at != WQC_GGUF_STRING && at != WQC_GGUF_ARRAY) return 0;
        /* Each element takes at least 8 bytes (a length or a type and count). */
        if (n > (uint64_t)(c->end - c->p) / 8) return 0;
        for (uint64_t i = 0; i < n; i++)
            if (!skip_value(c, at, depth + 1)) return 0;
        return 1;
    }
    uint64_t size = scalar_size(type);
    return size && take(c, NULL, (size_t)size);
}

static char *dup_name(const uint8_t *s, uint64_t n)
{
    if (n == 0 || n > 65535 || memchr(s, 0, (size_t)n)) return NULL;
    char *out = malloc((size_t)n + 1);
    if (out) memcpy(out, s, (size_t)n), out[n] = '\0';
    return out;
}

static int by_offset(const void *a, const void *b)
{
    const wqc_gguf_tensor *x = *(const wqc_gguf_tensor *const *)a, *y = *(const wqc_gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const wqc_gguf_tensor *const *)a)->name, (*(const wqc_gguf_tensor *const *)b)->name);
}

static wqc_status check_tensors(wqc_gguf *g, size_t len, wqc_error *err)
{
    const wqc_gguf_tensor **v = malloc((g->ntensors ? g->ntensors : 1) * sizeof *v);
    if (!v) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < g->ntensors; i++) v[i] = &g->tensors[i];
    wqc_status st = WQC_OK;
    qsort(v, g->ntensors, sizeof *v, by_name);
    for (size_t i = 1; i < g->ntensors && st == WQC_OK; i++)
        if (strcmp(v[i - 1]->name, v[i]->name) == 0) st = BAD("tensor '%s' appears twice", v[i]->name);
    qsort(v, g->ntensors, sizeof *v, by_offset);
    for (size_t i = 1; i < g->ntensors && st == WQC_OK; i++)
        if (v[i - 1]->offset + v[i - 1]->nbytes > v[i]->offset) st = BAD("tensors '%s' and '%s' overlap", v[i - 1]->name, v[i]->name);
    (void)len;
    free(v);
    return st;
}

static wqc_status parse(const uint8_t *buf, size_t len, wqc_gguf *g, wqc_error *err)
{
    memset(g, 0, sizeof *g);
    cursor c = {buf, buf + len};
    uint32_t magic_version[2];
    uint64_t counts[2];
    if (!wqc_gguf_is(buf, len)) return BAD("not a GGUF file (no GGUF magic)");
    if (!take(&c, magic_version, 8) || !take(&c, counts, 16)) return BAD("GGUF header truncated");
    g->version = magic_version[1];
    if (g->version != 2 && g->version != 3)
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "GGUF version %u (versions 2 and 3 are read)", g->version);
    /* A metadata pair takes at least 12 bytes, a tensor info at least 24. */
    if (counts[1] > len / 12 || counts[0] > len / 24) return BAD("GGUF counts exceed the file size");
    g->nkv = (size_t)counts[1];
    g->ntensors = (size_t)counts[0];
    g->kv = calloc(g->nkv + 1, sizeof *g->kv);
    g->tensors = calloc(g->ntensors + 1, sizeof *g->tensors);
    if (!g->kv || !g->tensors) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    g->alignment = WQC_GGUF_DEFAULT_ALIGNMENT;
    wqc_status st = WQC_OK;
    for (size_t i = 0; i < g->nkv && st == WQC_OK; i++) {
        wqc_gguf_kv *kv = &g->kv[i];
        const uint8_t *key;
        uint64_t klen;
        if (!read_string(&c, &key, &klen) || !take(&c, &kv->type, 4)) return BAD("metadata pair %zu truncated", i);
        if (!(kv->key = dup_name(key, klen))) return BAD("metadata pair %zu: empty, overlong or NUL-holding key", i);
        const uint8_t *start = c.p;
        kv->count = 1;
        if (kv->type == WQC_GGUF_ARRAY && (size_t)(c.end - c.p) >= 12) {
            memcpy(&kv->array_type, c.p, 4);
            memcpy(&kv->count, c.p + 4, 8);
        }
        if (!skip_value(&c, kv->type, 0)) return BAD("metadata '%s': value of type %u malformed or truncated", kv->key, kv->type);
        kv->value = start, kv->value_len = (uint64_t)(c.p - start);
        if (kv->type == WQC_GGUF_STRING) kv->value += 8, kv->value_len -= 8;
        if (kv->type == WQC_GGUF_ARRAY) kv->value += 12, kv->value_len -= 12;
        if (strcmp(kv->key, "general.alignment") == 0) {
            uint32_t a;
            if (kv->type != WQC_GGUF_UINT32) return BAD("general.alignment is not a uint32");
            memcpy(&a, kv->value, 4);
            if (a == 0 || (a & (a - 1)) || a > (1u << 20)) return BAD("general.alignment %u is not a power of two up to 2^20", a);
            g->alignment = a;
        }
    }
    for (size_t i = 0; i < g->ntensors; i++) {
        wqc_gguf_tensor *t = &g->tensors[i];
        const uint8_t *name;
        uint64_t nlen;
        if (!read_string(&c, &name, &nlen) || !take(&c, &t->ndim, 4)) return BAD("tensor info %zu truncated", i);
        if (!(t->name = dup_name(name, nlen))) return BAD("tensor info %zu: empty, overlong or NUL-holding name", i);
        if (t->ndim < 1 || t->ndim > WQC_GGUF_MAX_DIMS) return BAD("tensor '%s': %u dimensions (1..4)", t->name, t->ndim);
        if (!take(&c, t->dims, 8 * (size_t)t->ndim) || !take(&c, &t->type, 4) || !take(&c, &t->offset, 8))
            return BAD("tensor '%s': info truncated", t->name);
        uint32_t bw, bb;
        if (!wqc_ggml_type_block(t->type, &bw, &bb)) return wqc_fail(err, WQC_ERR_UNSUPPORTED, "tensor '%s': unknown ggml type %u", t->name, t->type);
        t->nelem = 1;
        for (uint32_t d = 0; d < t->ndim; d++) {
            if (t->dims[d] == 0 || t->dims[d] > (1ull << 40) || t->nelem > (1ull << 40) / t->dims[d])
                return BAD("tensor '%s': dimension %u is %llu", t->name, d, (unsigned long long)t->dims[d]);
            t->nelem *= t->dims[d];
        }
        if (t->dims[0] % bw) return BAD("tensor '%s': a row of %llu is not whole %s blocks of %u", t->name,
                                        (unsigned long long)t->dims[0], types[t->type].name, bw);
        t->nbytes = t->nelem / bw * bb;
        if (t->offset % g->alignment) return BAD("tensor '%s': offset %llu is not aligned to %llu", t->name,
                                                 (unsigned long long)t->offset, (unsigned long long)g->alignment);
    }
    g->infos_end = (uint64_t)(c.p - buf);
    g->data_offset = (g->infos_end + g->alignment - 1) / g->alignment * g->alignment;
    if (g->ntensors && g->data_offset > len) return BAD("GGUF data section starts past the end of the file");
    for (size_t i = 0; i < g->ntensors; i++) {
        wqc_gguf_tensor *t = &g->tensors[i];
        if (t->offset > len - g->data_offset || t->nbytes > len - g->data_offset - t->offset)
            return BAD("tensor '%s': data past the end of the file (truncated?)", t->name);
        t->data = buf + g->data_offset + t->offset;
    }
    st = check_tensors(g, len, err);
    return st;
}

wqc_status wqc_gguf_parse(const uint8_t *buf, size_t len, wqc_gguf *g, wqc_error *err)
{
    wqc_status st = parse(buf, len, g, err);
    if (st != WQC_OK) wqc_gguf_free(g);
    return st;
}

void wqc_gguf_free(wqc_gguf *g)
{
    for (size_t i = 0; g->kv && i < g->nkv; i++) free(g->kv[i].key);
    for (size_t i = 0; g->tensors && i < g->ntensors; i++) free(g->tensors[i].name);
    free(g->kv);
    free(g->tensors);
    memset(g, 0, sizeof *g);
}

const wqc_gguf_kv *wqc_gguf_find(const wqc_gguf *g, const char *key)
{
    for (size_t i = 0; i < g->nkv; i++)
        if (g->kv[i].key && strcmp(g->kv[i].key, key) == 0) return &g->kv[i];
    return NULL;
}

static const struct {
    uint32_t ggml;
    wqc_dtype dtype;
} plain_types[] = {
    {WQC_GGML_F32, WQC_DTYPE_F32}, {WQC_GGML_F16, WQC_DTYPE_F16}, {WQC_GGML_BF16, WQC_DTYPE_BF16},
    {WQC_GGML_I8, WQC_DTYPE_I8},   {WQC_GGML_I16, WQC_DTYPE_I16}, {WQC_GGML_I32, WQC_DTYPE_I32},
    {WQC_GGML_I64, WQC_DTYPE_I64}, {WQC_GGML_F64, WQC_DTYPE_F64},
};

int wqc_ggml_to_dtype(uint32_t type, wqc_dtype *out)
{
    for (size_t i = 0; i < sizeof plain_types / sizeof *plain_types; i++)
        if (plain_types[i].ggml == type) return *out = plain_types[i].dtype, 1;
    return 0;
}

int wqc_dtype_to_ggml(wqc_dtype dtype, uint32_t *out)
{
    for (size_t i = 0; i < sizeof plain_types / sizeof *plain_types; i++)
        if (plain_types[i].dtype == dtype) return *out = plain_types[i].ggml, 1;
    return 0;
}
