// The Signet side of signet-bench-channels: a message round trip between two
// SIPs. Started with no endpoints it is the client:
//   pingpong ROUNDS REPETITIONS SIZE...
// creates a channel, starts itself as "pingpong" with the exporter end (the
// echo server), and for each payload SIZE (one of PingPong's: 4 .. 65536)
// runs one warm-up batch and then REPETITIONS batches of ROUNDS round trips,
// printing "channel SIZE ROUNDS NANOSECONDS" per batch (signet_time_now
// around the batch). The client uses the generated typed API as any program
// would; the server echoes each payload back. Each side's send and the receive
// after it are one kernel call (signet_channel_call: the client's request and
// the wait for its reply, the server's reply and the wait for the next request).
//   pingpong ROUNDS REPETITIONS switch
// prices what any round trip between the two SIPs costs before the channel
// does anything: the server, started with the argument "switch", yields in a
// loop of its own; so does the client, timing ROUNDS of its yields per batch
// ("switch 0 ROUNDS NANOSECONDS"). Each yield runs the other SIP once: two
// switches between SIPs, each returning into a different loop, as a message
// round trip's do.
#include <signet/abi.h>

#include "pingpong.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PINGPONG_SIZES(X) X(4) X(16) X(64) X(256) X(1024) X(4096) X(16384) X(65536)

static uint64_t now_ns(void)
{
    uint64_t now = 0;
    signet_time_now(SIGNET_CLOCK_MONOTONIC, &now);
    return now;
}

// The server: echoes every Ping<N> as Pong<N>. The two have the same layout
// (bytes<N>), so the received bytes go back as they are.
static int serve(signet_handle client)
{
    static PingPong_Exp_message request;
    PingPong_Exp_tag tag = PingPong_Exp_recv(client, &request);
    for (;;) {
        uint32_t id = 0, length = 0;
        int32_t status = SIGNET_OK;
        switch (tag) {
#define ECHO(n)                                                                                                       \
    case PingPong_Exp_Ping##n:                                                                                        \
        status = signet_channel_call(client, PingPong_MSG_Pong##n, &request.as.Ping##n, sizeof request.as.Ping##n, client, &id, \
            &request.as, sizeof request.as, &length);                                                                 \
        break;
            PINGPONG_SIZES(ECHO)
#undef ECHO
        case PingPong_Exp_Done:
        case PingPong_Exp_CLOSED:
            return 0;
        default:
            return 3;
        }
        tag = PingPong_Exp_accept(&request, status, id, length);
    }
}

// The server's side of the "switch" mode: yields until the client says Done
// (looked for, without waiting, every 1,000 yields).
static int yield_until_done(signet_handle client)
{
    for (;;) {
        for (uint32_t i = 0; i < 1000; ++i)
            signet_yield();
        uint32_t ready = 0;
        if (signet_channel_select(&client, 1, 0, &ready) == SIGNET_OK)
            return 0;
    }
}

// The client's side: repetitions of `rounds` yields, each a round trip through the server's loop.
static int yield_batches(uint32_t rounds, uint32_t repetitions)
{
    for (uint32_t r = 0; r <= repetitions; ++r) {
        uint64_t start = now_ns();
        for (uint32_t i = 0; i < rounds; ++i)
            signet_yield();
        uint64_t ns = now_ns() - start;
        if (r > 0) // the first batch warms up
            printf("switch 0 %u %llu\n", (unsigned)rounds, (unsigned long long)ns);
    }
    return 0;
}

#define MESSAGE(n) static PingPong_Ping##n s_ping##n;
PINGPONG_SIZES(MESSAGE)
#undef MESSAGE

