// Sieve of Eratosthenes: byte stores with a growing stride, then a scan.
// SCALE is the limit; the checksum mixes the count with the last prime found.
#define DEFAULT_SCALE 4000000u
#include "compute_main.h"

#include <string.h>

static uint8_t* s_composite;
static uint32_t s_capacity;

static uint64_t work(uint32_t limit)
{
    if (s_capacity < limit + 1) {
        free(s_composite);
        s_composite = malloc(limit + 1);
        if (!s_composite) {
            fprintf(stderr, "sieve: out of memory for %u bytes\n", limit + 1);
            exit(1);
        }
        s_capacity = limit + 1;
    }
    uint8_t* composite = s_composite;
    memset(composite, 0, limit + 1);
    uint64_t count = 0;
    uint64_t last = 0;
    for (uint32_t i = 2; i <= limit; ++i) {
        if (composite[i])
            continue;
        ++count;
        last = i;
        for (uint64_t j = (uint64_t)i * i; j <= limit; j += i)
            composite[j] = 1;
    }
    return count << 32 | last;
}
