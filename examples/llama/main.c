/* wqc-llama: runs a Llama model from safetensors, a quantize output, a
 * .wqc or a GGUF file, and measures what quantization costs it.
 *   generate MODEL    sample tokens; tokens/s on stderr
 *   logits MODEL      the logits after each of --tokens (for tests)
 *   eval MODEL        mean next-token NLL over a reference.json's windows
 *   sweep MODEL       KL, top-1 agreement and NLL change of quantized variants
 *                     (made by `wqc encode` / `wqc quantize --format gguf`)
 *                     against bits/weight and SQNR
 *   bench MODEL GEMV.wqc   tokens/s of the F32, Q4_0 and fused products */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "svg.h"
#include "llama.h"
#include "quality.h"

extern char **environ;

static const char *usage_text =
    "usage: wqc-llama generate MODEL [--path f32|q4_0|fused] [-n N] [--seed S] [-T N]\n"
    "       wqc-llama logits MODEL --tokens 1,2,3 [--path P]\n"
    "       wqc-llama eval MODEL --reference reference.json [--json] [--path P] [-T N]\n"
    "       wqc-llama sweep MODEL.safetensors [--reference FILE | --seqs N --len T --seed S] [--bits LO..HI]\n"
    "                 [--k LIST] [--variant 'ENCODE ARGS']... [--json | --json-out FILE] [--plot FILE.svg]\n"
    "                 [--wqc PATH] [-T N]\n"
    "       wqc-llama bench MODEL GEMV.wqc [--tokens N]\n"
    "MODEL: .safetensors (F32/F16/BF16), a `wqc quantize` output, a .wqc (fused: --layout gemv),\n"
    "  or GGUF (F32, F16, Q4_0, Q8_0 tensors).\n"
    "  --config FILE             a Hugging Face config.json (default: config.json beside MODEL,\n"
    "                            else llama2.c-style metadata, else the shapes)\n"
    "  --rope half|interleaved   rotary pairs (default half, as the Hugging Face names imply)\n"
    "  -T N                      eval, sweep: windows run on N threads (default: all cores)\n"
    "  eval: positions 0..n-2 of each of reference.json's heldout_windows predict 1..n-1\n"
    "  sweep: affine tensor/row/group:32/64/128 and sdclip at each k (default 2,3,4,6,8,12.85),\n"
    "  bits 2..8 (default), each encoded by `wqc encode` (next to this program, or --wqc), and\n"
    "  llama.cpp's Q4_0 and Q8_0 (`wqc quantize --format gguf`); on reference.json's windows,\n"
    "  or on sequences sampled from MODEL at temperature 1 (default 8 of 128 tokens, seed 1)\n";

typedef struct args {
    const char *cmd, *model, *model2, *tokens, *plot, *wqc, *config, *reference, *json_out;
    llama_path path;
    llama_rope rope;
    int n, seqs, len, threads, json, bits_lo, bits_hi, ntokens;
    uint64_t seed;
    double ks[16];
    int nk;
    const char *variants[64];
    int nvariants;
} args;

static int parse_path(const char *s, llama_path *p)
{
    if (strcmp(s, "f32") == 0) *p = PATH_F32;
    else if (strcmp(s, "q4_0") == 0) *p = PATH_Q4_0;
    else if (strcmp(s, "fused") == 0) *p = PATH_FUSED;
    else return 0;
    return 1;
}

