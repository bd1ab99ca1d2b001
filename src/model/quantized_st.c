/* Quantized safetensors (docs/FORMAT.md): read and write. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wqc/quantized_st.h"

/* a followed by b, newly allocated; NULL when out of memory. */
static char *joined(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s", a, b);
    return s;
}

static const char *method_names[] = {"affine", "sdclip", "grid"};
static const char *gran_names[] = {"tensor", "row", "group"};

static char *quant_json(const wqc_frame *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "method", json_string(method_names[f->quant.method]));
    json_object_set_new(o, "bits", json_integer(f->q.bits));
    json_object_set_new(o, "granularity", json_string(gran_names[f->quant.granularity]));
    json_object_set_new(o, "group_size", json_integer(f->quant.group_size));
    json_object_set_new(o, "k", json_real(f->quant.k));
    json_object_set_new(o, "step", json_real(f->quant.step));
    json_object_set_new(o, "alphabet", json_integer(f->q.alphabet));
    json_object_set_new(o, "rows", json_integer((json_int_t)f->q.rows));
    json_object_set_new(o, "cols", json_integer((json_int_t)f->q.cols));
    json_object_set_new(o, "dtype", json_string(wqc_dtype_name(f->dtype)));
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(o);
    return s;
}

wqc_kv *wqc_qst_source_metadata(const wqc_kv *meta, size_t nmeta, size_t *out_n)
{
    wqc_kv *kv = calloc(nmeta + 1, sizeof *kv);
    *out_n = 0;
    if (!kv) return NULL;
    for (size_t i = 0; i < nmeta; i++)
        if (strncmp(meta[i].key, "wqc.", 4) != 0) kv[(*out_n)++] = meta[i];
    return kv;
}

void wqc_qst_layout_free(wqc_qst_layout *l)
{
    for (size_t i = 0; i < l->nowned; i++) free(l->owned[i]);
    free(l->owned);
    free(l->kv);
    free(l->tensors);
    free(l->frame_of);
    memset(l, 0, sizeof *l);
}

wqc_status wqc_qst_layout_make(const wqc_frame *frames, size_t n, const wqc_kv *meta, size_t nmeta, wqc_qst_layout *l,
                           wqc_error *err)
{
    memset(l, 0, sizeof *l);
    size_t nsrc;
    wqc_kv *src = wqc_qst_source_metadata(meta, nmeta, &nsrc);
    l->tensors = calloc(3 * n + 1, sizeof *l->tensors);
    l->frame_of = calloc(3 * n + 1, sizeof *l->frame_of);
    l->kv = calloc(nsrc + n + 2, sizeof *l->kv);
    l->owned = calloc(4 * n + 1, sizeof *l->owned); /* two names, a key, a value per tensor */
    wqc_status st = WQC_OK;
    if (!src || !l->tensors || !l->frame_of || !l->kv || !l->owned) {
        st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nsrc; i++) l->kv[l->nkv++] = src[i];
    l->kv[l->nkv++] = (wqc_kv){WQC_QST_FORMAT_KEY, WQC_QST_FORMAT_VALUE};
    for (size_t i = 0; i < n; i++) {
        const wqc_frame *f = &frames[i];
        l->frame_of[l->n] = i;
        wqc_tensor *x = &l->tensors[l->n++];
        x->name = f->name;
        x->ndim = f->ndim;
        memcpy(x->shape, f->shape, sizeof f->shape);
        x->nelem = f->nelem;
        if (!f->quantized) {
            x->dtype = f->dtype;
            x->data = f->payload;
            x->nbytes = f->raw_len;
            continue;
        }
        x->dtype = WQC_DTYPE_U8;
        x->data = f->q.symbols;
        x->nbytes = f->nelem;
        const float *arrays[2] = {f->q.scale, f->q.offset};
        const char *suffix[2] = {WQC_QST_SCALE_SUFFIX, WQC_QST_OFFSET_SUFFIX};
        for (int a = 0; a < 2; a++) {
            l->frame_of[l->n] = i;
            wqc_tensor *s = &l->tensors[l->n++];
            char *name = l->owned[l->nowned++] = joined(f->name, suffix[a]);
            if (!name) {
                st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
                goto done;
            }
            s->name = name;
            s->dtype = WQC_DTYPE_F32;
            s->ndim = 1;
            s->shape[0] = s->nelem = f->q.ngroups;
            s->data = (const unsigned char *)arrays[a];
            s->nbytes = f->q.ngroups * sizeof(float);
        }
        char *key = l->owned[l->nowned++] = joined(WQC_QST_TENSOR_KEY_PREFIX, f->name);
        char *value = l->owned[l->nowned++] = quant_json(f);
        if (!key || !value) {
            st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
            goto done;
        }
        l->kv[l->nkv++] = (wqc_kv){key, value};
    }
done:
    free(src);
    if (st != WQC_OK) wqc_qst_layout_free(l);
    return st;
}

