// The parent side of the two-SIP channel tests: argv[1] names a scenario; it
// creates channels, starts "child" (child.c) with one end, and checks what it
// sees. Every scenario ends in a report ("<scenario>: N checks, M failed").
#include "check.h"

static signet_handle start_child(char const* args, uint32_t args_length, signet_handle const* handles, uint32_t count)
{
    signet_handle child = 0;
    CHECK(signet_child_create("child", 5, handles, count, args, args_length, &child) == SIGNET_OK, "create the child");
    CHECK(signet_child_start(child) == SIGNET_OK, "start the child");
    return child;
}

#define START_CHILD(literal, handles, count) start_child(literal, (uint32_t)sizeof(literal) - 1, handles, count)

static int32_t wait_child(signet_handle child)
{
    int32_t status = -1;
    CHECK(signet_child_wait(child, SIGNET_WAIT_FOREVER, &status) == SIGNET_OK, "wait for the child");
    return status;
}

// ---- Protocol violations: the child breaks the protocol, the parent sees the channel close.

static void violation(char const* args, uint32_t args_length, int stream)
{
    signet_handle importer = 0, exporter = 0;
    if (stream)
        CREATE_CHANNEL(Stream, importer, exporter);
    else
        CREATE_CHANNEL(Probe, importer, exporter);
    signet_handle child = start_child(args, args_length, &importer, 1);
    if (stream) {
        // The Item before the violation was sent, so it arrives; then the channel is closed.
        Stream_Exp_message item;
        CHECK(Stream_Exp_recv(exporter, &item) == Stream_Exp_Item, "the message before the violation arrives");
        CHECK(Stream_Exp_recv(exporter, &item) == Stream_Exp_CLOSED, "then the violator's end is closed");
    } else {
        Probe_Exp_message request;
        Probe_Exp_tag tag = Probe_Exp_recv(exporter, &request);
        if (tag == Probe_Exp_Bye)
            tag = Probe_Exp_recv(exporter, &request);
        CHECK(tag == Probe_Exp_CLOSED, "the violator's end is closed");
    }
    CHECK(wait_child(child) == 134, "the violator was stopped: 134");
    signet_handle_close(exporter);
    signet_handle_close(child);
}

// The child as exporter speaks when the importer's turn is.
static void violation_by_the_exporter(void)
{
    signet_handle importer = 0, exporter = 0;
    CREATE_CHANNEL(Probe, importer, exporter);
    signet_handle child = START_CHILD("violate-turn", &exporter, 1);
    Probe_Imp_message reply;
    CHECK(Probe_Imp_recv(importer, &reply) == Probe_Imp_CLOSED, "the violator's end is closed");
    CHECK(Probe_Imp_send_Ping(importer, 1) == SIGNET_CLOSED, "and sends to it are CLOSED");
    CHECK(wait_child(child) == 134, "the violator was stopped: 134");
    signet_handle_close(importer);
    signet_handle_close(child);
}

// The child as exporter answers a Ping it has not received.
static void violation_before_receiving(void)
{
    signet_handle importer = 0, exporter = 0;
    CREATE_CHANNEL(Probe, importer, exporter);
    signet_handle child = START_CHILD("violate-unreceived", &exporter, 1);
    CHECK(Probe_Imp_send_Ping(importer, 1) == SIGNET_OK, "send a Ping");
    Probe_Imp_message reply;
    CHECK(Probe_Imp_recv(importer, &reply) == Probe_Imp_CLOSED, "no answer arrives: the violator's end is closed");
    CHECK(wait_child(child) == 134, "the violator was stopped: 134");
    signet_handle_close(importer);
    signet_handle_close(child);
}

// ---- Peer death: the child ends at each point of a conversation; the parent never hangs.

static void death_before_the_first_message(void)
{
    signet_handle importer = 0, exporter = 0;
    CREATE_CHANNEL(Probe, importer, exporter);
    signet_handle child = START_CHILD("exit\0" "5", &exporter, 1);
    CHECK(wait_child(child) == 5, "the child exited 5 without a word");
    CHECK(Probe_Imp_send_Ping(importer, 1) == SIGNET_CLOSED, "the first send finds the channel closed");
    Probe_Imp_message reply;
    CHECK(Probe_Imp_recv(importer, &reply) == Probe_Imp_CLOSED, "recv sees CLOSED");
    signet_handle_close(importer);
    signet_handle_close(child);
}

