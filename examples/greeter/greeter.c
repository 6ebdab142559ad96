// A native program launched by manifest: its typed parameters replace argv.
#include <signet/abi.h>

static uint32_t length_of(char const* text)
{
    uint32_t n = 0;
    while (text[n])
        ++n;
    return n;
}

static void say(char const* text, uint32_t length)
{
    uint32_t written;
    signet_stdio_write(SIGNET_STDOUT, text, length, &written);
}

void _start(void)
{
    static char greeting[128];
    static char times_text[24];
    static char principal[256];
    uint32_t greeting_length = 0, times_length = 0, principal_length = 0;
    if (signet_param_get("greeting", 8, greeting, sizeof greeting, &greeting_length) != SIGNET_OK)
        signet_exit(2);
    if (signet_param_get("times", 5, times_text, sizeof times_text, &times_length) != SIGNET_OK)
        signet_exit(3);
    unsigned times = 0;
    for (uint32_t i = 0; i < times_length; ++i)
        times = times * 10 + (unsigned)(times_text[i] - '0');
    for (unsigned i = 0; i < times; ++i) {
        say(greeting, greeting_length);
        say("\n", 1);
    }
    if (signet_principal_get(principal, sizeof principal, &principal_length) == SIGNET_OK) {
        char const prefix[] = "I am ";
        say(prefix, length_of(prefix));
        say(principal, principal_length);
        say("\n", 1);
    }
    signet_exit(0);
}
