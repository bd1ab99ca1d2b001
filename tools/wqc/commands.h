/* The subcommands, one file each. */
#ifndef WQC_TOOLS_COMMANDS_H
#define WQC_TOOLS_COMMANDS_H

int cmd_analyze(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_encode(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_diff(int argc, char **argv);

#endif
