/* What quantization costs the model: next-token distributions of quantized
 * variants against the original's on sequences the original sampled. */
#ifndef WQC_EXAMPLE_QUALITY_H
#define WQC_EXAMPLE_QUALITY_H

#include "llama.h"

typedef struct quality_ref {
    int nseq, len, vocab;
    int *tokens;            /* nseq x (len + 1): BOS then the sampled tokens */
    float *logp;            /* nseq x len x vocab: the original's log-probabilities */
    double nll;             /* the original's mean negative log-likelihood of its samples */
} quality_ref;

typedef struct quality {
    double kl;              /* mean KL(original || variant), nats per token */
    double top1;            /* share of positions where the argmaxes agree */
    double nll, delta_nll;  /* the variant's mean NLL of the sequences, and its change */
} quality;

/* Samples nseq sequences of len tokens at temperature 1 (seeded) from m. */
int quality_sample(const llama_model *m, int nseq, int len, uint64_t seed, quality_ref *ref);
void quality_ref_free(quality_ref *ref);
/* Runs the variant over the reference sequences. */
int quality_measure(const llama_model *variant, const quality_ref *ref, quality *out);

#endif
