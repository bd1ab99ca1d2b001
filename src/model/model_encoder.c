/* The whole-model encoder: the plan applied to each tensor, the models the
 * small quantized tensors share (a first pass that quantizes them and keeps
 * their frames for the second), the source layout for byte-exact inputs and
 * the statistics record's entries. `wqc encode` writes what this codes;
 * `wqc analyze` reports what it would code. */
#include <stdlib.h>
#include <string.h>

#include "../common/ordered_batches.h"
#include "../common/trace.h"
#include "../rans/decode_kernel.h"
#include "wqc/entropy.h"
#include "wqc/gemv.h"
#include "wqc/lossless.h"
#include "wqc/model_encode.h"
#include "wqc/quantized_st.h"
#include "wqc/symbol_model.h"

/* Quantized small tensors kept from the first pass, up to this many bytes. */
#define CACHE_MAX (256u << 20)

struct wqc_model_encoder {
    wqc_model *m;
    wqc_model_encode_options o;
    wqc_frame *given;            /* a quantized safetensors input: its frames */
    size_t n;
    const char **names;
    size_t *input_index;
    wqc_frame *cached;           /* quantized in the first pass (cached[i].quantized set) */
    wqc_tensor_stats *stats;     /* per tensor, where has_stats[i] */
    uint8_t *has_stats;
    wqc_symbol_model *shared;
    size_t nshared;
    int reproduces_source;
    size_t *scales_of;           /* wqc_model_block_scales: never quantized */
};

void wqc_model_encode_options_default(wqc_model_encode_options *o)
{
    memset(o, 0, sizeof *o);
    wqc_plan_default(&o->plan);
    wqc_encode_options_default(&o->coding);
    o->coding.rans.chunk = 0;
    o->kept_zstd_level = 9;
    o->stats = 1;
}

wqc_encode_options wqc_model_coding(const wqc_model_encode_options *o)
{
    wqc_encode_options c = o->coding;
    /* The gemv layout's chunks are smaller: threads split a product by chunks. */
    if (!c.rans.chunk) c.rans.chunk = c.gemv ? WQC_GEMV_CHUNK_DEFAULT : WQC_RANS_CHUNK_DEFAULT_CODEC;
    return c;
}

uint64_t wqc_coded_payload_bytes(const wqc_frame *f)
{
    return f->encoding == WQC_ENC_RANS ? f->coded.payload_len : f->payload_len;
}

static const wqc_quant_params *quantizer(const wqc_model_encoder *e, size_t i)
{
    return wqc_plan_model_quantizer(&e->o.plan, e->m, e->scales_of, i);
}

static int given_integers(const wqc_model_encoder *e, const wqc_tensor *t)
{
    return wqc_model_format_of(e->m) == WQC_FORMAT_NPY && (t->dtype == WQC_DTYPE_I8 || t->dtype == WQC_DTYPE_U8);
}

/* Frame i, quantized if the plan says so (release with release_frame). */
static wqc_status make_frame(wqc_model_encoder *e, size_t i, int threads, wqc_frame *f, wqc_error *err)
{
    if (e->given) {
        *f = e->given[i];
        return WQC_OK;
    }
    if (e->cached && e->cached[i].quantized) {
        *f = e->cached[i];
        memset(&e->cached[i], 0, sizeof e->cached[i]);
        return WQC_OK;
    }
    const wqc_tensor *t = wqc_model_tensor(e->m, i);
    const wqc_quant_params *p = quantizer(e, i);
    if (given_integers(e, t)) {
        wqc_status st = wqc_frame_given(t, f, err);
        if (f->q.symbols != t->data) wqc_model_release(e->m, i);
        return st;
    }
    wqc_tensor_stats *stats = e->stats ? &e->stats[i] : NULL;
    if (p) {
        wqc_status st = wqc_frame_quantize(e->m, i, p, threads, f, stats, err);
        if (st == WQC_OK && stats) e->has_stats[i] = 1;
        return st;
    }
    /* Kept float tensors: one more pass over their bytes. */
    if (stats && wqc_dtype_is_float(t->dtype)) e->has_stats[i] = wqc_stats_tensor(t, threads, stats, NULL) == WQC_OK;
    wqc_frame_raw(f, t);
    return WQC_OK;
}

static void release_frame(const wqc_model_encoder *e, size_t i, wqc_frame *f)
{
    if (e->given) return;
    /* Given symbols may be the input's own bytes (wqc_frame_given). */
    if (f->q.symbols && f->q.symbols == wqc_model_tensor(e->m, i)->data) f->q.symbols = NULL;
    wqc_frame_release(f);
}

/* The order-0 model of 256 symbols that small 1-byte tensors (8-bit floats,
 * packed 4-bit floats and their scales) may share, from the bytes of all of
 * them, appended to e->shared when two or more such tensors exist: each
 * takes it where that costs less than a table of its own. */