static int parse(int argc, char **argv, args *a)
{
    enum { O_PATH = 256, O_ROPE, O_SEED, O_TOKENS, O_SEQS, O_LEN, O_BITS, O_K, O_VARIANT, O_JSON, O_PLOT, O_WQC, O_NTOK,
           O_CONFIG, O_REFERENCE, O_JSON_OUT };
    static const struct option longs[] = {
        {"path", required_argument, NULL, O_PATH},   {"rope", required_argument, NULL, O_ROPE},
        {"seed", required_argument, NULL, O_SEED},   {"tokens", required_argument, NULL, O_TOKENS},
        {"seqs", required_argument, NULL, O_SEQS},   {"len", required_argument, NULL, O_LEN},
        {"bits", required_argument, NULL, O_BITS},   {"k", required_argument, NULL, O_K},
        {"variant", required_argument, NULL, O_VARIANT}, {"json", no_argument, NULL, O_JSON},
        {"plot", required_argument, NULL, O_PLOT},   {"wqc", required_argument, NULL, O_WQC},
        {"config", required_argument, NULL, O_CONFIG}, {"reference", required_argument, NULL, O_REFERENCE},
        {"json-out", required_argument, NULL, O_JSON_OUT},
        {"help", no_argument, NULL, 'h'},            {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    a->path = PATH_F32, a->rope = ROPE_HALF, a->n = 64, a->seqs = 8, a->len = 128, a->seed = 1;
    a->threads = 0, a->bits_lo = 2, a->bits_hi = 8, a->ntokens = 128;
    static const double ks[] = {2, 3, 4, 6, 8, 12.85};
    memcpy(a->ks, ks, sizeof ks), a->nk = 6;
    if (argc < 2) return 0;
    a->cmd = argv[1];
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "n:T:h", longs, NULL)) != -1) {
        switch (c) {
        case O_PATH: if (!parse_path(optarg, &a->path)) return 0; break;
        case O_ROPE:
            if (strcmp(optarg, "half") == 0) a->rope = ROPE_HALF;
            else if (strcmp(optarg, "interleaved") == 0) a->rope = ROPE_INTERLEAVED;
            else return 0;
            break;
        case O_SEED: a->seed = strtoull(optarg, NULL, 10); break;
        case O_TOKENS: a->tokens = optarg; a->ntokens = atoi(optarg); break;
        case O_SEQS: a->seqs = atoi(optarg); break;
        case O_LEN: a->len = atoi(optarg); break;
        case O_BITS:
            if (sscanf(optarg, "%d..%d", &a->bits_lo, &a->bits_hi) != 2 || a->bits_lo < 2 || a->bits_hi > 8 || a->bits_lo > a->bits_hi) return 0;
            break;
        case O_K: {
            a->nk = 0;
            for (char *p = optarg; *p && a->nk < 16; p++) {
                a->ks[a->nk++] = strtod(p, &p);
                if (*p != ',') break;
            }
            break;
        }
        case O_VARIANT: if (a->nvariants < 64) a->variants[a->nvariants++] = optarg; break;
        case O_JSON: a->json = 1; break;
        case O_PLOT: a->plot = optarg; break;
        case O_WQC: a->wqc = optarg; break;
        case O_CONFIG: a->config = optarg; break;
        case O_REFERENCE: a->reference = optarg; break;
        case O_JSON_OUT: a->json_out = optarg; break;
        case 'n': a->n = atoi(optarg); break;
        case 'T': a->threads = atoi(optarg); break;
        case 'h': fputs(usage_text, stdout); exit(0);
        default: return 0;
        }
    }
    if (optind < argc) a->model = argv[optind++];
    if (optind < argc) a->model2 = argv[optind++];
    if (!a->model || optind != argc || a->seqs <= 0 || a->len <= 0 || a->n < 0 || a->threads < 0) return 0;
    /* Options that mean nothing to the command, or contradict each other. */
    int sweep = strcmp(a->cmd, "sweep") == 0, eval = strcmp(a->cmd, "eval") == 0;
    const char *wrong = a->json && a->json_out               ? "--json and --json-out contradict each other"
                        : a->reference && !sweep && !eval    ? "--reference is for eval and sweep"
                        : (a->json_out || a->plot) && !sweep ? "--json-out and --plot are for sweep"
                        : a->json && !sweep && !eval         ? "--json is for eval and sweep"
                                                             : NULL;
    if (wrong) fprintf(stderr, "wqc-llama: %s\n", wrong);
    return !wrong;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmd_generate(const args *a)
{
    llama_model m;
    if (!llama_load(a->model, a->config, a->path, a->rope, a->threads ? a->threads : 1, &m)) return 1;
    llama_state s;
    if (!llama_state_alloc(&s, &m.c)) return 1;
    uint64_t rng = a->seed;
    int tok = 1, n = a->n < m.c.seq_len ? a->n : m.c.seq_len;
    double t0 = now();
    printf("%d", tok);
    for (int pos = 0; pos < n; pos++) {
        llama_forward(&m, &s, tok, pos);
        double max = s.logits[0], sum = 0.0;
        for (int i = 1; i < m.c.vocab; i++) max = s.logits[i] > max ? s.logits[i] : max;
        for (int i = 0; i < m.c.vocab; i++) sum += exp(s.logits[i] - max);
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(rng >> 11) / 9007199254740992.0 * sum, acc = 0.0;
        tok = m.c.vocab - 1;
        for (int i = 0; i < m.c.vocab; i++)
            if ((acc += exp(s.logits[i] - max)) > u) {
                tok = i;
                break;
            }
        printf(" %d", tok);
    }
    printf("\n");
    fprintf(stderr, "wqc-llama: %d tokens in %.3f s (%.0f tokens/s)\n", n, now() - t0, n / (now() - t0));
    llama_state_free(&s);
    llama_free(&m);
    return 0;
}

