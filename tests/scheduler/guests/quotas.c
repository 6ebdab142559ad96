// A SIP's limits, one mode each (the first argument):
//   handles          fills the handle table, then every call that would create
//                    a handle is LIMIT; freed slots take exactly what fits.
//                    Ends holding 4096 handles, for the kernel to reclaim.
//   deep DEPTH       recurses DEPTH calls deep on the native stack, then exits 0.
//   share THREADS MS starts THREADS threads that each compute for MS ms, and
//                    joins them: the SIP's CPU time is the sum of theirs.
//   hog              one thread blocks forever on a futex while the main thread
//                    computes forever, never calling the kernel.
//   churn ROUNDS     with a limit of two threads: starts and joins one thread
//                    ROUNDS times (a thread's slot comes back when it ends),
//                    then a second one at once is LIMIT.
#include "guest.h"

enum { TableLimit = 4096 };
static signet_handle s_handles[TableLimit];
static _Alignas(16) uint8_t s_stacks[4][16 * 1024];
static volatile uint64_t s_mix;

static void exit_with_argument(void* argument)
{
    signet_thread_exit((int32_t)(uintptr_t)argument);
}

static int32_t start(void (*function)(void*), uintptr_t argument, uint32_t slot, signet_handle* out_thread)
{
    return signet_thread_start(function, (void*)argument, s_stacks[slot], sizeof s_stacks[slot], out_thread);
}

static int32_t join(signet_handle thread)
{
    int32_t status = -1;
    if (signet_thread_join(thread, SIGNET_WAIT_FOREVER, &status) != SIGNET_OK)
        return -1;
    return status;
}

static int32_t create_channel(signet_handle* importer, signet_handle* exporter)
{
    return signet_channel_create(PingPong_descriptor, PingPong_DESCRIPTOR_SIZE, importer, exporter);
}

static void handles(void)
{
    uint32_t count = 0;
    while (count + 2 <= TableLimit && create_channel(&s_handles[count], &s_handles[count + 1]) == SIGNET_OK)
        count += 2;
    CHECK(count == TableLimit, "a SIP holds 4096 handles");

    signet_handle importer = 0xC0C0, exporter = 0xC0C0, thread = 0xC0C0, block = 0xC0C0;
    uint32_t offset = 0;
    CHECK(create_channel(&importer, &exporter) == SIGNET_LIMIT && importer == 0xC0C0, "channel_create with a full table is LIMIT");
    CHECK(start(exit_with_argument, 7, 0, &thread) == SIGNET_LIMIT && thread == 0xC0C0, "thread_create with a full table is LIMIT");
    CHECK(signet_block_alloc(4096, &block, &offset) == SIGNET_LIMIT && block == 0xC0C0, "block_alloc with a full table is LIMIT");

    // One free slot takes one thread or one block, not both.
    CHECK(signet_handle_close(s_handles[TableLimit - 1]) == SIGNET_OK, "close one handle");
    CHECK(start(exit_with_argument, 7, 0, &thread) == SIGNET_OK, "a thread fits in the freed slot");
    CHECK(signet_block_alloc(4096, &block, &offset) == SIGNET_LIMIT, "then a block does not");
    CHECK(join(thread) == 7, "joining the thread frees its slot");
    CHECK(signet_block_alloc(4096, &block, &offset) == SIGNET_OK, "a block fits in it");
    CHECK(start(exit_with_argument, 8, 0, &thread) == SIGNET_LIMIT, "then a thread does not");
    CHECK(signet_block_free(block) == SIGNET_OK, "free the block");

    // A channel needs two.
    CHECK(create_channel(&importer, &exporter) == SIGNET_LIMIT, "one free slot is no room for a channel");
    CHECK(signet_handle_close(s_handles[TableLimit - 2]) == SIGNET_OK, "close another handle");
    CHECK(create_channel(&importer, &exporter) == SIGNET_OK, "two free slots take a channel");
    CHECK(create_channel(&importer, &exporter) == SIGNET_LIMIT, "and the table is full again");
    report_and_exit("handles");
}

