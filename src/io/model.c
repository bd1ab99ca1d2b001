/* A model: the tensors of one .npy, one .safetensors, or every shard named by
 * a safetensors index, seen as one list. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "wqc/mapped_file.h"
#include "wqc/tensor_io.h"

struct wqc_model {
    wqc_model_format format;
    size_t nfiles;
    wqc_mapped_file *files;
    wqc_st_header *headers;   /* one per file for safetensors formats */
    size_t ntensors;
    wqc_tensor *tensors;
    size_t *tensor_file;      /* file of each tensor (index of files[]) */
    char *npy_name;           /* owned name of a .npy tensor */
    unsigned char *npy_copy;  /* converted .npy data when not usable in place */
    size_t nmeta;
    wqc_kv *meta;             /* index metadata (safetensors: points into headers) */
    int owns_meta;
};

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static wqc_status open_npy(wqc_model *m, const char *path, wqc_error *err)
{
    const wqc_mapped_file *f = &m->files[0];
    wqc_npy_header h;
    wqc_status st = wqc_npy_parse_header(f->data, f->size, &h, err);
    if (st != WQC_OK) return st;
    const char *base = strcmp(path, "-") == 0 ? "stdin" : base_name(path);
    size_t n = strlen(base);
    if (has_suffix(base, ".npy")) n -= 4;
    m->npy_name = malloc(n + 1);
    m->tensors = calloc(1, sizeof *m->tensors);
    if (!m->npy_name || !m->tensors) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    memcpy(m->npy_name, base, n);
    m->npy_name[n] = '\0';

    wqc_tensor *t = &m->tensors[0];
    m->ntensors = 1;
    t->name = m->npy_name;
    t->dtype = h.dtype;
    t->ndim = h.ndim;
    memcpy(t->shape, h.shape, sizeof h.shape);
    t->nelem = h.nelem;
    t->nbytes = h.data_bytes;
    int in_place = !(h.big_endian && wqc_dtype_size(h.dtype) > 1) && !(h.fortran_order && h.ndim > 1);
    if (in_place) {
        t->data = f->data + h.data_offset;
        return WQC_OK;
    }
    m->npy_copy = malloc(h.data_bytes ? (size_t)h.data_bytes : 1);
    if (!m->npy_copy) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    wqc_npy_copy_c_order(&h, f->data, m->npy_copy);
    t->data = m->npy_copy;
    return WQC_OK;
}

/* Appends the tensors of safetensors file `fi` (all of them, or only those
 * that `weight_map` assigns to `shard` when weight_map is given). */
static wqc_status add_safetensors(wqc_model *m, size_t fi, json_t *weight_map, const char *shard,
                                  wqc_error *err)
{
    const wqc_mapped_file *f = &m->files[fi];
    wqc_st_header *h = &m->headers[fi];
    wqc_status st = wqc_safetensors_parse(f->data, f->size, h, err);
    if (st != WQC_OK) return st;
    wqc_tensor *grown = realloc(m->tensors, (m->ntensors + h->count + 1) * sizeof *grown);
    if (grown) m->tensors = grown;
    size_t *grown_file = grown ? realloc(m->tensor_file, (m->ntensors + h->count + 1) * sizeof *grown_file) : NULL;
    if (!grown_file) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    m->tensor_file = grown_file;
    for (size_t i = 0; i < h->count; i++) {
        const wqc_st_entry *e = &h->entries[i];
        if (weight_map) {
            json_t *where = json_object_get(weight_map, e->name);
            if (!json_is_string(where) || strcmp(json_string_value(where), shard) != 0) continue;
        }
        m->tensor_file[m->ntensors] = fi;
        wqc_tensor *t = &m->tensors[m->ntensors++];
        memset(t, 0, sizeof *t);
        t->name = e->name;
        t->dtype = e->dtype;
        t->ndim = e->ndim;
        memcpy(t->shape, e->shape, sizeof e->shape);
        t->nelem = e->nelem;
        t->nbytes = e->end - e->begin;
        t->data = f->data + h->data_offset + e->begin;
    }
    return WQC_OK;
}

int wqc_shard_path_is_safe(const char *p)
{
    if (p[0] == '\0' || p[0] == '/') return 0;
    for (const char *s = p; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 2 && s[0] == '.' && s[1] == '.') return 0;
        s += n + (e ? 1 : 0);
    }
    return 1;
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* After the index's own metadata, each shard's __metadata__ keys not seen
 * before (shards in order): what a sharded quantized model keeps there. */
