/* Internal: a model file loaded into GPU memory (wqc_cuda_model_*, wqc/cuda.h):
 * its tensors as load items (load_items.c) and the pipeline that reads,
 * checks, copies and decodes them (load_pipeline.c). C. */
#ifndef WQC_CUDA_LOAD_INTERNAL_H
#define WQC_CUDA_LOAD_INTERNAL_H

#include <cuda_runtime_api.h>
#include <pthread.h>
#include <stdatomic.h>

#include "frame.h"
#include "segment_hash.h"
#include "wqc/gguf.h"
#include "wqc/tensor_io.h"

#define LOAD_RING 4
#define LOAD_PIECE_DEFAULT (2u << 20)
#define LOAD_SUBREAD_DEFAULT (256u << 10)
#define LOAD_THREADS_DEFAULT_MAX 8  /* threads by default: the cores, at most this */
#define LOAD_THREADS_MAX 32         /* a count asked for is clamped to this */
/* The workers take the file in units of at most two pieces (sized so that
 * their rounds are full, rounded up to whole segments of a record's segment
 * checks): a large tensor is read, checked and copied by all of them at once. */
#define LOAD_UNIT_PIECES 2
/* GPU allocations inside the arena start at multiples of this. */
#define LOAD_ALIGN 256u

typedef enum load_kind {
    LOAD_RANGE,     /* file bytes copied as they are (safetensors, GGUF) */
    LOAD_RECORD,    /* a .wqc record: its body checked as it is read, its payload copied (and decoded on the GPU) */
    LOAD_HOST       /* a .wqc frame decoded on the host (checked through the map first) */
} load_kind;

typedef struct load_item {
    wqc_cuda_tensor out;            /* name, dtype, shape, bytes */
    load_kind kind;
    uint64_t offset, len;           /* RANGE: the bytes; RECORD, HOST: the record */
    uint64_t body;                  /* RECORD: where the checked body starts */
    uint64_t seed;                  /* RECORD: XXH3-64 of the record's header, the check's seed */
    uint32_t check;                 /* RECORD: the stored check */
    uint64_t payload, payload_len;  /* RECORD: the payload in the file */
    const wqc_frame *f;             /* RECORD, HOST */
    wqc_rans_form form;             /* HOST (quantized), RECORD with a GPU frame */
    int gpu;                        /* RECORD: decoded on the GPU (h), else the payload is the tensor */
    frame_host h;                   /* gpu: the frame's parts; h.g points into the arena */
    uint64_t part_at[PARTS];        /* gpu: offsets of the parts in the arena (the status's in the status block) */
    uint64_t out_at;                /* in the model's own output allocation */
    cudaEvent_t decode_start, decode_end;
    /* RECORD with segment checks (the file's K record): each unit checks
     * its own segments, and the worker whose unit ends last launches the
     * decode once every unit's copies have ended (unit_sent). */
    const uint64_t *seg_hash;
    uint64_t nseg, seg_seed;
    unsigned seg_log;
    uint64_t nunits;
    atomic_uint_fast64_t units_left;
    cudaEvent_t *unit_sent;
    /* gpu_check: a GPU frame of several units whose whole body is copied
     * (its payload where the frame's parts say) and its segment checks
     * computed on the GPU into seg_out[seg_out_at..], compared at the end. */
    int gpu_check;
    uint64_t body_len, seg_out_at;
} load_item;

/* File bytes [from, to) of an item: the workers' unit of work. */
typedef struct load_unit {
    size_t item;
    uint64_t from, to, index;       /* index: among its item's units */
} load_unit;

struct wqc_cuda_model {
    char *path;
    int fd;
    wqc_mapped_file map;
    wqc_reader *reader;             /* .wqc */
    wqc_st_header st;               /* .safetensors */
    wqc_gguf gguf;                  /* GGUF */
    int kind;                       /* a wqc_file_format */
    load_item *items;
    size_t count;
    load_unit *units;               /* in file order */
    size_t nunits;
    uint8_t *arena;                 /* GPU: the coded frames' parts */
    uint64_t arena_bytes;
    int *status;                    /* GPU: every GPU frame's chunk statuses, back to back */
    uint64_t status_count;
    uint64_t *seg_out;              /* GPU: segment checks computed there, back to back */
    uint64_t seg_out_count;
    /* Pinned: both, copied back on the stream that decoded each frame. */
    int *status_host;
    uint64_t *seg_out_host;
    segment_secret secret;
    uint8_t *outputs;               /* GPU: the tensors, when the caller gives no memory */
    uint64_t output_bytes;
    int threads;
    size_t piece;
    uint64_t unit;                  /* the threads' unit of work (load_units_make) */
    size_t subread;                 /* a checked piece is read and hashed in parts of this size (0: whole) */
    uint8_t *staging;               /* pinned: threads x LOAD_RING x piece */
    /* Each thread's stream and its ring's copy events, made once at open
     * (their creation cost ~0.1 ms a load, as much as reading 2 MB). */
    cudaStream_t stream[LOAD_THREADS_MAX];
    cudaEvent_t sent[LOAD_THREADS_MAX][LOAD_RING];
    /* Timed: at a load's start (on the first stream) and each stream's end. */
    cudaEvent_t begin, stream_end[LOAD_THREADS_MAX];
    int device;
    /* Workers 1..threads-1 (the caller is worker 0): made at open and woken
     * for each load, as making them took 0.2-0.4 ms of a 1.2 ms load. */
    struct load_pool *pool;
};

/* Fills m->items from the file (m->path, mapped in m->map) and sizes the arena. */
wqc_status load_items_make(wqc_cuda_model *m, wqc_decode_as as, wqc_error *err);
void load_items_free(wqc_cuda_model *m);

/* Splits the items into units (m->units); frees them with load_items_free. */
wqc_status load_units_make(wqc_cuda_model *m, wqc_error *err);

/* Makes and frees the threads' streams and events, and the worker threads
 * (fewer when the system gives fewer: m->threads says how many). */
wqc_status load_streams_make(wqc_cuda_model *m, wqc_error *err);
void load_streams_free(wqc_cuda_model *m);

/* Runs the pipeline: every item into dst[i]. */
wqc_status load_pipeline_run(wqc_cuda_model *m, void *const *dst, wqc_cuda_load_times *t, wqc_error *err);

#endif
