// The hostile guests' random numbers (abi_chaos.c, tests/fs/wasi_chaos.c):
// xorshift32, so that the same seed makes the same calls.
#pragma once

#include <stdint.h>

static uint32_t s_chaos_state;

static void chaos_seed(uint32_t seed) { s_chaos_state = seed * 2654435761u + 1; }

static uint32_t next(void)
{
    s_chaos_state ^= s_chaos_state << 13;
    s_chaos_state ^= s_chaos_state >> 17;
    s_chaos_state ^= s_chaos_state << 5;
    return s_chaos_state;
}

static uint32_t below(uint32_t n) { return next() % n; }

// A length: mostly small, sometimes past the end of a `scratch`-byte area, sometimes anything.
static uint32_t chaos_length(uint32_t scratch)
{
    switch (below(6)) {
    case 0:
        return next();
    case 1:
        return below(scratch + 4096);
    default:
        return below(80);
    }
}
