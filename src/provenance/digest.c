/* Tensor and model digests: BLAKE2b-256 of the canonical form that
 * docs/FORMAT.md ("Digests") defines. Little-endian hosts only, as the rest
 * of the library: arrays are hashed as they lie in memory. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "wqc/digest.h"

#define TENSOR_DOMAIN "wqc.tensor.1"
#define MODEL_DOMAIN "wqc.model.1"

static wqc_status hash_init(crypto_generichash_state *s, const char *domain, wqc_error *err)
{
    if (sodium_init() < 0) return wqc_fail(err, WQC_ERR_IO, "libsodium failed to initialise");
    crypto_generichash_init(s, NULL, 0, WQC_DIGEST_BYTES);
    crypto_generichash_update(s, (const unsigned char *)domain, strlen(domain));
    return WQC_OK;
}

static void put(crypto_generichash_state *s, const void *p, size_t n)
{
    crypto_generichash_update(s, p, (unsigned long long)n);
}

static void put_u64(crypto_generichash_state *s, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    put(s, b, 8);
}

/* kind, name, dtype and shape: what every tensor's form starts with. */
static wqc_status put_head(crypto_generichash_state *s, int kind, const char *name, wqc_dtype dtype, int ndim,
                           const uint64_t *shape, wqc_error *err)
{
    size_t len = strlen(name);
    if (len == 0 || len > 65535) return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor name of %zu bytes", len);
    const char *dt = wqc_dtype_name(dtype);
    uint8_t b[4] = {(uint8_t)kind, (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)strlen(dt)};
    put(s, b, 1);
    put(s, b + 1, 2);
    put(s, name, len);
    put(s, b + 3, 1);
    put(s, dt, strlen(dt));
    uint8_t nd = (uint8_t)ndim;
    put(s, &nd, 1);
    for (int d = 0; d < ndim; d++) put_u64(s, shape[d]);
    return WQC_OK;
}

static void put_groups(crypto_generichash_state *s, const wqc_quantized *q)
{
    uint8_t b[5] = {(uint8_t)q->bits, (uint8_t)q->alphabet, (uint8_t)(q->alphabet >> 8), (uint8_t)(q->alphabet >> 16),
                    (uint8_t)(q->alphabet >> 24)};
    put(s, b, 5);
    put_u64(s, q->rows);
    put_u64(s, q->cols);
    put_u64(s, q->group_len);
    put_u64(s, q->ngroups);
    put(s, q->scale, (size_t)q->ngroups * sizeof(float));
    put(s, q->offset, (size_t)q->ngroups * sizeof(float));
}

static void finish(crypto_generichash_state *s, uint8_t out[WQC_DIGEST_BYTES])
{
    crypto_generichash_final(s, out, WQC_DIGEST_BYTES);
    sodium_memzero(s, sizeof *s);
}

wqc_status wqc_digest_tensor(const wqc_tensor *t, uint8_t out[WQC_DIGEST_BYTES], wqc_error *err)
{
    crypto_generichash_state s;
    wqc_status st = hash_init(&s, TENSOR_DOMAIN, err);
    if (st == WQC_OK) st = put_head(&s, 0, t->name, t->dtype, t->ndim, t->shape, err);
    if (st != WQC_OK) return st;
    put_u64(&s, t->nbytes);
    put(&s, t->data, (size_t)t->nbytes);
    finish(&s, out);
    return WQC_OK;
}

wqc_status wqc_digest_quantized(const char *name, wqc_dtype dtype, int ndim, const uint64_t *shape,
                                const wqc_quantized *q, uint8_t out[WQC_DIGEST_BYTES], wqc_error *err)
{
    crypto_generichash_state s;
    wqc_status st = hash_init(&s, TENSOR_DOMAIN, err);
    if (st == WQC_OK) st = put_head(&s, 1, name, dtype, ndim, shape, err);
    if (st != WQC_OK) return st;
    put_groups(&s, q);
    uint64_t n = q->rows * q->cols;
    put_u64(&s, n);
    put(&s, q->symbols, (size_t)n);
    finish(&s, out);
    return WQC_OK;
}

static wqc_status hash_sink(void *ctx, const void *buf, size_t len, wqc_error *err)
{
    (void)err;
    put(ctx, buf, len);
    return WQC_OK;
}

wqc_status wqc_digest_frame(const wqc_frame *f, int threads, uint8_t out[WQC_DIGEST_BYTES], wqc_error *err)
{
    int quantized = f->quantized && f->quant.method != WQC_QUANT_GIVEN;
    crypto_generichash_state s;
    wqc_status st = hash_init(&s, TENSOR_DOMAIN, err);
    if (st == WQC_OK) st = put_head(&s, quantized, f->name, f->dtype, f->ndim, f->shape, err);
    if (st != WQC_OK) return st;
    if (quantized) put_groups(&s, &f->q);
    put_u64(&s, f->quantized ? f->nelem : f->raw_len);
    st = wqc_frame_stream(f, WQC_FORM_SYMBOLS, threads, 0, hash_sink, &s, err);
    if (st == WQC_OK) finish(&s, out);
    else sodium_memzero(&s, sizeof s);
    return st;
}

typedef struct named_digest {
    const char *name;
    const uint8_t *digest;
} named_digest;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const named_digest *)a)->name, ((const named_digest *)b)->name);
}

wqc_status wqc_digest_model(const char *const *names, const uint8_t (*digests)[WQC_DIGEST_BYTES], size_t n,
                            uint8_t out[WQC_DIGEST_BYTES], wqc_error *err)
{
    named_digest *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) v[i] = (named_digest){names[i], digests[i]};
    qsort(v, n, sizeof *v, by_name);
    wqc_status st = WQC_OK;
    for (size_t i = 1; i < n && st == WQC_OK; i++)
        if (strcmp(v[i - 1].name, v[i].name) == 0) st = wqc_fail(err, WQC_ERR_FORMAT, "tensor '%s' appears twice", v[i].name);
    crypto_generichash_state s;
    if (st == WQC_OK) st = hash_init(&s, MODEL_DOMAIN, err);
    if (st == WQC_OK) {
        put_u64(&s, n);
        for (size_t i = 0; i < n; i++) put(&s, v[i].digest, WQC_DIGEST_BYTES);
        finish(&s, out);
    }
    free(v);
    return st;
}

void wqc_digest_hex(const uint8_t d[WQC_DIGEST_BYTES], char hex[2 * WQC_DIGEST_BYTES + 1])
{
    sodium_bin2hex(hex, 2 * WQC_DIGEST_BYTES + 1, d, WQC_DIGEST_BYTES);
}

int wqc_digest_parse(const char *s, uint8_t out[WQC_DIGEST_BYTES])
{
    size_t bin_len = 0;
    const char *end = NULL;
    if (strlen(s) != 2 * WQC_DIGEST_BYTES) return 0;
    if (sodium_hex2bin(out, WQC_DIGEST_BYTES, s, strlen(s), NULL, &bin_len, &end) != 0) return 0;
    return bin_len == WQC_DIGEST_BYTES && end && *end == '\0';
}
