/* .safetensors header parser and validator.
 *
 * Layout: uint64 LE header length N, N bytes of a UTF-8 JSON object (possibly
 * space-padded), then the data section. Each key except "__metadata__" maps to
 * {"dtype": str, "shape": [int...], "data_offsets": [begin, end]} with offsets
 * relative to the data section. "__metadata__" maps strings to strings. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "wqc/tensor_io.h"

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static wqc_status read_u64(json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0) return WQC_ERR_FORMAT;
    *out = (uint64_t)json_integer_value(v);
    return WQC_OK;
}

static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static wqc_status parse_entry(const char *name, json_t *obj, wqc_st_entry *e, wqc_error *err)
{
    if (!json_is_object(obj))
        return wqc_fail(err, WQC_ERR_FORMAT, "safetensors: tensor '%s' is not an object", name);
    json_t *dtype = json_object_get(obj, "dtype");
    json_t *shape = json_object_get(obj, "shape");
    json_t *offs = json_object_get(obj, "data_offsets");
    if (!json_is_string(dtype) || !json_is_array(shape) || !json_is_array(offs) ||
        json_array_size(offs) != 2)
        return wqc_fail(err, WQC_ERR_FORMAT,
                        "safetensors: tensor '%s' needs dtype, shape and data_offsets", name);
    if (wqc_dtype_from_name(json_string_value(dtype), &e->dtype) != WQC_OK)
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "safetensors: tensor '%s' has unknown dtype '%s'",
                        name, json_string_value(dtype));
    if (json_array_size(shape) > WQC_MAX_DIMS)
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "safetensors: tensor '%s' has more than %d dims",
                        name, WQC_MAX_DIMS);
    e->ndim = (int)json_array_size(shape);
    e->nelem = 1;
    for (int d = 0; d < e->ndim; d++) {
        if (read_u64(json_array_get(shape, (size_t)d), &e->shape[d]) != WQC_OK)
            return wqc_fail(err, WQC_ERR_FORMAT, "safetensors: tensor '%s' has a bad shape", name);
        if (e->shape[d] != 0 && e->nelem > UINT64_MAX / e->shape[d])
            return wqc_fail(err, WQC_ERR_LIMIT, "safetensors: tensor '%s' shape overflows", name);
        e->nelem *= e->shape[d];
    }
    if (read_u64(json_array_get(offs, 0), &e->begin) != WQC_OK ||
        read_u64(json_array_get(offs, 1), &e->end) != WQC_OK || e->end < e->begin)
        return wqc_fail(err, WQC_ERR_FORMAT, "safetensors: tensor '%s' has bad data_offsets", name);
    size_t item = wqc_dtype_size(e->dtype);
    if (e->nelem > UINT64_MAX / item || e->end - e->begin != e->nelem * item)
        return wqc_fail(err, WQC_ERR_FORMAT,
                        "safetensors: tensor '%s' data_offsets span %llu bytes, shape needs %llu",
                        name, (unsigned long long)(e->end - e->begin),
                        (unsigned long long)(e->nelem * item));
    e->name = dup_string(name);
    return e->name ? WQC_OK : wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
}

static wqc_status parse_metadata(json_t *obj, wqc_st_header *h, wqc_error *err)
{
    if (!json_is_object(obj))
        return wqc_fail(err, WQC_ERR_FORMAT, "safetensors: __metadata__ is not an object");
    h->meta = calloc(json_object_size(obj) + 1, sizeof *h->meta);
    if (!h->meta) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val) {
        if (!json_is_string(val))
            return wqc_fail(err, WQC_ERR_FORMAT, "safetensors: __metadata__ value of '%s' is not a string",
                            key);
        wqc_kv *kv = &h->meta[h->nmeta++];
        kv->key = dup_string(key);
        kv->value = dup_string(json_string_value(val));
        if (!kv->key || !kv->value) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    return WQC_OK;
}

static int by_begin(const void *a, const void *b)
{
    const wqc_st_entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    /* Empty tensors share offsets; keep a stable, name-based order for them. */
    return strcmp(x->name, y->name);
}

/* The data section must be covered exactly: sorted ranges start at 0, each
 * begins where the previous one ended, and the last ends at the file's end. */
