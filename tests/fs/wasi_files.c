// An ordinary WASI program (the C library's files and directories) run with
// `signet run --dir HOST::/data`: every call below becomes a FileSystem request
// to the server of that host directory. By its first argument:
//   work    creates, writes, reads, seeks, lists, renames and removes under /data
//   escape  tries to leave /data (.., absolute paths, a symlink the test made)
//   threads two threads make file calls at once, each waiting its turn
// It prints one line per check and exits with the number of failures.
#include <signet/thread.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <wasi/api.h>
#include <unistd.h>

static int failures;

#define EXPECT(condition, what)                                  \
    do {                                                         \
        if (condition) {                                         \
            printf("ok   %s (errno %d)\n", what, errno);          \
        } else {                                                 \
            printf("FAIL %s (errno %d: %s)\n", what, errno, strerror(errno)); \
            failures++;                                          \
        }                                                        \
    } while (0)

// pread and pwrite: at an offset, leaving the descriptor's position where it is.
static void positioned(void)
{
    int fd = open("/data/at", O_CREAT | O_RDWR | O_TRUNC, 0644);
    EXPECT(fd >= 0 && write(fd, "0123456789", 10) == 10, "write ten bytes for pread");
    char at[8] = { 0 };
    EXPECT(pread(fd, at, 4, 3) == 4 && memcmp(at, "3456", 4) == 0, "pread 4 bytes at 3");
    EXPECT(lseek(fd, 0, SEEK_CUR) == 10, "pread leaves the position");
    EXPECT(pwrite(fd, "ab", 2, 1) == 2, "pwrite 2 bytes at 1");
    EXPECT(lseek(fd, 0, SEEK_CUR) == 10, "pwrite leaves the position");
    EXPECT(pwrite(fd, "zz", 2, 20) == 2, "pwrite past the end");
    EXPECT(pread(fd, at, 8, 20) == 2 && memcmp(at, "zz", 2) == 0, "a pread that reaches the end is short");
    EXPECT(pread(fd, at, 8, 100) == 0, "a pread past the end reads nothing");
    char all[24] = { 0 };
    static char const expected[22] = "0ab3456789\0\0\0\0\0\0\0\0\0\0zz";
    EXPECT(pread(fd, all, sizeof all, 0) == 22 && memcmp(all, expected, 22) == 0, "the file holds both writes, the gap zeros");
    EXPECT(write(fd, "!", 1) == 1 && pread(fd, all, 1, 10) == 1 && all[0] == '!', "a write still goes to the position");
    static char big[40000];
    memset(big, 'p', sizeof big);
    EXPECT(pwrite(fd, big, sizeof big, 5) == (ssize_t)sizeof big, "a pwrite of 40000 bytes (three requests)");
    memset(big, 0, sizeof big);
    EXPECT(pread(fd, big, sizeof big, 5) == (ssize_t)sizeof big && big[0] == 'p' && big[sizeof big - 1] == 'p', "a pread of 40000 bytes");
    EXPECT(pread(fd, at, 1, (off_t)-1) == -1 && errno == EINVAL, "a negative offset: EINVAL");
    EXPECT(pread(1, at, 1, 0) == -1 && errno == ESPIPE, "pread on stdout: ESPIPE");
    EXPECT(close(fd) == 0 && unlink("/data/at") == 0, "close and unlink");
}

