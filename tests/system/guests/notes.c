// A test program for the system tests (tests/system): an ordinary WASI C
// program that writes a line to a file with the C library. `notes PATH TEXT...`
// writes the words to PATH; run as `notes` its manifest grants /data, so the
// shell gives it the system file system there; run as `nodata` (the same code,
// a manifest that grants nothing) it has no preopened directory and fopen fails;
// run as `inbox` its /data is the directory /inbox of the file system, and only that.
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char** argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: notes PATH TEXT...\n");
        return 2;
    }
    FILE* file = fopen(argv[1], "w");
    if (!file) {
        printf("notes: cannot open %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    for (int i = 2; i < argc; ++i)
        fprintf(file, "%s%s", argv[i], i + 1 < argc ? " " : "\n");
    if (fclose(file) != 0) {
        printf("notes: cannot write %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    printf("notes: wrote %s\n", argv[1]);
    return 0;
}
