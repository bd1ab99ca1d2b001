#include "quality.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
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

/* Each sequence of ref through m on its own thread's batch; `each` gets the
 * sequence's logits (len x vocab). Sequences are handed out in order, and
 * every per-sequence figure lands in its own slot, so the totals do not
 * depend on the thread count. */
typedef void (*sequence_fn)(void *ctx, int seq, const float *logits);
typedef struct sequence_job {
    const llama_model *m;
    const quality_ref *ref;
    sequence_fn each;
    void *ctx;
    atomic_int next;
    atomic_int failed;
} sequence_job;

static void *sequence_worker(void *arg)
{
    sequence_job *j = arg;
    llama_batch b;
    if (!llama_batch_alloc(&b, &j->m->c, j->ref->len)) {
        atomic_store(&j->failed, 1);
        return NULL;
    }
    for (int q; (q = atomic_fetch_add(&j->next, 1)) < j->ref->nseq;) {
        llama_forward_batch(j->m, &b, j->ref->tokens + (size_t)q * (j->ref->len + 1), j->ref->len);
        j->each(j->ctx, q, b.logits);
    }
    llama_batch_free(&b);
    return NULL;
}

static int each_sequence(const llama_model *m, const quality_ref *ref, sequence_fn each, void *ctx)
{
    sequence_job j = {.m = m, .ref = ref, .each = each, .ctx = ctx};
    atomic_init(&j.next, 0);
    atomic_init(&j.failed, 0);
    int n = ref->threads < 1 ? 1 : ref->threads > ref->nseq ? ref->nseq : ref->threads, started = 0;
    pthread_t *t = calloc((size_t)n, sizeof *t);
    for (int i = 1; t && i < n; i++, started++)
        if (pthread_create(&t[i], NULL, sequence_worker, &j) != 0) break;
    sequence_worker(&j);
    for (int i = 1; i <= started; i++) pthread_join(t[i], NULL);
    free(t);
    return !atomic_load(&j.failed);
}

/* The original's log-probabilities and NLL of one sequence. */
typedef struct original_run {
    quality_ref *ref;
    double *nll;
} original_run;

static void keep_original(void *ctx, int q, const float *logits)
{
    original_run *o = ctx;
    quality_ref *ref = o->ref;
    const int *tok = ref->tokens + (size_t)q * (ref->len + 1);
    double nll = 0.0;
    for (int t = 0; t < ref->len; t++) {
        float *lp = ref->logp + ((size_t)q * ref->len + t) * ref->vocab;
        log_softmax(logits + (size_t)t * ref->vocab, ref->vocab, lp);
        nll -= lp[tok[t + 1]];
    }
    o->nll[q] = nll;
}

static int run_original(const llama_model *m, quality_ref *ref)
{
    double *nll = calloc((size_t)ref->nseq, sizeof *nll);
    ref->logp = malloc((size_t)ref->nseq * ref->len * ref->vocab * sizeof *ref->logp);
    original_run o = {ref, nll};
    int ok = nll && ref->logp && each_sequence(m, ref, keep_original, &o);
    double total = 0.0;
    for (int q = 0; ok && q < ref->nseq; q++) total += nll[q];
    ref->nll = total / ((double)ref->nseq * ref->len);
    free(nll);
    return ok;
}

int quality_sample(const llama_model *m, int nseq, int len, uint64_t seed, int threads, quality_ref *ref)
{
    memset(ref, 0, sizeof *ref);
    int V = m->c.vocab;
    if (len + 1 > m->c.seq_len) len = m->c.seq_len - 1;
    ref->nseq = nseq, ref->len = len, ref->vocab = V, ref->threads = threads, ref->expected_nll = NAN;
    ref->tokens = malloc((size_t)nseq * (len + 1) * sizeof *ref->tokens);
    float *lp = malloc((size_t)V * sizeof *lp);
    llama_state s;
    if (!ref->tokens || !lp || !llama_state_alloc(&s, &m->c)) return free(lp), 0;
    uint64_t rng = seed;
    for (int q = 0; q < nseq; q++) {
        int *tok = ref->tokens + (size_t)q * (len + 1);
        tok[0] = 1; /* BOS */
        for (int t = 0; t < len; t++) {
            llama_forward(m, &s, tok[t], t);
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
        }
    }
    free(lp);
    llama_state_free(&s);
    return run_original(m, ref);
}

