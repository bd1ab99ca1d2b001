/* A small Llama forward pass (RMSNorm, rotary embeddings, grouped-query
 * attention, SwiGLU, tied or separate output) for models stored with the
 * Hugging Face tensor names, as a client of libwqc: its weights come from a
 * safetensors file, a `wqc quantize` output, a .wqc or a GGUF file, through
 * the public API, and its matrix-vector products run one of three ways.
 * Nothing here is in the library. */
#ifndef WQC_EXAMPLE_LLAMA_H
#define WQC_EXAMPLE_LLAMA_H

#include <stddef.h>
#include <stdint.h>

#include "wqc/wqc.h"

typedef enum llama_path {
    PATH_F32,       /* weights dequantized to float32, plain products */
    PATH_Q4_0,      /* weights requantized to Q4_0 (llama.cpp style), x as Q8 */
    PATH_FUSED      /* wqc_gemv straight from a gemv-layout .wqc's rANS streams */
} llama_path;

typedef enum llama_rope {
    ROPE_HALF,          /* Hugging Face: pairs (i, i + d/2) (rotate_half) */
    ROPE_INTERLEAVED    /* llama2.c / Meta: pairs (2i, 2i + 1) */
} llama_rope;

typedef struct llama_config {
    int dim, hidden, layers, heads, kv_heads, vocab, seq_len;
    float norm_eps, rope_theta;
    llama_rope rope;
} llama_config;

/* y = W x for one weight matrix (rows = outputs), whichever way it is held. */
typedef struct llama_linear {
    llama_path path;
    uint64_t rows, cols, padded_cols;   /* Q4_0 pads cols to a multiple of 32 */
    float *w;                           /* PATH_F32: rows x cols */
    wqc_q4_0_block *q4;                 /* PATH_Q4_0 */
    wqc_gemv *gemv;                     /* PATH_FUSED (its frame stays in the reader) */
} llama_linear;

typedef struct llama_layer {
    float *attn_norm, *ffn_norm;
    llama_linear q, k, v, o, gate, up, down;
} llama_layer;

typedef struct llama_model {
    llama_config c;
    float *embed;               /* vocab x dim, float32 */
    float *final_norm;
    llama_layer *layer;
    llama_linear out;           /* the output head (the embedding when tied) */
    int tied;                   /* out is the embedding (no lm_head.weight) */
    wqc_isa isa;
    int threads;
    wqc_weights *weights;       /* kept open: fused products read its frames */
} llama_model;

/* Activations and the key/value cache of one sequence. */
typedef struct llama_state {
    float *x, *xb, *xb2, *hb, *hb2, *q, *att, *logits;
    float *key_cache, *value_cache;     /* layers x seq_len x kv_dim */
    wqc_q8_block *xq;                   /* x quantized for Q4_0 products */
} llama_state;

int llama_state_alloc(llama_state *s, const llama_config *c);
void llama_state_free(llama_state *s);
/* Logits (s->logits, vocab) after `token` at position `pos` (0-based, the
 * cache holding positions 0..pos-1). */
void llama_forward(const llama_model *m, llama_state *s, int token, int pos);

/* y = W x; x has room for the padding of Q4_0 blocks; xq is scratch of
 * (cols + 31) / 32 + 1 blocks. */
void llama_linear_apply(const llama_model *m, const llama_linear *l, float *x, float *y, wqc_q8_block *xq);
void llama_linear_free(llama_linear *l);

/* The pieces both forward passes share (llama.c). */
void llama_rmsnorm(float *out, const float *x, const float *w, int n, float eps);
void llama_softmax(float *x, int n);
/* cos and sin of position pos's angles, head_size / 2 of each. */
void llama_rope_table(const llama_config *c, int pos, float *cs, float *sn);
void llama_rotate(float *v, int head_size, const float *cs, const float *sn, llama_rope rope);

/* Y (n x rows) = X (n x cols) W^T for W rows x cols (batch.c). Each element
 * is summed in the same order whatever n and rows are. */
void llama_gemm(const float *X, int n, const float *W, uint64_t rows, uint64_t cols, float *Y);

/* One sequence's positions 0..n-1 at once (batch.c): weights are read once
 * for all of them, so a window of 256 tokens costs what a few single tokens
 * cost in memory traffic. Results equal llama_forward's up to float
 * summation order. */
typedef struct llama_batch {
    int cap;
    float *x, *xb, *xb2, *q, *k, *v, *hb, *hb2, *att, *row, *logits;
    float *rope_cos, *rope_sin;     /* cap x head_size / 2 */
    wqc_q8_block *xq;
} llama_batch;

int llama_batch_alloc(llama_batch *b, const llama_config *c, int cap);
void llama_batch_free(llama_batch *b);
/* Logits of every position (b->logits, n x vocab) for tokens[0..n). */
void llama_forward_batch(const llama_model *m, llama_batch *b, const int *tokens, int n);

/* Loads a model (weights.c): path decides how the products run. The config
 * comes from config_path (a Hugging Face config.json), else config.json
 * beside the model, else the source's metadata (dim, hidden_dim, n_layers,
 * n_heads, n_kv_heads, vocab_size, seq_len as llama2.c's export writes them),
 * else the shapes. Returns 0 and prints an error naming the file on failure. */
int llama_load(const char *path, const char *config_path, llama_path how, llama_rope rope, int threads, llama_model *m);
void llama_free(llama_model *m);

/* Reads a Hugging Face LlamaForCausalLM config.json (hf_config.c): sizes,
 * rms_norm_eps, rope_theta (top level or in rope_parameters),
 * tie_word_embeddings. 0 and a message naming the file when it is not one. */
int llama_config_json(const char *path, llama_config *c, int *tied);
/* The config.json to read into out: given (if not NULL), else the one
 * beside the model if it exists; 0 when there is none. */
int llama_config_path(const char *model, const char *given, char *out, size_t n);

#endif
