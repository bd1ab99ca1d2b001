/* wqc/container.h - the .wqc container (docs/FORMAT.md): a writer that
 * streams frames to any sink, and a reader over a file in memory (mapped or
 * read from a pipe) that checks every hash, limit and, with a key, the HMAC. */
#ifndef WQC_CONTAINER_H
#define WQC_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/gemv.h"
#include "wqc/lossless.h"
#include "wqc/quant.h"
#include "wqc/rans.h"
#include "wqc/stats.h"
#include "wqc/status.h"
#include "wqc/symbol_model.h"
#include "wqc/tensor_io.h"
#include "wqc/mapped_file.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The version this library writes; it reads 1.x and 2.x. */
#define WQC_FORMAT_MAJOR 2
#define WQC_FORMAT_MINOR 0
/* Largest decoded tensor accepted by the reader, in elements. */
#define WQC_DECODED_MAX (1ull << 36)
#define WQC_HMAC_BYTES 32

/* How a payload is coded. It decodes to the quantized symbols (one byte
 * each, row-major) when the frame is `quantized`, else to the tensor's bytes. */
typedef enum wqc_encoding {
    WQC_ENC_RAW = 0,    /* as they are */
    WQC_ENC_ZSTD = 1,   /* one zstd frame */
    WQC_ENC_RANS = 2,   /* rANS (quantized symbols only) */
    WQC_ENC_BROTLI = 3, /* one brotli stream */
    WQC_ENC_FLOATS = 4, /* F32/F16/BF16 values, each coded losslessly by its sign, exponent and
                           mantissa (small float tensors, such as norm weights) */
    WQC_ENC_SPLIT = 5,  /* F32/F16/BF16 values split into a rANS-coded symbol byte and raw or
                           zstd'd rest bytes (wqc/lossless.h): lossless float tensors */
    WQC_ENC_GGUF = 6    /* a GGUF tensor's quantized blocks (wqc/gguf.h): the codes rANS-coded
                           (one symbol per weight), the blocks' fields raw or zstd'd; decodes
                           to the blocks' bytes (dtype U8, the shape in weights) */,
    WQC_ENC_LZMA = 7,   /* one raw LZMA2 stream (no .xz container), its dictionary the
                           smallest power of two >= max(4 KiB, the decoded size), at most 64 MiB */
    WQC_ENC_SPLIT_E8M3 = 8  /* BF16 values split as SPLIT is, the symbol the exponent with the top 3
                           mantissa bits (wqc/lossless.h): rest streams of nibbles and signs */
} wqc_encoding;

const char *wqc_encoding_name(wqc_encoding e);
/* Whether e splits float values into symbols and rest streams: SPLIT or SPLIT_E8M3. */
int wqc_encoding_split(wqc_encoding e);

/* One tensor as stored: what the writer takes and the reader returns.
 * For a quantized frame, `quant` says how the symbols were made and `q`
 * carries the matrix view, scales and offsets (q.symbols unused). For
 * WQC_ENC_RANS, `coded` holds the chunk layout and payload, and `model` the
 * tables (in the reader, coded.table or coded.ctx hold them ready to decode).
 * Other encodings: payload/payload_len/raw_len. */
typedef struct wqc_frame {
    const char *name;
    wqc_dtype dtype;                /* original dtype */
    int ndim;
    uint64_t shape[WQC_MAX_DIMS];
    uint64_t nelem;
    wqc_encoding encoding;
    int quantized;                  /* the payload holds symbols; quant and q are set */
    wqc_quant_params quant;
    wqc_quantized q;
    wqc_rans_coded coded;
    wqc_symbol_model model;         /* RANS */
    uint32_t shared_model;          /* RANS: 0 for the frame's own model, k > 0 for model k - 1 of
                                       those the file shares (wqc_writer_shared_models) */
    uint32_t gemv_tile;             /* RANS: 0 row-major symbols; else the gemv layout
                                       (wqc/gemv.h) with tiles of gemv_tile = lanes rows */
    uint8_t rest_coding[WQC_SPLIT_REST_MAX];  /* SPLIT, SPLIT_E8M3: after the symbols' rANS payload (coded),
                                       the rest streams, each WQC_ENC_RAW or WQC_ENC_ZSTD, of rest_len bytes */
    uint64_t rest_len[WQC_SPLIT_REST_MAX];
    uint8_t split_base;             /* SPLIT_E8M3: the exponent of symbol 0 */
    uint32_t table_tile;            /* SPLIT with a context: 0 for a table class a row (ROWS),
                                       else a class a tile of table_tile x table_tile (TILES) */
    uint32_t ggml_type;             /* GGUF: the blocks' ggml type (rest_* hold its fields) */
    uint64_t gguf_peaks;            /* GGUF: blocks whose peak code is left out of `coded` (0: no
                                       peak stream); then peak_coded, its payload after the codes',
                                       holds a peak symbol per block, with peak_model's table or the
                                       shared model peak_shared_model - 1 */
    wqc_rans_coded peak_coded;
    wqc_symbol_model peak_model;
    uint32_t peak_shared_model;
    const uint8_t *payload;         /* not RANS (SPLIT: the whole payload) */
    uint64_t payload_len;
    uint64_t raw_len;               /* decoded bytes */
    uint64_t file_offset;           /* reader: offset of the TNSR record */
    uint64_t frame_bytes;           /* reader: TNSR + DATA records with padding */
} wqc_frame;