static int bad_reference(const char *path, const char *what, json_t *root)
{
    fprintf(stderr, "wqc-llama: %s: %s\n", path, what);
    json_decref(root);
    return 0;
}

int quality_reference(const llama_model *m, const char *path, int threads, quality_ref *ref)
{
    memset(ref, 0, sizeof *ref);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) return bad_reference(path, jerr.text, NULL);
    json_t *windows = json_object_get(root, "heldout_windows");
    size_t nseq = json_array_size(windows), width = json_array_size(json_array_get(windows, 0));
    if (!nseq || width < 2) return bad_reference(path, "no heldout_windows (arrays of at least 2 token ids)", root);
    if (width - 1 > (size_t)m->c.seq_len) return bad_reference(path, "its windows are longer than the model's context", root);
    ref->nseq = (int)nseq, ref->len = (int)width - 1, ref->vocab = m->c.vocab, ref->threads = threads;
    json_t *expected = json_object_get(root, "heldout_nll_nats_per_token");
    ref->expected_nll = json_is_number(expected) ? json_number_value(expected) : NAN;
    ref->tokens = malloc(nseq * width * sizeof *ref->tokens);
    if (!ref->tokens) return bad_reference(path, "out of memory", root);
    for (size_t q = 0; q < nseq; q++) {
        json_t *w = json_array_get(windows, q);
        if (json_array_size(w) != width) return quality_ref_free(ref), bad_reference(path, "its windows differ in length", root);
        for (size_t t = 0; t < width; t++) {
            json_t *id = json_array_get(w, t);
            json_int_t v = json_integer_value(id);
            if (!json_is_integer(id) || v < 0 || v >= m->c.vocab)
                return quality_ref_free(ref), bad_reference(path, "a window holds a token id outside the model's vocabulary", root);
            ref->tokens[q * width + t] = (int)v;
        }
    }
    json_decref(root);
    if (!run_original(m, ref)) {
        quality_ref_free(ref);
        fprintf(stderr, "wqc-llama: %s: out of memory\n", path);
        return 0;
    }
    return 1;
}

void quality_ref_free(quality_ref *ref)
{
    free(ref->tokens);
    free(ref->logp);
    memset(ref, 0, sizeof *ref);
}

/* One sequence's KL, NLL and agreements, in its own slot. */
typedef struct variant_run {
    const quality_ref *ref;
    double *kl, *nll;
    long *agree;
} variant_run;

static void compare_variant(void *ctx, int q, const float *logits)
{
    variant_run *v = ctx;
    const quality_ref *ref = v->ref;
    int V = ref->vocab;
    const int *tok = ref->tokens + (size_t)q * (ref->len + 1);
    float *lq = malloc((size_t)V * sizeof *lq);
    if (!lq) {
        v->kl[q] = NAN;
        return;
    }
    double kl = 0.0, nll = 0.0;
    long agree = 0;
    for (int t = 0; t < ref->len; t++) {
        log_softmax(logits + (size_t)t * V, V, lq);
        const float *lp = ref->logp + ((size_t)q * ref->len + t) * V;
        double d = 0.0;
        for (int i = 0; i < V; i++) d += exp(lp[i]) * ((double)lp[i] - lq[i]);
        kl += d;
        agree += argmax(lp, V) == argmax(lq, V);
        nll -= lq[tok[t + 1]];
    }
    v->kl[q] = kl, v->nll[q] = nll, v->agree[q] = agree;
    free(lq);
}

int quality_measure(const llama_model *variant, const quality_ref *ref, quality *out)
{
    variant_run v = {ref, calloc((size_t)ref->nseq, sizeof(double)), calloc((size_t)ref->nseq, sizeof(double)),
                     calloc((size_t)ref->nseq, sizeof(long))};
    int ok = v.kl && v.nll && v.agree && each_sequence(variant, ref, compare_variant, &v);
    double kl = 0.0, nll = 0.0, n = (double)ref->nseq * ref->len;
    long agree = 0;
    for (int q = 0; ok && q < ref->nseq; q++) kl += v.kl[q], nll += v.nll[q], agree += v.agree[q];
    out->kl = kl / n;
    out->top1 = (double)agree / n;
    out->nll = nll / n;
    out->delta_nll = out->nll - ref->nll;
    free(v.kl), free(v.nll), free(v.agree);
    return ok && isfinite(kl);
}