static void death_racing_the_first_message(void)
{
    signet_handle importer = 0, exporter = 0;
    CREATE_CHANNEL(Probe, importer, exporter);
    signet_handle child = START_CHILD("exit\0" "5", &exporter, 1);
    int32_t status = Probe_Imp_send_Ping(importer, 1);
    CHECK(status == SIGNET_OK || status == SIGNET_CLOSED, "a send racing the peer's end is OK or CLOSED");
    Probe_Imp_message reply;
    CHECK(Probe_Imp_recv(importer, &reply) == Probe_Imp_CLOSED, "recv sees CLOSED");
    CHECK(wait_child(child) == 5, "the child exited 5");
    signet_handle_close(importer);
    signet_handle_close(child);
}

static void death_mid_request(void)
{
    signet_handle importer = 0, exporter = 0;
    CREATE_CHANNEL(Probe, importer, exporter);
    signet_handle child = START_CHILD("die-mid-request", &exporter, 1);
    CHECK(Probe_Imp_send_Ping(importer, 1) == SIGNET_OK, "send the request");
    Probe_Imp_message reply;
    CHECK(Probe_Imp_recv(importer, &reply) == Probe_Imp_CLOSED, "the server died before answering: CLOSED");
    CHECK(wait_child(child) == 134, "it trapped: 134");
    signet_handle_close(importer);
    signet_handle_close(child);
}

static void death_after_the_reply(void)
{
    signet_handle importer = 0, exporter = 0;
    CREATE_CHANNEL(Probe, importer, exporter);
    signet_handle child = START_CHILD("die-after-reply", &exporter, 1);
    CHECK(Probe_Imp_send_Ping(importer, 41) == SIGNET_OK, "send the request");
    CHECK(wait_child(child) == 0, "the server answered and exited 0");
    Probe_Imp_message reply;
    CHECK(Probe_Imp_recv(importer, &reply) == Probe_Imp_Pong && reply.as.Pong.seq == 41, "the answer of a dead server still arrives");
    CHECK(Probe_Imp_recv(importer, &reply) == Probe_Imp_CLOSED, "then CLOSED");
    CHECK(Probe_Imp_send_Ping(importer, 2) == SIGNET_CLOSED, "and a send is CLOSED");
    signet_handle_close(importer);
    signet_handle_close(child);
}

static void death_while_blocked(int in_select)
{
    signet_handle importer = 0, exporter = 0, quiet_importer = 0, quiet_exporter = 0;
    CREATE_CHANNEL(Probe, importer, exporter);
    CREATE_CHANNEL(Probe, quiet_importer, quiet_exporter);
    // The child takes the request, sleeps 20 ms (this SIP is blocked by then) and exits without answering.
    signet_handle child = START_CHILD("die-later", &exporter, 1);
    CHECK(Probe_Imp_send_Ping(importer, 1) == SIGNET_OK, "send the request");
    if (in_select) {
        signet_handle set[2] = { quiet_importer, importer };
        uint32_t index = 9;
        CHECK(signet_channel_select(set, 2, SIGNET_WAIT_FOREVER, &index) == SIGNET_OK && index == 1,
            "select wakes for the dead peer's endpoint");
    }
    Probe_Imp_message reply;
    CHECK(Probe_Imp_recv(importer, &reply) == Probe_Imp_CLOSED, "recv sees CLOSED");
    CHECK(wait_child(child) == 0, "the child exited 0");
    signet_handle_close(importer);
    signet_handle_close(quiet_importer);
    signet_handle_close(quiet_exporter);
    signet_handle_close(child);
}

// The child blocks in recv (or select) and the parent stops it there.
static void stopped_while_blocked(int in_select)
{
    signet_handle importer = 0, exporter = 0;
    CREATE_CHANNEL(Probe, importer, exporter);
    signet_handle child = in_select ? START_CHILD("wait-select", &importer, 1) : START_CHILD("wait-recv", &importer, 1);
    // Give the child time to block; correctness does not depend on it.
    signet_sleep(5000000);
    CHECK(signet_child_stop(child) == SIGNET_OK, "stop the child");
    CHECK(wait_child(child) == 137, "the stopped child's status is 137");
    Probe_Exp_message request;
    CHECK(Probe_Exp_recv(exporter, &request) == Probe_Exp_CLOSED, "its end closed with it");
    signet_handle_close(exporter);
    signet_handle_close(child);
}

