// Runs until it is stopped, sleeping in small steps: a job for ps and kill.
// With an argument N, it ends by itself with status N after a few steps.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char** argv)
{
    struct timespec step = { 0, 20 * 1000 * 1000 };
    for (int i = 0; argc < 2 || i < 5; ++i)
        nanosleep(&step, NULL);
    return atoi(argv[1]);
}
