/* wqc/model_encode.h - a whole model into a .wqc: the per-tensor plan, the
 * frames it makes, and the encoder that `wqc encode` and `wqc analyze` both
 * run, so that what analyze reports is what encode writes.
 *
 * Flow: wqc_model_open (wqc/tensor_io.h) -> wqc_model_encoder_open (reads a
 * quantized safetensors input's frames; first pass: the models the small
 * quantized tensors share) -> per tensor wqc_model_encoder_code -> a
 * wqc_model_file per output file (one, or one per shard) -> wqc_model_file_finish.
 * wqc_model_encode does all of it into one sink.
 *
 * Threads: every call on distinct encoders is thread-safe; one encoder is
 * used by one thread at a time (it codes on several: wqc_model_encoder_code_batch). Nothing here prints, exits or names files. */
#ifndef WQC_MODEL_ENCODE_H
#define WQC_MODEL_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/container.h"
#include "wqc/encode.h"
#include "wqc/quant.h"
#include "wqc/stats.h"
#include "wqc/status.h"
#include "wqc/tensor_io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the plan: which tensors are quantized, and how ---- */

/* A per-name rule: "GLOB:keep", "GLOB:lossless" or
 * "GLOB:METHOD[,bits=B][,k=K][,step=D][,granularity=tensor|row|group:G]". */
typedef struct wqc_rule {
    char glob[256];              /* fnmatch pattern; cannot contain ':' */
    int keep;                    /* stored as it is (raw or zstd) */
    int lossless;                /* float tensors bit-exact (split coding, wqc/lossless.h) */
    wqc_quant_params params;
} wqc_rule;

/* Parses a rule; WQC_ERR_INVALID_ARG with the reason in err. */
wqc_status wqc_rule_parse(const char *text, wqc_rule *out, wqc_error *err);

typedef struct wqc_plan {
    wqc_quant_params base;       /* tensors no rule matches */
    const wqc_rule *rules;       /* the first matching rule decides */
    size_t nrules;
    uint64_t min_elements;       /* quantize float tensors of rank >= 2 with at least this many elements */
    int lossless;                /* every float tensor bit-exact, nothing quantized */
} wqc_plan;

/* Base quantizer wqc_quant_params_default, no rules, min_elements 0. */
void wqc_plan_default(wqc_plan *p);

/* The quantizer for t (first matching rule, else the base), or NULL when t
 * is stored losslessly: not float, rank < 2, empty, below min_elements, kept. */
const wqc_quant_params *wqc_plan_quantizer(const wqc_plan *plan, const wqc_tensor *t);

/* wqc_plan_quantizer for tensor i of m, but NULL for block scales
 * (scales_of from wqc_model_block_scales; NULL: none known). */
const wqc_quant_params *wqc_plan_model_quantizer(const wqc_plan *plan, const wqc_model *m, const size_t *scales_of,
                                                 size_t i);

/* True when t is an F32/F16/BF16 tensor to store bit-exactly with the split
 * coding: plan->lossless, or the first rule matching its name says lossless. */
int wqc_plan_lossless(const wqc_plan *plan, const wqc_tensor *t);

/* The first rule whose glob matches no tensor name of m, or (size_t)-1:
 * a rule that matches nothing is most often a typo ("embed*" for
 * "model.embed_tokens.weight"), which callers should report. */
size_t wqc_plan_unmatched_rule(const wqc_plan *plan, const wqc_model *m);

/* ---- companions of 8-bit and packed 4-bit weights ---- */

/* How a U8 tensor packs 4-bit floats, known from its scales' companion. */
typedef enum wqc_packed_float {
    WQC_PACKED_NONE = 0,
    WQC_PACKED_MXFP4,   /* E2M1 pairs (low nibble first), E8M0 scales in P_scales (gpt-oss: P_blocks) */
    WQC_PACKED_NVFP4    /* E2M1 pairs, E4M3 scales in P.weight_scale (ModelOpt) */
} wqc_packed_float;

/* The block scales of m: scales_of[i] = the index of the 1-byte tensor
 * (FP8 or packed FP4 weights) whose scales tensor i holds, else SIZE_MAX.
 * Recognised by name beside such a tensor: P.weight_scale_inv (DeepSeek),
 * P.weight_scale, P.weight_scale_2, P.input_scale and other P.*scale*
 * (compressed-tensors, ModelOpt) of P.weight; P_scales of P_blocks (gpt-oss).
 * Encode and quantize never quantize them: they are part of the weights'
 * values. packed (may be NULL) receives each U8 tensor's packing. Both
 * arrays hold wqc_model_count(m) entries. */