/* ---- writer ----------------------------------------------------------- */

typedef struct wqc_writer wqc_writer;

/* Starts a file. With key (key_len >= 16 bytes) the file carries an HMAC-SHA256. */
wqc_status wqc_writer_open(wqc_sink_fn sink, void *ctx, const uint8_t *key, size_t key_len,
                           wqc_writer **out, wqc_error *err);
/* Optional, before the first tensor: the source model's metadata. */
wqc_status wqc_writer_metadata(wqc_writer *w, const wqc_kv *kv, size_t n, wqc_error *err);
/* Optional, before the first tensor: the names of the tensors that follow, in
 * order (stored once, compressed, at the front; else the writer stores them
 * before the index). Frames must then come in this order. */
wqc_status wqc_writer_names(wqc_writer *w, const char *const *names, size_t n, wqc_error *err);
/* Optional, before the first tensor: models that frames may name by index
 * (wqc_frame.shared_model) instead of carrying tables of their own. */
wqc_status wqc_writer_shared_models(wqc_writer *w, const wqc_symbol_model *models, size_t n, wqc_error *err);
/* The file a model came from, so that a reader can give it back byte for
 * byte when every tensor is stored losslessly: its bytes before the tensors'
 * (the safetensors header, the .npy header), and the tensors (indexes in this
 * .wqc, in writing order) by position in it. */
typedef enum wqc_source_format {
    WQC_SOURCE_NONE = 0, WQC_SOURCE_SAFETENSORS = 1, WQC_SOURCE_NPY = 2, WQC_SOURCE_GGUF = 3
} wqc_source_format;
typedef struct wqc_source {
    wqc_source_format format;
    const uint8_t *header;
    uint64_t header_len;
    const size_t *order;
    size_t n;
    /* GGUF: zero bytes before each listed tensor (its alignment padding),
     * and after the last. */
    const uint64_t *gap;
    uint64_t tail;
} wqc_source;
/* Optional, before the first tensor. */
wqc_status wqc_writer_source(wqc_writer *w, const wqc_source *s, wqc_error *err);
/* Writes a tensor record. */
wqc_status wqc_writer_add(wqc_writer *w, const wqc_frame *f, wqc_error *err);
/* After the tensors: the STATS record, statistics of the original floats of
 * tensors index[0..n) (increasing, in the order they were added). */
wqc_status wqc_writer_stats(wqc_writer *w, const size_t *index, const wqc_tensor_stats *stats, size_t n,
                            wqc_error *err);
/* Writes the index and the END record (with the HMAC). */
wqc_status wqc_writer_finish(wqc_writer *w, wqc_error *err);
/* Bytes written so far. */
uint64_t wqc_writer_offset(const wqc_writer *w);
void wqc_writer_free(wqc_writer *w);

/* Clears f and copies t's name, dtype and shape into it. */
void wqc_frame_init(wqc_frame *f, const wqc_tensor *t);

/* Fills a frame for a tensor kept as it is: the smallest of raw, zstd at
 * `level` (<= 0: not tried), for F32/F16/BF16 tensors of at most
 * WQC_FLOATS_MAX elements the float coder, and for tensors of at most
 * WQC_PASSTHROUGH_GP_MAX bytes where a probe finds long repeats (or, in
 * byte tensors, information in the previous byte) zstd -19, brotli -q 11
 * and LZMA2. *scratch receives a buffer to free after the frame is written. */
#define WQC_FLOATS_MAX (1u << 16)
#define WQC_PASSTHROUGH_GP_MAX (16u << 20)
wqc_status wqc_frame_passthrough(const wqc_tensor *t, int zstd_level, wqc_frame *f, void **scratch,
                                 wqc_error *err);
/* The same with the peers' trial decided by the caller (who has probed the
 * tensor another way): WQC_PEERS_PROBE as wqc_frame_passthrough, ALWAYS or
 * NEVER (still only up to WQC_PASSTHROUGH_GP_MAX bytes). */
