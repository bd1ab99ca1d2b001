/* wqc/encode.h - how each quantized tensor's symbols are stored.
 *
 * The coding modes of a .wqc tensor, and the choice among them that
 * `wqc encode` makes per tensor: the fewest bytes, descriptions included.
 *   order0   rANS with one table for the tensor;
 *   context  rANS with a table per zero-point bin (wqc/symbol_model.h), the
 *            tensor's own tables or a model the file shares among tensors;
 *   brotli   brotli, zstd or LZMA2 of the symbol bytes: tensors where
 *   zstd     long repeats (embeddings with identical rows, periodic rows,
 *   lzma     DCT/STFT bases) or the previous symbol carry information an
 *            order-0 or zero-point model does not see. */
#ifndef WQC_ENCODE_H
#define WQC_ENCODE_H

#include <stdint.h>

#include "wqc/container.h"
#include "wqc/rans.h"
#include "wqc/status.h"
#include "wqc/symbol_model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wqc_mode {
    WQC_MODE_AUTO = 0,
    WQC_MODE_ORDER0,
    WQC_MODE_CONTEXT,
    WQC_MODE_BROTLI,
    WQC_MODE_ZSTD,
    WQC_MODE_LZMA,
    WQC_MODE_COUNT
} wqc_mode;

/* "auto", "order0", "context", "brotli", "zstd", "lzma". */
const char *wqc_mode_name(wqc_mode m);
wqc_status wqc_mode_from_name(const char *name, wqc_mode *out, wqc_error *err);
/* The mode a frame read from a file was coded in. */
wqc_mode wqc_frame_mode(const wqc_frame *f);

/* In auto mode the general-purpose peers (zstd -19, brotli -q 11, LZMA2 as
 * xz -9e) are tried on tensors up to this size where a probe of the symbols
 * finds long repeats or information in the previous symbol (byte_probe.c);
 * the smallest coding wins. Brotli and LZMA run at about 1 MB/s: the probe
 * keeps them off near-i.i.d. tensors, where rANS wins anyway. */
#define WQC_MODE_GP_MAX (1u << 22)

/* Auto takes a context model only when it saves at least this fraction of
 * order-0's bytes: its AVX-512 decoder runs at about 0.7 of order-0's speed. */
#define WQC_CONTEXT_MIN_SAVING 0.01

typedef struct wqc_encode_options {
    wqc_mode mode;
    wqc_rans_params rans;           /* lanes 0: wqc_rans_lanes_auto */
    int gemv;                       /* the gemv layout (rANS modes only) */
    uint32_t resolution;            /* zero-point bins per symbol step of the tensor's own and shared models */
    int zstd_level, brotli_quality;
    const wqc_symbol_model *shared; /* the file's shared models */
    size_t nshared;
    int estimate_only;              /* sizes and choice only: nothing is coded (rANS sizes
                                       are the cross-entropy estimates) */
} wqc_encode_options;

/* auto; rANS defaults with auto lanes; resolution 2; zstd 15, brotli 11. */
void wqc_encode_options_default(wqc_encode_options *o);

/* What each mode costs a tensor, in bytes of payload and description (-1:
 * not tried), and which one was taken. */
typedef struct wqc_mode_sizes {
    int64_t bytes[WQC_MODE_COUNT];  /* [WQC_MODE_AUTO] unused */
    int64_t shared_bytes;           /* context mode with the shared model, -1 without one */
    wqc_mode chosen;
    double entropy_bits;            /* order-0 entropy of the symbols, bits per symbol */
} wqc_mode_sizes;

/* Codes the symbols of a quantized frame (f->quantized, f->q.symbols) as the
 * options say: sets f->encoding and f->coded, f->model, f->shared_model and
 * f->gemv_tile, or f->payload (then *scratch is the buffer to free after the
 * frame is written). sizes may be NULL. Release with wqc_encoded_free. */
wqc_status wqc_encode_symbols(wqc_frame *f, const wqc_encode_options *o, wqc_mode_sizes *sizes, void **scratch,
                              wqc_error *err);
void wqc_encoded_free(wqc_frame *f);

/* What a coded quantized frame's symbols take, as wqc_mode_sizes counts
 * them: a rANS frame's payload, chunk lengths and tables (2 bytes naming a
 * shared model), a zstd or brotli frame's payload. After coding, the chosen
 * mode's entry of wqc_mode_sizes is this; the others are estimates. */
uint64_t wqc_frame_symbol_bytes(const wqc_frame *f);

/* A float tensor stored bit-exactly: the smallest of its SPLIT coding
 * (wqc/lossless.h: the symbol bytes with rANS, each rest stream raw or zstd
 * at zstd_level) and wqc_frame_passthrough's (raw, zstd, the float coder).
 * Other dtypes take the passthrough. o gives the rANS parameters (lanes 0:
 * auto). *scratch receives the buffer to free after the frame is written;
 * release the frame with wqc_encoded_free. */
wqc_status wqc_frame_lossless(const wqc_tensor *t, const wqc_encode_options *o, int zstd_level, wqc_frame *f,
                              void **scratch, wqc_error *err);

/* A GGUF tensor (wqc/gguf.h) stored bit-exactly: blocks of a split type
 * (Q4_0, Q8_0, Q4_K, Q6_K) as WQC_ENC_GGUF, their codes rANS-coded (with
 * a shared order-0 model of o->shared where that is smaller) and their
 * fields raw or zstd'd; F32/F16/BF16 as wqc_frame_lossless; other
 * types passed through. The frame points at t's name. */
struct wqc_gguf_tensor;
wqc_status wqc_frame_gguf(const struct wqc_gguf_tensor *t, const wqc_encode_options *o, int zstd_level, wqc_frame *f,
                          void **scratch, wqc_error *err);

struct wqc_gguf;
/* The code tables a GGUF file's tensors may share (o->shared of
 * wqc_frame_gguf): per code alphabet that at least two tensors of at most
 * WQC_SHARED_TENSOR_MAX weights use, an order-0 model of all their codes
 * covering every symbol. Small tensors pay more for a table of their own
 * than their statistics differ (a Q8_0 table of 256 symbols costs some
 * 200 bytes). *models: free each with wqc_symbol_model_free, then the array. */
wqc_status wqc_gguf_shared_models(const struct wqc_gguf *g, int precision, wqc_symbol_model **models, size_t *n,
                                  wqc_error *err);

#ifdef __cplusplus
}
#endif
#endif
