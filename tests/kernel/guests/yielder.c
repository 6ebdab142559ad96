// Yields many times, then prints its first argument: SIPs on one worker interleave.
#include <signet/abi.h>

void _start(void)
{
    for (int i = 0; i < 1000; ++i)
        signet_yield();
    static char name[64];
    uint32_t length = 0;
    if (signet_arg_get(1, name, sizeof name - 1, &length) != SIGNET_OK)
        signet_exit(2);
    name[length] = '\n';
    uint32_t written;
    signet_stdio_write(SIGNET_STDOUT, name, length + 1, &written);
    signet_exit(0);
}
