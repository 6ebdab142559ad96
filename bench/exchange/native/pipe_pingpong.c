/* The Linux side of the exchange-heap round trip: two processes, two pipes,
 * the same payload each way.
 *
 * Usage: pipe_pingpong TOUCH REPETITIONS BUDGET SIZE...
 * Forks a child; for each SIZE the parent writes SIZE bytes into one pipe, the
 * child reads all of them and writes SIZE bytes back through the other, and
 * the parent reads them: one round trip. COUNT = BUDGET / SIZE within
 * [4, 2000] round trips per repetition, after a warm-up, as the Signet client
 * does. TOUCH is accepted for symmetry: read() already brings every byte into
 * the reader's buffer. Both pipes get the largest capacity the system allows
 * (/proc/sys/fs/pipe-max-size), so large payloads cross in as few pieces as
 * Linux permits. Prints "rt SIZE COUNT NS" per repetition.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int write_all(int fd, uint8_t const* data, size_t size)
{
    while (size) {
        ssize_t n = write(fd, data, size);
        if (n <= 0)
            return -1;
        data += n;
        size -= (size_t)n;
    }
    return 0;
}

static int read_all(int fd, uint8_t* data, size_t size)
{
    while (size) {
        ssize_t n = read(fd, data, size);
        if (n <= 0)
            return -1;
        data += n;
        size -= (size_t)n;
    }
    return 0;
}

static void widen(int fd)
{
    int max = 1 << 20;
    FILE* file = fopen("/proc/sys/fs/pipe-max-size", "r");
    if (file) {
        if (fscanf(file, "%d", &max) != 1)
            max = 1 << 20;
        fclose(file);
    }
    fcntl(fd, F_SETPIPE_SZ, max);
}

int main(int argc, char** argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: pipe_pingpong TOUCH REPETITIONS BUDGET SIZE...\n");
        return 2;
    }
    unsigned repetitions = (unsigned)strtoul(argv[2], NULL, 10);
    unsigned long budget = strtoul(argv[3], NULL, 10);
    size_t largest = 0;
    for (int a = 4; a < argc; ++a) {
        size_t size = strtoul(argv[a], NULL, 10);
        largest = size > largest ? size : largest;
    }
    uint8_t* buffer = malloc(largest);
    if (!buffer)
        return 3;
    memset(buffer, 0x5a, largest);

    int there[2], back[2];
    if (pipe(there) != 0 || pipe(back) != 0)
        return 4;
    widen(there[1]);
    widen(back[1]);
    pid_t child = fork();
    if (child < 0)
        return 5;
    if (child == 0) {
        /* The echo: the sizes arrive in the same order the parent sends them. */
        close(there[1]);
        close(back[0]);
        for (int a = 4; a < argc; ++a) {
            size_t size = strtoul(argv[a], NULL, 10);
            unsigned long count = budget / size;
            count = count < 4 ? 4 : count > 2000 ? 2000 : count;
            unsigned long total = (count / 4 + 2) + repetitions * count;
            for (unsigned long i = 0; i < total; ++i) {
                if (read_all(there[0], buffer, size) != 0 || write_all(back[1], buffer, size) != 0)
                    _exit(1);
            }
        }
        _exit(0);
    }
    close(there[0]);
    close(back[1]);
    for (int a = 4; a < argc; ++a) {
        size_t size = strtoul(argv[a], NULL, 10);
        unsigned long count = budget / size;
        count = count < 4 ? 4 : count > 2000 ? 2000 : count;
        for (unsigned long i = 0; i < count / 4 + 2; ++i) { /* warm-up */
            if (write_all(there[1], buffer, size) != 0 || read_all(back[0], buffer, size) != 0)
                return 6;
        }
        for (unsigned rep = 0; rep < repetitions; ++rep) {
            uint64_t start = now_ns();
            for (unsigned long i = 0; i < count; ++i) {
                if (write_all(there[1], buffer, size) != 0 || read_all(back[0], buffer, size) != 0)
                    return 6;
            }
            uint64_t end = now_ns();
            printf("rt %zu %lu %llu\n", size, count, (unsigned long long)(end - start));
        }
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 7;
}