static int cmd_logits(const args *a)
{
    llama_model m;
    if (!a->tokens || !llama_load(a->model, a->config, a->path, a->rope, a->threads ? a->threads : 1, &m)) return 1;
    llama_state s;
    if (!llama_state_alloc(&s, &m.c)) return 1;
    int pos = 0;
    for (const char *p = a->tokens; *p && pos < m.c.seq_len; pos++) {
        char *end;
        long tok = strtol(p, &end, 10);
        if (end == p || tok < 0 || tok >= m.c.vocab) {
            fprintf(stderr, "wqc-llama: --tokens: bad token list at '%s'\n", p);
            return 2;
        }
        llama_forward(&m, &s, (int)tok, pos);
        for (int i = 0; i < m.c.vocab; i++) printf(i ? " %.9g" : "%.9g", s.logits[i]);
        printf("\n");
        p = *end == ',' ? end + 1 : end;
    }
    llama_state_free(&s);
    llama_free(&m);
    return 0;
}

/* Runs `wqc COMMAND MODEL ARGS -o OUT -q -f` for variant_args "COMMAND ARGS"; 1 on success. */
static int run_wqc(const char *wqc, const char *model, const char *variant_args, const char *out)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", variant_args);
    char *save = NULL, *argv[40] = {(char *)wqc, strtok_r(buf, " ", &save), (char *)model};
    int n = 3;
    if (!argv[1]) return 0;
    for (char *t = strtok_r(NULL, " ", &save); t && n < 32; t = strtok_r(NULL, " ", &save)) argv[n++] = t;
    argv[n++] = "-o", argv[n++] = (char *)out, argv[n++] = "-q", argv[n++] = "-f", argv[n] = NULL;
    pid_t pid;
    int status;
    if (posix_spawn(&pid, wqc, NULL, NULL, argv, environ) != 0 || waitpid(pid, &status, 0) < 0) return 0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* SQNR of the variant's weights against the original's, over the matrices that changed. */
