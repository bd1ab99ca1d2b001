/* wqc: quantize, analyze and entropy-code neural-network weights. */
#include <stdio.h>
#include <string.h>

#include "analyze.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wqc COMMAND [options] ...\n"
            "commands:\n"
            "  analyze   entropy of quantized weights and how small they could be coded\n"
            "run 'wqc COMMAND --help' for the options of a command.\n"
            "  wqc --version   print the version\n");
}

int main(int argc, char **argv)
{
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
    if (strcmp(cmd, "analyze") == 0) return cmd_analyze(argc - 1, argv + 1);
    cli_error("unknown command '%s'", cmd);
    usage(stderr);
    return WQC_EXIT_USAGE;
}
