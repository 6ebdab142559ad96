// Every status of the disk calls, from a program whose manifest declares the
// disk "probe" (disk-probe.toml). With the argument "unbound" it expects that
// no host file is bound to the disk. Prints one line per failure; exits with
// the number of failures.
#include <signet/abi.h>
#include <signet/thread.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define EXPECT(condition, ...)                          \
    do {                                                \
        if (!(condition)) {                             \
            printf("FAIL line %d: ", __LINE__);         \
            printf(__VA_ARGS__);                        \
            printf("\n");                               \
            failures++;                                 \
        }                                               \
    } while (0)

static char buffer[8192];

// What waits for the device (a flush, a read the page cache does not hold)
// waits off the worker: meanwhile the SIP's other thread runs. `partner` counts
// its turns that fall inside such a call.
static volatile int in_call, partner_done;
static volatile unsigned turns, turns_during_call;
static _Alignas(16) uint8_t partner_stack[16 * 1024];

static void partner(void* unused)
{
    (void)unused;
    while (!partner_done) {
        ++turns;
        if (in_call)
            ++turns_during_call;
        signet_yield();
    }
    signet_thread_exit(0);
}

// Starts the partner and returns once it runs, so that a call that waits finds
// it ready rather than still starting.
static int start_partner(signet_handle* thread)
{
    partner_done = 0;
    turns = turns_during_call = 0;
    if (signet_thread_start(partner, 0, partner_stack, sizeof partner_stack, thread) != SIGNET_OK)
        return 0;
    while (turns == 0)
        signet_yield();
    return 1;
}

static int stop_partner(signet_handle thread)
{
    partner_done = 1;
    int32_t status = -1;
    return signet_thread_join(thread, SIGNET_WAIT_FOREVER, &status) == SIGNET_OK;
}

static int flushes_let_a_sibling_run(signet_handle disk)
{
    signet_handle thread = 0;
    if (!start_partner(&thread))
        return 0;
    for (int i = 0; i < 3; ++i) {
        in_call = 1;
        buffer[0] = (char)i;
        int32_t written = signet_disk_write(disk, 8192, buffer, 4096);
        int32_t flushed = signet_disk_flush(disk);
        in_call = 0; // no yield in between: the partner runs here only if the flush let it
        if (written != SIGNET_OK || flushed != SIGNET_OK)
            return 0;
    }
    return stop_partner(thread) && turns_during_call > 0;
}

// `disk-probe cold`: the host file behind the disk "cold" is out of the page
// cache when the program starts (fs_test.sh), so a read of it goes to the
// device off the worker, and the partner runs meanwhile. 4 MiB at a time: ~15 ms
// from the device, far longer than the hand-off to the disk thread, which on a
// VM can take the reading thread's host thread off its CPU for a few hundred
// microseconds (then the read may be done before the thread first looks and it
// goes on without waiting: correct, but no proof). If that still happens, the
// second read (8 MiB further, also cold) is the proof.
static char cold_buffer[4 << 20];

static int cold(void)
{
    signet_handle disk = 0, thread = 0;
    EXPECT(signet_disk_open("cold", 4, &disk) == SIGNET_OK, "open the declared disk");
    EXPECT(start_partner(&thread), "start a second thread");
    for (uint64_t offset = 0; offset < (16u << 20) && turns_during_call == 0; offset += 8u << 20) {
        in_call = 1;
        int32_t status = signet_disk_read(disk, offset, cold_buffer, sizeof cold_buffer);
        in_call = 0; // the partner runs in between only if the read waited off the worker
        EXPECT(status == SIGNET_OK, "read 4 MiB at %llu that the page cache does not hold (status %d)", (unsigned long long)offset, status);
        size_t wrong = 0;
        for (size_t i = 0; i < sizeof cold_buffer; ++i)
            wrong += cold_buffer[i] != 'S';
        EXPECT(wrong == 0, "the read brings the host file's bytes (%zu of 4 MiB are not 'S')", wrong);
    }
    EXPECT(stop_partner(thread), "join the second thread");
    EXPECT(turns_during_call > 0, "the SIP's other thread runs while a read waits for the device");
    // Now the cache holds it: read again, on the worker.
    memset(cold_buffer, 0, sizeof cold_buffer);
    EXPECT(signet_disk_read(disk, 0, cold_buffer, sizeof cold_buffer) == SIGNET_OK && cold_buffer[0] == 'S'
            && cold_buffer[sizeof cold_buffer - 1] == 'S',
        "read it again");
    printf("disk probe: %d failures\n", failures);
    return failures;
}

