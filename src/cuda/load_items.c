/* A model file's tensors as load items (load_internal.h): what each becomes
 * in GPU memory, where its bytes are in the file, and (coded frames the GPU
 * decodes) where its parts go in the arena. */
#include <stdlib.h>
#include <string.h>

#include "../container/format.h"
#include "../container/segment_checks.h"
#include "../container/split_streams.h"
#include "load_internal.h"
#include "wqc/dtype.h"

static uint64_t align_up(uint64_t n) { return (n + LOAD_ALIGN - 1) / LOAD_ALIGN * LOAD_ALIGN; }

static wqc_dtype form_dtype(wqc_rans_form form, const wqc_frame *f)
{
    switch (form) {
    case WQC_FORM_F16: return WQC_DTYPE_F16;
    case WQC_FORM_BF16: return WQC_DTYPE_BF16;
    case WQC_FORM_F32: return WQC_DTYPE_F32;
    default: return f->quant.method == WQC_QUANT_GIVEN ? f->dtype : WQC_DTYPE_U8;
    }
}

/* Whether the GPU decoders take the frame (given integers need their offset
 * added; zstd'd rest streams need the host). */
static int gpu_candidate(const wqc_frame *f)
{
    if (f->encoding == WQC_ENC_RANS) return f->quantized && f->quant.method != WQC_QUANT_GIVEN;
    if (!wqc_encoding_split(f->encoding)) return 0;
    if (f->encoding == WQC_ENC_SPLIT_E8M3 && f->coded.nchunks > 1 && f->coded.chunk % 8) return 0;
    for (unsigned k = 0; k < split_rest_count(f); k++)
        if (f->rest_coding[k] != WQC_ENC_RAW) return 0;
    return 1;
}

/* Places a GPU frame's parts: the arena's, and its statuses in the block;
 * checked on the GPU, its whole body where its payload would be, the
 * payload inside it, and its segment checks' results. The parts after the
 * payload follow each other in their order (the pipeline copies them as
 * one span). */
static void place_parts(wqc_cuda_model *m, load_item *it)
{
    uint64_t size[PARTS];
    frame_host_sizes(&it->h, size);
    for (int k = 0; k < PARTS; k++) {
        if (k == PART_STATUS) {
            it->part_at[k] = m->status_count;
            m->status_count += size[k] / sizeof(int);
        } else if (k == PART_PAYLOAD && it->gpu_check) {
            it->part_at[k] = m->arena_bytes + (it->payload - it->body);
            m->arena_bytes = align_up(m->arena_bytes + it->body_len + PAYLOAD_PAD);
        } else {
            it->part_at[k] = m->arena_bytes;
            m->arena_bytes = align_up(m->arena_bytes + size[k]);
        }
    }
}

/* Units of at most LOAD_UNIT_PIECES pieces, as many rounds of the threads
 * as that takes and all rounds full: a 23.6 MB file read by 8 threads in 6
 * units of 4 MiB leaves two idle and the others reading 4 MiB each, in 8
 * units of 2.95 MB each reads 2.95 MB (WQC_LOAD_EVEN=0: units of 4 MiB,
 * benchmarks). Sized on the whole file before its items are known (their
 * split decides where their checks run); items split separately, so this
 * is exact for one tensor. */
static uint64_t even_unit(const wqc_cuda_model *m)
{
    const uint64_t most = (uint64_t)LOAD_UNIT_PIECES * m->piece, threads = (uint64_t)m->threads;
    const char *env = getenv("WQC_LOAD_EVEN");
    if (env && strcmp(env, "0") == 0) return most;
    const uint64_t total = m->map.size;
    const uint64_t rounds = (total + threads * most - 1) / (threads * most);
    const uint64_t unit = rounds ? (total + threads * rounds - 1) / (threads * rounds) : most;
    return unit < m->piece / 4 ? m->piece / 4 : unit;
}

/* A record with segment checks splits at multiples of its segments (the
 * first unit also holds the header); file bytes split anywhere; any other
 * item is one unit, as every item is with WQC_LOAD_WHOLE=1 (benchmarks:
 * the loader before units). */
static uint64_t unit_bytes(const wqc_cuda_model *m, const load_item *it)
{
    const char *env = getenv("WQC_LOAD_WHOLE");
    if (env && strcmp(env, "1") == 0) return 0;
    uint64_t want = m->unit;
    if (it->kind == LOAD_RANGE) return want;
    if (it->kind != LOAD_RECORD || !it->seg_hash) return 0;
    uint64_t seg = 1ull << it->seg_log;
    return (want + seg - 1) / seg * seg;
}

static size_t units_of(const wqc_cuda_model *m, const load_item *it, load_unit *out, size_t i)
{
    uint64_t size = unit_bytes(m, it), start = it->kind == LOAD_RECORD ? it->body : it->offset, end = it->offset + it->len;
    size_t n = 0;
    for (uint64_t from = it->offset, at = start; n == 0 || from < end; n++) {
        uint64_t to = size && end - at > size ? at + size : end;
        if (out) out[n] = (load_unit){i, from, to, n};
        from = at = to;
    }
    return n;
}

