/* quantize --format gguf (quantize_gguf.c). */
#ifndef WQC_TOOLS_QUANTIZE_GGUF_H
#define WQC_TOOLS_QUANTIZE_GGUF_H

#include "coding_args.h"

/* Returns the exit status. */
int quantize_gguf(const coding_args *a);

#endif
