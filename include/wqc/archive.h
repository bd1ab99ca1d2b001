/* wqc/archive.h - a .wqc as a client reads it: one file, a buffer in
 * memory, or the shards of a sharded .wqc (STEM.wqc.index.json, from
 * `wqc encode --shard-size`), with its tensors listed and each decoded into
 * the caller's memory.
 *
 *   wqc_archive *a;
 *   wqc_archive_open("model.wqc", NULL, &a, &err);
 *   for (size_t i = 0; i < wqc_archive_count(a); i++) {
 *       wqc_tensor_info t;
 *       wqc_archive_tensor(a, i, &t, &err);
 *       float *w = malloc(wqc_archive_decoded_size(a, i, WQC_AS_F32));
 *       wqc_archive_decode(a, i, WQC_AS_F32, 0, w, size, &err);
 *   }
 *   wqc_archive_close(a);
 *
 * Tensors are numbered across the shards, shard by shard in the sorted order
 * of their names, each shard's in file order. A file is mapped and its
 * records checked as they are read (XXH3 of each header and payload; the
 * HMAC of the whole file at open when a key is given). Failures name the
 * shard in err's message where it is not the path opened.
 *
 * Threads: distinct archives may be used from distinct threads at once; one
 * archive by one thread at a time (its frames are parsed once and cached).
 * Nothing here prints, exits or writes a file. */
#ifndef WQC_ARCHIVE_H
#define WQC_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/container.h"
#include "wqc/isa.h"
#include "wqc/quant.h"
#include "wqc/stats.h"
#include "wqc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wqc_archive wqc_archive;

typedef struct wqc_archive_options {
    const uint8_t *key;          /* HMAC-SHA256 key: every file must carry an HMAC under it */
    size_t key_len;
    int sequential;              /* check every record at open (verify), instead of through the index */
    int threads;                 /* threads for those checks (<= 0: every core, as the decoders) */
} wqc_archive_options;

/* Opens a .wqc file, or a sharded .wqc through its index (a path ending in
 * ".json"); "-" reads standard input whole. opts may be NULL. Damage:
 * WQC_ERR_FORMAT, WQC_ERR_CHECKSUM, WQC_ERR_LIMIT; a wrong or missing HMAC:
 * WQC_ERR_AUTH. */
wqc_status wqc_archive_open(const char *path, const wqc_archive_options *opts, wqc_archive **out, wqc_error *err);
/* The same over len bytes at buf, which must outlive the archive. */
wqc_status wqc_archive_open_memory(const void *buf, size_t len, const wqc_archive_options *opts, wqc_archive **out,
                                   wqc_error *err);
void wqc_archive_close(wqc_archive *a);

size_t wqc_archive_count(const wqc_archive *a);
const char *wqc_archive_name(const wqc_archive *a, size_t i);
/* Index of the tensor called name, or (size_t)-1. */
size_t wqc_archive_find(const wqc_archive *a, const char *name);
/* The first file's metadata (the source's __metadata__, wqc.* keys of the writer). */
size_t wqc_archive_metadata_count(const wqc_archive *a);
const wqc_kv *wqc_archive_metadata(const wqc_archive *a, size_t i);

/* What a tensor is, from its descriptor (its payload is not read). */
typedef struct wqc_tensor_info {
    const char *name;            /* valid while the archive is open */
    wqc_dtype dtype;             /* the original dtype */
    int ndim;
    uint64_t shape[WQC_MAX_DIMS];
    uint64_t nelem;
    int quantized;               /* symbols with scales (then quant, bits, alphabet) */
    wqc_quant_params quant;
    int bits;
    uint32_t alphabet;
    uint64_t ngroups;            /* quantized: scale and offset pairs (wqc_archive_scales) */
    wqc_encoding encoding;       /* how the file stores it */
    uint64_t stored_bytes;       /* its record's bytes in the file */
} wqc_tensor_info;

wqc_status wqc_archive_tensor(wqc_archive *a, size_t i, wqc_tensor_info *out, wqc_error *err);
/* A quantized tensor's scales and offsets, ngroups of each (weight =
 * offset[g] + scale[g] * symbol; groups in row-major order, as
 * docs/FORMAT.md's quantized safetensors lays them out). WQC_ERR_INVALID_ARG
 * when n is not the tensor's ngroups or it is not quantized. */
