/* Internal: constants and record framing of the .wqc format (docs/FORMAT.md):
 * version 2 (written and read); version 1 is read behind legacy/format1.h. */
#ifndef WQC_CONTAINER_FORMAT_H
#define WQC_CONTAINER_FORMAT_H

#include <stdint.h>

#include "../common/bytes.h"
#include "../common/xxh3.h"
#include "wqc/container.h"

#define WQC_MAGIC WQC_FILE_MAGIC
#define WQC_ALIGN 64
#define WQC_FLAG_HMAC 1u
/* Descriptor layout flag of the gemv symbol order (both versions). */
#define WQC_LAYOUT_GEMV 1

/* ---- format 2 ----------------------------------------------------------- */

#define WQC2_FILE_HEADER_BYTES 20
#define WQC2_RECORD_HEADER_MAX 16   /* type, flags, varint length (<= 10), check */
/* A source header (a safetensors header is at most 100 MB by its spec). */
#define WQC_SOURCE_HEADER_MAX (256u << 20)
#define WQC2_RECORD_CRITICAL 1u
#define WQC2_RECORD_ALIGNED 2u      /* tensor records: the payload starts at a multiple of WQC_ALIGN */
#define WQC2_END_BODY_BYTES 16      /* + WQC_HMAC_BYTES when the file has an HMAC */

enum wqc2_record_type {
    WQC2_REC_META = 'M',
    WQC2_REC_SOURCE = 'O',      /* not critical: the source file's header and tensor order */
    WQC2_REC_NAMES = 'N',
    WQC2_REC_MODELS = 'S',
    WQC2_REC_TENSOR = 'T',
    WQC2_REC_STATS = 'D',       /* not critical: statistics of the original floats */
    WQC2_REC_SEGMENTS = 'K',    /* not critical: checks of large records' segments */
    WQC2_REC_INDEX = 'I',
    WQC2_REC_END = 'E'
};

/* Descriptor: a fixed core, then extension fields (tag, length, value). */
#define WQC2_QUANTIZED 0x80u        /* in the encoding byte: QUANT and SCALES follow */
#define WQC2_GGUF_PEAKS 0x100u      /* added to a GGUF frame's ggml type: its codes leave out block peaks */
enum wqc2_field_tag {
    WQC2_FIELD_QPARAM = 1,
    WQC2_FIELD_LAYOUT = 2,
    WQC2_FIELD_ROWS = 3,
    WQC2_FIELD_COLUMNS = 4,
    WQC2_FIELD_TILES = 5
};
#define WQC2_FIELD_CRITICAL 0x80u

#define WQC2_MODEL_INLINE 0
#define WQC2_MODEL_SHARED 1
/* Most shared models a file may declare, and most bytes of a descriptor. */
#define WQC2_SHARED_MODELS_MAX 1024u
#define WQC2_DESCRIPTOR_MAX (1u << 24)
/* Largest names list, uncompressed (a million names of 256 bytes). */
#define WQC2_NAMES_MAX (256u << 20)

typedef struct wqc_record2 {
    uint8_t type, flags;
    const uint8_t *body;
    uint64_t body_len;
    uint64_t offset;        /* of the record */
    uint64_t body_offset;   /* of its body */
    uint64_t next;          /* offset after it */
} wqc_record2;

/* Checks and returns the record at `offset` of buf[0..len): header, body
 * length within the buffer, and the check over header and body (skipped when
 * verify_body is 0: the caller checks it before trusting the body). */
wqc_status wqc_record2_read(const uint8_t *buf, uint64_t len, uint64_t offset, int verify_body, wqc_record2 *rec,
                            wqc_error *err);
/* Whether the check of rec (read with verify_body = 0) holds. */
int wqc_record2_check(const uint8_t *buf, const wqc_record2 *rec);
/* WQC_ERR_CHECKSUM for the record of this type at this file offset. */
wqc_status wqc_record2_mismatch(uint8_t type, uint64_t offset, wqc_error *err);
/* The same check of a body that arrives in pieces: start (0 when out of
 * memory), wqc_xxh3_add each piece, then end (1 when the check holds). */
int wqc_record2_check_start(wqc_xxh3_state *h, const uint8_t *buf, const wqc_record2 *rec);
int wqc_record2_check_end(wqc_xxh3_state *h, const uint8_t *buf, const wqc_record2 *rec);

/* Record header for a body given in pieces (parts[i] of lens[i] bytes);
 * returns its length. */
size_t wqc_record2_header(uint8_t out[WQC2_RECORD_HEADER_MAX], uint8_t type, uint8_t flags,
                          const uint8_t *const *parts, const uint64_t *lens, int nparts);

/* A format-2 tensor descriptor for f (names are not part of it). */
wqc_status wqc_descriptor2_write(const wqc_frame *f, wqc_bytes *out, wqc_error *err);
/* Parses a descriptor into f (which the caller cleared and named) against its
 * payload and the file's shared models. */
wqc_status wqc_descriptor2_read(const uint8_t *desc, uint64_t len, const uint8_t *payload, uint64_t payload_len,
                                const wqc_symbol_model *shared, size_t nshared, wqc_frame *f, wqc_error *err);

#define WQC_NAME_MAX 65535u

/* Fuzzing builds accept any stored hash so that mutated inputs reach the
 * parsers behind the checksums (never defined in a normal build). */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define HASH_MISMATCH(stored, computed) ((void)(stored), (void)(computed), 0)
#else
#define HASH_MISMATCH(stored, computed) ((stored) != (computed))
#endif

static inline uint64_t wqc_padding(uint64_t n) { return (WQC_ALIGN - n % WQC_ALIGN) % WQC_ALIGN; }

/* Frees what a descriptor reader (either format) allocated in f. */
void wqc_descriptor_free(wqc_frame *f);

#endif