static wqc_status merge_shard_metadata(wqc_model *m, wqc_error *err)
{
    size_t extra = 0;
    for (size_t f = 1; f < m->nfiles; f++) extra += m->headers[f].nmeta;
    wqc_kv *grown = realloc(m->meta, (m->nmeta + extra + 1) * sizeof *grown);
    if (!grown) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    m->meta = grown;
    m->owns_meta = 1;
    for (size_t f = 1; f < m->nfiles; f++)
        for (size_t k = 0; k < m->headers[f].nmeta; k++) {
            const wqc_kv *kv = &m->headers[f].meta[k];
            size_t i = 0;
            while (i < m->nmeta && strcmp(m->meta[i].key, kv->key) != 0) i++;
            if (i < m->nmeta) continue;
            wqc_kv *to = &m->meta[m->nmeta];
            to->key = strdup(kv->key);
            to->value = strdup(kv->value);
            if (!to->key || !to->value) {
                free(to->key);
                free(to->value);
                return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
            }
            m->nmeta++;
        }
    return WQC_OK;
}

static wqc_status open_index(wqc_model *m, const char *path, wqc_error *err)
{
    const wqc_mapped_file *f = &m->files[0];
    if (f->size > WQC_INDEX_JSON_MAX)
        return wqc_fail(err, WQC_ERR_LIMIT, "index: larger than %u bytes", WQC_INDEX_JSON_MAX);
    json_error_t jerr;
    json_t *root = json_loadb((const char *)f->data, f->size, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return wqc_fail(err, WQC_ERR_FORMAT, "index: bad JSON at line %d: %s", jerr.line, jerr.text);
    wqc_status st = WQC_OK;
    const char **shards = NULL;
    char *shard_path = NULL;
    json_t *weight_map = json_object_get(root, "weight_map");
    if (!json_is_object(weight_map)) {
        st = wqc_fail(err, WQC_ERR_FORMAT, "index: no \"weight_map\" object");
        goto done;
    }
    /* Distinct shard names, sorted, so the tensor order does not depend on JSON order. */
    size_t nmap = json_object_size(weight_map), nshards = 0;
    shards = calloc(nmap + 1, sizeof *shards);
    if (!shards) {
        st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        goto done;
    }
    const char *key;
    json_t *val;
    json_object_foreach(weight_map, key, val) {
        if (!json_is_string(val) || !wqc_shard_path_is_safe(json_string_value(val))) {
            st = wqc_fail(err, WQC_ERR_FORMAT, "index: tensor '%s' names an invalid shard path", key);
            goto done;
        }
        shards[nshards++] = json_string_value(val);
    }
    qsort(shards, nshards, sizeof *shards, by_string);
    size_t distinct = 0;
    for (size_t i = 0; i < nshards; i++)
        if (distinct == 0 || strcmp(shards[distinct - 1], shards[i]) != 0) shards[distinct++] = shards[i];

    json_t *meta = json_object_get(root, "metadata");
    if (json_is_object(meta)) {
        m->meta = calloc(json_object_size(meta) + 1, sizeof *m->meta);
        m->owns_meta = 1;
        if (!m->meta) {
            st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
            goto done;
        }
        json_object_foreach(meta, key, val) {
            char text[64];
            const char *s = text;
            if (json_is_string(val)) s = json_string_value(val);
            else if (json_is_integer(val)) snprintf(text, sizeof text, "%lld", (long long)json_integer_value(val));
            else continue;
            wqc_kv *kv = &m->meta[m->nmeta++];
            kv->key = strdup(key);
            kv->value = strdup(s);
            if (!kv->key || !kv->value) {
                st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
                goto done;
            }
        }
    }

    wqc_mapped_file *files = realloc(m->files, (distinct + 1) * sizeof *files);
    m->headers = calloc(distinct + 1, sizeof *m->headers);
    if (!files || !m->headers) {
        if (files) m->files = files;
        st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        goto done;
    }
    m->files = files;
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
    for (size_t i = 0; i < distinct; i++) {
        size_t n = strlen(shards[i]);
        free(shard_path);
        shard_path = malloc(dirlen + n + 1);
        if (!shard_path) {
            st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
            goto done;
        }
        memcpy(shard_path, path, dirlen);
        memcpy(shard_path + dirlen, shards[i], n + 1);
        size_t fi = m->nfiles;
        st = wqc_map_file(shard_path, &m->files[fi], err);
        if (st == WQC_OK) {
            m->nfiles++;
            st = add_safetensors(m, fi, weight_map, shards[i], err);
        }
        if (st != WQC_OK) {
            wqc_fail_context(err, st, "shard %s", shards[i]);
            goto done;
        }
    }
    st = merge_shard_metadata(m, err);
    if (st != WQC_OK) goto done;
    if (m->ntensors != nmap) {
        /* Some weight_map entry was not found in the shard it names. */
        json_object_foreach(weight_map, key, val) {
            size_t i = 0;
            while (i < m->ntensors && strcmp(m->tensors[i].name, key) != 0) i++;
            if (i == m->ntensors) {
                st = wqc_fail(err, WQC_ERR_NOT_FOUND, "index: tensor '%s' is not in shard %s", key,
                              json_string_value(val));
                goto done;
            }
        }
    }
done:
    free(shard_path);
    free(shards);
    json_decref(root);
    return st;
}

wqc_status wqc_model_open(const char *path, wqc_model **out, wqc_error *err)
{
    *out = NULL;
    wqc_model *m = calloc(1, sizeof *m);
    if (m) m->files = calloc(1, sizeof *m->files);
    if (!m || !m->files) {
        free(m);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    wqc_status st = wqc_map_file(path, &m->files[0], err);
    if (st != WQC_OK) {
        wqc_model_close(m);
        return st;
    }
    m->nfiles = 1;
    const wqc_mapped_file *f = &m->files[0];
    wqc_file_format kind = wqc_detect_format(f->data, f->size, strcmp(path, "-") ? path : NULL);
    if (kind == WQC_FILE_WQC || kind == WQC_FILE_WQC_INDEX || kind == WQC_FILE_GGUF) {
        st = wqc_fail(err, WQC_ERR_UNSUPPORTED, "a %s file, where safetensors, .npy or a safetensors index was expected",
                      wqc_file_format_name(kind));
    } else if (kind == WQC_FILE_NPY || has_suffix(path, ".npy")) {
        m->format = WQC_FORMAT_NPY;
        st = open_npy(m, path, err);
    } else if (has_suffix(path, ".json")) {
        m->format = WQC_FORMAT_SAFETENSORS_INDEX;
        st = open_index(m, path, err);
    } else {
        m->format = WQC_FORMAT_SAFETENSORS;
        m->headers = calloc(1, sizeof *m->headers);
        st = m->headers ? add_safetensors(m, 0, NULL, NULL, err)
                        : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        if (st == WQC_OK) {
            m->meta = m->headers[0].meta;
            m->nmeta = m->headers[0].nmeta;
        }
    }
    if (st != WQC_OK) {
        wqc_model_close(m);
        return st;
    }
    *out = m;
    return WQC_OK;
}

wqc_status wqc_model_from_tensors(const wqc_tensor *tensors, size_t n, const wqc_kv *meta, size_t nmeta,
                                  wqc_model **out, wqc_error *err)
{
    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        const wqc_tensor *t = &tensors[i];
        uint64_t nelem = 1;
        for (int d = 0; d < t->ndim; d++) nelem *= t->shape[d];
        if (!t->name || t->ndim < 0 || t->ndim > WQC_MAX_DIMS || nelem != t->nelem ||
            t->nbytes != t->nelem * wqc_dtype_size(t->dtype) || (t->nbytes && !t->data))
            return wqc_fail(err, WQC_ERR_INVALID_ARG, "tensor %zu ('%s'): shape, dtype and byte count disagree", i,
                            t->name ? t->name : "");
        for (size_t j = 0; j < i; j++)
            if (strcmp(tensors[j].name, t->name) == 0)
                return wqc_fail(err, WQC_ERR_INVALID_ARG, "two tensors are called '%s'", t->name);
    }
    wqc_model *m = calloc(1, sizeof *m);
    if (m) m->tensors = calloc(n + 1, sizeof *m->tensors);
    if (m && nmeta) m->meta = calloc(nmeta, sizeof *m->meta);
    if (!m || !m->tensors || (nmeta && !m->meta)) {
        wqc_model_close(m);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    m->format = WQC_FORMAT_TENSORS;
    m->ntensors = n;
    if (n) memcpy(m->tensors, tensors, n * sizeof *tensors);
    if (nmeta) memcpy(m->meta, meta, nmeta * sizeof *meta);
    m->nmeta = nmeta;
    *out = m;
    return WQC_OK;
}

void wqc_model_close(wqc_model *m)
{
    if (!m) return;
    if (m->owns_meta) {
        for (size_t i = 0; i < m->nmeta; i++) {
            free(m->meta[i].key);
            free(m->meta[i].value);
        }
        free(m->meta);
    }
    for (size_t i = 0; i < m->nfiles; i++) {
        if (m->headers) wqc_st_header_free(&m->headers[i]);
        wqc_unmap_file(&m->files[i]);
    }
    free(m->headers);
    free(m->files);
    free(m->tensors);
    free(m->tensor_file);
    free(m->npy_name);
    free(m->npy_copy);
    if (m->format == WQC_FORMAT_TENSORS) free(m->meta);
    free(m);
}

wqc_model_format wqc_model_format_of(const wqc_model *m) { return m->format; }
size_t wqc_model_count(const wqc_model *m) { return m->ntensors; }

const wqc_tensor *wqc_model_tensor(const wqc_model *m, size_t i)
{
    return i < m->ntensors ? &m->tensors[i] : NULL;
}

/* Tensors by position in the file (ties, empty tensors, by index). */
static int by_data(const void *a, const void *b, void *tensors)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    const wqc_tensor *t = tensors;
    const unsigned char *p = t[i].data, *q = t[j].data;
    return p < q ? -1 : p > q ? 1 : i < j ? -1 : i > j;
}

wqc_status wqc_model_layout(const wqc_model *m, uint64_t *header_len, size_t *order, wqc_error *err)
{
    if (m->format == WQC_FORMAT_SAFETENSORS_INDEX)
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "a sharded checkpoint is several files, not one");
    if (m->format == WQC_FORMAT_TENSORS) return wqc_fail(err, WQC_ERR_UNSUPPORTED, "tensors in memory have no file");
    const wqc_mapped_file *f = &m->files[0];
    uint64_t start = m->format == WQC_FORMAT_SAFETENSORS ? m->headers[0].data_offset
                     : m->ntensors && m->tensors[0].data >= f->data && m->tensors[0].data <= f->data + f->size
                         ? (uint64_t)(m->tensors[0].data - f->data)
                         : f->size + 1;
    if (start > f->size)
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "the .npy data is not stored as read (Fortran order or big-endian)");
    for (size_t i = 0; i < m->ntensors; i++) order[i] = i;
    qsort_r(order, m->ntensors, sizeof *order, by_data, m->tensors);
    const unsigned char *at = f->data + start;
    for (size_t k = 0; k < m->ntensors; k++) {
        const wqc_tensor *t = &m->tensors[order[k]];
        if (t->nbytes && t->data != at)
            return wqc_fail(err, WQC_ERR_UNSUPPORTED, "tensor '%s' does not follow the previous one's bytes (a gap or an overlap)",
                            t->name);
        at += t->nbytes;
    }
    if (at != f->data + f->size)
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "%llu bytes after the last tensor",
                        (unsigned long long)(f->data + f->size - at));
    *header_len = start;
    return WQC_OK;
}

