/* The rANS coding parameters given as text, and the lane count a tensor
 * gets: one rule for every command and client. */
#include <stdlib.h>
#include <string.h>

#include "wqc/entropy.h"
#include "wqc/rans.h"
#include "../common/parse.h"

uint32_t wqc_rans_lanes_for(uint32_t lanes, uint64_t n, uint32_t alphabet)
{
    return lanes ? lanes : wqc_rans_lanes_auto(n, alphabet);
}

wqc_status wqc_rans_setting(wqc_rans_params *p, const char *name, const char *value, wqc_error *err)
{
    long v;
    if (strcmp(name, "precision") == 0) {
        if (!wqc_parse_long(value, WQC_PRECISION_MIN, WQC_PRECISION_MAX, &v))
            return wqc_fail(err, WQC_ERR_INVALID_ARG, "--precision: expected an integer in %d..%d, got '%s'",
                            WQC_PRECISION_MIN, WQC_PRECISION_MAX, value);
        p->precision = (int)v;
        return WQC_OK;
    }
    if (strcmp(name, "lanes") == 0) {
        if (strcmp(value, "auto") == 0) {
            p->lanes = 0;
            return WQC_OK;
        }
        if (!wqc_parse_long(value, 1, WQC_RANS_LANES_MAX, &v) || !wqc_rans_lanes_valid((uint32_t)v))
            return wqc_fail(err, WQC_ERR_INVALID_ARG,
                            "--lanes: expected auto, 1, 2, 4 or a multiple of 8 up to %u, got '%s'",
                            (unsigned)WQC_RANS_LANES_MAX, value);
        p->lanes = (uint32_t)v;
        return WQC_OK;
    }
    if (strcmp(name, "chunk") == 0) {
        if (!wqc_parse_long(value, WQC_RANS_CHUNK_MIN, WQC_RANS_CHUNK_MAX, &v))
            return wqc_fail(err, WQC_ERR_INVALID_ARG, "--chunk: expected an integer in %u..%u, got '%s'",
                            (unsigned)WQC_RANS_CHUNK_MIN, (unsigned)WQC_RANS_CHUNK_MAX, value);
        p->chunk = (uint32_t)v;
        return WQC_OK;
    }
    return wqc_fail(err, WQC_ERR_NOT_FOUND, "unknown rANS setting '%s'", name);
}
