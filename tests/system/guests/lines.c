// Writes COUNT lines "TAG line I", each in three separate writes, so that
// two of them running at once would interleave inside lines if the console let them.
// With DELAY (milliseconds), it sleeps that long before each line.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    int count = argc > 1 ? atoi(argv[1]) : 10;
    char const* tag = argc > 2 ? argv[2] : "x";
    long delay = argc > 3 ? atol(argv[3]) : 0;
    struct timespec pause = { delay / 1000, delay % 1000 * 1000 * 1000 };
    char text[64];
    for (int i = 0; i < count; ++i) {
        if (delay)
            nanosleep(&pause, NULL);
        write(1, tag, strlen(tag));
        int n = snprintf(text, sizeof text, " line %d", i);
        write(1, text, (size_t)n);
        write(1, "\n", 1);
    }
    return 0;
}
