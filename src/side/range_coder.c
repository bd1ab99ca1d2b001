#include "range_coder.h"

#define TOP (1u << 24)
#define COUNT_LIMIT 255u

/* floor(2^32 / d) + 1 for the KT denominators d = 2 (n0 + n1) + 2 <= 2 x 257 + 2:
 * with it, a / d is (a x r) >> 32 exactly for numerators a < 2^22 (the
 * error a / 2^32 < 2^-10 stays below 1 / d; test_side checks every pair). */
#define RECIP(d) ((uint32_t)(0x100000000ull / ((d) + !(d)) + 1u)) /* d = 0: unused */
#define RECIP8(d) RECIP(d), RECIP(d + 1), RECIP(d + 2), RECIP(d + 3), RECIP(d + 4), RECIP(d + 5), RECIP(d + 6), RECIP(d + 7)
#define RECIP64(d) RECIP8(d), RECIP8(d + 8), RECIP8(d + 16), RECIP8(d + 24), RECIP8(d + 32), RECIP8(d + 40), \
                   RECIP8(d + 48), RECIP8(d + 56)
static const uint32_t reciprocal[576] = {RECIP64(0),   RECIP64(64),  RECIP64(128), RECIP64(192), RECIP64(256),
                                         RECIP64(320), RECIP64(384), RECIP64(448), RECIP64(512)};

static inline uint32_t kt_prob(uint32_t n0, uint32_t n1)
{
    uint64_t a = (2ull * n0 + 1u) << WQC_RC_PROB_BITS;
    return (uint32_t)((a * reciprocal[2 * (n0 + n1) + 2]) >> 32);
}

uint32_t wqc_rc_kt_prob(uint32_t n0, uint32_t n1)
{
    return kt_prob(n0, n1);
}

/* P(bit = 0) in 12 bits from the KT estimate (n0 + 1/2) / (n0 + n1 + 1). */
static uint32_t prob0(const wqc_rc_bit *m)
{
    return (uint32_t)(m->p0 + (1 << (WQC_RC_PROB_BITS - 1)));
}

static void update(wqc_rc_bit *m, int bit)
{
    if (bit) m->n1++;
    else m->n0++;
    if (m->n0 + m->n1 > COUNT_LIMIT) {
        m->n0 = (uint16_t)((m->n0 + 1) / 2);
        m->n1 = (uint16_t)((m->n1 + 1) / 2);
    }
    uint32_t p = kt_prob(m->n0, m->n1);
    p = p < 1 ? 1 : p > (1u << WQC_RC_PROB_BITS) - 1 ? (1u << WQC_RC_PROB_BITS) - 1 : p;
    m->p0 = (int16_t)((int)p - (1 << (WQC_RC_PROB_BITS - 1)));
}

void wqc_rc_enc_init(wqc_rc_enc *e, wqc_bytes *out)
{
    e->out = out;
    e->low = 0;
    e->range = 0xffffffffu;
    e->cache = 0;
    e->pending = 0;
    e->have_cache = 0;
}

/* Moves the top byte of low out. A byte of 0xff may still take a carry, so
 * runs of them wait behind the last byte that can absorb one. */
static void shift_low(wqc_rc_enc *e)
{
    if (e->low < 0xff000000u || e->low > 0xffffffffu) {
        uint8_t carry = (uint8_t)(e->low >> 32);
        if (e->have_cache) wqc_bytes_u8(e->out, (uint8_t)(e->cache + carry));
        for (; e->pending; e->pending--) wqc_bytes_u8(e->out, (uint8_t)(0xff + carry));
        e->cache = (uint8_t)(e->low >> 24);
        e->have_cache = 1;
    } else {
        e->pending++;
    }
    e->low = (e->low << 8) & 0xffffffffu;
}

static void encode_split(wqc_rc_enc *e, uint32_t bound, int bit)
{
    if (bit) {
        e->low += bound;
        e->range -= bound;
    } else {
        e->range = bound;
    }
    while (e->range < TOP) {
        e->range <<= 8;
        shift_low(e);
    }
}

void wqc_rc_encode(wqc_rc_enc *e, wqc_rc_bit *m, int bit)
{
    encode_split(e, (e->range >> WQC_RC_PROB_BITS) * prob0(m), bit);
    update(m, bit);
}