static wqc_status shared_byte_model(wqc_model_encoder *e, wqc_error *err)
{
    uint64_t counts[256] = {0};
    size_t tensors = 0;
    for (size_t i = 0; i < e->n; i++) {
        const wqc_tensor *t = wqc_model_tensor(e->m, i);
        if (wqc_dtype_size(t->dtype) != 1 || !wqc_split_dtype(t->dtype) || t->nelem == 0 ||
            t->nelem > WQC_SHARED_TENSOR_MAX || quantizer(e, i) || given_integers(e, t))
            continue;
        uint64_t h[256] = {0};
        wqc_histogram(t->data, (size_t)t->nelem, h);
        for (int k = 0; k < 256; k++) counts[k] += h[k];
        tensors++;
        wqc_model_release(e->m, i);
    }
    if (tensors < 2) return WQC_OK;
    wqc_symbol_model *grown = realloc(e->shared, (e->nshared + 1) * sizeof *grown);
    if (!grown) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    e->shared = grown;
    wqc_status st = wqc_symbol_model_build(counts, 0, 256, e->o.coding.rans.precision, 1, &e->shared[e->nshared], err);
    if (st == WQC_OK) e->nshared++;
    return st;
}

/* The threads that make and code tensors (-T; <= 0: every core). */
static int coding_threads(const wqc_model_encoder *e)
{
    return wqc_rans_threads(e->o.coding.rans.threads);
}

/* The models shared by the small quantized tensors of the input; the frames
 * quantized for them are kept for the second pass while they fit CACHE_MAX.
 * The frames are made a batch at a time on the coding threads, and added to
 * the pool in tensor order, so the models do not depend on the threads. */
static wqc_status shared_models(wqc_model_encoder *e, wqc_error *err)
{
    wqc_mode mode = e->o.coding.mode;
    if (mode != WQC_MODE_AUTO && mode != WQC_MODE_CONTEXT) return WQC_OK;
    wqc_model_pool *pool;
    wqc_status st = wqc_model_pool_create(e->o.coding.rans.precision, e->o.coding.resolution, &pool, err);
    int threads = coding_threads(e);
    size_t most = 2 * (size_t)threads;
    size_t *batch = calloc(most, sizeof *batch);
    wqc_frame *made = calloc(most, sizeof *made);
    wqc_status *made_st = calloc(most, sizeof *made_st);
    if (st == WQC_OK && (!batch || !made || !made_st)) st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    if (st == WQC_OK && !e->given && !(e->cached = calloc(e->n + 1, sizeof *e->cached)))
        st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    uint64_t cached = 0;
    for (size_t i = 0; st == WQC_OK && i < e->n;) {
        size_t nb = 0;
        for (; i < e->n && nb < most; i++) {
            uint64_t nelem = e->given ? e->given[i].nelem : wqc_model_tensor(e->m, i)->nelem;
            if (nelem == 0 || nelem > WQC_SHARED_TENSOR_MAX) continue;
            if (!e->given && !quantizer(e, i)) continue;
            batch[nb++] = i;
        }
        memset(made, 0, most * sizeof *made);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (nb > 1 && threads > 1)
#endif
        for (size_t k = 0; k < nb; k++) {
            wqc_error ignored; /* reported when the tensor is coded */
            made_st[k] = make_frame(e, batch[k], 1, &made[k], &ignored);
        }
        for (size_t k = 0; k < nb; k++) {
            wqc_frame *f = &made[k];
            if (st == WQC_OK && made_st[k] == WQC_ERR_NOMEM) st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
            if (st == WQC_OK && made_st[k] == WQC_OK && f->quantized) st = wqc_model_pool_add(pool, &f->q, err);
            if (st != WQC_OK && st != WQC_ERR_NOMEM) st = WQC_OK; /* reported when the tensor is coded */
            uint64_t bytes = f->nelem + 8 * f->q.ngroups;
            if (e->cached && made_st[k] == WQC_OK && f->quantized && f->q.symbols && cached + bytes <= CACHE_MAX) {
                e->cached[batch[k]] = *f;
                cached += bytes;
            } else {
                release_frame(e, batch[k], f);
            }
        }
    }
    free(batch);
    free(made);
    free(made_st);
    if (st == WQC_OK) st = wqc_model_pool_build(pool, &e->shared, &e->nshared, err);
    wqc_model_pool_free(pool);
    if (st == WQC_OK && !e->given) st = shared_byte_model(e, err);
    return st;
}

/* When no tensor of a single-file input is quantized (all lossless, kept or
 * given integers), decode can give the file back byte for byte. */