// The child waits for a grandchild and the parent stops it there; the grandchild,
// blocked in recv on a channel the child held, then sees CLOSED.
static void stopped_while_waiting_for_a_child(void)
{
    signet_handle child = START_CHILD("wait-child", NULL, 0);
    signet_sleep(5000000);
    CHECK(signet_child_stop(child) == SIGNET_OK, "stop the child");
    CHECK(wait_child(child) == 137, "the child stopped in child_wait: 137");
    signet_handle_close(child);
}

// A child that never started holds an endpoint; closing its handle ends it, so the
// endpoint closes too. (A hang guard of 20 s turns the bug into a failed check.)
static void close_an_unstarted_child(void)
{
    signet_handle importer = 0, exporter = 0, child = 0;
    CREATE_CHANNEL(Probe, importer, exporter);
    CHECK(signet_child_create("child", 5, &exporter, 1, "serve", 5, &child) == SIGNET_OK, "create a child, never started");
    CHECK(signet_handle_close(child) == SIGNET_OK, "close its handle");
    uint32_t index = 9;
    CHECK(signet_channel_select(&importer, 1, 20000000000ll, &index) == SIGNET_OK && index == 0,
        "the endpoint it held closes: ready, not timed out");
    Probe_Imp_message reply;
    CHECK(Probe_Imp_recv(importer, &reply) == Probe_Imp_CLOSED, "recv sees CLOSED");
    signet_handle_close(importer);
}

// The same when the parent ends holding the handle: here a started child waits on
// the other end of the unstarted one's channel.
static void leave_an_unstarted_child(void)
{
    signet_handle importer = 0, exporter = 0, unstarted = 0;
    CREATE_CHANNEL(Probe, importer, exporter);
    CHECK(signet_child_create("child", 5, &exporter, 1, "serve", 5, &unstarted) == SIGNET_OK, "create a child, never started");
    start_child("wait-recv", 9, &importer, 1);
}

// The parent leaves (by returning or by trapping) while the child waits: the child sees CLOSED.
static void leave_while_child_waits(char const* args, uint32_t args_length, int trap)
{
    signet_handle importer = 0, exporter = 0;
    CREATE_CHANNEL(Probe, importer, exporter);
    signet_handle child = start_child(args, args_length, &importer, 1);
    signet_sleep(5000000);
    (void)child;
    (void)exporter;
    if (trap) {
        report("leave");
        __builtin_trap();
    }
}

// ---- Select over children: a child is ready once it has ended.

static int described_as(signet_handle child, char const* text)
{
    char buffer[32];
    uint32_t length = 0;
    uint64_t id = 0;
    return signet_child_describe(child, &id, buffer, sizeof buffer, &length) == SIGNET_OK && length == strlen(text) && memcmp(buffer, text, length) == 0;
}

// Answers one Ping on `exporter` within `timeout_ns`; whether one came.
static int answer_ping(signet_handle exporter, int64_t timeout_ns)
{
    uint32_t index = 0;
    Probe_Exp_message request;
    if (signet_channel_select(&exporter, 1, timeout_ns, &index) != SIGNET_OK || Probe_Exp_recv(exporter, &request) != Probe_Exp_Ping)
        return 0;
    return Probe_Exp_send_Pong(exporter, request.as.Ping.seq) == SIGNET_OK;
}