void wqc_rc_encode_direct(wqc_rc_enc *e, uint32_t value, int nbits)
{
    for (int i = nbits - 1; i >= 0; i--) encode_split(e, e->range >> 1, (int)(value >> i & 1));
}

/* Ends the stream on the value in [low, low + range) with the most trailing
 * zero bytes, and leaves those bytes out: the decoder reads zeros past the end. */
void wqc_rc_enc_finish(wqc_rc_enc *e)
{
    int bytes = 4;
    for (int k = 32; k >= 8; k -= 8) {
        uint64_t mask = (1ull << k) - 1, v = (e->low + mask) & ~mask;
        if (v < e->low + e->range) {
            e->low = v;
            bytes = (32 - k) / 8;
            break;
        }
    }
    for (int i = 0; i <= bytes; i++) shift_low(e);
}

static uint8_t next_byte(wqc_rc_dec *d)
{
    if (d->p < d->end) return *d->p++;
    d->overrun++;
    return 0;
}

void wqc_rc_dec_init(wqc_rc_dec *d, const uint8_t *p, size_t len)
{
    d->p = p;
    d->end = p + len;
    d->overrun = 0;
    d->range = 0xffffffffu;
    d->code = 0;
    for (int i = 0; i < 4; i++) d->code = d->code << 8 | next_byte(d);
}

static int decode_split(wqc_rc_dec *d, uint32_t bound)
{
    /* Without branches: the bit is data, and mispredicted half the time. */
    uint32_t bit = d->code >= bound, mask = 0u - bit;
    d->code -= bound & mask;
    d->range = ((d->range - bound) & mask) | (bound & ~mask);
    while (d->range < TOP) {
        d->range <<= 8;
        d->code = d->code << 8 | next_byte(d);
    }
    return bit;
}

int wqc_rc_decode(wqc_rc_dec *d, wqc_rc_bit *m)
{
    int bit = decode_split(d, (d->range >> WQC_RC_PROB_BITS) * prob0(m));
    update(m, bit);
    return bit;
}

uint32_t wqc_rc_decode_direct(wqc_rc_dec *d, int nbits)
{
    uint32_t v = 0;
    for (int i = 0; i < nbits; i++) v = v << 1 | (uint32_t)decode_split(d, d->range >> 1);
    return v;
}

void wqc_rc_encode_tree(wqc_rc_enc *e, wqc_rc_bit *tree, int bits, uint32_t value)
{
    uint32_t node = 1;
    for (int i = bits - 1; i >= 0; i--) {
        int bit = (int)(value >> i & 1);
        wqc_rc_encode(e, &tree[node], bit);
        node = node << 1 | (uint32_t)bit;
    }
}

uint32_t wqc_rc_decode_tree(wqc_rc_dec *d, wqc_rc_bit *tree, int bits)
{
    uint32_t node = 1;
    for (int i = 0; i < bits; i++) node = node << 1 | (uint32_t)wqc_rc_decode(d, &tree[node]);
    return node - (1u << bits);
}

void wqc_rc_encode_uint(wqc_rc_enc *e, wqc_rc_uint *m, uint64_t value)
{
    uint64_t x = value + 1;
    int len = 64 - __builtin_clzll(x);
    for (int i = 0; i < len - 1; i++) wqc_rc_encode(e, &m->len[i], 1);
    wqc_rc_encode(e, &m->len[len - 1], 0);
    if (len < 2) return;
    int rest = len - 2;
    wqc_rc_encode(e, &m->top[len], (int)(x >> rest & 1));
    if (rest > 32) {
        wqc_rc_encode_direct(e, (uint32_t)(x >> 32), rest - 32);
        rest = 32;
    }
    wqc_rc_encode_direct(e, (uint32_t)x, rest);
}

uint64_t wqc_rc_decode_uint(wqc_rc_dec *d, wqc_rc_uint *m)
{
    int len = 1;
    while (wqc_rc_decode(d, &m->len[len - 1]))
        if (++len == 64) return UINT64_MAX; /* no value this long is ever written */
    if (len < 2) return 0;
    int rest = len - 2;
    uint64_t x = 2 | (uint64_t)wqc_rc_decode(d, &m->top[len]);
    if (rest > 32) {
        x = x << (rest - 32) | wqc_rc_decode_direct(d, rest - 32);
        rest = 32;
    }
    x = x << rest | wqc_rc_decode_direct(d, rest);
    return x - 1;
}
