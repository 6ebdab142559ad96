// The Linux side of signet-bench-channels, run with the CPU affinity of the
// benchmark (one CPU: both sides of every ping-pong share it).
//   pingpong pipe ROUNDS REPETITIONS SIZE      two processes, a pipe each way;
//                                              the child echoes SIZE bytes back
//   pingpong futex ROUNDS REPETITIONS          two threads hand a turn back and
//                                              forth through a futex word
// Prints "<pipe|futex> SIZE ROUNDS NANOSECONDS" per batch, after a warm-up batch.
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(char const* what)
{
    perror(what);
    exit(1);
}

static void write_all(int fd, uint8_t const* data, size_t length)
{
    while (length) {
        ssize_t n = write(fd, data, length);
        if (n <= 0)
            die("write");
        data += n;
        length -= (size_t)n;
    }
}

// Returns 0 at end of file.
static int read_all(int fd, uint8_t* data, size_t length)
{
    while (length) {
        ssize_t n = read(fd, data, length);
        if (n == 0)
            return 0;
        if (n < 0)
            die("read");
        data += n;
        length -= (size_t)n;
    }
    return 1;
}

static uint8_t s_buffer[65536];

static int pipe_main(uint32_t rounds, uint32_t repetitions, uint32_t size)
{
    if (size == 0 || size > sizeof s_buffer) {
        fprintf(stderr, "pingpong: bad size %u\n", size);
        return 2;
    }
    int ping[2], pong[2];
    if (pipe(ping) != 0 || pipe(pong) != 0)
        die("pipe");
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        // The echo: SIZE bytes in, the same bytes out, until the pipe closes.
        close(ping[1]);
        close(pong[0]);
        while (read_all(ping[0], s_buffer, size))
            write_all(pong[1], s_buffer, size);
        _exit(0);
    }
    close(ping[0]);
    close(pong[1]);
    uint32_t batch = size <= 1024 ? rounds : rounds / (size / 1024 + 1) + 1;
    for (uint32_t r = 0; r <= repetitions; ++r) {
        uint64_t start = now_ns();
        for (uint32_t i = 0; i < batch; ++i) {
            write_all(ping[1], s_buffer, size);
            if (!read_all(pong[0], s_buffer, size))
                die("echo ended");
        }
        uint64_t ns = now_ns() - start;
        if (r > 0) // the first batch warms up
            printf("pipe %u %u %llu\n", size, batch, (unsigned long long)ns);
    }
    close(ping[1]);
    int status = 0;
    waitpid(child, &status, 0);
    close(pong[0]);
    return 0;
}

// The futex ping-pong: `turn` is 0 when the main thread may go, 1 for the other.
static _Atomic uint32_t s_turn;
static uint32_t s_rounds_total;

static void futex_wait(_Atomic uint32_t* word, uint32_t value)
{
    while (atomic_load(word) == value)
        syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, value, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t* word)
{
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void* futex_echo(void* unused)
{
    (void)unused;
    for (uint32_t i = 0; i < s_rounds_total; ++i) {
        futex_wait(&s_turn, 0);
        atomic_store(&s_turn, 0);
        futex_wake(&s_turn);
    }
    return NULL;
}

static int futex_main(uint32_t rounds, uint32_t repetitions)
{
    s_rounds_total = rounds * (repetitions + 1);
    pthread_t thread;
    if (pthread_create(&thread, NULL, futex_echo, NULL) != 0)
        die("pthread_create");
    for (uint32_t r = 0; r <= repetitions; ++r) {
        uint64_t start = now_ns();
        for (uint32_t i = 0; i < rounds; ++i) {
            atomic_store(&s_turn, 1);
            futex_wake(&s_turn);
            futex_wait(&s_turn, 1);
        }
        uint64_t ns = now_ns() - start;
        if (r > 0)
            printf("futex 4 %u %llu\n", rounds, (unsigned long long)ns);
    }
    pthread_join(thread, NULL);
    return 0;
}

int main(int argc, char** argv)
{
    if (argc == 5 && strcmp(argv[1], "pipe") == 0)
        return pipe_main((uint32_t)atoi(argv[2]), (uint32_t)atoi(argv[3]), (uint32_t)atoi(argv[4]));
    if (argc == 4 && strcmp(argv[1], "futex") == 0)
        return futex_main((uint32_t)atoi(argv[2]), (uint32_t)atoi(argv[3]));
    fprintf(stderr, "usage: pingpong pipe ROUNDS REPETITIONS SIZE | pingpong futex ROUNDS REPETITIONS\n");
    return 2;
}
