// A native-personality command: only <signet/abi.h>, no libc.
#include <signet/abi.h>

static char const message[] = "hello, native";

void _start(void)
{
    uint32_t written = 0;
    signet_stdio_write(SIGNET_STDOUT, message, sizeof message - 1, &written);
    signet_yield();
    signet_exit(0);
}