wqc_status wqc_archive_scales(wqc_archive *a, size_t i, float *scale, float *offset, uint64_t n, wqc_error *err);

/* What decoding gives:
 *   WQC_AS_ORIGINAL  a quantized tensor dequantized into its original dtype
 *                    (F32, F16 or BF16); any other its bytes as stored;
 *   WQC_AS_SYMBOLS   a quantized tensor's symbols, one byte each (given
 *                    integers: the integers themselves);
 *   WQC_AS_F32/F16/BF16  a quantized tensor dequantized; another tensor of
 *                    that dtype its bytes, or F32 from any float or 8-bit
 *                    integer dtype. */
typedef enum wqc_decode_as {
    WQC_AS_ORIGINAL = 0,
    WQC_AS_SYMBOLS,
    WQC_AS_F32,
    WQC_AS_F16,
    WQC_AS_BF16
} wqc_decode_as;

/* The form (wqc/rans.h) a quantized frame's stream gives as `as`: its
 * original dtype's for WQC_AS_ORIGINAL (symbols for given integers). */
wqc_rans_form wqc_quantized_form(const wqc_frame *f, wqc_decode_as as);
/* Bytes tensor i decodes to as `as`; 0 where it cannot (a symbols request
 * for a tensor that is not quantized, a dtype it cannot become) or on a
 * damaged descriptor. */
uint64_t wqc_archive_decoded_size(wqc_archive *a, size_t i, wqc_decode_as as);

/* Decodes tensor i into dst (dst_len >= wqc_archive_decoded_size, else
 * WQC_ERR_INVALID_ARG), with `threads` threads (<= 0: all cores). Checks the
 * record first: damage as wqc_archive_open. WQC_ERR_UNSUPPORTED where the
 * tensor cannot be had as `as`. Lets the file's pages of the tensor go. */
wqc_status wqc_archive_decode(wqc_archive *a, size_t i, wqc_decode_as as, int threads, void *dst, uint64_t dst_len,
                              wqc_error *err);

/* ---- the source file back ---- */

/* True when the archive is one file that carries its source's layout
 * (SOURCE record) and stores every tensor exactly (lossless, kept, given
 * integers, GGUF blocks): then decoding gives the source file back. */
int wqc_archive_reproduces_source(wqc_archive *a);
/* Writes the source file (safetensors, .npy or GGUF) byte for byte to sink:
 * its header, its tensors in file order, GGUF's padding; tensors streamed,
 * so memory stays bounded by a window. isa (may be NULL: the best this CPU
 * has) forces one ISA's decoders. WQC_ERR_UNSUPPORTED unless
 * wqc_archive_reproduces_source. */
wqc_status wqc_archive_write_source(wqc_archive *a, const wqc_isa *isa, int threads, wqc_sink_fn sink, void *ctx,
                                    wqc_error *err);

/* ---- frames decoded from copies of their records ---- */

/* A tensor's record read with pread into one buffer that is reused, and its
 * frame parsed and checked there (wqc_reader_frame_copy): decoding a file
 * once, this costs less than the first touch of its mapped pages (pylm-22M
 * lossless on the VM: XXH3 over the mapping 16 ms, over pread copies 5.6).
 * Single mapped format-2 files (WQC_ERR_UNSUPPORTED otherwise, or with
 * WQC_READ_COPIES=0 in the environment: read the frames in place). A frame
 * lasts until the next read or close. */
typedef struct wqc_frame_reader wqc_frame_reader;
wqc_status wqc_frame_reader_open(wqc_archive *a, wqc_frame_reader **out, wqc_error *err);
wqc_status wqc_frame_reader_read(wqc_frame_reader *fr, size_t i, const wqc_frame **f, wqc_error *err);
/* The same for a record with segment checks (wqc_archive_has_segments),
 * read on up to `threads` threads, each verifying the segments it read
 * (wqc_reader_frame_read_segmented). */
wqc_status wqc_frame_reader_read_segmented(wqc_frame_reader *fr, size_t i, int threads, const wqc_frame **f,
                                           wqc_error *err);
void wqc_frame_reader_close(wqc_frame_reader *fr);

/* ---- records checked on a thread of their own ---- */

