// The client side of the exchange-heap round trip (bench/exchange).
//
// Usage: client SERVER TOUCH REPETITIONS BUDGET SIZE...
//   Creates SERVER (a registered program) as its child with the exporter end of
//   a Bounce channel, then for each SIZE: allocates a block of SIZE bytes and
//   fills it once, and sends it to the server and back COUNT times per
//   repetition, COUNT = BUDGET / SIZE within [4, 2000]. With TOUCH "read", each
//   side reads one byte of every page of the block each time it receives it
//   (the first access after a move faults the page in); with "none", nobody
//   looks at the payload while it travels.
// First it times round trips of messages without a block (Tick, Tock): the
// channel's own cost. Prints "rt 0 COUNT NS" for those, then per size (times
// from signet_time_now, in ns):
//   alloc SIZE NS             block_alloc of the block
//   rt SIZE COUNT NS          one line per repetition (after a warm-up); each
//                             round trip is one signet_channel_call on each side
//   part SIZE COUNT SEND RECV TOUCH   the same loop with a separate send and
//                             receive, each timed: totals of send, of recv, and
//                             of reading the pages
//   free SIZE NS              block_free of the block
#include <signet/abi.h>

#include "bounce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t now(void)
{
    uint64_t t = 0;
    signet_time_now(SIGNET_CLOCK_MONOTONIC, &t);
    return t;
}

static volatile uint8_t s_sink;

// Reads one byte of every page of the block: what it costs to start using it.
static void read_pages(signet_handle block)
{
    uint32_t offset = 0, size = 0;
    signet_block_info(block, &offset, &size);
    uint8_t const* data = (uint8_t const*)(uintptr_t)offset;
    uint8_t sum = 0;
    for (uint32_t i = 0; i < size; i += 4096)
        sum += data[i];
    s_sink = sum;
}

// One round trip in one call; returns the block as it came back, or 0 on failure.
static signet_handle call(signet_handle server, signet_handle block, int touch)
{
    Bounce_Ping ping;
    memset(&ping, 0, sizeof ping);
    ping.payload = block;
    Bounce_Imp_message reply;
    if (Bounce_Imp_call_Ping(server, &ping, &reply) != Bounce_Imp_Pong)
        return 0;
    if (touch)
        read_pages(reply.as.Pong.payload);
    return reply.as.Pong.payload;
}

// One round trip as a send and a receive, each timed; returns the block as it came back, or 0 on failure.
static signet_handle bounce(signet_handle server, signet_handle block, int touch, uint64_t* send_ns, uint64_t* recv_ns, uint64_t* touch_ns)
{
    uint64_t t0 = now();
    if (Bounce_Imp_send_PingParts(server, block) != SIGNET_OK)
        return 0;
    uint64_t t1 = now();
    Bounce_Imp_message reply;
    if (Bounce_Imp_recv(server, &reply) != Bounce_Imp_Pong)
        return 0;
    uint64_t t2 = now();
    if (touch)
        read_pages(reply.as.Pong.payload);
    uint64_t t3 = now();
    *send_ns += t1 - t0;
    *recv_ns += t2 - t1;
    *touch_ns += t3 - t2;
    return reply.as.Pong.payload;
}

int main(int argc, char** argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: client SERVER TOUCH REPETITIONS BUDGET SIZE...\n");
        return 2;
    }
    char const* server_name = argv[1];
    int touch = strcmp(argv[2], "read") == 0;
    unsigned repetitions = (unsigned)strtoul(argv[3], NULL, 10);
    unsigned long budget = strtoul(argv[4], NULL, 10);

    signet_handle importer, exporter, child;
    if (signet_channel_create(Bounce_descriptor, Bounce_DESCRIPTOR_SIZE, &importer, &exporter) != SIGNET_OK)
        return 3;
    char const* server_args = argv[2]; // the server touches what it receives the same way
    if (signet_child_create(server_name, (uint32_t)strlen(server_name), &exporter, 1, server_args, (uint32_t)strlen(server_args), &child)
        != SIGNET_OK) {
        fprintf(stderr, "client: cannot create '%s'\n", server_name);
        return 4;
    }
    signet_child_start(child);

    enum { empty_count = 2000 };
    for (unsigned rep = 0; rep <= repetitions; ++rep) {
        uint64_t start = now();
        for (unsigned i = 0; i < empty_count; ++i) {
            Bounce_Imp_message reply;
            if (Bounce_Imp_call_Tick(importer, &reply) != Bounce_Imp_Tock)
                return 7;
        }
        uint64_t end = now();
        if (rep > 0) // the first is a warm-up
            printf("rt 0 %u %llu\n", (unsigned)empty_count, (unsigned long long)(end - start));
    }

    for (int a = 5; a < argc; ++a) {
        uint32_t size = (uint32_t)strtoul(argv[a], NULL, 10);
        unsigned long count = budget / size;
        count = count < 4 ? 4 : count > 2000 ? 2000 : count;

        signet_handle block = 0;
        uint32_t offset = 0;
        uint64_t t0 = now();
        if (signet_block_alloc(size, &block, &offset) != SIGNET_OK) {
            fprintf(stderr, "client: cannot allocate a block of %u bytes\n", (unsigned)size);
            return 5;
        }
        uint64_t t1 = now();
        printf("alloc %u %llu\n", (unsigned)size, (unsigned long long)(t1 - t0));
        memset((void*)(uintptr_t)offset, 0x5a, size);

        uint64_t send_ns = 0, recv_ns = 0, touch_ns = 0;
        for (unsigned long i = 0; i < count / 4 + 2; ++i) // warm-up
            block = call(importer, block, touch);
        for (unsigned rep = 0; rep < repetitions && block; ++rep) {
            uint64_t start = now();
            for (unsigned long i = 0; i < count && block; ++i)
                block = call(importer, block, touch);
            uint64_t end = now();
            printf("rt %u %lu %llu\n", (unsigned)size, count, (unsigned long long)(end - start));
        }
        send_ns = recv_ns = touch_ns = 0;
        for (unsigned long i = 0; i < count && block; ++i)
            block = bounce(importer, block, touch, &send_ns, &recv_ns, &touch_ns);
        printf("part %u %lu %llu %llu %llu\n", (unsigned)size, count, (unsigned long long)send_ns, (unsigned long long)recv_ns,
            (unsigned long long)touch_ns);
        if (!block) {
            fprintf(stderr, "client: a round trip of %u bytes failed\n", (unsigned)size);
            return 6;
        }
        t0 = now();
        signet_block_free(block);
        t1 = now();
        printf("free %u %llu\n", (unsigned)size, (unsigned long long)(t1 - t0));
    }
    Bounce_Imp_send_Stop(importer);
    int32_t status = -1;
    signet_child_wait(child, SIGNET_WAIT_FOREVER, &status);
    fflush(stdout);
    return status;
}
