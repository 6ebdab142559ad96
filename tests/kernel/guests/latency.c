// Sleeps 1 ms twenty times and prints the worst wake-up delay it saw, in microseconds.
#include <signet/abi.h>

static void say_number(uint64_t value)
{
    char digits[24];
    int i = 23;
    digits[i] = '\n';
    do {
        digits[--i] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    uint32_t written;
    signet_stdio_write(SIGNET_STDOUT, digits + i, (uint32_t)(24 - i), &written);
}

void _start(void)
{
    uint64_t worst = 0;
    for (int i = 0; i < 20; ++i) {
        uint64_t before = 0, after = 0;
        signet_time_now(SIGNET_CLOCK_MONOTONIC, &before);
        signet_sleep(1000000);
        signet_time_now(SIGNET_CLOCK_MONOTONIC, &after);
        uint64_t late = after - before - 1000000;
        if (late > worst)
            worst = late;
    }
    say_number(worst / 1000);
    signet_exit(0);
}