int main(int argc, char** argv)
{
    signet_handle disk = 0, second = 0;
    if (argc > 1 && strcmp(argv[1], "unbound") == 0) {
        EXPECT(signet_disk_open("probe", 5, &disk) == SIGNET_NOT_FOUND, "a declared disk without a host file: NOT_FOUND");
        printf("disk probe: %d failures\n", failures);
        return failures;
    }
    if (argc > 1 && strcmp(argv[1], "cold") == 0)
        return cold();
    EXPECT(signet_disk_open("other", 5, &disk) == SIGNET_DENIED, "a disk the manifest does not declare: DENIED");
    EXPECT(signet_disk_open("probe", 0, &disk) == SIGNET_INVALID_ARGUMENT, "an empty name: INVALID_ARGUMENT");
    EXPECT(signet_disk_open((char const*)0xfffffff0u, 100, &disk) == SIGNET_OUT_OF_BOUNDS, "a name outside memory: OUT_OF_BOUNDS");
    EXPECT(signet_disk_open("probe", 5, &disk) == SIGNET_OK, "open the declared disk");
    EXPECT(signet_disk_open("probe", 5, &second) == SIGNET_WOULD_BLOCK, "a second open while the first is held: WOULD_BLOCK");

    uint64_t size = 0;
    EXPECT(signet_disk_size(disk, &size) == SIGNET_OK && size == (1u << 20), "the declared size (got %llu)", (unsigned long long)size);
    EXPECT(signet_disk_size(disk + 1, &size) == SIGNET_BAD_HANDLE, "size of a forged handle: BAD_HANDLE");
    EXPECT(signet_disk_size(disk, (uint64_t*)0xfffffffcu) == SIGNET_OUT_OF_BOUNDS, "size into a bad pointer: OUT_OF_BOUNDS");

    memset(buffer, 0, sizeof buffer);
    memcpy(buffer, "SIGNET-DISK-PROBE", 17);
    EXPECT(signet_disk_write(disk, 0, buffer, 4096) == SIGNET_OK, "write a block");
    EXPECT(signet_disk_write(disk, (1u << 20) - 4096, buffer, 4096) == SIGNET_OK, "write the last block");
    memset(buffer, 0, sizeof buffer);
    EXPECT(signet_disk_read(disk, 0, buffer, 4096) == SIGNET_OK && memcmp(buffer, "SIGNET-DISK-PROBE", 17) == 0, "read it back");
    EXPECT(signet_disk_read(disk, (1u << 20) - 10, buffer, 20) == SIGNET_INVALID_ARGUMENT, "a read across the end: INVALID_ARGUMENT");
    EXPECT(signet_disk_read(disk, UINT64_MAX, buffer, 1) == SIGNET_INVALID_ARGUMENT, "a read at 2^64-1: INVALID_ARGUMENT");
    EXPECT(signet_disk_write(disk, UINT64_MAX - 1, buffer, 4096) == SIGNET_INVALID_ARGUMENT, "a write wrapping around: INVALID_ARGUMENT");
    EXPECT(signet_disk_read(disk, 0, (void*)0xfffff000u, 8192) == SIGNET_OUT_OF_BOUNDS, "a buffer outside memory: OUT_OF_BOUNDS");
    char* large = malloc((16u << 20) + 4096);
    EXPECT(large && signet_disk_read(disk, 0, large, (16u << 20) + 4096) == SIGNET_LIMIT, "more than 16 MiB in one call: LIMIT");
    free(large);
    EXPECT(signet_disk_read(disk, 1u << 20, buffer, 0) == SIGNET_OK, "an empty read at the end");
    EXPECT(signet_disk_read(0, 0, buffer, 1) == SIGNET_BAD_HANDLE, "read handle 0: BAD_HANDLE");
    EXPECT(signet_disk_write(0x7fff, 0, buffer, 1) == SIGNET_BAD_HANDLE, "write a forged handle: BAD_HANDLE");
    EXPECT(signet_disk_flush(disk) == SIGNET_OK, "flush");
    EXPECT(signet_disk_flush(disk ^ 0x10000) == SIGNET_BAD_HANDLE, "flush a stale handle: BAD_HANDLE");
    EXPECT(flushes_let_a_sibling_run(disk), "the SIP's other thread runs while a flush waits for the device (%u turns)", turns_during_call);

    EXPECT(signet_handle_close(disk) == SIGNET_OK, "close the disk");
    EXPECT(signet_disk_read(disk, 0, buffer, 1) == SIGNET_BAD_HANDLE, "read a closed disk: BAD_HANDLE");
    EXPECT(signet_disk_open("probe", 5, &second) == SIGNET_OK, "after the close it opens again");
    memset(buffer, 0, sizeof buffer);
    EXPECT(signet_disk_read(second, 0, buffer, 4096) == SIGNET_OK && memcmp(buffer, "SIGNET-DISK-PROBE", 17) == 0, "and holds what was written");
    printf("disk probe: %d failures\n", failures);
    return failures;
}