// Timestamps: the modification time is set (a file keeps no access time of its own).
static void timestamps(void)
{
    int fd = open("/data/stamped", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    EXPECT(fd >= 0 && write(fd, "x", 1) == 1, "create a file to stamp");
    struct timespec times[2] = { { 0, UTIME_OMIT }, { 1000000000, 5 } };
    struct stat status;
    EXPECT(utimensat(AT_FDCWD, "/data/stamped", times, 0) == 0 && stat("/data/stamped", &status) == 0
            && status.st_mtim.tv_sec == 1000000000 && status.st_mtim.tv_nsec == 5,
        "utimensat sets the modification time, to the nanosecond");
    times[1].tv_sec = 2000000000;
    times[1].tv_nsec = 0;
    EXPECT(futimens(fd, times) == 0 && fstat(fd, &status) == 0 && status.st_mtim.tv_sec == 2000000000, "futimens on an open file");
    // WASI's calls for "now": Debian's wasi-libc headers define UTIME_NOW twice, differently,
    // and its futimens(fd, NULL) sets the time to 0.
    time_t before = time(NULL);
    EXPECT(__wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_ATIM_NOW | __WASI_FSTFLAGS_MTIM_NOW) == 0 && fstat(fd, &status) == 0 && status.st_mtim.tv_sec >= before - 1 && status.st_mtim.tv_sec <= time(NULL) + 1,
        "now is the time of the call");
    EXPECT(__wasi_fd_filestat_set_times(fd, 3, 0, __WASI_FSTFLAGS_ATIM) == 0 && fstat(fd, &status) == 0 && status.st_mtim.tv_sec >= before - 1,
        "setting only the access time changes nothing");
    EXPECT(__wasi_fd_filestat_set_times(fd, 0, 5, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW) == __WASI_ERRNO_INVAL, "a time and now: EINVAL");
    EXPECT(mkdir("/data/stamped-dir", 0755) == 0 && utimensat(AT_FDCWD, "/data/stamped-dir", times, 0) == 0
            && stat("/data/stamped-dir", &status) == 0 && status.st_mtim.tv_sec == 2000000000,
        "a directory's modification time");
    EXPECT(utimensat(AT_FDCWD, "/data/no-such-file", times, 0) == -1 && errno == ENOENT, "a missing file: ENOENT");
    EXPECT(close(fd) == 0 && unlink("/data/stamped") == 0 && rmdir("/data/stamped-dir") == 0, "clean up the stamped files");
}

