/* A Hugging Face config.json (LlamaForCausalLM) as a llama_config. */
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llama.h"

static int integer(json_t *root, const char *key, int *out)
{
    json_t *v = json_object_get(root, key);
    if (!json_is_integer(v)) return 0;
    *out = (int)json_integer_value(v);
    return 1;
}

static int number(json_t *root, const char *key, double *out)
{
    json_t *v = json_object_get(root, key);
    if (!json_is_number(v)) return 0;
    *out = json_number_value(v);
    return 1;
}

int llama_config_json(const char *path, llama_config *c, int *tied)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root || !json_is_object(root)) {
        fprintf(stderr, "wqc-llama: %s: not a JSON object (%s, line %d)\n", path, jerr.text, jerr.line);
        json_decref(root);
        return 0;
    }
    const char *type = json_string_value(json_object_get(root, "model_type"));
    if (type && strcmp(type, "llama") != 0) {
        fprintf(stderr, "wqc-llama: %s: model_type '%s' is not llama\n", path, type);
        json_decref(root);
        return 0;
    }
    int ok = integer(root, "hidden_size", &c->dim) && integer(root, "intermediate_size", &c->hidden) &&
             integer(root, "num_hidden_layers", &c->layers) && integer(root, "num_attention_heads", &c->heads) &&
             integer(root, "vocab_size", &c->vocab);
    if (!ok) {
        fprintf(stderr, "wqc-llama: %s: lacks hidden_size, intermediate_size, num_hidden_layers, "
                        "num_attention_heads or vocab_size\n", path);
        json_decref(root);
        return 0;
    }
    if (!integer(root, "num_key_value_heads", &c->kv_heads)) c->kv_heads = c->heads;
    if (!integer(root, "max_position_embeddings", &c->seq_len)) c->seq_len = 2048;
    double eps = 1e-6, theta = 10000.0;
    number(root, "rms_norm_eps", &eps);
    /* transformers >= 5 moves rope_theta into rope_parameters. */
    if (!number(root, "rope_theta", &theta)) number(json_object_get(root, "rope_parameters"), "rope_theta", &theta);
    c->norm_eps = (float)eps, c->rope_theta = (float)theta;
    json_t *t = json_object_get(root, "tie_word_embeddings");
    *tied = json_is_true(t);
    int head_dim = 0, scaled = 0;
    json_t *rope_scaling = json_object_get(root, "rope_scaling");
    const char *rope_type = json_string_value(json_object_get(json_object_get(root, "rope_parameters"), "rope_type"));
    scaled = (json_is_object(rope_scaling)) || (rope_type && strcmp(rope_type, "default") != 0);
    if (c->heads > 0 && integer(root, "head_dim", &head_dim) && head_dim * c->heads != c->dim) {
        fprintf(stderr, "wqc-llama: %s: head_dim %d x %d heads is not hidden_size %d (not supported)\n", path,
                head_dim, c->heads, c->dim);
        ok = 0;
    } else if (scaled) {
        fprintf(stderr, "wqc-llama: %s: scaled rotary embeddings (rope_scaling) are not supported\n", path);
        ok = 0;
    }
    json_decref(root);
    return ok;
}

int llama_config_path(const char *model, const char *given, char *out, size_t n)
{
    if (given) {
        snprintf(out, n, "%s", given);
        return 1;
    }
    char *copy = strdup(model);
    if (!copy) return 0;
    snprintf(out, n, "%s/config.json", dirname(copy));
    free(copy);
    return access(out, R_OK) == 0;
}
