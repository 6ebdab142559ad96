/* The Linux process-creation baselines, measured from a small static parent.
 *
 * The cost of fork() grows with the parent's address space, and the benchmark
 * process maps the installer's libraries and the kernel's memory pools; so the
 * loops run here, in a parent as small as the child, as a plain C program
 * would. posix_spawn (CLONE_VM | CLONE_VFORK in glibc) does not copy the
 * parent and would cost the same from either.
 *
 * Usage: spawn_baseline METHOD COUNT PROGRAM
 *   METHOD: posix_spawn | fork_exec | vfork_exec
 * Runs PROGRAM (with no arguments) COUNT times, one at a time, each followed by
 * waitpid, and prints one line per run: the nanoseconds from just before the
 * spawn to just after waitpid returned, by clock_gettime(CLOCK_MONOTONIC).
 */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static pid_t start_posix_spawn(char* const* argv)
{
    pid_t pid = -1;
    return posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) == 0 ? pid : -1;
}

static pid_t start_fork_exec(char* const* argv)
{
    pid_t pid = fork();
    if (pid == 0) {
        execve(argv[0], argv, environ);
        _exit(127);
    }
    return pid;
}

static pid_t start_vfork_exec(char* const* argv)
{
    pid_t pid = vfork();
    if (pid == 0) {
        execve(argv[0], argv, environ);
        _exit(127);
    }
    return pid;
}

int main(int argc, char** argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: spawn_baseline posix_spawn|fork_exec|vfork_exec COUNT PROGRAM\n");
        return 2;
    }
    pid_t (*start)(char* const*) = NULL;
    if (strcmp(argv[1], "posix_spawn") == 0)
        start = start_posix_spawn;
    else if (strcmp(argv[1], "fork_exec") == 0)
        start = start_fork_exec;
    else if (strcmp(argv[1], "vfork_exec") == 0)
        start = start_vfork_exec;
    if (!start) {
        fprintf(stderr, "spawn_baseline: unknown method '%s'\n", argv[1]);
        return 2;
    }
    long count = strtol(argv[2], NULL, 10);
    char* child_argv[] = { argv[3], NULL };
    uint64_t* samples = calloc(count > 0 ? (size_t)count : 1, sizeof(uint64_t));
    if (!samples)
        return 1;
    for (long i = 0; i < count; ++i) {
        uint64_t begin = now_ns();
        pid_t pid = start(child_argv);
        if (pid < 0) {
            perror("spawn_baseline: spawn");
            return 1;
        }
        int status = 0;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "spawn_baseline: %s did not exit with 0\n", argv[3]);
            return 1;
        }
        samples[i] = now_ns() - begin;
    }
    // Printed after the loop, so that no write lands between two measured runs.
    for (long i = 0; i < count; ++i)
        printf("%llu\n", (unsigned long long)samples[i]);
    free(samples);
    return 0;
}
