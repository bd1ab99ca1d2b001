/* Tensor statistics (wqc/stats.h) as info and diff print them. */
#ifndef WQC_TOOLS_STATS_OUT_H
#define WQC_TOOLS_STATS_OUT_H

#include <jansson.h>
#include <stdio.h>

#include "wqc/wqc.h"

/* A --json document's root: {"schema": "wqc.<command>/<major>", "wqc_version": ...}
 * (docs/JSON.md lists the schemas; a major changes only when a key changes
 * meaning or goes away). */
json_t *cli_json_document(const char *schema);
/* A number, or null when it is not finite (JSON has no NaN or Inf). */
json_t *cli_json_number(double v);
/* {"count", "mean", "std", "min", "max", "kurtosis"[, "clipped", "clipped_count", "sqnr_db"]};
 * clipped is the fraction of the count. */
json_t *cli_stats_json(const wqc_tensor_stats *s);
/* The header and one row of the text table. */
void cli_stats_header(FILE *to);
void cli_stats_row(FILE *to, const char *name, const wqc_tensor_stats *s);

#endif
