/* Internal: the arithmetic of wqc_lane_sum (wqc/quant.h). Term i goes to
 * lane i % 8 of its block of 2^16 terms; a block's lanes are added in one
 * fixed tree and the block's value to the total, blocks in order. A call
 * may start and end anywhere: the lanes carry a block begun by one call
 * into the next, so every cut gives the same bits, and whole blocks can be
 * summed on threads and added in order afterwards. */
#ifndef WQC_COMMON_LANE_SUM_H
#define WQC_COMMON_LANE_SUM_H

#include <stdint.h>
#include <string.h>

#include "lanes.h"
#include "wqc/quant.h"

enum { LANE_COUNT = 8, LANE_BLOCK = 1 << 16 };

static inline void lane_get(const wqc_lane_sum *s, lane_pair *v) { memcpy(v, s->lane, sizeof s->lane); }

static inline void lane_set(wqc_lane_sum *s, const lane_pair *v) { memcpy(s->lane, v, sizeof s->lane); }

static inline double lane_tree(const double *l) { return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7])); }

/* Closes a block: its value added to the total, the lanes emptied. */
static inline void lane_sum_close(wqc_lane_sum *s)
{
    s->total += lane_tree(s->lane);
    for (int l = 0; l < LANE_COUNT; l++) s->lane[l] = 0.0;
}

/* The sum so far, a block still open included. */
static inline double lane_sum_value(const wqc_lane_sum *s) { return s->total + lane_tree(s->lane); }

/* The end of the part of [i, end) that lies in i's block. */
static inline uint64_t lane_block_end(uint64_t i, uint64_t end)
{
    uint64_t b = (i | (LANE_BLOCK - 1)) + 1;
    return b < end ? b : end;
}

/* Whether index i starts a block (so a block ended just before it). */
static inline int lane_block_start(uint64_t i) { return (i & (LANE_BLOCK - 1)) == 0; }

#endif