static int reproduces_source(const wqc_model_encoder *e)
{
    wqc_model_format fmt = wqc_model_format_of(e->m);
    if (e->given || (fmt != WQC_FORMAT_SAFETENSORS && fmt != WQC_FORMAT_NPY)) return 0;
    for (size_t i = 0; i < e->n; i++) {
        const wqc_tensor *t = wqc_model_tensor(e->m, i);
        if (!given_integers(e, t) && quantizer(e, i)) return 0;
    }
    return 1;
}

static wqc_status list_tensors(wqc_model_encoder *e, wqc_error *err)
{
    e->names = calloc(e->n + 1, sizeof *e->names);
    e->input_index = calloc(e->n + 1, sizeof *e->input_index);
    if (!e->names || !e->input_index) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    size_t count = wqc_model_count(e->m);
    for (size_t i = 0, k = 0; i < e->n; i++) {
        e->names[i] = e->given ? e->given[i].name : wqc_model_tensor(e->m, i)->name;
        /* A quantized input's frames fold three tensors each: find the symbols'. */
        if (!e->given) k = i;
        while (e->given && k < count && strcmp(wqc_model_tensor(e->m, k)->name, e->names[i]) != 0) k++;
        e->input_index[i] = k < count ? k : i;
    }
    return WQC_OK;
}

