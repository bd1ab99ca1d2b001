/* wqc: quantize, analyze and entropy-code neural-network weights. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wqc COMMAND [options] ...\n"
            "commands:\n"
            "  analyze   entropy of quantized weights and how small they could be coded\n"
            "  quantize  float tensors -> quantized safetensors (U8 symbols, scales, offsets)\n"
            "  encode    tensors -> .wqc (quantized symbols rANS-coded, other tensors kept)\n"
            "  decode    .wqc -> quantized safetensors (--symbols) or weights (--dequantize)\n"
            "  verify    check a .wqc: checksums, HMAC, every stream; --against ORIGINAL\n"
            "  info      list the tensors of a .wqc without decoding; --stats, --digest, --route N\n"
            "  diff      how far one model moved from another, tensor by tensor (a gate for CI)\n"
            "  bench     size and decode speed of wqc against packed 4-bit, htscodecs, zstd, brotli\n"
            "run 'wqc COMMAND --help' for the options of a command.\n"
            "  wqc --version   print the version\n");
}

/* The decoders free and allocate window buffers of a few MiB per tensor.
 * glibc's defaults give such blocks back to the kernel on free (munmap, or
 * trimming the heap top), so every tensor faults its buffers in again: a
 * fifth of the time of decoding a checkpoint of mid-sized tensors. Blocks up
 * to 64 MiB come from the heap, and up to 256 MiB of free heap is kept. */
static void keep_freed_buffers(void)
{
#ifdef M_MMAP_THRESHOLD
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

int main(int argc, char **argv)
{
    keep_freed_buffers();
    if (argc < 2) {
        usage(stderr);
        return WQC_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return WQC_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("wqc %s\n", WQC_VERSION_STRING);
        return WQC_EXIT_OK;
    }
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } commands[] = {{"analyze", cmd_analyze}, {"quantize", cmd_quantize}, {"encode", cmd_encode},
                    {"decode", cmd_decode},   {"verify", cmd_verify},     {"info", cmd_info},
                    {"bench", cmd_bench},     {"diff", cmd_diff}};
    /* A bad WQC_ISA is refused up front rather than ignored by the decoders. */
    wqc_isa isa;
    wqc_error err;
    if (wqc_isa_from_env(&isa, &err) != WQC_OK) {
        cli_program = "wqc";
        cli_error("%s", err.msg);
        return WQC_EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(cmd, commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    cli_error("unknown command '%s'", cmd);
    usage(stderr);
    return WQC_EXIT_USAGE;
}
