// A WASI command using wasi-libc's stdio: what most SIPs built with the SDK look like.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv)
{
    char buffer[64];
    snprintf(buffer, sizeof buffer, "hello from %d argument(s)", argc);
    puts(buffer);
    char* copy = malloc(strlen(buffer) + 1);
    strcpy(copy, buffer);
    free(copy);
    return argc > 1 ? atoi(argv[1]) : 0;
}