typedef enum wqc_peers { WQC_PEERS_PROBE, WQC_PEERS_ALWAYS, WQC_PEERS_NEVER } wqc_peers;
wqc_status wqc_frame_keep(const wqc_tensor *t, int zstd_level, wqc_peers peers, wqc_frame *f, void **scratch,
                          wqc_error *err);

/* ---- reader ----------------------------------------------------------- */

typedef struct wqc_reader wqc_reader;

/* True when buf starts with the .wqc magic (either format version). */
int wqc_is_wqc(const uint8_t *buf, size_t len);

/* Reads a whole .wqc held in buf[0..len) (which must outlive the reader).
 * lazy = 1: check the header, END and INDX records only; frames are parsed
 * and checked when asked for (random access on a mapped file). lazy = 0:
 * walk and check every record in order (what a stream reader does).
 * With a key the HMAC is checked over the whole file: WQC_ERR_AUTH if it
 * differs or the file has none. Damage: WQC_ERR_CHECKSUM, WQC_ERR_FORMAT,
 * WQC_ERR_LIMIT, WQC_ERR_UNSUPPORTED (another major version, unknown critical record). */
wqc_status wqc_reader_open(const uint8_t *buf, size_t len, int lazy, const uint8_t *key,
                           size_t key_len, wqc_reader **out, wqc_error *err);
/* The same for a file from wqc_map_file (which must outlive the reader):
 * lazy only where it is mapped, and the pages of records already checked
 * (HMAC, lazy = 0) are released, so that opening a large file does not keep
 * it resident. */
wqc_status wqc_reader_open_file(const wqc_mapped_file *file, int lazy, const uint8_t *key, size_t key_len,
                                wqc_reader **out, wqc_error *err);
/* Both with the eager walk's record checks (lazy = 0) spread over `threads`
 * threads: the tensor records are checked once, by their segment checks
 * where the file has them. */
wqc_status wqc_reader_open_threads(const uint8_t *buf, size_t len, int lazy, int threads, const uint8_t *key,
                                   size_t key_len, wqc_reader **out, wqc_error *err);
wqc_status wqc_reader_open_file_threads(const wqc_mapped_file *file, int lazy, int threads, const uint8_t *key,
                                        size_t key_len, wqc_reader **out, wqc_error *err);
void wqc_reader_free(wqc_reader *r);

size_t wqc_reader_count(const wqc_reader *r);
int wqc_reader_has_hmac(const wqc_reader *r);
/* Format version of the file (1 or 2). */
int wqc_reader_version(const wqc_reader *r);
/* Models the file shares among its tensors. */
size_t wqc_reader_shared_model_count(const wqc_reader *r);
/* Name of tensor i, from the index (lazy) or the frame. */
const char *wqc_reader_name(const wqc_reader *r, size_t i);
/* Index of the tensor called name, or (size_t)-1. */
size_t wqc_reader_find(const wqc_reader *r, const char *name);
/* Parses and checks tensor i's frame (once); the frame stays valid until
 * the reader is freed. */
wqc_status wqc_reader_frame(wqc_reader *r, size_t i, const wqc_frame **out, wqc_error *err);
/* Tensor i's descriptor, parsed and bounds-checked, before its record's
 * check is verified: what a streaming writer needs to lay out its output
 * without reading every payload twice. The frame is the same one that
 * wqc_reader_frame returns once it has verified the check; decode nothing
 * from it before that. */
wqc_status wqc_reader_describe(wqc_reader *r, size_t i, const wqc_frame **out, wqc_error *err);
/* Tensor i's frame parsed from a copy of its record, `len` bytes (the
 * file's from its offset on: wqc_reader_describe gives file_offset and
 * frame_bytes), into *out, its check verified; its pointers point into
 * copy, and wqc_descriptor_free(out) ends it. Reading a record with pread
 * into a reused buffer costs less than the first touch of its mapped pages
 * (on the VM, 16 against 5.6 ms for 29 MB). WQC_ERR_UNSUPPORTED for
 * format-1 files. */
wqc_status wqc_reader_frame_copy(wqc_reader *r, size_t i, const uint8_t *copy, uint64_t len, wqc_frame *out,
                                 wqc_error *err);
/* Verifies tensor i's record check and nothing else, changing no state of
 * the reader: it may run on another thread while tensor i, described, is
 * decoded for an output that is committed only once whole. With fd >= 0
 * (the file r reads, wqc_mapped_reopen) the record's body is read with
 * pread into buf (cap bytes) instead of through the mapping, whose pages
 * the decoders then touch first, on their own threads. Format-1 records
 * are verified when described: WQC_OK. */