static double sqnr_db(const llama_model *o, const llama_model *v)
{
    double signal = 0.0, noise = 0.0;
    for (int l = 0; l <= o->c.layers; l++) {
        const llama_linear *a[7], *b[7];
        int n = 0;
        if (l < o->c.layers) {
            const llama_layer *x = &o->layer[l], *y = &v->layer[l];
            const llama_linear *xa[7] = {&x->q, &x->k, &x->v, &x->o, &x->gate, &x->up, &x->down};
            const llama_linear *ya[7] = {&y->q, &y->k, &y->v, &y->o, &y->gate, &y->up, &y->down};
            for (; n < 7; n++) a[n] = xa[n], b[n] = ya[n];
        } else {
            a[0] = &o->out, b[0] = &v->out, n = 1;
        }
        for (int i = 0; i < n; i++) {
            double s = 0.0, e = 0.0;
            for (uint64_t k = 0; k < a[i]->rows * a[i]->cols; k++) {
                double d = (double)a[i]->w[k] - b[i]->w[k];
                s += (double)a[i]->w[k] * a[i]->w[k], e += d * d;
            }
            if (e > 0) signal += s, noise += e;
        }
    }
    return noise > 0 ? 10.0 * log10(signal / noise) : INFINITY;
}

typedef struct variant_result {
    char label[64], family[48], args[160];
    int bits;
    double bpw, sqnr;
    quality q;
    int front;
} variant_result;

/* The model's parameters (the untied head included). */
static uint64_t model_weights(const llama_model *m)
{
    const llama_config *c = &m->c;
    uint64_t kv = (uint64_t)c->dim / c->heads * c->kv_heads, d = (uint64_t)c->dim, h = (uint64_t)c->hidden;
    uint64_t per_layer = 2 * d + d * d * 2 + 2 * kv * d + 3 * h * d;
    return (uint64_t)c->vocab * d * (m->tied ? 1 : 2) + d + (uint64_t)c->layers * per_layer;
}

static int cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Spearman's rank correlation of x and y (average ranks for ties). */
static void ranks(const double *v, int n, double *r)
{
    for (int i = 0; i < n; i++) {
        int below = 0, equal = 0;
        for (int j = 0; j < n; j++) below += v[j] < v[i], equal += v[j] == v[i];
        r[i] = below + (equal - 1) / 2.0;
    }
}

