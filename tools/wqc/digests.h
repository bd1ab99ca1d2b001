/* Digests on the command line: info --digest / --route N and verify
 * --digest HEX, on any input any_model opens (wqc/digest.h says what a
 * digest covers). */
#ifndef WQC_TOOLS_DIGESTS_H
#define WQC_TOOLS_DIGESTS_H

#include "coding_args.h"

/* info --digest (per tensor, then the model) and/or --route N. */
int digests_info(const coding_args *a);
/* verify --digest HEX: exit 0 when HEX is the model's digest or a selected
 * tensor's, 1 when it is neither. */
int digests_check(const coding_args *a);

#endif
