// The smallest WASI program: greets, echoes its arguments and one variable.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv)
{
    printf("Hello from a sealed process!\n");
    for (int i = 1; i < argc; ++i)
        printf("arg %d: %s\n", i, argv[i]);
    char const* greeting = getenv("GREETING");
    if (greeting)
        printf("GREETING=%s\n", greeting);
    return 0;
}