static void work(void)
{
    FILE* file = fopen("/data/hello.txt", "w");
    EXPECT(file != NULL, "fopen for writing creates /data/hello.txt");
    if (!file)
        return;
    EXPECT(fprintf(file, "hello from a sealed process\n") > 0, "fprintf");
    EXPECT(fclose(file) == 0, "fclose");
    char line[100] = { 0 };
    file = fopen("/data/hello.txt", "r");
    EXPECT(file && fgets(line, sizeof line, file) && strcmp(line, "hello from a sealed process\n") == 0, "read it back");
    if (file) {
        EXPECT(fseek(file, 6, SEEK_SET) == 0 && fgets(line, sizeof line, file) && strcmp(line, "from a sealed process\n") == 0, "fseek and read");
        fclose(file);
    }
    struct stat status;
    EXPECT(stat("/data/hello.txt", &status) == 0 && status.st_size == 28 && S_ISREG(status.st_mode), "stat a file");
    EXPECT(mkdir("/data/sub", 0755) == 0, "mkdir");
    EXPECT(stat("/data/sub", &status) == 0 && S_ISDIR(status.st_mode), "stat a directory");
    EXPECT(rename("/data/hello.txt", "/data/sub/moved.txt") == 0, "rename into the subdirectory");
    EXPECT(access("/data/hello.txt", F_OK) != 0 && errno == ENOENT, "the old name is gone");
    int fd = open("/data/sub/big", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    static char block[100000];
    memset(block, 'x', sizeof block);
    EXPECT(fd >= 0 && write(fd, block, sizeof block) == (ssize_t)sizeof block, "write 100000 bytes in one call");
    EXPECT(fd >= 0 && ftruncate(fd, 1000) == 0 && close(fd) == 0, "ftruncate");
    EXPECT(stat("/data/sub/big", &status) == 0 && status.st_size == 1000, "the truncated size");
    DIR* directory = opendir("/data/sub");
    int entries = 0, found = 0;
    if (directory) {
        struct dirent* entry;
        while ((entry = readdir(directory)) != NULL) {
            entries++;
            found += strcmp(entry->d_name, "moved.txt") == 0 || strcmp(entry->d_name, "big") == 0;
        }
        closedir(directory);
    }
    EXPECT(directory && entries == 2 && found == 2, "readdir lists both entries");
    EXPECT(unlink("/data/sub/big") == 0, "unlink");
    EXPECT(rmdir("/data/sub") != 0 && errno == ENOTEMPTY, "rmdir a non-empty directory: ENOTEMPTY");
    EXPECT(unlink("/data/sub/moved.txt") == 0 && rmdir("/data/sub") == 0, "rmdir");
    EXPECT(fopen("/data/missing", "r") == NULL && errno == ENOENT, "a missing file: ENOENT");
    positioned();
    timestamps();
}

static void escape(void)
{
    struct stat status;
    // Each is refused as a missing capability: by the kernel's lexical check for
    // `..`, by the C library for paths under no preopen, by the server's
    // RESOLVE_BENEATH for symlinks.
    EXPECT(fopen("/data/../outside.txt", "r") == NULL && errno == ENOTCAPABLE, "/data/../outside.txt cannot be opened");
    EXPECT(fopen("/data/inside/../../outside.txt", "r") == NULL && errno == ENOTCAPABLE, "inside/../../ cannot climb out");
    EXPECT(fopen("/outside.txt", "r") == NULL && errno == ENOTCAPABLE, "an absolute path outside the preopen finds nothing");
    EXPECT(fopen("/etc/passwd", "r") == NULL && errno == ENOTCAPABLE, "/etc/passwd is not there");
    EXPECT(stat("/data/link-out/outside.txt", &status) != 0 && errno == ENOTCAPABLE, "a symlink to outside cannot be followed");
    EXPECT(fopen("/data/link-out/outside.txt", "r") == NULL && errno == ENOTCAPABLE, "nor opened through");
    EXPECT(fopen("/data/file-link", "r") == NULL && errno == ENOTCAPABLE, "a symlink to a file outside cannot be opened");
    EXPECT(fopen("/data/link-out/new.txt", "w") == NULL && errno == ENOTCAPABLE, "nor created through");
    EXPECT(mkdir("/data/link-out/newdir", 0755) != 0 && errno == ENOTCAPABLE, "nor a directory made through");
    EXPECT(rename("/data/inside/secret.txt", "/data/link-out/stolen.txt") != 0 && errno == ENOTCAPABLE, "nor a file renamed through");
    FILE* file = fopen("/data/inside/secret.txt", "r");
    char line[64] = { 0 };
    EXPECT(file && fgets(line, sizeof line, file) && strcmp(line, "inside\n") == 0, "what is inside is readable");
    if (file)
        fclose(file);
    EXPECT(fopen("/data/link-in", "r") != NULL, "a symlink that stays inside works");
}

// Writes `path` full of `fill` and reads it back, `rounds` times; the number of rounds that failed.
static int write_and_check(char const* path, char fill, int rounds)
{
    int bad = 0;
    char block[512];
    for (int i = 0; i < rounds; ++i) {
        memset(block, fill, sizeof block);
        int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
        int wrote = fd >= 0 && write(fd, block, sizeof block) == (ssize_t)sizeof block;
        if (fd >= 0)
            wrote &= close(fd) == 0;
        memset(block, 0, sizeof block);
        fd = open(path, O_RDONLY);
        int got = fd >= 0 && read(fd, block, sizeof block) == (ssize_t)sizeof block;
        if (fd >= 0)
            got &= close(fd) == 0;
        for (size_t j = 0; got && j < sizeof block; ++j)
            got = block[j] == fill;
        bad += !(wrote && got);
    }
    return bad;
}

static _Alignas(16) unsigned char second_stack[64 * 1024];
static volatile int second_failures = -1;

static void second(void* unused)
{
    (void)unused;
    second_failures = write_and_check("/data/two", 'b', 50);
    signet_thread_exit(0);
}

// Each file call waits for the server's reply, and meanwhile the other thread
// runs and makes its own: it waits its turn rather than failing.
static void threads(void)
{
    signet_handle thread = 0;
    EXPECT(signet_thread_start(second, 0, second_stack, sizeof second_stack, &thread) == SIGNET_OK, "start a second thread");
    int mine = write_and_check("/data/one", 'a', 50);
    int32_t status = -1;
    EXPECT(signet_thread_join(thread, SIGNET_WAIT_FOREVER, &status) == SIGNET_OK, "join it");
    EXPECT(mine == 0, "the first thread's 50 rounds of open, write, close, open, read, close");
    EXPECT(second_failures == 0, "and the second's, at the same time");
    EXPECT(unlink("/data/one") == 0 && unlink("/data/two") == 0, "unlink both files");
}

int main(int argc, char** argv)
{
    if (argc < 2) {
        printf("usage: wasi_files work|escape|threads\n");
        return 2;
    }
    if (strcmp(argv[1], "work") == 0)
        work();
    else if (strcmp(argv[1], "escape") == 0)
        escape();
    else if (strcmp(argv[1], "threads") == 0)
        threads();
    else if (strcmp(argv[1], "write-stdout") == 0) {
        // One write of 10,000 bytes to a stdout its parent reads: the status says
        // what it returned (10: an error; else the count in KiB, rounded down).
        static char bytes[10000];
        memset(bytes, 'x', sizeof bytes);
        ssize_t written = write(1, bytes, sizeof bytes);
        return written < 0 ? 10 : (int)(written / 1024);
    }
    printf("%s: %d failures\n", argv[1], failures);
    return failures;
}