/* Decoding many threads wide, the one-thread check of a large record (its
 * XXH3, and the first touch of its mapped pages) is what is left serial.
 * For an output committed only once whole (a temporary file renamed into
 * place, /dev/null), a checker verifies the records of tensors idx[0..n),
 * in that order, on a thread of its own while the caller decodes their
 * described frames (wqc_archive_describe), and the output is committed
 * only after wqc_archive_checker_finish says every check held. Decoders
 * are safe on damaged streams (fuzzed); what they make of one is thrown
 * away with the output. Single-file archives (WQC_ERR_UNSUPPORTED for a
 * sharded one). */
typedef struct wqc_archive_checker wqc_archive_checker;
wqc_status wqc_archive_checker_start(wqc_archive *a, const size_t *idx, size_t n, wqc_archive_checker **out,
                                     wqc_error *err);
/* Done decoding tensor i (described as f): its pages go once it is also
 * checked (wqc_archive_release). */
void wqc_archive_checker_release(wqc_archive_checker *c, size_t i, const wqc_frame *f);
/* Waits for every check; the first failure, naming the record, or WQC_OK.
 * Frees c (NULL: WQC_OK). */
wqc_status wqc_archive_checker_finish(wqc_archive_checker *c, wqc_error *err);
/* wqc_archive_write_source decoding described frames whose records the
 * checker c (started on the source order, wqc_reader_source) checks; NULL
 * checks each record before its frame decodes, as wqc_archive_write_source. */
wqc_status wqc_archive_write_source_checked_by(wqc_archive *a, wqc_archive_checker *c, int threads, wqc_sink_fn sink,
                                               void *ctx, wqc_error *err);

/* Where a pass takes the frames it decodes: with threads >= 2, a record
 * that has segment checks is verified that many threads wide and read in
 * place (wqc_archive_checks_segments; a checker need not be given those
 * records), or into `copies` with WQC_READ_COPIES=1 in the environment
 * (segmented_copies); else described, while `checker` checks their
 * records; else from `copies`; else read and checked in place.
 * wqc_frame_source_done ends a frame the way it was taken.
 * In place or copies, measured (128 Mi symbols, 50 MB record, decode to
 * /dev/null): on the device's Xeon in place is faster (-T 2 40 against 49-52
 * ms, -T 16 10.7-12.9 against 12.7-14.8: the copy's pages are zeroed and
 * filled by the kernel), on the VM copies are (-T 2 36.5-37 against 46.5-47.6:
 * its shadow-paged memory makes a mapped page's first touch cost ~2 us). */
typedef struct wqc_frame_source {
    wqc_archive_checker *checker;
    wqc_frame_reader *copies;
    int threads;
    int segmented_copies;
} wqc_frame_source;
/* With checker (may be NULL), or without one (or with segmented_copies)
 * the copies where the archive allows them (wqc_frame_reader_open); _end
 * closes the copies (the checker ends with wqc_archive_checker_finish). */
void wqc_frame_source_start(wqc_archive *a, wqc_archive_checker *checker, int threads, wqc_frame_source *s);
void wqc_frame_source_end(wqc_frame_source *s);
wqc_status wqc_frame_source_get(wqc_archive *a, const wqc_frame_source *s, size_t i, const wqc_frame **f,
                                wqc_error *err);
void wqc_frame_source_done(wqc_archive *a, const wqc_frame_source *s, size_t i, const wqc_frame *f);
/* The same for frames taken several at a time (decoded at once): described
 * in place, never in the copies' one buffer. *check: the record is not the
 * checker's, and the caller checks it (wqc_archive_check, from any thread)
 * before its frame decodes, so that the checks of a batch run side by side. */
wqc_status wqc_frame_source_get_kept(wqc_archive *a, const wqc_frame_source *s, size_t i, const wqc_frame **f,
                                     int *check, wqc_error *err);
void wqc_frame_source_done_kept(wqc_archive *a, const wqc_frame_source *s, size_t i, const wqc_frame *f);

/* Several tensors decoded at once (whole tensors side by side, each on one
 * thread, for models whose tensors are too small for their chunks to keep
 * -T threads busy): a job per frame, its output placed in one buffer that
 * every batch reuses. A job: frame f (taken with wqc_frame_source_get_kept,
 * alive until its output is written), its record first checked where
 * `check` is set (tensor `index` of archive `in`), then decoded as `form`
 * (or, where isa is given and f is not quantized, by that ISA's decoders)
 * into len bytes at `out`; status and err are the job's own. wqc_frame_batch_decode fails only
 * when the buffer cannot grow; each job's failure is in its status. */