// Through a pointer the compiler cannot see through, so every level is a real call.
static uint32_t descend(uint32_t depth);
static uint32_t (*volatile s_descend)(uint32_t) = descend;

static uint32_t descend(uint32_t depth)
{
    return depth == 0 ? 0 : s_descend(depth - 1) + 1;
}

static void deep(uint32_t depth)
{
    uint32_t reached = s_descend(depth);
    signet_exit(reached == depth ? 0 : 1);
}

static uint64_t now_ns(void)
{
    uint64_t now = 0;
    signet_time_now(SIGNET_CLOCK_MONOTONIC, &now);
    return now;
}

// Computes for about `milliseconds`, mostly in wasm code (where preemption may land).
static void compute_for(void* milliseconds)
{
    uint64_t end = now_ns() + (uint64_t)(uintptr_t)milliseconds * 1000000ull;
    while (now_ns() < end) {
        for (uint32_t i = 0; i < 100000; ++i)
            s_mix = s_mix * 6364136223846793005ull + 1442695040888963407ull;
    }
    signet_thread_exit(0);
}

static void share(uint32_t threads, uint32_t milliseconds)
{
    signet_handle started[4];
    threads = threads > 4 ? 4 : threads;
    for (uint32_t i = 0; i < threads; ++i)
        CHECK(start(compute_for, milliseconds, i, &started[i]) == SIGNET_OK, "start a computing thread");
    for (uint32_t i = 0; i < threads; ++i)
        CHECK(join(started[i]) == 0, "join it");
    report_and_exit("share");
}

static uint32_t s_never;

static void wait_forever(void* unused)
{
    (void)unused;
    signet_futex_wait(&s_never, 0, SIGNET_WAIT_FOREVER);
    signet_thread_exit(1);
}

static void hog(void)
{
    signet_handle thread = 0;
    if (start(wait_forever, 0, 0, &thread) != SIGNET_OK)
        signet_exit(2);
    signet_yield(); // The sibling blocks first.
    for (;;)
        s_mix = s_mix * 6364136223846793005ull + 1442695040888963407ull;
}

static uint32_t s_release;

static void wait_for_release(void* unused)
{
    (void)unused;
    while (s_release == 0)
        signet_futex_wait(&s_release, 0, SIGNET_WAIT_FOREVER);
    signet_thread_exit(9);
}

static void churn(uint32_t rounds)
{
    uint32_t joined = 0;
    for (uint32_t round = 0; round < rounds; ++round) {
        signet_handle thread = 0;
        if (start(exit_with_argument, round, 0, &thread) == SIGNET_OK && join(thread) == (int32_t)round)
            ++joined;
    }
    CHECK(joined == rounds, "a thread's slot comes back when it is joined");
    signet_handle first = 0, second = 0xC0C0;
    CHECK(start(wait_for_release, 0, 0, &first) == SIGNET_OK, "one thread besides main");
    CHECK(start(exit_with_argument, 1, 1, &second) == SIGNET_LIMIT && second == 0xC0C0, "a third thread is LIMIT");
    s_release = 1;
    uint32_t woken = 0;
    signet_futex_wake(&s_release, 1, &woken);
    CHECK(join(first) == 9, "join the second thread");
    CHECK(start(exit_with_argument, 3, 1, &second) == SIGNET_OK && join(second) == 3, "then there is room again");
    report_and_exit("churn");
}

void _start(void)
{
    if (arg_is(1, "handles"))
        handles();
    else if (arg_is(1, "deep"))
        deep(arg_number(2, 1000));
    else if (arg_is(1, "share"))
        share(arg_number(2, 4), arg_number(3, 40));
    else if (arg_is(1, "hog"))
        hog();
    else if (arg_is(1, "churn"))
        churn(arg_number(2, 100));
    signet_exit(2);
}