static void suspend_and_resume(void)
{
    uint32_t index = 0;
    Probe_Imp_message reply;
    // A server blocked in recv: suspended, it answers nothing until it is resumed.
    signet_handle importer = 0, exporter = 0;
    CREATE_CHANNEL(Probe, importer, exporter);
    signet_handle server = START_CHILD("serve", &exporter, 1);
    CHECK(Probe_Imp_send_Ping(importer, 1) == SIGNET_OK && Probe_Imp_recv(importer, &reply) == Probe_Imp_Pong, "the server answers");
    CHECK(signet_child_suspend(server) == SIGNET_OK, "suspend it");
    CHECK(described_as(server, "suspended"), "child_describe says suspended");
    CHECK(Probe_Imp_send_Ping(importer, 2) == SIGNET_OK, "a request to the suspended server is queued");
    CHECK(signet_channel_select(&importer, 1, 100000000, &index) == SIGNET_TIMED_OUT, "no answer while it is suspended (100 ms)");
    CHECK(signet_child_suspend(server) == SIGNET_OK, "suspending it again is OK");
    CHECK(signet_child_resume(server) == SIGNET_OK, "resume it");
    CHECK(Probe_Imp_recv(importer, &reply) == Probe_Imp_Pong && reply.as.Pong.seq == 2, "resumed, it answers the request that waited");
    CHECK(described_as(server, "running"), "child_describe says running");
    CHECK(signet_child_resume(server) == SIGNET_OK, "resuming a running child is OK");

    // A child computing between messages stops within its quantum: at most the
    // Ping it was computing comes after the suspension, then none.
    signet_handle tick_importer = 0, tick_exporter = 0;
    CREATE_CHANNEL(Probe, tick_importer, tick_exporter);
    signet_handle ticker = START_CHILD("tick", &tick_importer, 1);
    int answered = 0;
    for (int i = 0; i < 3; ++i)
        answered += answer_ping(tick_exporter, SIGNET_WAIT_FOREVER);
    CHECK(answered == 3, "the ticking child sends Pings");
    CHECK(signet_child_suspend(ticker) == SIGNET_OK, "suspend the ticking child");
    int after = 0;
    while (after < 5 && answer_ping(tick_exporter, 100000000))
        ++after;
    CHECK(after <= 1, "suspended, it sends at most the Ping it was computing, then none for 100 ms");
    CHECK(signet_child_resume(ticker) == SIGNET_OK && answer_ping(tick_exporter, SIGNET_WAIT_FOREVER), "resumed, it ticks again");

    // A suspended child whose handle is closed goes on: nobody could resume it any more.
    signet_handle orphan_importer = 0, orphan_exporter = 0;
    CREATE_CHANNEL(Probe, orphan_importer, orphan_exporter);
    signet_handle orphan = START_CHILD("tick", &orphan_importer, 1);
    CHECK(answer_ping(orphan_exporter, SIGNET_WAIT_FOREVER), "another ticking child");
    CHECK(signet_child_suspend(orphan) == SIGNET_OK, "suspend it");
    int late = 0;
    while (late < 5 && answer_ping(orphan_exporter, 100000000))
        ++late;
    CHECK(late <= 1, "it stops");
    signet_handle_close(orphan);
    CHECK(answer_ping(orphan_exporter, SIGNET_WAIT_FOREVER), "its handle closed, it ticks again");
    signet_handle_close(orphan_exporter); // it ends by itself: its next Ping finds the channel closed

    // A suspended child still ends when it is stopped.
    CHECK(signet_child_suspend(ticker) == SIGNET_OK && signet_child_stop(ticker) == SIGNET_OK, "stop a suspended child");
    CHECK(wait_child(ticker) == 137, "it ends: 137");
    CHECK(signet_child_suspend(ticker) == SIGNET_OK && signet_child_resume(ticker) == SIGNET_OK, "suspending or resuming an ended child is OK (nothing to do)");

    // Refusals.
    signet_handle unstarted = 0;
    CHECK(signet_child_create("child", 5, NULL, 0, "exit", 4, &unstarted) == SIGNET_OK, "create a child, not started yet");
    CHECK(signet_child_suspend(unstarted) == SIGNET_INVALID_ARGUMENT && signet_child_resume(unstarted) == SIGNET_INVALID_ARGUMENT,
        "a child never started: INVALID_ARGUMENT");
    CHECK(signet_child_suspend(0x7777) == SIGNET_BAD_HANDLE && signet_child_resume(0x7777) == SIGNET_BAD_HANDLE, "a forged handle: BAD_HANDLE");
    CHECK(signet_child_suspend(importer) == SIGNET_BAD_HANDLE, "an endpoint is no child: BAD_HANDLE");
    signet_handle_close(unstarted);
    CHECK(Probe_Imp_send_Bye(importer) == SIGNET_OK && wait_child(server) == 0, "the server ends as usual");
    signet_handle_close(server);
    signet_handle_close(ticker);
    signet_handle_close(importer);
    signet_handle_close(tick_exporter);
}