static wqc_status check_layout(const wqc_st_header *h, uint64_t data_len, wqc_error *err)
{
    uint64_t pos = 0;
    for (size_t i = 0; i < h->count; i++) {
        const wqc_st_entry *e = &h->entries[i];
        if (e->begin < pos)
            return wqc_fail(err, WQC_ERR_FORMAT, "safetensors: tensors '%s' and '%s' overlap",
                            h->entries[i - 1].name, e->name);
        if (e->begin > pos)
            return wqc_fail(err, WQC_ERR_FORMAT,
                            "safetensors: %llu unreferenced bytes before tensor '%s'",
                            (unsigned long long)(e->begin - pos), e->name);
        if (e->end > data_len)
            return wqc_fail(err, WQC_ERR_FORMAT,
                            "safetensors: tensor '%s' ends at byte %llu of a %llu-byte data section",
                            e->name, (unsigned long long)e->end, (unsigned long long)data_len);
        pos = e->end;
    }
    if (pos != data_len)
        return wqc_fail(err, WQC_ERR_FORMAT, "safetensors: %llu trailing bytes after the last tensor",
                        (unsigned long long)(data_len - pos));
    return WQC_OK;
}

wqc_status wqc_safetensors_parse(const unsigned char *buf, size_t len, wqc_st_header *h,
                                 wqc_error *err)
{
    memset(h, 0, sizeof *h);
    if (len < 8) return wqc_fail(err, WQC_ERR_FORMAT, "safetensors: file shorter than 8 bytes");
    h->header_len = load_le64(buf);
    if (h->header_len > WQC_SAFETENSORS_HEADER_MAX)
        return wqc_fail(err, WQC_ERR_LIMIT,
                        "safetensors: header length %llu exceeds the limit of %u bytes",
                        (unsigned long long)h->header_len, WQC_SAFETENSORS_HEADER_MAX);
    if (h->header_len > len - 8)
        return wqc_fail(err, WQC_ERR_FORMAT,
                        "safetensors: header length %llu is longer than the file (%zu bytes)",
                        (unsigned long long)h->header_len, len);
    if (h->header_len < 2 || buf[8] != '{')
        return wqc_fail(err, WQC_ERR_FORMAT, "safetensors: header is not a JSON object");
    h->data_offset = 8 + h->header_len;

    json_error_t jerr;
    json_t *root = json_loadb((const char *)buf + 8, (size_t)h->header_len, JSON_REJECT_DUPLICATES,
                              &jerr);
    if (!root)
        return wqc_fail(err, WQC_ERR_FORMAT, "safetensors: bad JSON header at byte %d: %s",
                        jerr.position, jerr.text);
    wqc_status st = WQC_OK;
    if (!json_is_object(root)) {
        st = wqc_fail(err, WQC_ERR_FORMAT, "safetensors: header is not a JSON object");
        goto done;
    }
    h->entries = calloc(json_object_size(root) + 1, sizeof *h->entries);
    if (!h->entries) {
        st = wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
        goto done;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (strcmp(key, "__metadata__") == 0) st = parse_metadata(val, h, err);
        else st = parse_entry(key, val, &h->entries[h->count++], err);
        if (st != WQC_OK) goto done;
    }
    qsort(h->entries, h->count, sizeof *h->entries, by_begin);
    st = check_layout(h, len - h->data_offset, err);
done:
    json_decref(root);
    if (st != WQC_OK) wqc_st_header_free(h);
    return st;
}

void wqc_st_header_free(wqc_st_header *h)
{
    for (size_t i = 0; i < h->count; i++) free(h->entries[i].name);
    for (size_t i = 0; i < h->nmeta; i++) {
        free(h->meta[i].key);
        free(h->meta[i].value);
    }
    free(h->entries);
    free(h->meta);
    memset(h, 0, sizeof *h);
}

wqc_status wqc_safetensors_declared_size(const unsigned char *buf, size_t len, uint64_t *total, wqc_error *err)
{
    if (len < 8) return wqc_fail(err, WQC_ERR_FORMAT, "safetensors: shorter than 8 bytes");
    uint64_t n = load_le64(buf);
    if (n > WQC_SAFETENSORS_HEADER_MAX)
        return wqc_fail(err, WQC_ERR_LIMIT, "safetensors: header length %llu exceeds the limit of %u bytes",
                        (unsigned long long)n, WQC_SAFETENSORS_HEADER_MAX);
    if (n > len - 8) return wqc_fail(err, WQC_ERR_FORMAT, "safetensors: header shorter than its declared length");
    json_error_t jerr;
    json_t *root = json_loadb((const char *)buf + 8, (size_t)n, 0, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return wqc_fail(err, WQC_ERR_FORMAT, "safetensors: header is not a JSON object");
    }
    uint64_t end = 0;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        json_t *last = json_array_get(json_object_get(v, "data_offsets"), 1);
        if (json_is_integer(last) && json_integer_value(last) > 0 && (uint64_t)json_integer_value(last) > end)
            end = (uint64_t)json_integer_value(last);
    }
    json_decref(root);
    *total = 8 + n + end;
    return WQC_OK;
}