wqc_status wqc_reader_check(const wqc_reader *r, size_t i, int fd, uint8_t *buf, size_t cap, wqc_error *err);
/* Whether tensor i's record has segment checks: the file's K record holds
 * XXH3 of each 64 KiB of its body (records larger than that, in files
 * written since 2026-12-06). */
int wqc_reader_has_segments(const wqc_reader *r, size_t i);
/* wqc_reader_frame of tensor i, its record verified by its segment checks
 * on up to `threads` threads at once instead of by one XXH3 over the whole
 * record on one (through the mapping). WQC_ERR_UNSUPPORTED when the record
 * has none. */
wqc_status wqc_reader_frame_segmented(wqc_reader *r, size_t i, int threads, const wqc_frame **out, wqc_error *err);
/* wqc_reader_frame_copy that reads the copy itself: tensor i's record, len
 * bytes, read from fd (the file r reads, wqc_mapped_reopen) into copy on up
 * to `threads` threads, each verifying the segments it read while they are
 * in cache. The record must have segment checks (else WQC_ERR_UNSUPPORTED). */
wqc_status wqc_reader_frame_read_segmented(wqc_reader *r, size_t i, int fd, uint8_t *copy, uint64_t len, int threads,
                                           wqc_frame *out, wqc_error *err);
/* The source layout the file carries (checked: a permutation of its
 * tensors), or NULL. */
const wqc_source *wqc_reader_source(const wqc_reader *r);
/* The statistics the file's STATS record holds for tensor i (wqc/stats.h)
 * in *out, or NULL when it has none (no record, or a tensor without float
 * values). Reads the tensor's descriptor (for its count). */
wqc_status wqc_reader_stats(wqc_reader *r, size_t i, const wqc_tensor_stats **out, wqc_error *err);
size_t wqc_reader_metadata_count(const wqc_reader *r);
const wqc_kv *wqc_reader_metadata(const wqc_reader *r, size_t i);

/* ---- decoding a frame ------------------------------------------------- */

/* Quantized frames: the symbols (f->nelem bytes), row-major in either layout. */
wqc_status wqc_frame_decode_symbols(const wqc_frame *f, int threads, uint8_t *out, wqc_error *err);
/* RANS frames coded with the gemv layout (f->gemv_tile != 0): a product
 * plan for wqc_gemv_run (wqc/gemv.h); the frame must outlive it.
 * WQC_ERR_INVALID_ARG for any other frame. */
wqc_status wqc_frame_gemv_prepare(const wqc_frame *f, wqc_gemv **out, wqc_error *err);
/* Frames that are not quantized: the tensor's bytes (f->raw_len). */
wqc_status wqc_frame_decode_raw(const wqc_frame *f, uint8_t *out, wqc_error *err);
/* The same with a given ISA's decoders (split tensors; the others have none). */
wqc_status wqc_frame_decode_raw_with(const wqc_frame *f, wqc_isa isa, uint8_t *out, wqc_error *err);

/* ---- streaming a frame ------------------------------------------------ */

/* Decodes frame f (checked by wqc_reader_frame) in element order and hands
 * the output to sink in pieces. A frame that is not quantized gives its
 * bytes (f->raw_len); a quantized one its elements in `form`
 * (WQC_FORM_SYMBOLS, F32, F16 or BF16), where SYMBOLS of given integers
 * (WQC_QUANT_GIVEN) are the integers themselves, offset added, as I8/U8
 * bytes. Row-major rANS frames (and split frames) are decoded a few whole
 * chunks at a time, each thread into a buffer of its own of about `window`
 * bytes (0: WQC_STREAM_WINDOW_DEFAULT; more where a chunk is larger: two
 * chunks), so a tensor needs no buffer of its own size;
 * other frames are decoded whole. sink is called in element order, one call
 * at a time, but on any of the decoding threads: a piece is handed over as
 * soon as it and those before it are decoded. threads as in
 * wqc_rans_decode_to (<= 0: all cores). */
#define WQC_STREAM_WINDOW_DEFAULT (4u << 20)
wqc_status wqc_frame_stream(const wqc_frame *f, wqc_rans_form form, int threads, size_t window, wqc_sink_fn sink,
                            void *ctx, wqc_error *err);
/* wqc_frame_stream into dst, which it must fill exactly: len bytes, else
 * WQC_ERR_FORMAT. */
wqc_status wqc_frame_decode_into(const wqc_frame *f, wqc_rans_form form, int threads, void *dst, uint64_t len,
                                 wqc_error *err);

#ifdef __cplusplus
}
#endif
#endif