wqc_status wqc_model_block_scales(const wqc_model *m, size_t *scales_of, wqc_packed_float *packed, wqc_error *err);

/* ---- frames of a model's tensors ---- */

/* Quantizes tensor i of m with p: f->encoding = WQC_ENC_RANS, f->q owns the
 * symbols, scales and offsets (release with wqc_frame_release). The tensor's
 * input pages are released as they are read. stats (may be NULL) receives
 * the statistics of its floats and of the quantization. Row-wise quantizers
 * (wqc_quantize_by_rows) work a block of rows a thread on `threads`
 * threads; the result does not depend on them. */
wqc_status wqc_frame_quantize(const wqc_model *m, size_t i, const wqc_quant_params *p, int threads, wqc_frame *f,
                              wqc_tensor_stats *stats, wqc_error *err);

/* An I8/U8 tensor as the user's own symbols: q = v - min, offset = min,
 * scale 1. A U8 tensor whose minimum is 0 lends its own bytes
 * (f->q.symbols == t->data: wqc_frame_release must not see them). */
wqc_status wqc_frame_given(const wqc_tensor *t, wqc_frame *f, wqc_error *err);

/* The memory quantizing t with p on one thread holds until its symbols are
 * released: symbols, input pages, and a block of floats (row-wise) or a
 * float copy of t. For budgets of tensors in flight. */
uint64_t wqc_frame_quantize_bytes(const wqc_tensor *t, const wqc_quant_params *p);

/* A tensor kept as it is (RAW, payload pointing at t's data). */
void wqc_frame_raw(wqc_frame *f, const wqc_tensor *t);

/* Frees what wqc_frame_quantize / wqc_frame_given allocated. */
void wqc_frame_release(wqc_frame *f);

/* Whether frame f, decoded (decoded: its symbols for a quantized frame,
 * else its bytes), is what encode makes of orig, the tensor it came from:
 *   not quantized: the same dtype and bytes;
 *   given integers, or orig a quantize output's U8 symbols: the same values;
 *   quantized from floats: orig re-quantized with the recorded quantizer
 *   gives the same symbols, scales and offsets (then sqnr_db and max_abs say
 *   how far the decoded weights are from orig).
 * out->why names the first difference; NULL when exact. WQC_OK unless the
 * check itself fails (memory). */
typedef struct wqc_source_match {
    int exact;
    int quantized;               /* sqnr_db and max_abs are set */
    const char *why;             /* "another shape", "other symbols", ... */
    double sqnr_db, max_abs;
} wqc_source_match;
wqc_status wqc_frame_match_source(const wqc_frame *f, const uint8_t *decoded, const wqc_tensor *orig,
                                  wqc_source_match *out, wqc_error *err);

/* ---- the encoder ---- */

typedef struct wqc_model_encode_options {
    wqc_plan plan;
    wqc_encode_options coding;   /* mode, rANS parameters (lanes 0: auto; chunk 0: the layout's
                                    default), gemv layout; shared/nshared are the encoder's */
    int kept_zstd_level;         /* tensors kept as they are: zstd level, 0 raw (default 9) */
    int stats;                   /* gather the statistics record (default 1) */
} wqc_model_encode_options;

/* The plan's defaults, auto mode, auto lanes, the layout's chunk, stats on. */
void wqc_model_encode_options_default(wqc_model_encode_options *o);
/* o's coding options as a tensor coder takes them: chunk 0 resolved to the
 * layout's default (WQC_GEMV_CHUNK_DEFAULT for gemv, else
 * WQC_RANS_CHUNK_DEFAULT_CODEC). The one place that default is decided. */
wqc_encode_options wqc_model_coding(const wqc_model_encode_options *o);

typedef struct wqc_model_encoder wqc_model_encoder;

/* Prepares m for encoding: the frames of a quantized safetensors input
 * (wqc/quantized_st.h), then, in auto and context modes, the models shared
 * by its small quantized tensors (their frames are kept for
 * wqc_model_encoder_code while they fit 256 MiB). m must outlive the encoder.
 * o is copied; its plan's rules must outlive the encoder. */
wqc_status wqc_model_encoder_open(wqc_model *m, const wqc_model_encode_options *o, wqc_model_encoder **out,
                                  wqc_error *err);
void wqc_model_encoder_free(wqc_model_encoder *e);

/* The tensors the .wqc holds, in order: a quantized safetensors input's
 * symbol, scale and offset tensors are one; others one per input tensor. */
