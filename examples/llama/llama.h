/* A small Llama forward pass (RMSNorm, rotary embeddings, grouped-query
 * attention, SwiGLU, tied or separate output) for models stored with the
 * Hugging Face tensor names, as a client of libwqc: its weights come from a
 * safetensors file, a `wqc quantize` output or a .wqc, through the public
 * API, and its matrix-vector products run one of three ways. Nothing here
 * is in the library. */
#ifndef WQC_EXAMPLE_LLAMA_H
#define WQC_EXAMPLE_LLAMA_H

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
    wqc_isa isa;
    int threads;
    /* What the weights were loaded from, kept open for fused products. */
    wqc_mapped_file file;
    wqc_reader *reader;
    int mapped;
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

void llama_linear_apply(const llama_model *m, const llama_linear *l, const float *x, float *y, llama_state *s);
void llama_linear_free(llama_linear *l);

/* Loads a model (weights.c): path decides how the products run. Reads the
 * config from the source's metadata (dim, hidden_dim, n_layers, n_heads,
 * n_kv_heads, vocab_size, seq_len as llama2.c's export writes them) or
 * derives it from the shapes. Returns 0 and prints an error naming the
 * file on failure. */
int llama_load(const char *path, llama_path how, llama_rope rope, int threads, llama_model *m);
void llama_free(llama_model *m);

#endif
