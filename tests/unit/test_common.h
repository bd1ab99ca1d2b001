/* Shared includes and helpers for the cmocka unit tests. */
#ifndef WQC_TEST_COMMON_H
#define WQC_TEST_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wqc/wqc.h"

/* Asserts that `call` fails with `status` and that the detail contains `needle`. */
#define assert_fails_with(call, status, err, needle)                                 \
    do {                                                                             \
        wqc_error_clear(&(err));                                                     \
        assert_int_equal((call), (status));                                          \
        if (!strstr((err).msg, (needle))) fail_msg("message '%s' lacks '%s'", (err).msg, (needle)); \
    } while (0)

/* A small deterministic generator for test data (splitmix64). */
static inline uint64_t test_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#endif