size_t wqc_model_encoder_count(const wqc_model_encoder *e);
const char *const *wqc_model_encoder_names(const wqc_model_encoder *e);
/* The input tensor behind .wqc tensor i (its symbols, for a quantized input). */
size_t wqc_model_encoder_input_index(const wqc_model_encoder *e, size_t i);
/* The model the encoder reads. */
const wqc_model *wqc_model_encoder_model(const wqc_model_encoder *e);
/* Bytes of input tensor data the encoder reads (0 for a quantized input). */
uint64_t wqc_model_encoder_input_bytes(const wqc_model_encoder *e);
/* True when .wqc tensor i is coded as symbols (quantized by the plan, or
 * given symbols), false when stored as it is or bit-exactly. */
int wqc_model_encoder_quantized(const wqc_model_encoder *e, size_t i);
/* The models shared by the small tensors (the file's SHARED record). */
const wqc_symbol_model *wqc_model_encoder_shared(const wqc_model_encoder *e, size_t *n);
/* True when every tensor comes back bit-exactly, so that the .wqc carries the
 * input's layout and decode gives the input file back byte for byte. */
int wqc_model_encoder_reproduces_source(const wqc_model_encoder *e);

/* One tensor as encode codes it. */
typedef struct wqc_coded_tensor {
    wqc_frame frame;             /* ready for wqc_writer_add */
    wqc_mode_sizes sizes;        /* quantized tensors: what each mode costs, the one taken */
    int has_stats;
    wqc_tensor_stats stats;      /* where has_stats: the statistics record's entry */
    uint64_t input_bytes;        /* bytes of the input tensor */
    void *scratch;               /* owned buffers */
} wqc_coded_tensor;

/* Makes and codes .wqc tensor i (in any order, each once; distinct tensors
 * may be coded from several threads at once). With
 * o->coding.estimate_only the sizes and mode are computed and nothing is
 * coded. Release with wqc_model_encoder_release, which also lets the input's
 * pages go. */
wqc_status wqc_model_encoder_code(wqc_model_encoder *e, size_t i, wqc_coded_tensor *c, wqc_error *err);
void wqc_model_encoder_release(wqc_model_encoder *e, size_t i, wqc_coded_tensor *c);

/* Codes every tensor, in order, and gives each to fn (then releases it):
 * several tensors at once on the coding options' threads (<= 0: every
 * core), each on one thread, or, coded alone, its rANS chunks on all of
 * them. Tensors in flight hold at most 32 MiB of working memory a thread
 * (at least one tensor's), so memory grows with threads, not with the model.
 * The coded bytes do not depend on the threads. Stops at the first failure
 * (of fn, or of coding a tensor, in tensor order) and returns it. */
typedef wqc_status (*wqc_coded_fn)(void *ctx, size_t i, const wqc_coded_tensor *c, wqc_error *err);
wqc_status wqc_model_encoder_each(wqc_model_encoder *e, wqc_coded_fn fn, void *ctx, wqc_error *err);

/* The coded size of a frame's data: rANS payload or stored bytes. */
uint64_t wqc_coded_payload_bytes(const wqc_frame *f);

/* Tensors in the caller's memory (wqc_model_from_tensors) into one .wqc
 * through sink, with options given as text: "KEY=VALUE" items separated by
 * ';' among method, bits, granularity, k, step (wqc_quant_setting),
 * precision, lanes, chunk (wqc_rans_setting), mode (auto, order0, context,
 * brotli, zstd), lossless (0/1), stats (0/1), rule (repeatable, as
 * wqc_rule_parse: "rule=*embed*:sdclip,bits=8,k=20"). What a binding calls
 * (python/wqc's save_file); the same words mean what the CLI's options do. */
wqc_status wqc_encode_tensors(const wqc_tensor *tensors, size_t n, const wqc_kv *meta, size_t nmeta,
                              const char *settings, wqc_sink_fn sink, void *ctx, wqc_error *err);

/* ---- output files ---- */

/* One .wqc file of the encoder's tensors: metadata (the input's, minus wqc.*
 * keys), the source layout where the encoder reproduces the source and the
 * file is not a shard, names (all of them, unless a shard), shared models;
 * then the tensors added, and the statistics record of those that have it. */
typedef struct wqc_model_file wqc_model_file;

typedef struct wqc_model_file_options {
    const uint8_t *key;          /* HMAC-SHA256 key, NULL for none */
    size_t key_len;
    int shard;                   /* one file of several: no names record, no source layout */
} wqc_model_file_options;

wqc_status wqc_model_file_open(const wqc_model_encoder *e, const wqc_model_file_options *o, wqc_sink_fn sink,
                               void *ctx, wqc_model_file **out, wqc_error *err);