wqc_status wqc_model_encoder_open(wqc_model *m, const wqc_model_encode_options *o, wqc_model_encoder **out,
                                  wqc_error *err)
{
    *out = NULL;
    wqc_model_encoder *e = calloc(1, sizeof *e);
    if (!e) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    e->m = m;
    e->o = *o;
    e->o.coding.shared = NULL;
    e->o.coding.nshared = 0;
    e->o.coding = wqc_model_coding(o);
    wqc_status st = WQC_OK;
    if (wqc_qst_is_quantized(m)) st = wqc_qst_read(m, &e->given, &e->n, err);
    else e->n = wqc_model_count(m);
    if (st == WQC_OK && o->stats && !e->given) {
        e->stats = calloc(e->n + 1, sizeof *e->stats);
        e->has_stats = calloc(e->n + 1, 1);
        if (!e->stats || !e->has_stats) st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    if (st == WQC_OK && !e->given) {
        e->scales_of = malloc((e->n + 1) * sizeof *e->scales_of);
        st = e->scales_of ? wqc_model_block_scales(m, e->scales_of, NULL, err) : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    if (st == WQC_OK) st = list_tensors(e, err);
    if (st == WQC_OK) st = shared_models(e, err);
    if (st != WQC_OK) {
        wqc_model_encoder_free(e);
        return st;
    }
    e->o.coding.shared = e->shared;
    e->o.coding.nshared = e->nshared;
    e->reproduces_source = reproduces_source(e);
    *out = e;
    return WQC_OK;
}

void wqc_model_encoder_free(wqc_model_encoder *e)
{
    if (!e) return;
    for (size_t i = 0; e->cached && i < e->n; i++) release_frame(e, i, &e->cached[i]);
    free(e->cached);
    for (size_t i = 0; i < e->nshared; i++) wqc_symbol_model_free(&e->shared[i]);
    free(e->shared);
    wqc_qst_frames_free(e->given, e->n);
    void *owned[] = {e->stats, e->has_stats, e->names, e->input_index, e->scales_of, e};
    for (size_t i = 0; i < sizeof owned / sizeof *owned; i++) free(owned[i]);
}

size_t wqc_model_encoder_count(const wqc_model_encoder *e) { return e->n; }

const char *const *wqc_model_encoder_names(const wqc_model_encoder *e) { return e->names; }

size_t wqc_model_encoder_input_index(const wqc_model_encoder *e, size_t i) { return e->input_index[i]; }

const wqc_model *wqc_model_encoder_model(const wqc_model_encoder *e) { return e->m; }

uint64_t wqc_model_encoder_input_bytes(const wqc_model_encoder *e)
{
    uint64_t total = 0;
    for (size_t i = 0; !e->given && i < e->n; i++) total += wqc_model_tensor(e->m, i)->nbytes;
    return total;
}

const wqc_symbol_model *wqc_model_encoder_shared(const wqc_model_encoder *e, size_t *n)
{
    *n = e->nshared;
    return e->shared;
}

int wqc_model_encoder_quantized(const wqc_model_encoder *e, size_t i)
{
    if (e->given) return e->given[i].quantized;
    const wqc_tensor *t = wqc_model_tensor(e->m, i);
    return given_integers(e, t) || quantizer(e, i) != NULL;
}

int wqc_model_encoder_reproduces_source(const wqc_model_encoder *e) { return e->reproduces_source; }

/* Codes a made frame (quantized: from f->q.symbols) with coding options o. */
static wqc_status code_frame(const wqc_model_encoder *e, const wqc_encode_options *o, size_t i, wqc_coded_tensor *c,
                             wqc_error *err)
{
    wqc_frame *f = &c->frame;
    if (f->quantized) return wqc_encode_symbols(f, o, &c->sizes, &c->scratch, err);
    wqc_tensor t = {f->name, f->dtype, f->ndim, {0}, f->nelem, f->payload, f->payload_len};
    memcpy(t.shape, f->shape, sizeof f->shape);
    /* 1-byte values (8-bit floats, packed 4-bit floats and their scales) are
     * never quantized here: they are kept, in their entropy. */
    int bytes = wqc_split_dtype(f->dtype) && !wqc_dtype_is_float(f->dtype);
    if (!e->given && (bytes || wqc_plan_lossless(&e->o.plan, wqc_model_tensor(e->m, i))))
        return wqc_frame_lossless(&t, o, e->o.kept_zstd_level, f, &c->scratch, err);
    return wqc_frame_passthrough(&t, e->o.kept_zstd_level, f, &c->scratch, err);
}

static wqc_status code_with(wqc_model_encoder *e, const wqc_encode_options *o, size_t i, wqc_coded_tensor *c,
                            wqc_error *err)
{
    memset(c, 0, sizeof *c);
    c->input_bytes = e->given ? 0 : wqc_model_tensor(e->m, i)->nbytes;
    WQC_TRACE("make frame", i);
    wqc_status st = make_frame(e, i, wqc_rans_threads(o->rans.threads), &c->frame, err);
    WQC_TRACE("code frame", i);
    if (st == WQC_OK) st = code_frame(e, o, i, c, err);
    WQC_TRACE("coded frame", i);
    if (st == WQC_OK && e->has_stats && e->has_stats[i]) {
        c->has_stats = 1;
        c->stats = e->stats[i];
    }
    return st;
}

wqc_status wqc_model_encoder_code(wqc_model_encoder *e, size_t i, wqc_coded_tensor *c, wqc_error *err)
{
    return code_with(e, &e->o.coding, i, c, err);
}

/* Working memory of coding tensor i while it is coded and until it is
 * written: a quantized tensor's (wqc_frame_quantize_bytes); made in the
 * first pass, its symbols and payload; else about three copies of its bytes. */
static uint64_t coding_bytes(const wqc_model_encoder *e, size_t i)
{
    if (e->given) return e->given[i].nelem * 2 + e->given[i].payload_len;
    const wqc_tensor *t = wqc_model_tensor(e->m, i);
    if (e->cached && e->cached[i].quantized) return 2 * t->nelem;
    const wqc_quant_params *p = quantizer(e, i);
    return p ? wqc_frame_quantize_bytes(t, p) : 3 * t->nbytes;
}

/* The encoder as ordered batches: tensors coded on the threads, given to
 * fn in order. */
typedef struct each_pass {
    wqc_model_encoder *e;
    wqc_coded_fn fn;
    void *ctx;
} each_pass;

static uint64_t pass_bytes(void *ctx, size_t i) { return coding_bytes(((each_pass *)ctx)->e, i); }

static wqc_status pass_make(void *ctx, size_t i, int threads, void *slot, wqc_error *err)
{
    wqc_model_encoder *e = ((each_pass *)ctx)->e;
    wqc_encode_options o = e->o.coding;
    o.rans.threads = threads; /* 1 in a batch; coded alone, every thread (-T resolved) */
    return code_with(e, &o, i, slot, err);
}

static wqc_status pass_use(void *ctx, size_t i, void *slot, wqc_error *err)
{
    each_pass *p = ctx;
    return p->fn(p->ctx, i, slot, err);
}

static void pass_release(void *ctx, size_t i, void *slot) { wqc_model_encoder_release(((each_pass *)ctx)->e, i, slot); }

wqc_status wqc_model_encoder_each(wqc_model_encoder *e, wqc_coded_fn fn, void *ctx, wqc_error *err)
{
    static const wqc_batch_ops ops = {sizeof(wqc_coded_tensor), pass_bytes, pass_make, pass_use, pass_release};
    each_pass p = {e, fn, ctx};
    return wqc_ordered_batches(e->n, coding_threads(e), WQC_BATCH_BYTES_PER_THREAD, &ops, &p, err);
}

void wqc_model_encoder_release(wqc_model_encoder *e, size_t i, wqc_coded_tensor *c)
{
    wqc_encoded_free(&c->frame);
    free(c->scratch);
    c->scratch = NULL;
    release_frame(e, i, &c->frame);
    /* Kept tensors were read from the input; quantized ones already let it go. */
    if (!e->given) {
        wqc_model_release(e->m, i);
    } else {
        const wqc_frame *g = &e->given[i];
        wqc_model_release_data(e->m, g->quantized ? g->q.symbols : g->payload, g->raw_len);
    }
}
