// Prints its arguments, its `greeting` and `count` parameters, its
// environment ("env NAME=value"), and which of its standard streams are
// terminals ("terminals: stdin stdout stderr", "-" for one that is not), one per line.
#include <signet/abi.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern char** environ; // POSIX; the C library fills it from WASI's environ_get

int main(int argc, char** argv)
{
    for (int i = 0; i < argc; ++i)
        printf("arg %d: %s\n", i, argv[i]);
    char value[128];
    uint32_t length = 0;
    if (signet_param_get("greeting", 8, value, sizeof value - 1, &length) == SIGNET_OK) {
        value[length] = '\0';
        printf("greeting: %s\n", value);
    }
    if (signet_param_get("count", 5, value, sizeof value - 1, &length) == SIGNET_OK) {
        value[length] = '\0';
        printf("count: %s\n", value);
    }
    for (char** entry = environ; entry && *entry; ++entry)
        printf("env %s\n", *entry);
    printf("terminals: %s %s %s\n", isatty(0) ? "stdin" : "-", isatty(1) ? "stdout" : "-", isatty(2) ? "stderr" : "-");
    return argc - 1;
}
