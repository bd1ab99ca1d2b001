/* Quantized safetensors (docs/FORMAT.md): what `quantize` writes, what
 * `encode` accepts as given symbols, and what `decode --symbols` restores
 * byte for byte. Tensors travel as wqc_frame: encoding WQC_ENC_RANS with
 * q.symbols set for quantized ones, WQC_ENC_RAW with payload for the rest. */
#ifndef WQC_QUANTIZED_ST_H
#define WQC_QUANTIZED_ST_H

#include "wqc/container.h"
#include "wqc/tensor_io.h"

#define WQC_QST_FORMAT_KEY "wqc.format"
#define WQC_QST_FORMAT_VALUE "wqc-quantized-1"
#define WQC_QST_TENSOR_KEY_PREFIX "wqc.q."
#define WQC_QST_SCALE_SUFFIX ".wqc_scale"
#define WQC_QST_OFFSET_SUFFIX ".wqc_offset"

/* The tensors and metadata of the quantized safetensors file of these
 * frames, in order: a quantized frame (from a quantizer, not given symbols)
 * gives its U8 symbols (data = q.symbols: NULL for a caller that streams
 * them) and its F32 scale and offset tensors; any other frame its bytes
 * (data = payload, nbytes = raw_len). frame_of[t] is tensor t's frame. */
typedef struct wqc_qst_layout {
    wqc_tensor *tensors;
    size_t n;
    size_t *frame_of;
    wqc_kv *kv;
    size_t nkv;
    void **owned;
    size_t nowned;
} wqc_qst_layout;

wqc_status wqc_qst_layout_make(const wqc_frame *frames, size_t n, const wqc_kv *meta, size_t nmeta, wqc_qst_layout *l,
                           wqc_error *err);
void wqc_qst_layout_free(wqc_qst_layout *l);

/* Writes frames (in order) and the source metadata (its wqc.* keys dropped)
 * as a quantized safetensors file (the layout above, with its data). */
wqc_status wqc_qst_write(wqc_sink_fn sink, void *ctx, const wqc_frame *frames, size_t n, const wqc_kv *meta,
                     size_t nmeta, wqc_error *err);

/* True if the model's metadata marks it as a quantized safetensors file. */
int wqc_qst_is_quantized(const wqc_model *m);

/* The frames of a quantized safetensors model, in file order (scale and
 * offset tensors folded into their symbol tensor). frames[i].q.scale/offset
 * are malloc'ed copies; q.symbols and payloads point into the model. Frees
 * with wqc_qst_frames_free. Checks every symbol against its alphabet. */
wqc_status wqc_qst_read(const wqc_model *m, wqc_frame **frames, size_t *n, wqc_error *err);
void wqc_qst_frames_free(wqc_frame *frames, size_t n);

/* Copies the model's metadata minus wqc.* keys into a new array (pointers
 * into the model). */
wqc_kv *wqc_qst_source_metadata(const wqc_kv *meta, size_t nmeta, size_t *out_n);

#endif