static void select_children(void)
{
    signet_handle quiet_importer = 0, quiet_exporter = 0, importer = 0, exporter = 0, unstarted = 0;
    CREATE_CHANNEL(Probe, quiet_importer, quiet_exporter);
    CREATE_CHANNEL(Probe, importer, exporter);
    uint32_t index = 9;
    // A child never started would never end: as child_wait, INVALID_ARGUMENT.
    CHECK(signet_child_create("child", 5, NULL, 0, "exit", 4, &unstarted) == SIGNET_OK, "create a child, not started yet");
    signet_handle with_unstarted[2] = { quiet_importer, unstarted };
    CHECK(signet_channel_select(with_unstarted, 2, 0, &index) == SIGNET_INVALID_ARGUMENT, "a child never started is INVALID_ARGUMENT");
    signet_handle_close(unstarted);

    // A child blocked in recv is not ready; stopped, it is, and its status is there at once.
    signet_handle waiting = START_CHILD("wait-recv", &importer, 1);
    signet_handle set[2] = { quiet_importer, waiting };
    CHECK(signet_channel_select(set, 2, 0, &index) == SIGNET_TIMED_OUT && index == 9, "a running child is not ready: TIMED_OUT");
    CHECK(signet_channel_select(set, 2, 5000000, &index) == SIGNET_TIMED_OUT, "nor after 5 ms");
    CHECK(signet_child_stop(waiting) == SIGNET_OK, "stop it");
    CHECK(signet_channel_select(set, 2, SIGNET_WAIT_FOREVER, &index) == SIGNET_OK && index == 1, "the stopped child is ready");
    int32_t status = -1;
    CHECK(signet_child_wait(waiting, 0, &status) == SIGNET_OK && status == 137, "and child_wait answers at once: 137");
    CHECK(signet_channel_select(set, 2, 0, &index) == SIGNET_OK && index == 1, "it stays ready");

    // A child that ends by itself, while the parent waits in select: select wakes.
    signet_handle later_importer = 0, later_exporter = 0;
    CREATE_CHANNEL(Probe, later_importer, later_exporter);
    signet_handle later = START_CHILD("die-later", &later_exporter, 1);
    CHECK(Probe_Imp_send_Ping(later_importer, 1) == SIGNET_OK, "send the request it takes before it sleeps and exits");
    signet_handle both[2] = { quiet_importer, later };
    index = 9;
    CHECK(signet_channel_select(both, 2, SIGNET_WAIT_FOREVER, &index) == SIGNET_OK && index == 1, "select wakes when the child exits");
    CHECK(wait_child(later) == 0, "it exited 0");

    // Endpoints and children in one set: the first ready in the caller's order.
    CHECK(Probe_Imp_send_Ping(quiet_importer, 7) == SIGNET_OK, "a message for the first endpoint");
    signet_handle mixed[3] = { waiting, quiet_exporter, later };
    CHECK(signet_channel_select(mixed, 3, 0, &index) == SIGNET_OK && index == 0, "the ended child first");
    signet_handle mixed_other_way[3] = { quiet_exporter, waiting, later };
    CHECK(signet_channel_select(mixed_other_way, 3, 0, &index) == SIGNET_OK && index == 0, "the endpoint first");

    // A closed child handle is no handle at all.
    signet_handle_close(waiting);
    CHECK(signet_channel_select(&waiting, 1, 0, &index) == SIGNET_BAD_HANDLE, "a closed child handle is BAD_HANDLE");
    signet_handle_close(later);
    signet_handle_close(later_importer);
    signet_handle_close(importer);
    signet_handle_close(exporter);
    signet_handle_close(quiet_importer);
    signet_handle_close(quiet_exporter);
}

// ---- Endpoints in messages, between SIPs.

