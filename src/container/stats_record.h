/* Internal: the body of the STATS record ('D', docs/FORMAT.md): per tensor
 * the statistics of its original floats (wqc/stats.h), coded with the
 * adaptive range coder and the float-array coder. */
#ifndef WQC_CONTAINER_STATS_RECORD_H
#define WQC_CONTAINER_STATS_RECORD_H

#include "../common/bytes.h"
#include "wqc/stats.h"

/* Entries for tensors index[0..n) (increasing T-record indexes). */
void wqc_stats_record_encode(wqc_bytes *b, const size_t *index, const wqc_tensor_stats *stats, size_t n);
/* Fills stats[index] and present[index] for the entries of a body, for a
 * file of `count` tensors. WQC_ERR_FORMAT when the body is malformed. */
wqc_status wqc_stats_record_decode(const uint8_t *body, size_t len, size_t count, wqc_tensor_stats *stats,
                                   uint8_t *present, wqc_error *err);

#endif
