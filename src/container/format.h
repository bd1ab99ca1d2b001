/* Internal: constants and record framing of the .wqc format (docs/FORMAT.md). */
#ifndef WQC_CONTAINER_FORMAT_H
#define WQC_CONTAINER_FORMAT_H

#include <stdint.h>

#include "bytes.h"
#include "wqc/container.h"

#define WQC_MAGIC "\x89WQC\r\n\x1a\n"
#define WQC_FILE_HEADER_BYTES 64
#define WQC_RECORD_HEADER_BYTES 64
#define WQC_ALIGN 64
#define WQC_END_BODY_BYTES 64
#define WQC_END_RECORD_BYTES (WQC_RECORD_HEADER_BYTES + WQC_END_BODY_BYTES)
#define WQC_FLAG_HMAC 1u
#define WQC_RECORD_CRITICAL 1u
#define WQC_FIELD_CRITICAL 1u

/* Record types: four ASCII bytes read as a little-endian u32. */
#define WQC_TYPE(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define WQC_REC_META WQC_TYPE('M', 'E', 'T', 'A')
#define WQC_REC_TNSR WQC_TYPE('T', 'N', 'S', 'R')
#define WQC_REC_DATA WQC_TYPE('D', 'A', 'T', 'A')
#define WQC_REC_INDX WQC_TYPE('I', 'N', 'D', 'X')
#define WQC_REC_END WQC_TYPE('E', 'N', 'D', ' ')

enum wqc_field_tag {
    WQC_FIELD_NAME = 1,
    WQC_FIELD_SHAPE = 2,
    WQC_FIELD_ENCODING = 3,
    WQC_FIELD_QUANT = 4,
    WQC_FIELD_SCALES = 5,
    WQC_FIELD_RANS = 6,
    WQC_FIELD_PAYLOAD = 7,
    WQC_FIELD_LAYOUT = 8
};

#define WQC_LAYOUT_GEMV 1

#define WQC_NAME_MAX 65535u

/* Fuzzing builds accept any stored hash so that mutated inputs reach the
 * parsers behind the checksums (never defined in a normal build). */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define HASH_MISMATCH(stored, computed) ((void)(stored), (void)(computed), 0)
#else
#define HASH_MISMATCH(stored, computed) ((stored) != (computed))
#endif

static inline uint64_t wqc_padding(uint64_t n) { return (WQC_ALIGN - n % WQC_ALIGN) % WQC_ALIGN; }

/* A record found in a buffer. */
typedef struct wqc_record {
    uint32_t type, flags;
    const uint8_t *body;
    uint64_t body_len;
    uint64_t offset;        /* of the record header */
    uint64_t next;          /* offset after the padding */
} wqc_record;

/* Checks and returns the record at `offset` of buf[0..len): alignment, header
 * hash, reserved bytes, body length within the file, body hash, zero padding. */
wqc_status wqc_record_read(const uint8_t *buf, uint64_t len, uint64_t offset, wqc_record *rec,
                           wqc_error *err);

/* The 64-byte record header for a body. */
void wqc_record_header(uint8_t out[WQC_RECORD_HEADER_BYTES], uint32_t type, uint32_t flags,
                       const uint8_t *body, uint64_t body_len);

/* Serialises a frame's TNSR body. */
wqc_status wqc_descriptor_write(const wqc_frame *f, wqc_bytes *out, wqc_error *err);
/* Parses a TNSR body into f (arrays owned by f: release with
 * wqc_descriptor_free), checking it against the DATA record's body. */
wqc_status wqc_descriptor_read(const uint8_t *body, uint64_t len, const wqc_record *data,
                               wqc_frame *f, wqc_error *err);
void wqc_descriptor_free(wqc_frame *f);

#endif