static void transfer(void)
{
    signet_handle importer = 0, exporter = 0, token_importer = 0, token_exporter = 0;
    CREATE_CHANNEL(Probe, importer, exporter);
    CREATE_CHANNEL(Token, token_importer, token_exporter);
    signet_handle child = START_CHILD("serve", &exporter, 1);

    // The send-state rule: a token that would receive next stays here.
    CHECK(Token_Imp_send_Pass(token_importer, 0) == SIGNET_OK, "move the token out of Ready");
    CHECK(Probe_Imp_send_Give(importer, token_importer) == SIGNET_INVALID_ARGUMENT, "a token that receives next cannot travel");
    Token_Exp_message pass;
    CHECK(Token_Exp_recv(token_exporter, &pass) == Token_Exp_Pass && pass.as.Pass.hops == 0, "the token still works here");
    CHECK(Token_Exp_send_Passed(token_exporter, 0) == SIGNET_OK, "and returns to Ready");
    Token_Imp_message passed;
    CHECK(Token_Imp_recv(token_importer, &passed) == Token_Imp_Passed, "receive the Passed");

    // In Ready it travels: the child gets a working handle, this SIP's is gone.
    CHECK(Probe_Imp_send_Give(importer, token_importer) == SIGNET_OK, "give the token to the child");
    CHECK(Token_Imp_send_Pass(token_importer, 5) == SIGNET_BAD_HANDLE, "the given token's handle is gone here");
    CHECK(Token_Exp_recv(token_exporter, &pass) == Token_Exp_Pass && pass.as.Pass.hops == 1, "the child passes the token back");
    CHECK(Token_Exp_send_Passed(token_exporter, 41) == SIGNET_OK, "answer it");
    Probe_Imp_message reply;
    CHECK(Probe_Imp_recv(importer, &reply) == Probe_Imp_Took && reply.as.Took.hops == 41, "the child's Took carries what it received");
    CHECK(Probe_Imp_send_Bye(importer) == SIGNET_OK, "say goodbye");
    CHECK(wait_child(child) == 0, "the child served and exited 0");
    CHECK(Token_Exp_recv(token_exporter, &pass) == Token_Exp_CLOSED, "the token closed with the child that held it");
    signet_handle_close(importer);
    signet_handle_close(token_exporter);
    signet_handle_close(child);
}

int main(int argc, char** argv)
{
    char const* scenario = arg_or_empty(argc, argv, 1);
    if (strcmp(scenario, "violate-direction") == 0)
        violation("violate-direction", 17, 0);
    else if (strcmp(scenario, "violate-state") == 0)
        violation("violate-state", 13, 1);
    else if (strcmp(scenario, "violate-after-end") == 0)
        violation("violate-after-end", 17, 0);
    else if (strcmp(scenario, "violate-turn") == 0)
        violation_by_the_exporter();
    else if (strcmp(scenario, "violate-unreceived") == 0)
        violation_before_receiving();
    else if (strcmp(scenario, "death-before-first") == 0)
        death_before_the_first_message();
    else if (strcmp(scenario, "death-racing-first") == 0)
        death_racing_the_first_message();
    else if (strcmp(scenario, "death-mid-request") == 0)
        death_mid_request();
    else if (strcmp(scenario, "death-after-reply") == 0)
        death_after_the_reply();
    else if (strcmp(scenario, "death-while-in-recv") == 0)
        death_while_blocked(0);
    else if (strcmp(scenario, "death-while-in-select") == 0)
        death_while_blocked(1);
    else if (strcmp(scenario, "stop-while-in-recv") == 0)
        stopped_while_blocked(0);
    else if (strcmp(scenario, "stop-while-in-select") == 0)
        stopped_while_blocked(1);
    else if (strcmp(scenario, "stop-while-in-child-wait") == 0)
        stopped_while_waiting_for_a_child();
    else if (strcmp(scenario, "close-unstarted-child") == 0)
        close_an_unstarted_child();
    else if (strcmp(scenario, "leave-unstarted-child") == 0)
        leave_an_unstarted_child();
    else if (strcmp(scenario, "leave-while-child-in-recv") == 0)
        leave_while_child_waits("wait-recv", 9, 0);
    else if (strcmp(scenario, "leave-while-child-in-select") == 0)
        leave_while_child_waits("wait-select", 11, 0);
    else if (strcmp(scenario, "trap-while-child-in-recv") == 0)
        leave_while_child_waits("wait-recv", 9, 1);
    else if (strcmp(scenario, "transfer") == 0)
        transfer();
    else if (strcmp(scenario, "select-children") == 0)
        select_children();
    else if (strcmp(scenario, "suspend") == 0)
        suspend_and_resume();
    else {
        printf("parent: unknown scenario '%s'\n", scenario);
        return 99;
    }
    return report(scenario);
}