const unsigned char *wqc_model_bytes(const wqc_model *m, uint64_t *len)
{
    *len = m->nfiles ? m->files[0].size : 0;
    return m->nfiles ? m->files[0].data : NULL;
}

void wqc_model_release_data(const wqc_model *m, const void *data, uint64_t nbytes)
{
    const unsigned char *p = data;
    for (size_t k = 0; p && k < m->nfiles; k++) {
        const wqc_mapped_file *f = &m->files[k];
        if (f->data && p >= f->data && p < f->data + f->size)
            wqc_mapped_release(f, (size_t)(p - f->data), (size_t)nbytes);
    }
}

void wqc_model_release(const wqc_model *m, size_t i)
{
    if (i < m->ntensors) wqc_model_release_data(m, m->tensors[i].data, m->tensors[i].nbytes);
}

size_t wqc_model_shard_of(const wqc_model *m, size_t i)
{
    if (i >= m->ntensors || !m->tensor_file) return 0;
    /* An index's files[0] is the index itself. */
    return m->format == WQC_FORMAT_SAFETENSORS_INDEX ? m->tensor_file[i] - 1 : m->tensor_file[i];
}

size_t wqc_model_metadata_count(const wqc_model *m) { return m->nmeta; }

const wqc_kv *wqc_model_metadata(const wqc_model *m, size_t i)
{
    return i < m->nmeta ? &m->meta[i] : NULL;
}

wqc_status wqc_tensor_to_f32(const wqc_tensor *t, float **out, wqc_error *err)
{
    *out = NULL;
    if (t->nelem > SIZE_MAX / sizeof(float))
        return wqc_fail(err, WQC_ERR_LIMIT, "tensor '%s' is too large", t->name);
    float *buf = malloc(t->nelem ? (size_t)t->nelem * sizeof(float) : 1);
    if (!buf) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory for tensor '%s'", t->name);
    wqc_status st = wqc_convert_to_f32(t->dtype, t->data, (size_t)t->nelem, buf);
    if (st != WQC_OK) {
        free(buf);
        return wqc_fail(err, st, "tensor '%s': dtype %s cannot be converted to F32", t->name,
                        wqc_dtype_name(t->dtype));
    }
    *out = buf;
    return WQC_OK;
}
