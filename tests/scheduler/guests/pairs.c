// SIP pairs that ping-pong over a PingPong channel. The first argument is the role:
//   ping ROUNDS   startup handle 0: the importer. Sends Ping(0) .. Ping(ROUNDS-1),
//                 each answered by a Pong with the same number, yielding now and
//                 then. With a second startup handle, a Gate exporter, it then
//                 writes "ready\n" and holds until the gate closes: a barrier
//                 that keeps every SIP of a test alive at once.
//   pong ROUNDS   startup handle 0: the exporter. Answers every Ping; once the
//                 importer closes, ends with 0 if it answered ROUNDS in order.
//   relay ROUNDS  as pong, with two threads: the main thread receives each Ping
//                 and hands it to the second thread through a futex; that
//                 thread sends the Pong and hands the turn back the same way.
// The exit status is 0 if every message was the expected one, otherwise it
// names the step that failed (1x ping, 2x pong, 3x relay).
#include "guest.h"

static void ping(uint32_t rounds)
{
    signet_handle pair = 0;
    if (signet_startup_handle(0, &pair) != SIGNET_OK)
        signet_exit(10);
    for (uint32_t seq = 0; seq < rounds; ++seq) {
        PingPong_Imp_message reply;
        if (PingPong_Imp_send_Ping(pair, seq) != SIGNET_OK)
            signet_exit(11);
        if (PingPong_Imp_recv(pair, &reply) != PingPong_Imp_Pong || reply.as.Pong.seq != seq)
            signet_exit(12);
        if (seq % 8 == 7)
            signet_yield();
    }
    signet_handle gate = 0;
    if (signet_startup_handle(1, &gate) == SIGNET_OK) {
        say("ready\n");
        Gate_Exp_message opened;
        if (Gate_Exp_recv(gate, &opened) != Gate_Exp_CLOSED)
            signet_exit(13);
    }
    // Ending closes the importer: the pong side sees CLOSED.
    signet_exit(0);
}

static void pong(uint32_t rounds)
{
    signet_handle pair = 0;
    if (signet_startup_handle(0, &pair) != SIGNET_OK)
        signet_exit(20);
    for (uint32_t expected = 0;; ++expected) {
        PingPong_Exp_message request;
        switch (PingPong_Exp_recv(pair, &request)) {
        case PingPong_Exp_Ping:
            if (request.as.Ping.seq != expected)
                signet_exit(21);
            if (PingPong_Exp_send_Pong(pair, expected) != SIGNET_OK)
                signet_exit(22);
            break;
        case PingPong_Exp_CLOSED:
            signet_exit(expected == rounds ? 0 : 23);
        default:
            signet_exit(24);
        }
    }
}

// The relay's hand-over between its threads: 0 nothing to answer, 1 s_seq
// waits for its Pong, 2 stop.
enum { Idle = 0, Pending = 1, Stop = 2 };
static uint32_t s_state;
static uint32_t s_seq;
static signet_handle s_pair;
static _Alignas(16) uint8_t s_answerer_stack[16 * 1024];

static void set_state(uint32_t state)
{
    s_state = state;
    uint32_t woken = 0;
    signet_futex_wake(&s_state, 1, &woken);
}

static void answerer(void* unused)
{
    (void)unused;
    for (;;) {
        while (s_state == Idle)
            signet_futex_wait(&s_state, Idle, SIGNET_WAIT_FOREVER);
        if (s_state == Stop)
            signet_thread_exit(0);
        if (PingPong_Exp_send_Pong(s_pair, s_seq) != SIGNET_OK)
            signet_thread_exit(32);
        set_state(Idle);
    }
}

static void relay(uint32_t rounds)
{
    if (signet_startup_handle(0, &s_pair) != SIGNET_OK)
        signet_exit(30);
    signet_handle thread = 0;
    if (signet_thread_start(answerer, 0, s_answerer_stack, sizeof s_answerer_stack, &thread) != SIGNET_OK)
        signet_exit(31);
    uint32_t expected = 0;
    for (;; ++expected) {
        PingPong_Exp_message request;
        PingPong_Exp_tag tag = PingPong_Exp_recv(s_pair, &request);
        if (tag == PingPong_Exp_CLOSED)
            break;
        if (tag != PingPong_Exp_Ping || request.as.Ping.seq != expected)
            signet_exit(33);
        s_seq = request.as.Ping.seq;
        set_state(Pending);
        while (s_state == Pending)
            signet_futex_wait(&s_state, Pending, SIGNET_WAIT_FOREVER);
    }
    set_state(Stop);
    int32_t status = -1;
    if (signet_thread_join(thread, SIGNET_WAIT_FOREVER, &status) != SIGNET_OK || status != 0)
        signet_exit(34);
    signet_exit(expected == rounds ? 0 : 35);
}

void _start(void)
{
    uint32_t rounds = arg_number(2, 100);
    if (arg_is(1, "ping"))
        ping(rounds);
    else if (arg_is(1, "pong"))
        pong(rounds);
    else if (arg_is(1, "relay"))
        relay(rounds);
    signet_exit(2);
}
