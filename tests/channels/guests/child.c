// The child program of the channel tests, registered as "child". What it does
// is its first argument; its startup handles are the endpoints its parent gave.
//
//   exit N          exits with status N (through signet_exit, so any int32)
//   trap            traps (unreachable)
//   sleep           sleeps a minute: a target for stop and timeouts
//   tick            computes ~1 ms, then sends Ping(n) on startup handle 0 and waits for Pong, for ever
//   args            prints its arguments, one per line in brackets
//   handles         sends Ping(i) on each startup handle i (each a Probe importer)
//   serve           serves Probe on startup handle 0 (see serve())
//   die-mid-request receives a request on startup handle 0, then traps without answering
//   die-after-reply answers one request, then exits
//   die-later       receives a request, sleeps 20 ms (its peer is blocked by then), then exits
//   wait-child      starts a grandchild (wait-recv, on a channel it holds the other end of) and waits for it
//   wait-recv       blocks in recv on startup handle 0 (a Probe importer) and prints what it saw
//   wait-select     the same in select, with a second channel that never speaks
//   violate-direction   as a Probe importer, sends Pong (an exporter's message)
//   violate-state       as a Stream importer, sends End in the middle of a run of Items
//   violate-after-end   as a Probe importer, sends Ping after Bye
//   violate-turn        as a Probe exporter, sends Pong when the importer's turn is
//   violate-unreceived  as a Probe exporter, waits for a Ping to arrive and answers it without receiving it
#include "check.h"

static signet_handle startup(uint32_t index)
{
    signet_handle handle = 0;
    if (signet_startup_handle(index, &handle) != SIGNET_OK) {
        printf("child: no startup handle %u\n", (unsigned)index);
        exit(90);
    }
    return handle;
}

// Serves Probe: Pong(seq) for Ping(seq), Heard(length) for Say, and for a
// carried token, Pass(hops + 1) on it, waits for Passed and answers Took with
// the hops that came back. Exits 0 after Bye, 3 when the client is gone.
static int serve(signet_handle client)
{
    Probe_Exp_message request;
    for (;;) {
        switch (Probe_Exp_recv(client, &request)) {
        case Probe_Exp_Ping:
            Probe_Exp_send_Pong(client, request.as.Ping.seq);
            break;
        case Probe_Exp_Say:
            Probe_Exp_send_Heard(client, request.as.Say.text.length);
            break;
        case Probe_Exp_Give: {
            signet_handle token = request.as.Give.token;
            Token_Imp_message passed;
            uint32_t hops = 0;
            if (Token_Imp_send_Pass(token, 1) == SIGNET_OK && Token_Imp_recv(token, &passed) == Token_Imp_Passed)
                hops = passed.as.Passed.hops;
            Probe_Exp_send_Took(client, hops);
            break;
        }
        case Probe_Exp_GiveTwo:
        case Probe_Exp_Forward:
            Probe_Exp_send_Took(client, 0);
            break;
        case Probe_Exp_Bye:
            return 0;
        case Probe_Exp_CLOSED:
            return 3;
        case Probe_Exp_FAILED:
            printf("child: receive failed with status %d\n", (int)request.status);
            return 4;
        }
    }
}

static void wait_and_report(int use_select)
{
    signet_handle server = startup(0);
    Probe_Imp_message reply;
    if (use_select) {
        signet_handle quiet_importer = 0, quiet_exporter = 0;
        signet_channel_create(Probe_descriptor, Probe_DESCRIPTOR_SIZE, &quiet_importer, &quiet_exporter);
        signet_handle set[2] = { quiet_exporter, server };
        uint32_t index = 9;
        int32_t status = signet_channel_select(set, 2, SIGNET_WAIT_FOREVER, &index);
        printf("child: select returned %d with index %u\n", (int)status, (unsigned)index);
    }
    Probe_Imp_tag tag = Probe_Imp_recv(server, &reply);
    printf("child: recv saw %s\n", tag == Probe_Imp_CLOSED ? "CLOSED" : "something else");
    fflush(stdout);
}

