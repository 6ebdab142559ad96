// Passes its first line of input on, then traps: a program that fails in the
// middle of a pipeline, after its neighbours started talking to it.
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    char line[256];
    if (fgets(line, sizeof line, stdin))
        fputs(line, stdout);
    fflush(stdout);
    volatile int* wild = (int*)0xfffffff0u; // past the end of any linear memory
    *wild = 1;
    return 0;
}