typedef struct wqc_frame_batch {
    uint8_t *data;
    uint64_t cap;
} wqc_frame_batch;
typedef struct wqc_frame_job {
    const wqc_frame *f;
    const wqc_archive *in;
    size_t index;
    int check;
    wqc_rans_form form;
    const wqc_isa *isa;
    uint64_t len;
    uint8_t *out;
    wqc_status status;
    wqc_error err;
} wqc_frame_job;
/* Outputs up to this many bytes a thread are decoded in one batch. */
#define WQC_FRAME_BATCH_BYTES_PER_THREAD (8u << 20)
/* Whether a tensor of len output bytes joins a batch of `count` tensors
 * holding `bytes` so far, decoded `threads` wide: at least 2 threads, at
 * most 2 x threads tensors, each within a thread's share and all within
 * threads x that share (larger ones stream, their chunks on every thread). */
int wqc_frame_batch_admits(int threads, size_t count, uint64_t bytes, uint64_t len);
wqc_status wqc_frame_batch_reserve(wqc_frame_batch *b, uint64_t bytes, wqc_error *err);
wqc_status wqc_frame_batch_decode(wqc_frame_batch *b, wqc_frame_job *jobs, size_t n, int threads, wqc_error *err);
void wqc_frame_batch_free(wqc_frame_batch *b);

/* ---- for tools that walk the records themselves ---- */

/* wqc_reader_describe / wqc_reader_frame of tensor i (wqc/container.h). */
wqc_status wqc_archive_describe(wqc_archive *a, size_t i, const wqc_frame **f, wqc_error *err);
wqc_status wqc_archive_frame(wqc_archive *a, size_t i, const wqc_frame **f, wqc_error *err);
/* Describes tensors idx[0..n) (distinct) on up to `threads` threads (<= 0:
 * every core; fewer than 4: not ahead) before they are asked for one by
 * one: their descriptors (the range-coded scales among them, a fifth of a
 * 4-bit model's decode on one thread) are read side by side instead of on
 * the caller's thread. A failure is left for wqc_archive_describe to report. */
void wqc_archive_describe_ahead(wqc_archive *a, const size_t *idx, size_t n, int threads);
/* wqc_reader_has_segments / wqc_reader_frame_segmented of tensor i. */
int wqc_archive_has_segments(const wqc_archive *a, size_t i);
/* Whether a pass `threads` wide checks tensor i by its segment checks: it
 * has them, threads >= 2 (<= 0: every core, as for the decoders), and
 * WQC_SEGMENT_CHECKS=0 is not in the environment (benchmarks). */
int wqc_archive_checks_segments(const wqc_archive *a, size_t i, int threads);
wqc_status wqc_archive_frame_segmented(wqc_archive *a, size_t i, int threads, const wqc_frame **f, wqc_error *err);
/* wqc_reader_check of tensor i (wqc/container.h); fd from
 * wqc_archive_reopen, or -1 to read through the mapping. */
wqc_status wqc_archive_check(const wqc_archive *a, size_t i, int fd, uint8_t *buf, size_t cap, wqc_error *err);
/* The single file a holds, opened again for pread (wqc_mapped_reopen), or -1. */
int wqc_archive_reopen(const wqc_archive *a);
/* Tensor i's statistics from its file's STATS record (NULL: none). */
wqc_status wqc_archive_stats(wqc_archive *a, size_t i, const wqc_tensor_stats **s, wqc_error *err);
/* Done with tensor i's bytes: its file's pages may go. */
void wqc_archive_release(wqc_archive *a, size_t i, const wqc_frame *f);
/* The reader of the first file (metadata, version, source layout); the
 * number of files; their total bytes; whether every one carries an HMAC. */
wqc_reader *wqc_archive_reader(const wqc_archive *a);
size_t wqc_archive_files(const wqc_archive *a);
uint64_t wqc_archive_bytes(const wqc_archive *a);
int wqc_archive_has_hmac(const wqc_archive *a);
/* Whether it was opened through a shard index; the file tensor i is in, by
 * number (0..wqc_archive_files - 1) and path. */
int wqc_archive_sharded(const wqc_archive *a);
size_t wqc_archive_file_of(const wqc_archive *a, size_t i);
const char *wqc_archive_path(const wqc_archive *a, size_t i);

#ifdef __cplusplus
}
#endif
#endif