wqc_status wqc_qst_write(wqc_sink_fn sink, void *ctx, const wqc_frame *frames, size_t n, const wqc_kv *meta,
                     size_t nmeta, wqc_error *err)
{
    wqc_qst_layout l;
    wqc_status st = wqc_qst_layout_make(frames, n, meta, nmeta, &l, err);
    if (st == WQC_OK) st = wqc_safetensors_write(sink, ctx, l.tensors, l.n, l.kv, l.nkv, err);
    wqc_qst_layout_free(&l);
    return st;
}

int wqc_qst_is_quantized(const wqc_model *m)
{
    for (size_t i = 0; i < wqc_model_metadata_count(m); i++) {
        const wqc_kv *kv = wqc_model_metadata(m, i);
        if (strcmp(kv->key, WQC_QST_FORMAT_KEY) == 0) return strcmp(kv->value, WQC_QST_FORMAT_VALUE) == 0;
    }
    return 0;
}

static const char *meta_value(const wqc_model *m, const char *key)
{
    for (size_t i = 0; i < wqc_model_metadata_count(m); i++)
        if (strcmp(wqc_model_metadata(m, i)->key, key) == 0) return wqc_model_metadata(m, i)->value;
    return NULL;
}

static const wqc_tensor *find_tensor(const wqc_model *m, const char *name)
{
    for (size_t i = 0; i < wqc_model_count(m); i++)
        if (strcmp(wqc_model_tensor(m, i)->name, name) == 0) return wqc_model_tensor(m, i);
    return NULL;
}

static int lookup(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (s && strcmp(names[i], s) == 0) return (int)i;
    return -1;
}

/* Fills f's quantizer from the wqc.q.NAME JSON and checks the group layout. */
static wqc_status parse_quant(const wqc_tensor *t, const char *text, wqc_frame *f, wqc_error *err)
{
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    wqc_status st = WQC_OK;
    json_int_t bits, group, alphabet, rows, cols;
    const char *method, *gran, *dtype;
    double k, step;
    if (!o || json_unpack(o, "{s:s, s:I, s:s, s:I, s:F, s:F, s:I, s:I, s:I, s:s}", "method", &method, "bits",
                          &bits, "granularity", &gran, "group_size", &group, "k", &k, "step", &step,
                          "alphabet", &alphabet, "rows", &rows, "cols", &cols, "dtype", &dtype) != 0) {
        st = wqc_fail(err, WQC_ERR_FORMAT, "tensor '%s': malformed " WQC_QST_TENSOR_KEY_PREFIX " metadata", t->name);
        goto done;
    }
    int mi = lookup(method_names, 3, method), gi = lookup(gran_names, 3, gran);
    wqc_dtype dt;
    if (mi < 0 || gi < 0 || bits < 1 || bits > 8 || alphabet < 1 || alphabet > (1 << bits) || rows < 0 ||
        cols < 0 || group < 0 || group > UINT32_MAX || (uint64_t)rows * (uint64_t)cols != t->nelem ||
        wqc_dtype_from_name(dtype, &dt) != WQC_OK || !wqc_dtype_is_float(dt)) {
        st = wqc_fail(err, WQC_ERR_FORMAT, "tensor '%s': inconsistent quantizer metadata", t->name);
        goto done;
    }
    f->dtype = dt;
    f->quant.method = (wqc_quant_method)mi;
    f->quant.granularity = (wqc_granularity)gi;
    f->quant.bits = f->q.bits = (int)bits;
    f->quant.group_size = (uint32_t)group;
    f->quant.k = k;
    f->quant.step = step;
    f->q.alphabet = (uint32_t)alphabet;
    f->q.rows = (uint64_t)rows;
    f->q.cols = (uint64_t)cols;
    int per_group = mi == WQC_QUANT_AFFINE && gi != WQC_GRAN_TENSOR;
    f->q.group_len = per_group && gi == WQC_GRAN_GROUP ? (uint64_t)group : (uint64_t)cols;
    if (per_group && f->q.group_len == 0) f->q.group_len = 1;
    uint64_t per_row = f->q.group_len ? (f->q.cols + f->q.group_len - 1) / f->q.group_len : 0;
    f->q.ngroups = per_group ? f->q.rows * per_row : mi == WQC_QUANT_SDCLIP ? f->q.rows : 1;
done:
    json_decref(o);
    return st;
}

