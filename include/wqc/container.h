/* wqc/container.h - the .wqc container (docs/FORMAT.md): a writer that
 * streams frames to any sink, and a reader over a file in memory (mapped or
 * read from a pipe) that checks every hash, limit and, with a key, the HMAC. */
#ifndef WQC_CONTAINER_H
#define WQC_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/gemv.h"
#include "wqc/quant.h"
#include "wqc/rans.h"
#include "wqc/status.h"
#include "wqc/tensor_io.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WQC_FORMAT_MAJOR 1
#define WQC_FORMAT_MINOR 0
/* Largest decoded tensor accepted by the reader, in elements. */
#define WQC_DECODED_MAX (1ull << 36)
#define WQC_HMAC_BYTES 32

typedef enum wqc_encoding {
    WQC_ENC_RAW = 0,    /* the tensor's bytes */
    WQC_ENC_ZSTD = 1,   /* one zstd frame of the tensor's bytes */
    WQC_ENC_RANS = 2    /* quantized symbols, rANS-coded */
} wqc_encoding;

/* One tensor as stored: what the writer takes and the reader returns.
 * For WQC_ENC_RANS, `quant` says how the symbols were made, `q` carries the
 * matrix view, scales and offsets (q.symbols unused), and `coded` the table,
 * chunk layout and payload. For RAW/ZSTD, payload/payload_len/raw_len. */
typedef struct wqc_frame {
    const char *name;
    wqc_dtype dtype;                /* original dtype */
    int ndim;
    uint64_t shape[WQC_MAX_DIMS];
    uint64_t nelem;
    wqc_encoding encoding;
    wqc_quant_params quant;
    wqc_quantized q;
    wqc_rans_coded coded;
    uint32_t gemv_tile;             /* RANS: 0 row-major symbols; else the gemv layout
                                       (wqc/gemv.h) with tiles of gemv_tile = lanes rows */
    const uint8_t *payload;         /* RAW/ZSTD */
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
/* Writes a TNSR + DATA frame. */
wqc_status wqc_writer_add(wqc_writer *w, const wqc_frame *f, wqc_error *err);
/* Writes the index and the END record (with the HMAC). */
wqc_status wqc_writer_finish(wqc_writer *w, wqc_error *err);
/* Bytes written so far. */
uint64_t wqc_writer_offset(const wqc_writer *w);
void wqc_writer_free(wqc_writer *w);

/* Clears f and copies t's name, dtype and shape into it. */
void wqc_frame_init(wqc_frame *f, const wqc_tensor *t);

/* Fills a RAW or ZSTD frame for a tensor kept as it is: zstd at `level`
 * when that is smaller, else raw. *scratch receives a buffer to free after
 * the frame is written. */
wqc_status wqc_frame_passthrough(const wqc_tensor *t, int zstd_level, wqc_frame *f, void **scratch,
                                 wqc_error *err);

/* ---- reader ----------------------------------------------------------- */

typedef struct wqc_reader wqc_reader;

/* Reads a whole .wqc held in buf[0..len) (which must outlive the reader).
 * lazy = 1: check the header, END and INDX records only; frames are parsed
 * and checked when asked for (random access on a mapped file). lazy = 0:
 * walk and check every record in order (what a stream reader does).
 * With a key the HMAC is checked over the whole file: WQC_ERR_AUTH if it
 * differs or the file has none. Damage: WQC_ERR_CHECKSUM, WQC_ERR_FORMAT,
 * WQC_ERR_LIMIT, WQC_ERR_UNSUPPORTED (another major version, unknown critical record). */
wqc_status wqc_reader_open(const uint8_t *buf, size_t len, int lazy, const uint8_t *key,
                           size_t key_len, wqc_reader **out, wqc_error *err);
void wqc_reader_free(wqc_reader *r);

size_t wqc_reader_count(const wqc_reader *r);
int wqc_reader_has_hmac(const wqc_reader *r);
/* Name of tensor i, from the index (lazy) or the frame. */
const char *wqc_reader_name(const wqc_reader *r, size_t i);
/* Index of the tensor called name, or (size_t)-1. */
size_t wqc_reader_find(const wqc_reader *r, const char *name);
/* Parses and checks tensor i's frame (once); the frame stays valid until
 * the reader is freed. */
wqc_status wqc_reader_frame(wqc_reader *r, size_t i, const wqc_frame **out, wqc_error *err);
size_t wqc_reader_metadata_count(const wqc_reader *r);
const wqc_kv *wqc_reader_metadata(const wqc_reader *r, size_t i);

/* ---- decoding a frame ------------------------------------------------- */

/* RANS frames: the symbols (f->nelem bytes), row-major in either layout. */
wqc_status wqc_frame_decode_symbols(const wqc_frame *f, int threads, uint8_t *out, wqc_error *err);
/* RANS frames coded with the gemv layout (f->gemv_tile != 0): a product
 * plan for wqc_gemv_run (wqc/gemv.h); the frame must outlive it.
 * WQC_ERR_INVALID_ARG for any other frame. */
wqc_status wqc_frame_gemv_prepare(const wqc_frame *f, wqc_gemv **out, wqc_error *err);
/* RAW/ZSTD frames: the tensor's bytes (f->raw_len). */
wqc_status wqc_frame_decode_raw(const wqc_frame *f, uint8_t *out, wqc_error *err);

#ifdef __cplusplus
}
#endif
#endif
