/* `wqc bench FILE --lossless`: the whole file (safetensors, .npy or GGUF)
 * stored losslessly by wqc against zstd -19, brotli -q 11 -w 24 and xz -9e
 * of the same file: sizes,
 * and encode and decode speed in one run, every wqc decoder ISA included.
 * Every decoder's output is compared with the file before it is timed. */
#include <brotli/decode.h>
#include <brotli/encode.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "bench.h"
#include "output.h"

/* The file as `wqc encode --lossless` (or encode of a GGUF file) writes it,
 * one thread; --precision, --lanes and --chunk as encode takes them. */
static wqc_status encode_file(const bench_args *a, wqc_model *m, const wqc_gguf *g, const uint8_t *buf, size_t len,
                              wqc_memory_out *out, wqc_error *err)
{
    wqc_model_encode_options o;
    wqc_model_encode_options_default(&o);
    o.coding.rans.threads = 1;
    if (a->precision) o.coding.rans.precision = (int)a->precision;
    if (a->lanes) o.coding.rans.lanes = (uint32_t)a->lanes;
    if (a->chunk) o.coding.rans.chunk = (uint32_t)a->chunk;
    o.plan.lossless = 1;
    wqc_model_file_options fo = {NULL, 0, 0};
    if (g) return wqc_gguf_encode(g, buf, len, &o, &fo, wqc_memory_sink, out, NULL, NULL, NULL, err);
    return wqc_model_encode(m, &o, &fo, wqc_memory_sink, out, err);
}

/* Decodes into a buffer of the file's size. */
static wqc_status decode_file(wqc_archive *a, wqc_isa isa, uint8_t *out, size_t size, wqc_error *err)
{
    wqc_buffer_out f = {out, out + size};
    wqc_status st = wqc_archive_write_source(a, &isa, 1, wqc_buffer_sink, &f, err);
    if (st == WQC_OK && f.at != f.end) st = wqc_fail(err, WQC_ERR_FORMAT, "decoded fewer than the file's bytes");
    return st;
}

typedef struct peer {
    const char *name;
    uint8_t *packed;
    size_t len;
    double encode_s;
} peer;

static int peer_decode(int which, const peer *p, uint8_t *out, size_t n)
{
    if (which == 0) return ZSTD_decompress(out, n, p->packed, p->len) == n;
    if (which == 1) {
        size_t got = n;
        return BrotliDecoderDecompress(p->len, p->packed, &got, out) == BROTLI_DECODER_RESULT_SUCCESS && got == n;
    }
    uint64_t limit = UINT64_MAX;
    size_t in_pos = 0, out_pos = 0;
    return lzma_stream_buffer_decode(&limit, 0, NULL, p->packed, &in_pos, p->len, out, &out_pos, n) == LZMA_OK &&
           out_pos == n;
}

static int peer_encode(int which, const uint8_t *src, size_t n, peer *p)
{
    size_t cap = which == 0 ? ZSTD_compressBound(n) : which == 1 ? BrotliEncoderMaxCompressedSize(n) : lzma_stream_buffer_bound(n);
    p->packed = malloc(cap ? cap : 1);
    if (!p->packed) return 0;
    double t0 = bench_now_s();
    int ok;
    if (which == 0) {
        p->len = ZSTD_compress(p->packed, cap, src, n, 19);
        ok = !ZSTD_isError(p->len);
    } else if (which == 1) {
        p->len = cap;
        ok = BrotliEncoderCompress(11, 24, BROTLI_MODE_GENERIC, n, src, &p->len, p->packed);
    } else {
        p->len = 0;
        ok = lzma_easy_buffer_encode(9 | LZMA_PRESET_EXTREME, LZMA_CHECK_CRC64, NULL, src, n, p->packed, &p->len, cap) ==
             LZMA_OK;
    }
    p->encode_s = bench_now_s() - t0;
    return ok;
}

