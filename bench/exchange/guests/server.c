// The server side of the exchange-heap round trip (bench/exchange): sends every
// block it receives straight back, and answers every Tick with a Tock; a Pong
// or a Tock and the wait for the next request are one signet_channel_call,
// except after a PingParts, whose Pong is a plain send, timed. Started by the client with the exporter
// end of a Bounce channel and one argument, TOUCH ("read": read one byte of
// every page of each block received first; "none": do not look at it).
// At Stop, prints per block size: "server SIZE COUNT SEND_NS TOUCH_NS", the
// number of blocks served and the total time in send and in reading pages.
#include <signet/abi.h>

#include "bounce.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum { max_sizes = 32 };

struct Served {
    uint32_t size;
    uint64_t count, send_ns, touch_ns;
};

static uint64_t now(void)
{
    uint64_t t = 0;
    signet_time_now(SIGNET_CLOCK_MONOTONIC, &t);
    return t;
}

static volatile uint8_t s_sink;

int main(int argc, char** argv)
{
    int touch = argc > 1 && strcmp(argv[1], "read") == 0;
    signet_handle client = 0;
    if (signet_startup_handle(0, &client) != SIGNET_OK)
        return 1;
    struct Served served[max_sizes];
    unsigned kinds = 0;
    Bounce_Exp_message request;
    Bounce_Exp_tag tag = Bounce_Exp_recv(client, &request);
    for (;;) {
        if (tag == Bounce_Exp_Tick) {
            tag = Bounce_Exp_call_Tock(client, &request);
            continue;
        }
        if (tag != Bounce_Exp_Ping && tag != Bounce_Exp_PingParts)
            break;
        signet_handle block = tag == Bounce_Exp_Ping ? request.as.Ping.payload : request.as.PingParts.payload;
        bool const timed = tag == Bounce_Exp_PingParts;
        // Only what the round trip needs: a server in a domain pays a ring crossing
        // for every ABI call, so the block's place (to read its pages, or to count
        // it by size) and the clock are asked for only when used.
        uint32_t offset = 0, size = 0;
        if (touch || timed)
            signet_block_info(block, &offset, &size);
        uint64_t t0 = timed ? now() : 0;
        if (touch) {
            uint8_t const* data = (uint8_t const*)(uintptr_t)offset;
            uint8_t sum = 0;
            for (uint32_t i = 0; i < size; i += 4096)
                sum += data[i];
            s_sink = sum;
        }
        if (tag == Bounce_Exp_Ping) {
            Bounce_Pong pong;
            memset(&pong, 0, sizeof pong);
            pong.payload = block;
            tag = Bounce_Exp_call_Pong(client, &pong, &request);
            continue;
        }
        uint64_t t1 = now();
        if (Bounce_Exp_send_Pong(client, block) != SIGNET_OK)
            return 2;
        uint64_t t2 = now();
        unsigned k = 0;
        while (k < kinds && served[k].size != size)
            ++k;
        if (k == kinds && kinds < max_sizes)
            served[kinds++] = (struct Served) { size, 0, 0, 0 };
        if (k < kinds) {
            served[k].count += 1;
            served[k].touch_ns += t1 - t0;
            served[k].send_ns += t2 - t1;
        }
        tag = Bounce_Exp_recv(client, &request);
    }
    for (unsigned k = 0; k < kinds; ++k)
        printf("server %u %llu %llu %llu\n", (unsigned)served[k].size, (unsigned long long)served[k].count,
            (unsigned long long)served[k].send_ns, (unsigned long long)served[k].touch_ns);
    fflush(stdout);
    return 0;
}