static wqc_status load_groups(const wqc_model *m, const wqc_tensor *t, const char *suffix, uint64_t ngroups,
                              float **out, wqc_error *err)
{
    char *name = joined(t->name, suffix);
    if (!name) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    const wqc_tensor *s = find_tensor(m, name);
    free(name);
    if (!s || s->dtype != WQC_DTYPE_F32 || s->nelem != ngroups)
        return wqc_fail(err, WQC_ERR_FORMAT, "tensor '%s': missing or malformed %s tensor (F32[%llu] expected)",
                        t->name, suffix, (unsigned long long)ngroups);
    return wqc_tensor_to_f32(s, out, err);
}

static int is_group_tensor(const wqc_model *m, const wqc_tensor *t)
{
    size_t n = strlen(t->name);
    const char *suffix[2] = {WQC_QST_SCALE_SUFFIX, WQC_QST_OFFSET_SUFFIX};
    for (int a = 0; a < 2; a++) {
        size_t k = strlen(suffix[a]);
        if (n <= k || strcmp(t->name + n - k, suffix[a]) != 0) continue;
        char *base = strndup(t->name, n - k), *key = base ? joined(WQC_QST_TENSOR_KEY_PREFIX, base) : NULL;
        int owned = key && meta_value(m, key) != NULL;
        free(base);
        free(key);
        if (owned) return 1;
    }
    return 0;
}

wqc_status wqc_qst_read(const wqc_model *m, wqc_frame **frames, size_t *n, wqc_error *err)
{
    *n = 0;
    *frames = calloc(wqc_model_count(m) + 1, sizeof **frames);
    if (!*frames) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < wqc_model_count(m); i++) {
        const wqc_tensor *t = wqc_model_tensor(m, i);
        if (is_group_tensor(m, t)) continue;
        wqc_frame *f = &(*frames)[(*n)++];
        wqc_frame_init(f, t);
        char *key = joined(WQC_QST_TENSOR_KEY_PREFIX, t->name);
        const char *json = key ? meta_value(m, key) : NULL;
        free(key);
        if (!json) {
            f->encoding = WQC_ENC_RAW;
            f->payload = t->data;
            f->payload_len = f->raw_len = t->nbytes;
            continue;
        }
        if (t->dtype != WQC_DTYPE_U8)
            return wqc_fail(err, WQC_ERR_FORMAT, "tensor '%s': quantized symbols must be U8", t->name);
        f->encoding = WQC_ENC_RANS;
        f->quantized = 1;
        wqc_status st = parse_quant(t, json, f, err);
        if (st == WQC_OK) st = load_groups(m, t, WQC_QST_SCALE_SUFFIX, f->q.ngroups, &f->q.scale, err);
        if (st == WQC_OK) st = load_groups(m, t, WQC_QST_OFFSET_SUFFIX, f->q.ngroups, &f->q.offset, err);
        if (st != WQC_OK) return st;
        f->q.symbols = (uint8_t *)t->data;
        f->raw_len = t->nelem;
        for (uint64_t j = 0; j < t->nelem; j++)
            if (t->data[j] >= f->q.alphabet)
                return wqc_fail(err, WQC_ERR_FORMAT, "tensor '%s': symbol %u at element %llu exceeds the alphabet of %u",
                                t->name, t->data[j], (unsigned long long)j, f->q.alphabet);
    }
    return WQC_OK;
}

void wqc_qst_frames_free(wqc_frame *frames, size_t n)
{
    if (!frames) return;
    for (size_t i = 0; i < n; i++) {
        free(frames[i].q.scale);
        free(frames[i].q.offset);
    }
    free(frames);
}