// Runs `rounds` round trips of payload `size`; returns the nanoseconds, or 0 on an error.
static uint64_t batch(signet_handle server, uint32_t size, uint32_t rounds)
{
    static PingPong_Imp_message reply;
    uint64_t start = now_ns();
    switch (size) {
#define ROUNDS(n)                                                                                                               \
    case n:                                                                                                                     \
        for (uint32_t i = 0; i < rounds; ++i) {                                                                                 \
            if (PingPong_Imp_call_Ping##n(server, &s_ping##n, &reply) != PingPong_Imp_Pong##n)                                  \
                return 0;                                                                                                       \
        }                                                                                                                       \
        break;
        PINGPONG_SIZES(ROUNDS)
#undef ROUNDS
    default:
        return 0;
    }
    return now_ns() - start;
}

// Both ends in this SIP: the same four channel calls per round trip as between
// two SIPs, without any switch between them. What the channel calls cost alone.
static int same_sip(uint32_t rounds, uint32_t repetitions)
{
    static PingPong_Exp_message request;
    static PingPong_Imp_message reply;
    signet_handle importer = 0, exporter = 0;
    if (signet_channel_create(PingPong_descriptor, PingPong_DESCRIPTOR_SIZE, &importer, &exporter) != SIGNET_OK)
        return 1;
    for (uint32_t r = 0; r <= repetitions; ++r) {
        uint64_t start = now_ns();
        for (uint32_t i = 0; i < rounds; ++i) {
            if (PingPong_Imp_send_Ping4_message(importer, &s_ping4) != SIGNET_OK || PingPong_Exp_recv(exporter, &request) != PingPong_Exp_Ping4
                || signet_channel_send(exporter, PingPong_MSG_Pong4, &request.as.Ping4, sizeof request.as.Ping4) != SIGNET_OK
                || PingPong_Imp_recv(importer, &reply) != PingPong_Imp_Pong4)
                return 1;
        }
        uint64_t ns = now_ns() - start;
        if (r > 0) // the first batch warms up
            printf("same-sip 4 %u %llu\n", (unsigned)rounds, (unsigned long long)ns);
    }
    return 0;
}

// The round trips of the sizes named (`count` arguments): a warm-up batch and
// `repetitions` timed ones each. Returns 0, or 1 on an error.
static int size_batches(signet_handle server, int count, char** sizes, uint32_t rounds, uint32_t repetitions)
{
    for (int a = 0; a < count; ++a) {
        uint32_t size = (uint32_t)atoi(sizes[a]);
        // Small payloads run the full count; large ones fewer, so each batch stays a few ms.
        uint32_t batch_rounds = size <= 1024 ? rounds : rounds / (size / 1024 + 1) + 1;
        if (!batch(server, size, batch_rounds)) {
            fprintf(stderr, "pingpong: size %u failed\n", (unsigned)size);
            return 1;
        }
        for (uint32_t r = 0; r < repetitions; ++r) {
            uint64_t ns = batch(server, size, batch_rounds);
            if (!ns)
                return 1;
            printf("channel %u %u %llu\n", (unsigned)size, (unsigned)batch_rounds, (unsigned long long)ns);
        }
    }
    return 0;
}

int main(int argc, char** argv)
{
    signet_handle server = 0;
    if (signet_startup_handle(0, &server) == SIGNET_OK)
        return argc > 1 && strcmp(argv[1], "switch") == 0 ? yield_until_done(server) : serve(server);

    if (argc < 4) {
        fprintf(stderr, "usage: pingpong ROUNDS REPETITIONS SIZE...\n");
        return 2;
    }
    uint32_t rounds = (uint32_t)atoi(argv[1]);
    uint32_t repetitions = (uint32_t)atoi(argv[2]);
#define FILL(n)                                       \
    s_ping##n.data.length = n;                        \
    for (uint32_t i = 0; i < n; ++i)                  \
        s_ping##n.data.data[i] = (uint8_t)(i * 7 + 1);
    PINGPONG_SIZES(FILL)
#undef FILL
    if (strcmp(argv[3], "same-sip") == 0)
        return same_sip(rounds, repetitions);

    int const switches = strcmp(argv[3], "switch") == 0;
    char const* server_args = switches ? "switch" : "";
    signet_handle exporter = 0, child = 0;
    if (signet_channel_create(PingPong_descriptor, PingPong_DESCRIPTOR_SIZE, &server, &exporter) != SIGNET_OK
        || signet_child_create("pingpong", 8, &exporter, 1, server_args, (uint32_t)strlen(server_args), &child) != SIGNET_OK
        || signet_child_start(child) != SIGNET_OK) {
        fprintf(stderr, "pingpong: cannot start the server (is \"pingpong\" registered?)\n");
        return 1;
    }
    if (switches ? yield_batches(rounds, repetitions) : size_batches(server, argc - 3, argv + 3, rounds, repetitions))
        return 1;
    fflush(stdout);
    PingPong_Imp_send_Done(server);
    int32_t status = -1;
    signet_child_wait(child, SIGNET_WAIT_FOREVER, &status);
    return status;
}
