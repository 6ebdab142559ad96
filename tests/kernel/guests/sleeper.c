// Sleeps for a long time (or reads stdin if asked): a target for kill.
#include <signet/abi.h>

void _start(void)
{
    uint32_t got = 0;
    static char buffer[16];
    if (signet_arg_count() > 1)
        signet_stdio_read(buffer, sizeof buffer, &got);
    else
        signet_sleep(60ull * 1000000000ull);
    signet_exit(0);
}
