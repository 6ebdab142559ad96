// The SIP's CPU-time clock counts the slice running now: read twice around a
// short computation (far less than a quantum, with no call that could switch
// the SIP out), it has advanced every time. Read through the C library, as a
// program reads it.
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

int main(void)
{
    static volatile uint32_t sink;
    int advanced = 0;
    for (int trial = 0; trial < TRIALS; ++trial) {
        uint64_t before = read_ns(CLOCK_PROCESS_CPUTIME_ID);
        // About 50 µs: the monotonic clock is read in the kernel, which charges nothing.
        uint64_t start = read_ns(CLOCK_MONOTONIC);
        while (read_ns(CLOCK_MONOTONIC) - start < 50000) {
            for (uint32_t i = 0; i < 1000; ++i)
                sink += i;
        }
        uint64_t after = read_ns(CLOCK_PROCESS_CPUTIME_ID);
        advanced += before != 0 && after > before;
    }
    printf("advanced %d of %d\n", advanced, TRIALS);
    return 0;
}
