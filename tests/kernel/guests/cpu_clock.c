// The SIP's CPU-time clock advances while the SIP computes, making only calls
// that switch nothing: over 30 ms (in every placement: a shared domain reports
// at least every 10 ms), and — in the kernel, which counts the slice running
// now — across each of 20 short computations. Read through the C library, as
// a program reads it.
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define TRIALS 20

static uint64_t read_ns(clockid_t clock)
{
    struct timespec ts = { 0 };
    if (clock_gettime(clock, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// Computes for `ns` by the monotonic clock (reading it switches nothing).
static void compute_for(uint64_t ns)
{
    static volatile uint32_t sink;
    uint64_t start = read_ns(CLOCK_MONOTONIC);
    while (read_ns(CLOCK_MONOTONIC) - start < ns) {
        for (uint32_t i = 0; i < 1000; ++i)
            sink += i;
    }
}

int main(void)
{
    uint64_t before = read_ns(CLOCK_PROCESS_CPUTIME_ID);
    compute_for(30000000);
    printf("advanced over 30 ms: %d\n", read_ns(CLOCK_PROCESS_CPUTIME_ID) > before);

    int advanced = 0;
    for (int trial = 0; trial < TRIALS; ++trial) {
        before = read_ns(CLOCK_PROCESS_CPUTIME_ID);
        compute_for(50000);
        uint64_t after = read_ns(CLOCK_PROCESS_CPUTIME_ID);
        advanced += before != 0 && after > before;
    }
    printf("advanced %d of %d\n", advanced, TRIALS);
    return 0;
}
