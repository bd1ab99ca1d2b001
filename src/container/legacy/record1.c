#include <xxhash.h>

#include "format1.h"

static const char *type_text(uint32_t type, char out[5])
{
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)(type >> (8 * i));
        out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[4] = '\0';
    return out;
}

wqc_status wqc_record_read(const uint8_t *buf, uint64_t len, uint64_t offset, wqc_record *rec,
                           wqc_error *err)
{
    char t[5];
    if (offset % WQC_ALIGN || offset > len || len - offset < WQC_RECORD_HEADER_BYTES)
        return wqc_fail(err, WQC_ERR_FORMAT, "no record header at offset %llu (file is %llu bytes)",
                        (unsigned long long)offset, (unsigned long long)len);
    const uint8_t *h = buf + offset;
    if (HASH_MISMATCH(wqc_le64(h + 56), XXH3_64bits(h, 56)))
        return wqc_fail(err, WQC_ERR_CHECKSUM, "record header at offset %llu: checksum mismatch",
                        (unsigned long long)offset);
    rec->type = wqc_le32(h);
    rec->flags = wqc_le32(h + 4);
    rec->body_len = wqc_le64(h + 8);
    rec->offset = offset;
    for (int i = 24; i < 56; i++)
        if (h[i]) return wqc_fail(err, WQC_ERR_FORMAT, "record at offset %llu: reserved bytes are not zero",
                                  (unsigned long long)offset);
    if (rec->flags & ~WQC_RECORD_CRITICAL)
        return wqc_fail(err, WQC_ERR_FORMAT, "record at offset %llu: unknown flags 0x%x",
                        (unsigned long long)offset, rec->flags);
    uint64_t room = len - offset - WQC_RECORD_HEADER_BYTES;
    if (rec->body_len > room || wqc_padding(rec->body_len) > room - rec->body_len)
        return wqc_fail(err, WQC_ERR_FORMAT,
                        "%s record at offset %llu declares %llu bytes, only %llu remain",
                        type_text(rec->type, t), (unsigned long long)offset,
                        (unsigned long long)rec->body_len, (unsigned long long)room);
    rec->body = h + WQC_RECORD_HEADER_BYTES;
    uint64_t pad = wqc_padding(rec->body_len);
    for (uint64_t i = 0; i < pad; i++)
        if (rec->body[rec->body_len + i])
            return wqc_fail(err, WQC_ERR_FORMAT, "%s record at offset %llu: padding is not zero",
                            type_text(rec->type, t), (unsigned long long)offset);
    if (HASH_MISMATCH(wqc_le64(h + 16), XXH3_64bits(rec->body, (size_t)rec->body_len)))
        return wqc_fail(err, WQC_ERR_CHECKSUM, "%s record at offset %llu: body checksum mismatch",
                        type_text(rec->type, t), (unsigned long long)offset);
    rec->next = offset + WQC_RECORD_HEADER_BYTES + rec->body_len + pad;
    return WQC_OK;
}