/* Frames the GPU decodes first, largest first (a frame decodes once all
 * its units have landed: the largest one's decode then overlaps the reading
 * of the rest instead of ending the load), then the others in file order.
 * WQC_LOAD_FILE_ORDER=1: file order (benchmarks). */
static wqc_status wqc_item(wqc_cuda_model *m, size_t i, wqc_decode_as as, load_item *it, wqc_error *err)
{
    wqc_reader *r = m->reader;
    const wqc_frame *f;
    const int v2 = wqc_reader_version(r) == 2;
    /* Format 1 has no per-record check to stream: its frames are checked here, decoded on the host. */
    wqc_status st = v2 ? wqc_reader_describe(r, i, &f, err) : wqc_reader_frame(r, i, &f, err);
    if (st != WQC_OK) return wqc_fail_context(err, st, "%s", m->path);
    it->f = f;
    it->out.name = wqc_reader_name(r, i);
    it->out.ndim = f->ndim;
    memcpy(it->out.shape, f->shape, sizeof it->out.shape);
    if (f->quantized) {
        /* Given integers stay integers (with their offset: the host's stream). */
        it->form = f->quant.method == WQC_QUANT_GIVEN ? WQC_FORM_SYMBOLS : wqc_quantized_form(f, as);
        it->out.dtype = form_dtype(it->form, f);
        it->out.bytes = wqc_rans_output_bytes(it->form, f->nelem);
    } else {
        it->out.dtype = f->encoding == WQC_ENC_GGUF ? WQC_DTYPE_U8 : f->dtype;
        it->out.bytes = f->raw_len;
    }
    it->kind = LOAD_HOST;
    it->offset = f->file_offset, it->len = f->frame_bytes;
    if (!v2) return WQC_OK;
    const uint8_t *base = m->map.data;
    if (gpu_candidate(f)) {
        st = frame_host_make(f, &it->h, err);
        if (st == WQC_ERR_UNSUPPORTED) return WQC_OK; /* e.g. 128 lanes: the host decodes it */
        if (st != WQC_OK) return wqc_fail_context(err, st, "%s: tensor '%s'", m->path, it->out.name);
        it->gpu = 1;
        if (!f->quantized) it->form = frame_own_form(&it->h.g);
        it->payload = (uint64_t)(it->h.payload - base), it->payload_len = it->h.payload_len;
    } else if (f->encoding == WQC_ENC_RAW) {
        it->payload = (uint64_t)(f->payload - base), it->payload_len = f->payload_len;
    } else {
        return WQC_OK;
    }
    wqc_record2 rec;
    st = wqc_record2_read(base, m->map.size, f->file_offset, 0, &rec, err);
    if (st != WQC_OK) return wqc_fail_context(err, st, "%s: tensor '%s'", m->path, it->out.name);
    it->kind = LOAD_RECORD;
    it->body = rec.body_offset;
    it->seed = wqc_xxh3(base + rec.offset, (size_t)(rec.body_offset - 4 - rec.offset), 0);
    it->check = wqc_le32(base + rec.body_offset - 4);
    it->len = rec.next - rec.offset;
    const char *env = getenv("WQC_SEGMENT_CHECKS");
    if (!(env && strcmp(env, "0") == 0) && wqc_reader_segments_of(r, i, &it->seg_hash, &it->nseg, &it->seg_log)) {
        if (it->nseg != wqc_segment_count(rec.body_len, it->seg_log))
            return wqc_fail(err, WQC_ERR_FORMAT, "%s: tensor '%s': its segment checks do not match its record", m->path,
                            it->out.name);
        it->seg_seed = wqc_segment_seed(base + rec.offset, (size_t)(rec.body_offset - rec.offset));
    }
    /* WQC_GPU_CHECK=0: segment checks on the host (benchmarks). */
    const char *gpu_env = getenv("WQC_GPU_CHECK");
    it->body_len = rec.body_len;
    it->gpu_check = it->gpu && it->seg_hash && units_of(m, it, NULL, i) > 1 && !(gpu_env && strcmp(gpu_env, "0") == 0);
    if (it->gpu_check) it->seg_out_at = m->seg_out_count, m->seg_out_count += it->nseg;
    if (it->gpu) place_parts(m, it);
    return WQC_OK;
}

static wqc_status items_alloc(wqc_cuda_model *m, size_t n, wqc_error *err)
{
    if (!(m->items = calloc(n ? n : 1, sizeof *m->items))) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    m->count = n;
    return WQC_OK;
}

static wqc_status wqc_items(wqc_cuda_model *m, wqc_decode_as as, wqc_error *err)
{
    wqc_status st = wqc_reader_open_file(&m->map, 1, NULL, 0, &m->reader, err);
    if (st != WQC_OK) return wqc_fail_context(err, st, "%s", m->path);
    if ((st = items_alloc(m, wqc_reader_count(m->reader), err)) != WQC_OK) return st;
    for (size_t i = 0; st == WQC_OK && i < m->count; i++) st = wqc_item(m, i, as, &m->items[i], err);
    return st;
}

