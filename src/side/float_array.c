#include "float_array.h"

#include <string.h>

enum { RECENT = 4 };

typedef struct float_layout {
    int exp_bits, man_bits;
} float_layout;

static float_layout layout_of(wqc_dtype dtype)
{
    switch (dtype) {
    case WQC_DTYPE_F16: return (float_layout){5, 10};
    case WQC_DTYPE_BF16: return (float_layout){8, 7};
    default: return (float_layout){8, 23};
    }
}

typedef struct float_models {
    wqc_rc_bit repeat, recent[RECENT], low_zeros[32], head[1 << 9];
    uint32_t last[RECENT];
    int nlast;
} float_models;

/* Index of v among the recent values, or -1; then v moves to the front. */
static int recent_find(const float_models *m, uint32_t v)
{
    for (int i = 0; i < m->nlast; i++)
        if (m->last[i] == v) return i;
    return -1;
}

static void recent_push(float_models *m, int found, uint32_t v)
{
    int from = found >= 0 ? found : (m->nlast < RECENT ? m->nlast++ : RECENT - 1);
    memmove(m->last + 1, m->last, (size_t)from * sizeof m->last[0]);
    m->last[0] = v;
}

/* Mantissa bits that are zero in every value (all of them for an all-zero array). */
static int common_low_zeros(float_layout f, const uint32_t *bits, size_t n)
{
    uint32_t any = 0, mask = (1u << f.man_bits) - 1;
    for (size_t i = 0; i < n; i++) any |= bits[i] & mask;
    return any ? __builtin_ctz(any) : f.man_bits;
}

void wqc_floats_encode(wqc_rc_enc *e, wqc_dtype dtype, const uint32_t *bits, size_t n)
{
    if (n == 0) return;
    float_layout f = layout_of(dtype);
    float_models m;
    memset(&m, 0, sizeof m);
    int zeros = common_low_zeros(f, bits, n), kept = f.man_bits - zeros;
    wqc_rc_encode_tree(e, m.low_zeros, 5, (uint32_t)zeros);
    for (size_t i = 0; i < n; i++) {
        uint32_t v = bits[i];
        int found = recent_find(&m, v);
        wqc_rc_encode(e, &m.repeat, found >= 0);
        if (found >= 0) {
            wqc_rc_encode_tree(e, m.recent, 2, (uint32_t)found);
        } else {
            wqc_rc_encode_tree(e, m.head, 1 + f.exp_bits, v >> f.man_bits);
            wqc_rc_encode_direct(e, (v >> zeros) & ((1u << kept) - 1), kept);
        }
        recent_push(&m, found, v);
    }
}

void wqc_floats_decode(wqc_rc_dec *d, wqc_dtype dtype, uint32_t *bits, size_t n)
{
    if (n == 0) return;
    float_layout f = layout_of(dtype);
    float_models m;
    memset(&m, 0, sizeof m);
    int zeros = (int)wqc_rc_decode_tree(d, m.low_zeros, 5);
    if (zeros > f.man_bits) zeros = f.man_bits; /* damaged: keep shifts defined */
    int kept = f.man_bits - zeros;
    for (size_t i = 0; i < n; i++) {
        uint32_t v;
        int found = -1;
        if (wqc_rc_decode(d, &m.repeat)) {
            found = (int)wqc_rc_decode_tree(d, m.recent, 2);
            if (found >= m.nlast) found = m.nlast ? m.nlast - 1 : -1;
            v = found >= 0 ? m.last[found] : 0;
        } else {
            uint32_t head = wqc_rc_decode_tree(d, m.head, 1 + f.exp_bits);
            v = head << f.man_bits | wqc_rc_decode_direct(d, kept) << zeros;
        }
        bits[i] = v;
        recent_push(&m, found, v);
    }
}

size_t wqc_floats_cost(wqc_dtype dtype, const uint32_t *bits, size_t n)
{
    wqc_bytes b = {0};
    wqc_rc_enc e;
    wqc_rc_enc_init(&e, &b);
    wqc_floats_encode(&e, dtype, bits, n);
    wqc_rc_enc_finish(&e);
    size_t len = b.failed ? SIZE_MAX : b.len;
    wqc_bytes_free(&b);
    return len;
}
