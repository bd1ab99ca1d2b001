/* What quantization costs the model: next-token distributions of quantized
 * variants against the original's, on held-out text (a reference.json's
 * windows) or on sequences the original sampled. */
#ifndef WQC_EXAMPLE_QUALITY_H
#define WQC_EXAMPLE_QUALITY_H

#include "llama.h"

typedef struct quality_ref {
    int nseq, len, vocab;
    int *tokens;            /* nseq x (len + 1): position t predicts t + 1 */
    float *logp;            /* nseq x len x vocab: the original's log-probabilities */
    double nll;             /* the original's mean negative log-likelihood of the sequences */
    double expected_nll;    /* reference.json's heldout_nll_nats_per_token (NAN when sampled) */
    int threads;            /* sequences evaluated at once */
} quality_ref;

typedef struct quality {
    double kl;              /* mean KL(original || variant), nats per token */
    double top1;            /* share of positions where the argmaxes agree */
    double nll, delta_nll;  /* the variant's mean NLL of the sequences, and its change */
} quality;

/* Samples nseq sequences of len tokens at temperature 1 (seeded) from m. */
int quality_sample(const llama_model *m, int nseq, int len, uint64_t seed, int threads, quality_ref *ref);
/* The heldout_windows of a reference.json (token ids; positions 0..n-2
 * predict 1..n-1, as transformers' causal LM loss), run through m on
 * `threads` threads (one window each). Prints an error naming the file on
 * failure. */
int quality_reference(const llama_model *m, const char *path, int threads, quality_ref *ref);
void quality_ref_free(quality_ref *ref);
/* Runs the variant over the reference sequences. */
int quality_measure(const llama_model *variant, const quality_ref *ref, quality *out);

#endif
