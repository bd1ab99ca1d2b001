#include "quality.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t next_random(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* log-softmax of logits into out, in double. */
static void log_softmax(const float *logits, int n, float *out)
{
    double max = logits[0], sum = 0.0;
    for (int i = 1; i < n; i++) max = logits[i] > max ? logits[i] : max;
    for (int i = 0; i < n; i++) sum += exp(logits[i] - max);
    double lse = max + log(sum);
    for (int i = 0; i < n; i++) out[i] = (float)(logits[i] - lse);
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++) best = v[i] > v[best] ? i : best;
    return best;
}

int quality_sample(const llama_model *m, int nseq, int len, uint64_t seed, quality_ref *ref)
{
    memset(ref, 0, sizeof *ref);
    int V = m->c.vocab;
    if (len + 1 > m->c.seq_len) len = m->c.seq_len - 1;
    ref->nseq = nseq, ref->len = len, ref->vocab = V;
    ref->tokens = malloc((size_t)nseq * (len + 1) * sizeof *ref->tokens);
    ref->logp = malloc((size_t)nseq * len * V * sizeof *ref->logp);
    llama_state s;
    if (!ref->tokens || !ref->logp || !llama_state_alloc(&s, &m->c)) return 0;
    uint64_t rng = seed;
    double nll = 0.0;
    for (int q = 0; q < nseq; q++) {
        int *tok = ref->tokens + (size_t)q * (len + 1);
        tok[0] = 1; /* BOS */
        for (int t = 0; t < len; t++) {
            llama_forward(m, &s, tok[t], t);
            float *lp = ref->logp + ((size_t)q * len + t) * V;
            log_softmax(s.logits, V, lp);
            /* Inverse-CDF sampling at temperature 1 with a 53-bit uniform. */
            double u = (double)(next_random(&rng) >> 11) / 9007199254740992.0, acc = 0.0;
            int pick = V - 1;
            for (int i = 0; i < V; i++) {
                acc += exp(lp[i]);
                if (u < acc) {
                    pick = i;
                    break;
                }
            }
            tok[t + 1] = pick;
            nll -= lp[pick];
        }
    }
    ref->nll = nll / ((double)nseq * len);
    llama_state_free(&s);
    return 1;
}

void quality_ref_free(quality_ref *ref)
{
    free(ref->tokens);
    free(ref->logp);
    memset(ref, 0, sizeof *ref);
}

int quality_measure(const llama_model *variant, const quality_ref *ref, quality *out)
{
    int V = ref->vocab;
    llama_state s;
    float *lq = malloc((size_t)V * sizeof *lq);
    if (!lq || !llama_state_alloc(&s, &variant->c)) {
        free(lq);
        return 0;
    }
    double kl = 0.0, nll = 0.0;
    long agree = 0, n = 0;
    for (int q = 0; q < ref->nseq; q++) {
        const int *tok = ref->tokens + (size_t)q * (ref->len + 1);
        for (int t = 0; t < ref->len; t++, n++) {
            llama_forward(variant, &s, tok[t], t);
            log_softmax(s.logits, V, lq);
            const float *lp = ref->logp + ((size_t)q * ref->len + t) * V;
            double d = 0.0;
            for (int i = 0; i < V; i++) d += exp(lp[i]) * ((double)lp[i] - lq[i]);
            kl += d;
            agree += argmax(lp, V) == argmax(lq, V);
            nll -= lq[tok[t + 1]];
        }
    }
    out->kl = kl / (double)n;
    out->top1 = (double)agree / (double)n;
    out->nll = nll / (double)n;
    out->delta_nll = out->nll - ref->nll;
    free(lq);
    llama_state_free(&s);
    return 1;
}
