// A Signet-native program: no C library, only the signet_v1 ABI.
#include <signet/abi.h>

static uint32_t length_of(char const* text)
{
    uint32_t n = 0;
    while (text[n])
        ++n;
    return n;
}

void _start(void)
{
    char const message[] = "Hello from a native SIP, speaking signet_v1 directly.\n";
    uint32_t written = 0;
    if (signet_stdio_write(SIGNET_STDOUT, message, length_of(message), &written) != SIGNET_OK)
        signet_exit(1);
    signet_exit(0);
}