static wqc_status safetensors_items(wqc_cuda_model *m, wqc_error *err)
{
    wqc_status st = wqc_safetensors_parse(m->map.data, m->map.size, &m->st, err);
    if (st != WQC_OK) return wqc_fail_context(err, st, "%s", m->path);
    if ((st = items_alloc(m, m->st.count, err)) != WQC_OK) return st;
    for (size_t i = 0; i < m->count; i++) {
        const wqc_st_entry *e = &m->st.entries[i];
        load_item *it = &m->items[i];
        it->out = (wqc_cuda_tensor){.name = e->name, .dtype = e->dtype, .ndim = e->ndim, .bytes = e->end - e->begin};
        memcpy(it->out.shape, e->shape, sizeof it->out.shape);
        it->kind = LOAD_RANGE;
        it->offset = m->st.data_offset + e->begin, it->len = e->end - e->begin;
    }
    return WQC_OK;
}

static wqc_status gguf_items(wqc_cuda_model *m, wqc_error *err)
{
    wqc_status st = wqc_gguf_parse(m->map.data, m->map.size, &m->gguf, err);
    if (st != WQC_OK) return wqc_fail_context(err, st, "%s", m->path);
    if ((st = items_alloc(m, m->gguf.ntensors, err)) != WQC_OK) return st;
    for (size_t i = 0; i < m->count; i++) {
        const wqc_gguf_tensor *t = &m->gguf.tensors[i];
        load_item *it = &m->items[i];
        it->out.name = t->name, it->out.bytes = t->nbytes;
        /* Plain types in their dtype (ggml's dims innermost first, reversed);
         * quantized blocks as bytes. */
        if (wqc_ggml_to_dtype(t->type, &it->out.dtype)) {
            it->out.ndim = (int)t->ndim;
            for (uint32_t k = 0; k < t->ndim; k++) it->out.shape[k] = t->dims[t->ndim - 1 - k];
        } else {
            it->out.dtype = WQC_DTYPE_U8, it->out.ndim = 1, it->out.shape[0] = t->nbytes;
        }
        it->kind = LOAD_RANGE;
        it->offset = m->gguf.data_offset + t->offset, it->len = t->nbytes;
    }
    return WQC_OK;
}

wqc_status load_items_make(wqc_cuda_model *m, wqc_decode_as as, wqc_error *err)
{
    m->kind = wqc_detect_format(m->map.data, m->map.size, m->path);
    m->unit = even_unit(m);
    wqc_status st;
    switch (m->kind) {
    case WQC_FILE_WQC: st = wqc_items(m, as, err); break;
    case WQC_FILE_SAFETENSORS: st = safetensors_items(m, err); break;
    case WQC_FILE_GGUF: st = gguf_items(m, err); break;
    default:
        return wqc_fail(err, WQC_ERR_UNSUPPORTED, "%s: the GPU loader reads a .wqc, .safetensors or GGUF file, not %s",
                        m->path, wqc_file_format_name(m->kind));
    }
    for (size_t i = 0; st == WQC_OK && i < m->count; i++) {
        m->items[i].out_at = m->output_bytes;
        m->output_bytes = align_up(m->output_bytes + m->items[i].out.bytes);
    }
    return st;
}

typedef struct unit_order {
    int gpu;
    uint64_t len;
    size_t item;
} unit_order;

static int before(const void *a, const void *b)
{
    const unit_order *x = a, *y = b;
    if (x->gpu != y->gpu) return x->gpu ? -1 : 1;
    if (x->gpu && x->len != y->len) return x->len > y->len ? -1 : 1;
    return x->item < y->item ? -1 : 1;
}

wqc_status load_units_make(wqc_cuda_model *m, wqc_error *err)
{
    size_t n = 0;
    unit_order *order = malloc((m->count ? m->count : 1) * sizeof *order);
    if (!order) return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < m->count; i++) {
        n += units_of(m, &m->items[i], NULL, i);
        order[i] = (unit_order){m->items[i].gpu, m->items[i].len, i};
    }
    const char *env = getenv("WQC_LOAD_FILE_ORDER");
    if (!(env && strcmp(env, "1") == 0)) qsort(order, m->count, sizeof *order, before);
    if (!(m->units = malloc(n * sizeof *m->units + 1))) {
        free(order);
        return wqc_fail(err, WQC_ERR_NOMEM, "out of memory");
    }
    m->nunits = 0;
    for (size_t k = 0; k < m->count; k++) {
        size_t i = order[k].item;
        load_item *it = &m->items[i];
        it->nunits = units_of(m, it, m->units + m->nunits, i);
        m->nunits += it->nunits;
        atomic_init(&it->units_left, it->nunits);
    }
    free(order);
    return WQC_OK;
}

void load_items_free(wqc_cuda_model *m)
{
    free(m->units);
    m->units = NULL;
    for (size_t i = 0; i < m->count; i++) frame_host_free(&m->items[i].h);
    free(m->items);
    m->items = NULL;
    wqc_reader_free(m->reader);
    wqc_st_header_free(&m->st);
    if (m->kind == WQC_FILE_GGUF) wqc_gguf_free(&m->gguf);
}
