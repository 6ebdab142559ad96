// fill PATH BYTES: writes a file of BYTES bytes of the benchmark's pattern
// (FilePattern.h) to PATH with the C library. An ordinary WASI program: its
// manifest grants /data, the system file system, so the booted shell runs
// `fill /data/www/16384.bin 16384` to put the file-serving benchmark's files
// where httpd serves them (bench/net/NetBench.cpp).
#include "../FilePattern.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv)
{
    char* end = NULL;
    unsigned long long size = argc == 3 ? strtoull(argv[2], &end, 10) : 0;
    if (argc != 3 || !end || *end != '\0' || argv[2][0] == '\0') {
        fprintf(stderr, "usage: fill PATH BYTES\n");
        return 2;
    }
    FILE* file = fopen(argv[1], "w");
    if (!file) {
        printf("fill: cannot create %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    static char piece[65536];
    unsigned long long written = 0;
    while (written < size) {
        size_t length = size - written < sizeof piece ? (size_t)(size - written) : sizeof piece;
        for (size_t i = 0; i < length; ++i)
            piece[i] = file_pattern_byte(written + i);
        if (fwrite(piece, 1, length, file) != length)
            break;
        written += length;
    }
    if (fclose(file) != 0 || written != size) {
        printf("fill: cannot write %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    printf("fill: wrote %s (%llu bytes)\n", argv[1], size);
    return 0;
}
