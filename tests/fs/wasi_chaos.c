// A hostile WASI program: every function of wasi_snapshot_preview1 (but
// proc_exit) called with arguments drawn at random — descriptors it opened and
// forged ones, pointers inside its memory and outside it, lengths small and
// huge, paths made of random bytes, dots and slashes. Run with a host directory
// as /data (`signet run --dir`).
//   wasi_chaos SEED CALLS
// Whatever it does, the kernel must answer with errno values or stop it (a
// trap), never crash or hang, and nothing outside /data may change.
#include "../kernel/guests/chaos_random.h"

#include <stdint.h>
#include <stdlib.h>

#define WASI(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name))) uint32_t chaos_##name

WASI(args_get)(uint32_t, uint32_t);
WASI(args_sizes_get)(uint32_t, uint32_t);
WASI(environ_get)(uint32_t, uint32_t);
WASI(environ_sizes_get)(uint32_t, uint32_t);
WASI(clock_res_get)(uint32_t, uint32_t);
WASI(clock_time_get)(uint32_t, uint64_t, uint32_t);
WASI(fd_advise)(uint32_t, uint64_t, uint64_t, uint32_t);
WASI(fd_allocate)(uint32_t, uint64_t, uint64_t);
WASI(fd_close)(uint32_t);
WASI(fd_datasync)(uint32_t);
WASI(fd_fdstat_get)(uint32_t, uint32_t);
WASI(fd_fdstat_set_flags)(uint32_t, uint32_t);
WASI(fd_fdstat_set_rights)(uint32_t, uint64_t, uint64_t);
WASI(fd_filestat_get)(uint32_t, uint32_t);
WASI(fd_filestat_set_size)(uint32_t, uint64_t);
WASI(fd_filestat_set_times)(uint32_t, uint64_t, uint64_t, uint32_t);
WASI(fd_pread)(uint32_t, uint32_t, uint32_t, uint64_t, uint32_t);
WASI(fd_prestat_get)(uint32_t, uint32_t);
WASI(fd_prestat_dir_name)(uint32_t, uint32_t, uint32_t);
WASI(fd_pwrite)(uint32_t, uint32_t, uint32_t, uint64_t, uint32_t);
WASI(fd_read)(uint32_t, uint32_t, uint32_t, uint32_t);
WASI(fd_readdir)(uint32_t, uint32_t, uint32_t, uint64_t, uint32_t);
WASI(fd_renumber)(uint32_t, uint32_t);
WASI(fd_seek)(uint32_t, uint64_t, uint32_t, uint32_t);
WASI(fd_sync)(uint32_t);
WASI(fd_tell)(uint32_t, uint32_t);
WASI(fd_write)(uint32_t, uint32_t, uint32_t, uint32_t);
WASI(path_create_directory)(uint32_t, uint32_t, uint32_t);
WASI(path_filestat_get)(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
WASI(path_filestat_set_times)(uint32_t, uint32_t, uint32_t, uint32_t, uint64_t, uint64_t, uint32_t);
WASI(path_link)(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
WASI(path_open)(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint64_t, uint64_t, uint32_t, uint32_t);
WASI(path_readlink)(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
WASI(path_remove_directory)(uint32_t, uint32_t, uint32_t);
WASI(path_rename)(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
WASI(path_symlink)(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
WASI(path_unlink_file)(uint32_t, uint32_t, uint32_t);
WASI(poll_oneoff)(uint32_t, uint32_t, uint32_t, uint32_t);
WASI(proc_raise)(uint32_t);
WASI(sched_yield)(void);
WASI(random_get)(uint32_t, uint32_t);
WASI(sock_accept)(uint32_t, uint32_t, uint32_t);
WASI(sock_recv)(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
WASI(sock_send)(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
WASI(sock_shutdown)(uint32_t, uint32_t);

enum { Scratch = 1 << 16, Pool = 8 };

static uint32_t s_fds[Pool] = { 0, 1, 2, 3, 3, 4, 5, 6 };
// Pointers go into the first Scratch bytes; the rest catches what a long
// write from there runs over, so that the program corrupts only its scratch.
static _Alignas(16) uint8_t s_scratch[Scratch + 80 * 1024];

static uint32_t fd(void) { return below(4) ? s_fds[below(Pool)] : (below(2) ? below(300) : next()); }

static uint32_t pointer(void)
{
    switch (below(8)) {
    case 0:
        return 0x80000000u | next(); // past the end of memory
    case 1:
        return 0xFFFFFFFFu - below(16);
    default:
        return (uint32_t)(uintptr_t)(s_scratch + below(Scratch - 64));
    }
}

static uint32_t length(void) { return chaos_length(Scratch); }

static uint64_t wide(void) { return below(2) ? below(100000) : ((uint64_t)next() << 32) | next(); }

// A path in the scratch area: random pieces of names, dots and slashes.
static void path(uint32_t* where, uint32_t* size)
{
    static char const* const pieces[] = { "a", "b", "..", ".", "/", "inside", "x.txt", "link-out", "link-in", "", "\xff", "//" };
    char* text = (char*)(s_scratch + 32768 + 512 * below(4));
    uint32_t n = 0;
    for (uint32_t parts = below(6); parts > 0; --parts) {
        char const* piece = pieces[below(sizeof pieces / sizeof pieces[0])];
        while (*piece && n < 500)
            text[n++] = *piece++;
        if (below(2) && n < 500)
            text[n++] = '/';
    }
    *where = (uint32_t)(uintptr_t)text;
    *size = below(8) ? n : length();
}

// iovecs in the scratch area, pointing into it (or not).
static uint32_t iovecs(uint32_t count)
{
    uint32_t* vector = (uint32_t*)(s_scratch + 16384);
    for (uint32_t i = 0; i < count && i < 64; ++i) {
        vector[2 * i] = below(4) ? (uint32_t)(uintptr_t)(s_scratch + 20000 + below(8000)) : pointer();
        vector[2 * i + 1] = below(4) ? below(512) : length();
    }
    return below(8) ? (uint32_t)(uintptr_t)vector : pointer();
}

// Subscriptions for poll_oneoff: clocks with short timeouts, and fd reads and writes.
static uint32_t subscriptions(uint32_t count)
{
    uint8_t* base = s_scratch + 24576;
    for (uint32_t i = 0; i < count && i < 16; ++i) {
        uint8_t* s = base + 48 * i;
        for (int j = 0; j < 48; ++j)
            s[j] = (uint8_t)next();
        s[8] = (uint8_t)below(4); // tag: clock, fd_read, fd_write, or not a tag
        if (s[8] == 0) {
            uint64_t timeout = below(200000);
            __builtin_memcpy(s + 24, &timeout, 8);
            uint16_t flags = (uint16_t)below(2);
            __builtin_memcpy(s + 40, &flags, 2);
            uint32_t clock = below(4);
            __builtin_memcpy(s + 16, &clock, 4);
        } else {
            uint32_t which = fd();
            __builtin_memcpy(s + 16, &which, 4);
        }
    }
    // Not pointer(): scratch bytes read as a clock subscription can ask to sleep for years.
    return below(8) ? (uint32_t)(uintptr_t)base : 0x80000000u | next();
}

static void one_call(void)
{
    uint32_t p = 0, n = 0, q = 0, m = 0;
    uint32_t out = (uint32_t)(uintptr_t)(s_scratch + 8 * below(64));
    switch (below(44)) {
    case 0: chaos_args_get(pointer(), pointer()); break;
    case 1: chaos_args_sizes_get(pointer(), pointer()); break;
    case 2: chaos_environ_get(pointer(), pointer()); break;
    case 3: chaos_environ_sizes_get(pointer(), pointer()); break;
    case 4: chaos_clock_res_get(below(6), pointer()); break;
    case 5: chaos_clock_time_get(below(6), wide(), pointer()); break;
    case 6: chaos_fd_advise(fd(), wide(), wide(), below(8)); break;
    case 7: chaos_fd_allocate(fd(), wide(), wide()); break;
    case 8:
        if (below(4) == 0)
            chaos_fd_close(fd());
        break;
    case 9: chaos_fd_datasync(fd()); break;
    case 10: chaos_fd_fdstat_get(fd(), pointer()); break;
    case 11: chaos_fd_fdstat_set_flags(fd(), below(32)); break;
    case 12: chaos_fd_fdstat_set_rights(fd(), wide(), wide()); break;
    case 13: chaos_fd_filestat_get(fd(), pointer()); break;
    case 14: chaos_fd_filestat_set_size(fd(), below(4) ? below(100000) : wide()); break;
    case 15: chaos_fd_filestat_set_times(fd(), wide(), wide(), below(16)); break;
    case 16: chaos_fd_pread(fd(), iovecs(4), below(6), wide(), pointer()); break;
    case 17: chaos_fd_prestat_get(fd(), pointer()); break;
    case 18: chaos_fd_prestat_dir_name(fd(), pointer(), length()); break;
    case 19: chaos_fd_pwrite(fd(), iovecs(4), below(6), wide(), pointer()); break;
    case 20: {
        uint32_t which = fd();
        if (which != 0) // stdin is the test's, not ours to wait on
            chaos_fd_read(which, iovecs(8), below(10), pointer());
        break;
    }
    case 21: chaos_fd_readdir(fd(), pointer(), length(), wide(), pointer()); break;
    case 22: chaos_fd_renumber(fd(), fd()); break;
    case 23: chaos_fd_seek(fd(), wide(), below(4), pointer()); break;
    case 24: chaos_fd_sync(fd()); break;
    case 25: chaos_fd_tell(fd(), pointer()); break;
    case 26: {
        uint32_t which = fd();
        if (which > 2 || below(16) == 0) // little on the terminal
            chaos_fd_write(which, iovecs(8), below(10), pointer());
        break;
    }
    case 27: path(&p, &n); chaos_path_create_directory(fd(), p, n); break;
    case 28: path(&p, &n); chaos_path_filestat_get(fd(), below(2), p, n, pointer()); break;
    case 29: path(&p, &n); chaos_path_filestat_set_times(fd(), below(2), p, n, wide(), wide(), below(16)); break;
    case 30: path(&p, &n); path(&q, &m); chaos_path_link(fd(), below(2), p, n, fd(), q, m); break;
    case 31:
    case 32: {
        path(&p, &n);
        uint64_t rights = below(4) ? (1ull << 1) | (1ull << 6) : wide();
        if (chaos_path_open(fd(), below(2), p, n, below(16), rights, wide(), below(32), out) == 0)
            s_fds[below(Pool)] = *(uint32_t*)(uintptr_t)out;
        break;
    }
    case 33: path(&p, &n); chaos_path_readlink(fd(), p, n, pointer(), length(), pointer()); break;
    case 34: path(&p, &n); chaos_path_remove_directory(fd(), p, n); break;
    case 35: path(&p, &n); path(&q, &m); chaos_path_rename(fd(), p, n, fd(), q, m); break;
    case 36: path(&p, &n); path(&q, &m); chaos_path_symlink(p, n, fd(), q, m); break;
    case 37: path(&p, &n); chaos_path_unlink_file(fd(), p, n); break;
    case 38: {
        uint32_t count = below(20);
        chaos_poll_oneoff(subscriptions(count), below(8) ? (uint32_t)(uintptr_t)(s_scratch + 28672) : pointer(), count, pointer());
        break;
    }
    case 39: chaos_sched_yield(); break;
    case 40: chaos_random_get(pointer(), length()); break;
    case 41: chaos_sock_accept(fd(), below(4), pointer()); chaos_sock_shutdown(fd(), below(4)); break;
    case 42: chaos_sock_recv(fd(), iovecs(2), below(3), below(4), pointer(), pointer()); chaos_sock_send(fd(), iovecs(2), below(3), below(4), pointer()); break;
    default:
        if (below(64) == 0)
            chaos_proc_raise(below(32));
        break;
    }
}

int main(int argc, char** argv)
{
    chaos_seed(argc > 1 ? (uint32_t)atoi(argv[1]) : 1);
    uint32_t calls = argc > 2 ? (uint32_t)atoi(argv[2]) : 1000;
    for (uint32_t i = 0; i < calls; ++i)
        one_call();
    return 0;
}