int bench_lossless(const bench_args *a)
{
    if (!a->file) {
        cli_error("--lossless needs a FILE (.safetensors, .npy or GGUF)");
        return WQC_EXIT_USAGE;
    }
    wqc_model *m = NULL;
    wqc_error err;
    wqc_error_clear(&err);
    cli_watch_input(a->file);
    wqc_mapped_file mapped = {0};
    wqc_gguf g = {0};
    int gguf = 0;
    wqc_status st = wqc_map_file(a->file, &mapped, &err);
    if (st == WQC_OK && wqc_gguf_is(mapped.data, mapped.size)) {
        gguf = 1;
        st = wqc_gguf_parse(mapped.data, mapped.size, &g, &err);
    } else if (st == WQC_OK) {
        wqc_unmap_file(&mapped);
        st = wqc_model_open(a->file, &m, &err);
    }
    if (st != WQC_OK) {
        if (gguf) wqc_unmap_file(&mapped);
        return cli_file_error(a->file, st, &err);
    }
    uint64_t size = mapped.size;
    const uint8_t *file = gguf ? mapped.data : wqc_model_bytes(m, &size);
    wqc_memory_out wqc = {0};
    double t0 = bench_now_s();
    st = encode_file(a, m, gguf ? &g : NULL, mapped.data, mapped.size, &wqc, &err);
    double wqc_encode_s = bench_now_s() - t0;
    wqc_archive *r = NULL;
    if (st == WQC_OK) st = wqc_archive_open_memory(wqc.data, wqc.len, NULL, &r, &err);
    uint8_t *out = malloc(size ? (size_t)size : 1);
    if (st == WQC_OK && !out) st = wqc_fail(&err, WQC_ERR_NOMEM, "out of memory");
    if (st != WQC_OK) {
        int rc = cli_file_error(a->file, st, &err);
        wqc_archive_close(r);
        free(wqc.data);
        free(out);
        wqc_model_close(m);
        wqc_gguf_free(&g);
        if (gguf) wqc_unmap_file(&mapped);
        return rc;
    }
    int reps = (int)a->repeat;
    double *t = malloc((size_t)reps * sizeof *t);
    char *cpu = bench_cpu_name();
    printf("wqc bench --lossless: %s, %llu bytes; %s; one thread, median of %d\n\n", a->file, (unsigned long long)size,
           cpu ? cpu : "unknown CPU", reps);
    free(cpu);
    printf("%-28s %11s %8s %11s %11s %9s\n", "codec", "bytes", "of file", "enc MB/s", "dec MB/s", "dec vs wqc");
    double best = 0.0;
    int rc = WQC_EXIT_OK;
    for (int isa = 0; isa < WQC_ISA_COUNT && rc == WQC_EXIT_OK; isa++) {
        if (!wqc_isa_available((wqc_isa)isa) || !bench_codec_selected(a->codecs, "wqc")) continue;
        memset(out, 0, (size_t)size);
        if (decode_file(r, (wqc_isa)isa, out, (size_t)size, &err) != WQC_OK || memcmp(out, file, (size_t)size) != 0) {
            cli_error("%s: the %s decoder did not give the file back", a->file, wqc_isa_name((wqc_isa)isa));
            rc = WQC_EXIT_ERROR;
            break;
        }
        for (int k = 0; k < reps; k++) {
            double s = bench_now_s();
            decode_file(r, (wqc_isa)isa, out, (size_t)size, &err);
            t[k] = bench_now_s() - s;
        }
        double mbs = (double)size / bench_median(t, reps) / 1e6;
        if (mbs > best) best = mbs;
        char name[40];
        snprintf(name, sizeof name, "wqc --lossless %s", wqc_isa_name((wqc_isa)isa));
        printf("%-28s %11zu %7.1f%% %11.1f %11.1f %8.2fx\n", name, wqc.len, 100.0 * (double)wqc.len / (double)size,
               (double)size / wqc_encode_s / 1e6, mbs, mbs / best);
    }
    static const char *names[3] = {"zstd -19", "brotli -q 11 -w 24", "xz -9e"}, *families[3] = {"zstd", "brotli", "xz"};
    for (int which = 0; which < 3 && rc == WQC_EXIT_OK; which++) {
        if (!bench_codec_selected(a->codecs, families[which])) continue;
        peer p = {names[which], NULL, 0, 0.0};
        if (!peer_encode(which, file, (size_t)size, &p) || !peer_decode(which, &p, out, (size_t)size) ||
            memcmp(out, file, (size_t)size) != 0) {
            cli_error("%s: %s failed", a->file, names[which]);
            free(p.packed);
            rc = WQC_EXIT_ERROR;
            break;
        }
        for (int k = 0; k < reps; k++) {
            double s = bench_now_s();
            peer_decode(which, &p, out, (size_t)size);
            t[k] = bench_now_s() - s;
        }
        double mbs = (double)size / bench_median(t, reps) / 1e6;
        printf("%-28s %11zu %7.1f%% %11.1f %11.1f %8.2fx\n", names[which], p.len, 100.0 * (double)p.len / (double)size,
               (double)size / p.encode_s / 1e6, mbs, best > 0 ? mbs / best : 1.0);
        free(p.packed);
    }
    printf("\nbytes: the whole file (wqc: the .wqc that decode turns back into the file, byte for byte).\n"
           "MB/s: of the original file, in memory (no I/O); bench/lossless.sh times whole processes.\n");
    free(t);
    free(out);
    wqc_archive_close(r);
    free(wqc.data);
    wqc_model_close(m);
    wqc_gguf_free(&g);
    if (gguf) wqc_unmap_file(&mapped);
    return rc;
}
