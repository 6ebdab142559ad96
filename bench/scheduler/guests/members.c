// The members of the scheduler benchmarks' SIP populations: pairs that
// ping-pong over a PingPong channel the host made. The first argument is the role:
//   ping BEFORE AFTER  startup handle 0: the importer. BEFORE round trips, each
//                      answer checked; then, with a second startup handle (a
//                      Gate exporter), writes "ready\n" and holds until the host
//                      closes the gate; then AFTER round trips more. The gate
//                      keeps a whole population alive at once, or starts it at once.
//   pong               startup handle 0: the exporter. Answers every Ping until
//                      the importer closes.
// Freestanding (no C library): a member costs as little memory as a SIP can.
// The exit status is 0 if every message was the expected one.
#include <signet/abi.h>

#include "population.h"

static uint32_t rounds_argument(uint32_t index)
{
    char text[12];
    uint32_t length = 0, rounds = 0;
    if (signet_arg_get(index, text, sizeof text, &length) != SIGNET_OK || length > sizeof text)
        return 0;
    for (uint32_t i = 0; i < length && text[i] >= '0' && text[i] <= '9'; ++i)
        rounds = rounds * 10 + (uint32_t)(text[i] - '0');
    return rounds;
}

static uint32_t s_seq;

static void exchange(signet_handle pair, uint32_t rounds)
{
    for (uint32_t end = s_seq + rounds; s_seq < end; ++s_seq) {
        PingPong_Imp_message reply;
        if (PingPong_Imp_send_Ping(pair, s_seq) != SIGNET_OK || PingPong_Imp_recv(pair, &reply) != PingPong_Imp_Pong
            || reply.as.Pong.seq != s_seq)
            signet_exit(10);
    }
}

static void ping(signet_handle pair)
{
    exchange(pair, rounds_argument(2));
    signet_handle gate = 0;
    if (signet_startup_handle(1, &gate) == SIGNET_OK) {
        uint32_t written = 0;
        signet_stdio_write(SIGNET_STDOUT, "ready\n", 6, &written);
        Gate_Exp_message opened;
        if (Gate_Exp_recv(gate, &opened) != Gate_Exp_CLOSED)
            signet_exit(11);
    }
    exchange(pair, rounds_argument(3));
    signet_exit(0);
}

static void pong(signet_handle pair)
{
    for (uint32_t expected = 0;; ++expected) {
        PingPong_Exp_message request;
        PingPong_Exp_tag tag = PingPong_Exp_recv(pair, &request);
        if (tag == PingPong_Exp_CLOSED)
            signet_exit(0);
        if (tag != PingPong_Exp_Ping || request.as.Ping.seq != expected || PingPong_Exp_send_Pong(pair, expected) != SIGNET_OK)
            signet_exit(20);
    }
}

void _start(void)
{
    char role[4];
    uint32_t length = 0;
    signet_handle pair = 0;
    if (signet_startup_handle(0, &pair) != SIGNET_OK || signet_arg_get(1, role, sizeof role, &length) != SIGNET_OK || length != 4)
        signet_exit(2);
    if (role[1] == 'i')
        ping(pair);
    pong(pair);
}
