/* Format-2 records: a type byte, a flags byte, the body length as a LEB128
 * varint, then a 32-bit check: the low half of XXH3-64 of the body, seeded
 * with XXH3-64 of the header bytes before the check. */
#include "../common/xxh3.h"
#include "format.h"

static uint32_t record_check(const uint8_t *head, size_t head_len, const uint8_t *const *parts,
                             const uint64_t *lens, int nparts)
{
    uint64_t seed = wqc_xxh3(head, head_len, 0);
    if (nparts == 1) return (uint32_t)wqc_xxh3(parts[0], (size_t)lens[0], seed);
    wqc_xxh3_state h;
    if (!wqc_xxh3_start(&h, seed)) return 0;
    for (int i = 0; i < nparts; i++) wqc_xxh3_add(&h, parts[i], (size_t)lens[i]);
    return (uint32_t)wqc_xxh3_end(&h);
}

int wqc_record2_check_start(wqc_xxh3_state *h, const uint8_t *buf, const wqc_record2 *rec)
{
    return wqc_xxh3_start(h, wqc_xxh3(buf + rec->offset, (size_t)(rec->body_offset - 4 - rec->offset), 0));
}

int wqc_record2_check_end(wqc_xxh3_state *h, const uint8_t *buf, const wqc_record2 *rec)
{
    return !HASH_MISMATCH(wqc_le32(buf + rec->body_offset - 4), (uint32_t)wqc_xxh3_end(h));
}

size_t wqc_record2_header(uint8_t out[WQC2_RECORD_HEADER_MAX], uint8_t type, uint8_t flags,
                          const uint8_t *const *parts, const uint64_t *lens, int nparts)
{
    uint64_t len = 0;
    for (int i = 0; i < nparts; i++) len += lens[i];
    out[0] = type;
    out[1] = flags;
    size_t n = 2 + wqc_varint_store(out + 2, len);
    uint32_t check = record_check(out, n, parts, lens, nparts);
    for (int i = 0; i < 4; i++) out[n + (size_t)i] = (uint8_t)(check >> (8 * i));
    return n + 4;
}

int wqc_record2_check(const uint8_t *buf, const wqc_record2 *rec)
{
    size_t head = (size_t)(rec->body_offset - rec->offset - 4);
    const uint8_t *parts[1] = {rec->body};
    uint64_t lens[1] = {rec->body_len};
    uint32_t want = wqc_le32(buf + rec->body_offset - 4);
    return !HASH_MISMATCH(want, record_check(buf + rec->offset, head, parts, lens, 1));
}

wqc_status wqc_record2_mismatch(uint8_t type, uint64_t offset, wqc_error *err)
{
    return wqc_fail(err, WQC_ERR_CHECKSUM, "record '%c' at offset %llu: checksum mismatch",
                    type >= 0x20 && type < 0x7f ? type : '?', (unsigned long long)offset);
}

wqc_status wqc_record2_read(const uint8_t *buf, uint64_t len, uint64_t offset, int verify_body, wqc_record2 *rec,
                            wqc_error *err)
{
    if (offset > len || len - offset < 7)
        return wqc_fail(err, WQC_ERR_FORMAT, "no record at offset %llu (file is %llu bytes)",
                        (unsigned long long)offset, (unsigned long long)len);
    size_t room = len - offset < WQC2_RECORD_HEADER_MAX ? (size_t)(len - offset) : WQC2_RECORD_HEADER_MAX;
    wqc_cursor c = {buf + offset, buf + offset + room, 0};
    rec->type = wqc_cursor_u8(&c);
    rec->flags = wqc_cursor_u8(&c);
    rec->body_len = wqc_cursor_varint(&c);
    wqc_cursor_u32(&c);
    if (c.failed)
        return wqc_fail(err, WQC_ERR_FORMAT, "record at offset %llu: truncated header", (unsigned long long)offset);
    rec->offset = offset;
    rec->body_offset = offset + (uint64_t)(c.p - (buf + offset));
    if (rec->flags & ~(WQC2_RECORD_CRITICAL | WQC2_RECORD_ALIGNED))
        return wqc_fail(err, WQC_ERR_FORMAT, "record at offset %llu: unknown flags 0x%x", (unsigned long long)offset,
                        rec->flags);
    if (rec->body_len > len - rec->body_offset)
        return wqc_fail(err, WQC_ERR_FORMAT, "record '%c' at offset %llu declares %llu bytes, only %llu remain",
                        rec->type >= 0x20 && rec->type < 0x7f ? rec->type : '?', (unsigned long long)offset,
                        (unsigned long long)rec->body_len, (unsigned long long)(len - rec->body_offset));
    rec->body = buf + rec->body_offset;
    rec->next = rec->body_offset + rec->body_len;
    if (verify_body && !wqc_record2_check(buf, rec)) return wqc_record2_mismatch(rec->type, offset, err);
    return WQC_OK;
}
