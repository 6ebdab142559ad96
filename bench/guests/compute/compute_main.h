/* The driver shared by every compute benchmark, built both as a WASI SIP and
 * as a static Linux executable from the same source.
 *
 * Usage: <program> [REPETITIONS [SCALE]]
 * Runs work(SCALE) once as a warm-up (first-touch page faults and cold caches
 * land there), then REPETITIONS more times, each timed with
 * clock_gettime(CLOCK_MONOTONIC), and prints:
 *     rep <nanoseconds>        one line per timed repetition
 *     checksum <hex>           the result, identical on every run and platform
 * A repetition whose result differs from the warm-up's is an error (exit 2).
 *
 * The including file defines DEFAULT_SCALE and `static uint64_t work(uint32_t scale)`.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t work(uint32_t scale);

/* Read afresh for every call: work() may be a pure function, and a compiler
 * that sees it called twice with the same argument may otherwise call it once. */
static volatile uint32_t s_scale;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char** argv)
{
    uint32_t repetitions = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 5;
    s_scale = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : DEFAULT_SCALE;
    uint64_t expected = work(s_scale);
    for (uint32_t rep = 0; rep < repetitions; ++rep) {
        uint64_t start = now_ns();
        uint64_t result = work(s_scale);
        uint64_t elapsed = now_ns() - start;
        if (result != expected) {
            fprintf(stderr, "result of repetition %" PRIu32 " differs: %016" PRIx64 " != %016" PRIx64 "\n", rep, result, expected);
            return 2;
        }
        printf("rep %" PRIu64 "\n", elapsed);
    }
    printf("checksum %016" PRIx64 "\n", expected);
    return 0;
}
