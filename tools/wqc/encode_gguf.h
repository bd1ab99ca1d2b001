/* encode of a GGUF input (encode_gguf.c). */
#ifndef WQC_TOOLS_ENCODE_GGUF_H
#define WQC_TOOLS_ENCODE_GGUF_H

#include "coding_args.h"

/* Returns the exit status. */
int encode_gguf(const coding_args *a);

/* The library's encode options from the command line (cmd_encode.c). */
void encode_options(const coding_args *a, wqc_model_encode_options *o);

#endif