static double spearman(const double *x, const double *y, int n)
{
    double *rx = malloc((size_t)n * sizeof *rx), *ry = malloc((size_t)n * sizeof *ry), mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
    if (!rx || !ry || n < 2) return free(rx), free(ry), NAN;
    ranks(x, n, rx), ranks(y, n, ry);
    for (int i = 0; i < n; i++) mx += rx[i] / n, my += ry[i] / n;
    for (int i = 0; i < n; i++) sxy += (rx[i] - mx) * (ry[i] - my), sxx += (rx[i] - mx) * (rx[i] - mx), syy += (ry[i] - my) * (ry[i] - my);
    free(rx), free(ry);
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

static void plot_sweep(const char *path, const variant_result *r, int n)
{
    double xmax = 1, ymin = 0, ymax = -8;
    for (int i = 0; i < n; i++) {
        xmax = fmax(xmax, r[i].bpw);
        double y = log10(fmax(r[i].q.kl, 1e-9));
        ymin = fmin(ymin, y), ymax = fmax(ymax, y);
    }
    enum { W = 860, H = 470 };
    svg s;
    if (!svg_begin(&s, W, H)) return;
    svg_text(&s, W / 2.0, 22, 14, "middle", "what quantization costs the model: KL of next-token distributions");
    svg_axes ax = {70, 50, 560, 360, 0, ceil(xmax + 0.25), floor(ymin), ceil(ymax + 0.2)};
    svg_draw_axes(&s, &ax, "bits/weight of the whole .wqc", "log10 KL(original || quantized), nats/token", NULL);
    int fam = 0;
    double ly = 60;
    for (int i = 0; i < n; fam++) {
        int end = i;
        while (end < n && strcmp(r[end].family, r[i].family) == 0) end++;
        double xs[16], ys[16];
        int k = 0;
        for (int j = i; j < end && k < 16; j++, k++)
            xs[k] = svg_px(&ax, r[j].bpw), ys[k] = svg_py(&ax, log10(fmax(r[j].q.kl, 1e-9)));
        if (k > 1) svg_polyline(&s, xs, ys, k, svg_color(fam), 1.5);
        for (int j = 0; j < k; j++) svg_circle(&s, xs[j], ys[j], 2.6, svg_color(fam));
        svg_line(&s, 650, ly, 672, ly, svg_color(fam), 2, 0);
        svg_text(&s, 678, ly + 4, 10, "start", "%s", r[i].family);
        ly += 16;
        i = end;
    }
    char *doc;
    size_t len;
    if (!svg_end(&s, &doc, &len) || !svg_write(path, doc, len))
        fprintf(stderr, "wqc-llama: %s: cannot write the plot: %s\n", path, strerror(errno));
    free(doc);
}

/* Spearman's rho of SQNR and KL over the variants with lo <= bits/weight < hi. */
static double rank_agreement(const variant_result *r, int n, double lo, double hi, int *count)
{
    double *sq = malloc((size_t)n * sizeof *sq + 1), *kl = malloc((size_t)n * sizeof *kl + 1);
    int k = 0;
    for (int i = 0; sq && kl && i < n; i++)
        if (isfinite(r[i].sqnr) && r[i].bpw >= lo && r[i].bpw < hi) sq[k] = r[i].sqnr, kl[k++] = r[i].q.kl;
    double rho = sq && kl ? spearman(sq, kl, k) : NAN;
    free(sq), free(kl);
    *count = k;
    return rho;
}

static int cmd_eval(const args *a)
{
    if (!a->reference) {
        fprintf(stderr, "wqc-llama: eval needs --reference reference.json\n");
        return 2;
    }
    llama_model m;
    if (!llama_load(a->model, a->config, a->path, a->rope, 1, &m)) return 1;
    quality_ref ref;
    double t0 = now();
    int ok = quality_reference(&m, a->reference, a->threads ? a->threads : cores(), &ref);
    double seconds = now() - t0;
    if (ok && a->json) {
        json_t *o = json_object();
        json_object_set_new(o, "schema", json_string("wqc-llama.eval/1"));
        json_object_set_new(o, "model", json_string(a->model));
        json_object_set_new(o, "reference", json_string(a->reference));
        json_object_set_new(o, "nll", json_real(ref.nll));
        json_object_set_new(o, "windows", json_integer(ref.nseq));
        json_object_set_new(o, "predictions", json_integer((json_int_t)ref.nseq * ref.len));
        json_object_set_new(o, "reference_nll", isfinite(ref.expected_nll) ? json_real(ref.expected_nll) : json_null());
        json_object_set_new(o, "difference", isfinite(ref.expected_nll) ? json_real(ref.nll - ref.expected_nll) : json_null());
        json_object_set_new(o, "seconds", json_real(seconds));
        json_dumpf(o, stdout, JSON_INDENT(1));
        printf("\n");
        json_decref(o);
    } else if (ok) {
        printf("%s: NLL %.6f nats/token over %d windows of %d predictions", a->model, ref.nll, ref.nseq, ref.len);
        if (isfinite(ref.expected_nll)) printf(" (reference %.6f, difference %+.6f)", ref.expected_nll, ref.nll - ref.expected_nll);
        printf("\n");
        fprintf(stderr, "wqc-llama: %.2f s\n", seconds);
    }
    quality_ref_free(&ref);
    llama_free(&m);
    return ok ? 0 : 1;
}

static int cmd_sweep(const args *a, const char *self)
{
    char wqc[4096];
    if (a->wqc) snprintf(wqc, sizeof wqc, "%s", a->wqc);
    else {
        const char *slash = strrchr(self, '/');
        snprintf(wqc, sizeof wqc, "%.*swqc", slash ? (int)(slash - self + 1) : 0, self);
    }
    /* Variants are read with the original's config (config.json beside it). */
    char config[4096];
    const char *config_path = llama_config_path(a->model, a->config, config, sizeof config) ? config : NULL;
    int threads = a->threads ? a->threads : cores();
    llama_model orig;
    if (!llama_load(a->model, config_path, PATH_F32, a->rope, 1, &orig)) return 1;
    quality_ref ref;
    if (a->reference ? !quality_reference(&orig, a->reference, threads, &ref)
                     : !quality_sample(&orig, a->seqs, a->len, a->seed, threads, &ref))
        return llama_free(&orig), 1;
    variant_result *r = calloc(256, sizeof *r);
    int n = 0;
    static const char *const grans[5] = {"tensor", "row", "group:32", "group:64", "group:128"};
    for (int i = 0; i < a->nvariants && n < 256; i++, n++) {
        int quantize = strncmp(a->variants[i], "quantize ", 9) == 0;
        snprintf(r[n].args, sizeof r[n].args, "%s%s", quantize ? "" : "encode ", a->variants[i]);
        snprintf(r[n].label, sizeof r[n].label, "%s", a->variants[i]);
        snprintf(r[n].family, sizeof r[n].family, "given");
    }
    for (int g = 0; !a->nvariants && g < 5; g++)
        for (int b = a->bits_lo; b <= a->bits_hi; b++, n++) {
            snprintf(r[n].args, sizeof r[n].args, "encode --method affine --bits %d --granularity %s", b, grans[g]);
            snprintf(r[n].label, sizeof r[n].label, "affine %d-bit %s", b, grans[g]);
            snprintf(r[n].family, sizeof r[n].family, "affine %s", grans[g]);
            r[n].bits = b;
        }
    for (int k = 0; !a->nvariants && k < a->nk; k++)
        for (int b = a->bits_lo; b <= a->bits_hi; b++, n++) {
            snprintf(r[n].args, sizeof r[n].args, "encode --method sdclip --bits %d -k %g", b, a->ks[k]);
            snprintf(r[n].label, sizeof r[n].label, "sdclip %d-bit k=%g", b, a->ks[k]);
            snprintf(r[n].family, sizeof r[n].family, "sdclip k=%g", a->ks[k]);
            r[n].bits = b;
        }
    /* llama.cpp's blocks as its own file, read back by this loader. */
    for (int q = 0; !a->nvariants && q < 2; q++, n++) {
        snprintf(r[n].args, sizeof r[n].args, "quantize --format gguf --gguf-type %s", q ? "q8_0" : "q4_0");
        snprintf(r[n].label, sizeof r[n].label, "GGUF %s", q ? "Q8_0" : "Q4_0");
        snprintf(r[n].family, sizeof r[n].family, "GGUF %s", q ? "Q8_0" : "Q4_0");
        r[n].bits = q ? 8 : 4;
    }
    char tmp[] = "/tmp/wqc-llama-XXXXXX";
    int fd = mkstemp(tmp);
    if (fd < 0) return 1;
    close(fd);
    uint64_t weights = model_weights(&orig);
    int rc = 0, ranked = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        llama_model v;
        struct stat st;
        if (!run_wqc(wqc, a->model, r[i].args, tmp) || stat(tmp, &st) != 0) {
            fprintf(stderr, "wqc-llama: %s %s failed on %s\n", wqc, r[i].args, a->model);
            rc = 1;
            break;
        }
        if (!llama_load(tmp, config_path, PATH_F32, a->rope, 1, &v)) {
            rc = 1;
            break;
        }
        r[i].bpw = (double)st.st_size * 8.0 / (double)weights;
        r[i].sqnr = sqnr_db(&orig, &v);
        if (!quality_measure(&v, &ref, &r[i].q)) {
            fprintf(stderr, "wqc-llama: %s: cannot run the variant (out of memory)\n", r[i].label);
            rc = 1;
        }
        llama_free(&v);
        if (!a->json) fprintf(stderr, "\r%d/%d variants", i + 1, n);
    }
    if (!a->json) fprintf(stderr, "\n");
    /* Does SQNR rank quantizers as KL does? Over all variants (bit depth
     * dominates), and within each 1-bit band of bits/weight, where the choice
     * between quantizers of about the same size is made. */
    double rho = rank_agreement(r, n, 0, 1e9, &ranked), band_rho[9];
    int band_n[9];
    for (int b = 0; b < 9; b++) band_rho[b] = rank_agreement(r, n, b, b + 1, &band_n[b]);
    unlink(tmp);
    for (int i = 0; i < n; i++) {
        r[i].front = 1;
        for (int j = 0; j < n; j++)
            if (j != i && r[j].bpw <= r[i].bpw && r[j].q.kl <= r[i].q.kl && (r[j].bpw < r[i].bpw || r[j].q.kl < r[i].q.kl)) r[i].front = 0;
    }
    if (rc == 0 && (a->json || a->json_out)) {
        json_t *root = json_object(), *list = json_array();
        json_object_set_new(root, "model", json_string(a->model));
        json_object_set_new(root, "text", json_string(a->reference ? "reference windows" : "sampled at temperature 1"));
        json_object_set_new(root, "sequences", json_integer(ref.nseq));
        json_object_set_new(root, "length", json_integer(ref.len));
        json_object_set_new(root, "seed", json_integer((json_int_t)a->seed));
        json_object_set_new(root, "original_nll", json_real(ref.nll));
        json_object_set_new(root, "weights", json_integer((json_int_t)weights));
        json_object_set_new(root, "spearman_sqnr_kl", isfinite(rho) ? json_real(rho) : json_null());
        json_t *bands = json_array();
        for (int b = 0; b < 9; b++)
            if (band_n[b] >= 4 && isfinite(band_rho[b])) {
                json_t *o = json_object();
                json_object_set_new(o, "bits_from", json_integer(b));
                json_object_set_new(o, "bits_to", json_integer(b + 1));
                json_object_set_new(o, "variants", json_integer(band_n[b]));
                json_object_set_new(o, "spearman_sqnr_kl", json_real(band_rho[b]));
                json_array_append_new(bands, o);
            }
        json_object_set_new(root, "spearman_by_bits", bands);
        for (int i = 0; i < n; i++) {
            json_t *o = json_object();
            json_object_set_new(o, "quantizer", json_string(r[i].label));
            json_object_set_new(o, "family", json_string(r[i].family));
            json_object_set_new(o, "encode_args", json_string(r[i].args));
            json_object_set_new(o, "bits_per_weight", json_real(r[i].bpw));
            json_object_set_new(o, "sqnr_db", isfinite(r[i].sqnr) ? json_real(r[i].sqnr) : json_null());
            json_object_set_new(o, "kl", json_real(r[i].q.kl));
            json_object_set_new(o, "top1", json_real(r[i].q.top1));
            json_object_set_new(o, "nll", json_real(r[i].q.nll));
            json_object_set_new(o, "delta_nll", json_real(r[i].q.delta_nll));
            json_object_set_new(o, "pareto", json_boolean(r[i].front));
            json_array_append_new(list, o);
        }
        json_object_set_new(root, "variants", list);
        if (a->json) {
            json_dumpf(root, stdout, JSON_INDENT(1));
            printf("\n");
        } else if (json_dump_file(root, a->json_out, JSON_INDENT(1)) != 0) {
            fprintf(stderr, "wqc-llama: %s: cannot write the JSON: %s\n", a->json_out, strerror(errno));
            rc = 1;
        }
        json_decref(root);
    }
    if (rc == 0 && !a->json) {
        if (a->reference)
            printf("%s: %d windows of %d predictions from %s; the original's NLL %.4f nats/token\n", a->model, ref.nseq,
                   ref.len, a->reference, ref.nll);
        else
            printf("%s: %d sequences of %d tokens sampled at temperature 1 (seed %llu); the original's NLL %.4f nats/token\n",
                   a->model, ref.nseq, ref.len, (unsigned long long)a->seed, ref.nll);
        printf("%-26s %9s %9s %11s %8s %9s %6s\n", "quantizer", "bits/w", "SQNR dB", "KL nats", "top-1", "dNLL", "front");
        for (int i = 0; i < n; i++)
            printf("%-26s %9.4f %9.3f %11.3e %7.2f%% %+9.4f %6s\n", r[i].label, r[i].bpw, r[i].sqnr, r[i].q.kl,
                   100.0 * r[i].q.top1, r[i].q.delta_nll, r[i].front ? "*" : "");
        printf("\nbest (lowest KL) within a budget of bits/weight (whole file):\n");
        for (double budget = 1.5; budget <= 8.5; budget += 0.5) {
            int best = -1;
            for (int i = 0; i < n; i++)
                if (r[i].bpw <= budget && (best < 0 || r[i].q.kl < r[best].q.kl)) best = i;
            if (best >= 0) printf("  <= %.1f: %-26s %.4f bits/w, KL %.3e\n", budget, r[best].label, r[best].bpw, r[best].q.kl);
        }
        printf("\nSpearman rank correlation of SQNR and KL (-1: SQNR ranks the quantizers as KL does):\n");
        printf("  all %d variants: %.3f\n", ranked, rho);
        for (int b = 0; b < 9; b++)
            if (band_n[b] >= 4 && isfinite(band_rho[b]))
                printf("  %d-%d bits/weight, %d variants: %.3f\n", b, b + 1, band_n[b], band_rho[b]);
    }
    if (rc == 0 && a->plot) plot_sweep(a->plot, r, n);
    free(r);
    quality_ref_free(&ref);
    llama_free(&orig);
    return rc;
}