int main(int argc, char** argv)
{
    char const* what = arg_or_empty(argc, argv, 1);
    if (strcmp(what, "exit") == 0)
        signet_exit(atoi(arg_or_empty(argc, argv, 2)));
    if (strcmp(what, "trap") == 0)
        __builtin_trap();
    if (strcmp(what, "sleep") == 0) {
        signet_sleep(60ull * 1000000000ull);
        return 0;
    }
    if (strcmp(what, "tick") == 0) {
        signet_handle server = startup(0);
        for (uint32_t n = 1;; ++n) {
            uint64_t start = 0, now = 0;
            signet_time_now(SIGNET_CLOCK_MONOTONIC, &start);
            do
                signet_time_now(SIGNET_CLOCK_MONOTONIC, &now);
            while (now - start < 1000000);
            Probe_Imp_message reply;
            if (Probe_Imp_send_Ping(server, n) != SIGNET_OK || Probe_Imp_recv(server, &reply) != Probe_Imp_Pong)
                return 0;
        }
    }
    if (strcmp(what, "args") == 0) {
        for (int i = 0; i < argc; ++i)
            printf("[%s]", argv[i]);
        printf("\n");
        return 0;
    }
    if (strcmp(what, "handles") == 0) {
        uint32_t count = signet_startup_handle_count();
        for (uint32_t i = 0; i < count; ++i) {
            if (Probe_Imp_send_Ping(startup(i), i) != SIGNET_OK)
                return 5;
        }
        return (int)count;
    }
    if (strcmp(what, "serve") == 0)
        return serve(startup(0));
    if (strcmp(what, "die-mid-request") == 0 || strcmp(what, "die-after-reply") == 0 || strcmp(what, "die-later") == 0) {
        signet_handle client = startup(0);
        Probe_Exp_message request;
        if (Probe_Exp_recv(client, &request) != Probe_Exp_Ping)
            return 6;
        if (strcmp(what, "die-mid-request") == 0)
            __builtin_trap();
        if (strcmp(what, "die-after-reply") == 0)
            Probe_Exp_send_Pong(client, request.as.Ping.seq);
        else
            signet_sleep(20000000);
        return 0;
    }
    if (strcmp(what, "wait-child") == 0) {
        signet_handle importer = 0, exporter = 0, grandchild = 0;
        signet_channel_create(Probe_descriptor, Probe_DESCRIPTOR_SIZE, &importer, &exporter);
        if (signet_child_create("child", 5, &importer, 1, "wait-recv", 9, &grandchild) != SIGNET_OK || signet_child_start(grandchild) != SIGNET_OK)
            return 7;
        int32_t status = 0;
        signet_child_wait(grandchild, SIGNET_WAIT_FOREVER, &status);
        return 8; // not reached: the parent stops this SIP while it waits
    }
    if (strcmp(what, "wait-recv") == 0 || strcmp(what, "wait-select") == 0) {
        wait_and_report(strcmp(what, "wait-select") == 0);
        return 0;
    }
    if (strcmp(what, "violate-direction") == 0) {
        Probe_Pong pong = { 1 };
        signet_channel_send(startup(0), Probe_MSG_Pong, &pong, sizeof pong);
        return 0; // not reached: the kernel stops this SIP
    }
    if (strcmp(what, "violate-state") == 0) {
        signet_handle stream = startup(0);
        static Stream_Item item;
        Stream_Imp_send_Item_message(stream, &item);
        Stream_Imp_send_End(stream, 1);
        return 0; // not reached
    }
    if (strcmp(what, "violate-after-end") == 0) {
        signet_handle server = startup(0);
        Probe_Imp_send_Bye(server);
        Probe_Imp_send_Ping(server, 1);
        return 0; // not reached
    }
    if (strcmp(what, "violate-turn") == 0) {
        Probe_Exp_send_Pong(startup(0), 1);
        return 0; // not reached
    }
    if (strcmp(what, "violate-unreceived") == 0) {
        signet_handle client = startup(0);
        uint32_t index = 0;
        signet_channel_select(&client, 1, SIGNET_WAIT_FOREVER, &index);
        Probe_Exp_send_Pong(client, 1);
        return 0; // not reached
    }
    printf("child: unknown behaviour '%s'\n", what);
    return 99;
}