wqc_status wqc_model_file_add(wqc_model_file *f, const wqc_coded_tensor *c, wqc_error *err);
/* Bytes written so far (header, records, frames). */
uint64_t wqc_model_file_offset(const wqc_model_file *f);
/* Writes the statistics record and the index; *bytes (may be NULL) gets the
 * file's size. Frees f, also on failure. */
wqc_status wqc_model_file_finish(wqc_model_file *f, uint64_t *bytes, wqc_error *err);
/* Frees f without finishing it (the sink has a partial file). */
void wqc_model_file_abort(wqc_model_file *f);

/* The whole model into one .wqc through sink: encoder, every tensor, file. */
wqc_status wqc_model_encode(wqc_model *m, const wqc_model_encode_options *o, const wqc_model_file_options *fo,
                            wqc_sink_fn sink, void *ctx, wqc_error *err);

/* ---- quantized safetensors (docs/FORMAT.md, wqc/quantized_st.h) ---- */

/* Called per tensor in the first pass (pass 1: p the quantizer, NULL when
 * kept) and as each tensor is written (pass 2, p NULL). */
typedef void (*wqc_quantize_progress_fn)(void *ctx, const wqc_tensor *t, const wqc_quant_params *p, int pass);

/* The model quantized by the plan into a quantized safetensors file
 * through sink: U8 symbols with NAME.wqc_scale / NAME.wqc_offset, other
 * tensors copied, the source's metadata and each quantizer's. Symbols are
 * kept between the passes up to 64 MiB, then quantized again (an input
 * that changes meanwhile: WQC_ERR_IO). progress may be NULL. Tensors are
 * quantized several at once on `threads` threads (<= 0: every core), each
 * on one, within 32 MiB of working memory a thread; the file does not depend
 * on threads, and progress is called in tensor order. */
wqc_status wqc_model_quantize(wqc_model *m, const wqc_plan *plan, int threads, wqc_sink_fn sink, void *ctx,
                              wqc_quantize_progress_fn progress, void *progress_ctx, wqc_error *err);

/* ---- GGUF files (wqc/gguf.h) ---- */

/* How encode stores a GGUF tensor, bit-exactly: wqc_frame_gguf with o's rANS
 * parameters (chunk 0: the default) and kept_zstd_level for its fields. */
struct wqc_gguf_tensor;
wqc_status wqc_gguf_frame(const struct wqc_gguf_tensor *t, const wqc_model_encode_options *o, wqc_frame *f,
                          void **scratch, wqc_error *err);

/* Called after each tensor is written (progress, reports). */
typedef void (*wqc_gguf_encoded_fn)(void *ctx, const struct wqc_gguf_tensor *t, const wqc_frame *f);

/* The .wqc of a parsed GGUF file buf[0..len) (wqc_gguf_parse): its layout
 * in a SOURCE record (header, tensor order, zero padding; WQC_ERR_UNSUPPORTED
 * where the gaps are not zero padding), names, every tensor
 * (wqc_gguf_frame). done may be NULL; *written (may be NULL) gets the bytes. */
struct wqc_gguf;
wqc_status wqc_gguf_encode(const struct wqc_gguf *g, const uint8_t *buf, size_t len, const wqc_model_encode_options *o,
                           const wqc_model_file_options *fo, wqc_sink_fn sink, void *ctx, wqc_gguf_encoded_fn done,
                           void *done_ctx, uint64_t *written, wqc_error *err);

/* A model written as GGUF: float matrices of rank >= 2 with at least
 * min_elements elements whose rows are whole 32-weight blocks as `type`
 * (WQC_GGML_Q4_0, Q8_0 or F16; other matrices F16), other float tensors
 * F32, 8-bit integers their own type; dims in ggml order; general.* keys
 * (name, architecture from the source's general.architecture, file type)
 * and the source's metadata as source.* strings. done (may be NULL) is
 * called after each tensor, in order. Tensors are converted several at once
 * on `threads` threads (<= 0: all cores); the file does not depend on them. */
typedef struct wqc_gguf_options {
    uint32_t type;
    uint64_t min_elements;
    const char *name;            /* general.name */
    void (*done)(void *ctx, size_t tensor);
    void *done_ctx;
    int threads;
} wqc_gguf_options;
wqc_status wqc_model_to_gguf(const wqc_model *m, const wqc_gguf_options *o, wqc_sink_fn sink, void *ctx,
                             wqc_error *err);

#ifdef __cplusplus
}
#endif
#endif