static double time_tokens(const llama_model *m, int n)
{
    llama_state s;
    if (!llama_state_alloc(&s, &m->c)) return 0;
    int tok = 1;
    double t0 = now();
    for (int pos = 0; pos < n; pos++) {
        llama_forward(m, &s, tok, pos);
        int best = 0;
        for (int i = 1; i < m->c.vocab; i++) best = s.logits[i] > s.logits[best] ? i : best;
        tok = best;
    }
    double t = now() - t0;
    llama_state_free(&s);
    return n / t;
}

static int cmd_bench(const args *a)
{
    if (!a->model2) {
        fputs(usage_text, stderr);
        return 2;
    }
    char config[4096];
    const char *config_path = llama_config_path(a->model, a->config, config, sizeof config) ? config : NULL;
    int counts[2] = {1, cores()};
    const char *names[3] = {"f32", "q4_0", "fused"};
    printf("tokens/s, greedy from BOS, %d tokens, median of 5 (%s; the fused path from %s)\n", a->ntokens, a->model, a->model2);
    printf("%-8s %12s %12s\n", "path", "1 thread", "all threads");
    for (int p = 0; p < 3; p++) {
        printf("%-8s", names[p]);
        for (int t = 0; t < 2; t++) {
            llama_model m;
            if (!llama_load(p == 2 ? a->model2 : a->model, config_path, (llama_path)p, a->rope, counts[t], &m)) return 1;
            double v[5];
            for (int k = 0; k < 5; k++) v[k] = time_tokens(&m, a->ntokens);
            for (int i = 1; i < 5; i++)
                for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
                    double x = v[j];
                    v[j] = v[j - 1], v[j - 1] = x;
                }
            printf(" %12.0f", v[2]);
            llama_free(&m);
        }
        printf("\n");
    }
    printf("(%d cores)\n", counts[1]);
    return 0;
}

int main(int argc, char **argv)
{
    args a;
    if (!parse(argc, argv, &a)) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (strcmp(a.cmd, "generate") == 0) return cmd_generate(&a);
    if (strcmp(a.cmd, "logits") == 0) return cmd_logits(&a);
    if (strcmp(a.cmd, "eval") == 0) return cmd_eval(&a);
    if (strcmp(a.cmd, "sweep") == 0) return cmd_sweep(&a, argv[0]);
    if (strcmp(a.cmd, "bench") == 0) return cmd_bench(&a);
    fputs(usage_text, stderr);
    return 2;
}
