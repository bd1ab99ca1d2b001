/* Internal: format 1 of .wqc, read only (zstd's lib/legacy is the
 * pattern): its constants and records, and the four calls through which the
 * reader (reader.c) reads such a file. Nothing else includes this. */
#ifndef WQC_CONTAINER_LEGACY_FORMAT1_H
#define WQC_CONTAINER_LEGACY_FORMAT1_H

#include "../reader_internal.h"

#define WQC_FILE_HEADER_BYTES 64
#define WQC_RECORD_HEADER_BYTES 64
#define WQC_END_BODY_BYTES 64
#define WQC_END_RECORD_BYTES (WQC_RECORD_HEADER_BYTES + WQC_END_BODY_BYTES)
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

/* Parses a format-1 TNSR body into f (arrays owned by f: release with
 * wqc_descriptor_free), checking it against the DATA record's body. */
wqc_status wqc_descriptor_read(const uint8_t *body, uint64_t len, const wqc_record *data,
                               wqc_frame *f, wqc_error *err);
/* The reader's format-1 door: the file header's checksum and reserved
 * bytes; the END record (index offset, stored HMAC); the tensor list and
 * metadata (lazy: from the index; else every record walked and checked);
 * tensor e's frame (TNSR then DATA, checked). */
wqc_status wqc_reader1_header(const wqc_reader *r, wqc_error *err);
wqc_status wqc_reader1_end(wqc_reader *r, wqc_error *err);
wqc_status wqc_reader1_open(wqc_reader *r, int lazy, wqc_error *err);
wqc_status wqc_reader1_frame(wqc_reader *r, reader_entry *e, wqc_error *err);

#endif
