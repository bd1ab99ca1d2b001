/* Internal: vectors of 16 bytes through GCC's vector extensions (SSE2 or
 * NEON as built; clang has them too), for loops the compiler does not
 * vectorise alone: float reductions whose order is fixed (lane sums,
 * extremes) and float-to-byte quantization with clamps. Every lane takes
 * the IEEE operation a scalar loop would. */
#ifndef WQC_COMMON_LANES_H
#define WQC_COMMON_LANES_H

#include <stdint.h>
#include <string.h>

/* Doubles in pairs, floats in quads. */
typedef double lane_pair __attribute__((vector_size(16)));
typedef float lane_quad __attribute__((vector_size(16)));
typedef int32_t lane_quad_mask __attribute__((vector_size(16)));
typedef int64_t lane_pair_mask __attribute__((vector_size(16)));
typedef float lane_float_pair __attribute__((vector_size(8)));
typedef uint8_t lane_byte_quad __attribute__((vector_size(4)));

/* w[0], w[1] as doubles. */
static inline lane_pair lane_widen(const float *w)
{
    lane_float_pair v;
    memcpy(&v, w, sizeof v);
    return __builtin_convertvector(v, lane_pair);
}

static inline lane_quad lane_load(const float *w)
{
    lane_quad v;
    memcpy(&v, w, sizeof v);
    return v;
}

/* a where m is set (all ones), else b. */
static inline lane_quad lane_pick(lane_quad_mask m, lane_quad a, lane_quad b)
{
    return (lane_quad)(((lane_quad_mask)a & m) | ((lane_quad_mask)b & ~m));
}

static inline lane_pair lane_pick_pair(lane_pair_mask m, lane_pair a, lane_pair b)
{
    return (lane_pair)(((lane_pair_mask)a & m) | ((lane_pair_mask)b & ~m));
}

#endif
