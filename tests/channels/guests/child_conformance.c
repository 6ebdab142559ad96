// Every status of the child calls: child_create, child_start, child_stop,
// child_wait, and what a child sees of its creation (arguments, startup
// handles). The host registers the program "child" (child.c).
#include "check.h"

#define CHILD "child"
#define CHILD_LENGTH 5

static signet_handle create(char const* args, uint32_t args_length, signet_handle const* handles, uint32_t count)
{
    signet_handle child = 0;
    int32_t status = signet_child_create(CHILD, CHILD_LENGTH, handles, count, args, args_length, &child);
    CHECK(status == SIGNET_OK, "child_create ok");
    return child;
}

// Creates, starts and waits for a child; returns its exit status.
static int32_t run(char const* args, uint32_t args_length)
{
    signet_handle child = create(args, args_length, NULL, 0);
    CHECK(signet_child_start(child) == SIGNET_OK, "child_start ok");
    int32_t status = -1;
    CHECK(signet_child_wait(child, SIGNET_WAIT_FOREVER, &status) == SIGNET_OK, "child_wait ok");
    CHECK(signet_handle_close(child) == SIGNET_OK, "close the child handle");
    return status;
}

static void child_create(void)
{
    signet_handle importer = 0, exporter = 0, child = 0xC0C0;
    CREATE_CHANNEL(Probe, importer, exporter);

    CHECK(signet_child_create("no-such-program", 15, NULL, 0, "", 0, &child) == SIGNET_NOT_FOUND, "an unknown program is NOT_FOUND");
    CHECK(signet_child_create(CHILD, 0, NULL, 0, "", 0, &child) == SIGNET_INVALID_ARGUMENT, "an empty program name is INVALID_ARGUMENT");
    static char long_name[300];
    memset(long_name, 'c', sizeof long_name);
    CHECK(signet_child_create(long_name, 257, NULL, 0, "", 0, &child) == SIGNET_INVALID_ARGUMENT, "a 257-byte program name is INVALID_ARGUMENT");
    static signet_handle many[65];
    CHECK(signet_child_create(CHILD, CHILD_LENGTH, many, 65, "", 0, &child) == SIGNET_INVALID_ARGUMENT,
        "65 startup handles is INVALID_ARGUMENT");
    static char big_args[64 * 1024 + 1];
    CHECK(signet_child_create(CHILD, CHILD_LENGTH, NULL, 0, big_args, sizeof big_args, &child) == SIGNET_INVALID_ARGUMENT,
        "arguments over 64 KiB are INVALID_ARGUMENT");

    signet_handle bad[2] = { exporter, 0x4242u };
    CHECK(signet_child_create(CHILD, CHILD_LENGTH, bad, 2, "", 0, &child) == SIGNET_BAD_HANDLE, "a bad startup handle is BAD_HANDLE");
    signet_handle twice[2] = { exporter, exporter };
    CHECK(signet_child_create(CHILD, CHILD_LENGTH, twice, 2, "", 0, &child) == SIGNET_INVALID_ARGUMENT,
        "a startup handle given twice is INVALID_ARGUMENT");

    CHECK(signet_child_create(BAD_POINTER, 8, NULL, 0, "", 0, &child) == SIGNET_OUT_OF_BOUNDS, "program name out of bounds");
    CHECK(signet_child_create(CHILD, CHILD_LENGTH, BAD_POINTER, 1, "", 0, &child) == SIGNET_OUT_OF_BOUNDS, "handles out of bounds");
    CHECK(signet_child_create(CHILD, CHILD_LENGTH, NULL, 0, BAD_POINTER, 8, &child) == SIGNET_OUT_OF_BOUNDS, "arguments out of bounds");
    CHECK(signet_child_create(CHILD, CHILD_LENGTH, NULL, 0, "", 0, BAD_POINTER) == SIGNET_OUT_OF_BOUNDS, "out_child out of bounds");
    CHECK(child == 0xC0C0, "refused creates write no handle");

    // A child handle is not an endpoint.
    signet_handle sleeper = create("sleep", 5, NULL, 0);
    CHECK(signet_child_create(CHILD, CHILD_LENGTH, &sleeper, 1, "", 0, &child) == SIGNET_BAD_HANDLE,
        "a child handle as a startup handle is BAD_HANDLE");
    CHECK(Probe_Imp_send_Ping(sleeper, 1) == SIGNET_BAD_HANDLE, "a child handle is not an endpoint");
    CHECK(signet_child_start(exporter) == SIGNET_BAD_HANDLE, "an endpoint is not a child");

    // After all that refusing, the exporter is still this SIP's.
    CHECK(Probe_Imp_send_Ping(importer, 7) == SIGNET_OK, "the channel still works");
    Probe_Exp_message request;
    CHECK(Probe_Exp_recv(exporter, &request) == Probe_Exp_Ping && request.as.Ping.seq == 7, "and the exporter still receives");
    CHECK(Probe_Exp_send_Pong(exporter, 7) == SIGNET_OK, "and answers");
    Probe_Imp_message reply;
    CHECK(Probe_Imp_recv(importer, &reply) == Probe_Imp_Pong, "the answer arrives");

    // Stopping a child that never started ends it; waiting for one is refused.
    int32_t status = -1;
    CHECK(signet_child_wait(sleeper, 0, &status) == SIGNET_INVALID_ARGUMENT, "waiting for a child that never started is INVALID_ARGUMENT");
    CHECK(signet_child_stop(sleeper) == SIGNET_OK, "child_stop before start ok");
    CHECK(signet_child_wait(sleeper, SIGNET_WAIT_FOREVER, &status) == SIGNET_OK && status == 137, "a child stopped before it started: 137");
    CHECK(signet_child_start(sleeper) == SIGNET_INVALID_ARGUMENT, "a stopped child cannot start");
    CHECK(signet_handle_close(sleeper) == SIGNET_OK, "close the stopped child's handle");
    CHECK(signet_child_stop(sleeper) == SIGNET_BAD_HANDLE, "child_stop on a closed handle is BAD_HANDLE");

    signet_handle_close(importer);
    signet_handle_close(exporter);
}

static void arguments_and_handles(void)
{
    // Arguments: NUL-separated, args[0] is the program name, empty ones are kept.
    signet_handle child = create("args\0alpha\0\0gamma delta", 24, NULL, 0);
    CHECK(signet_child_start(child) == SIGNET_OK, "start the args child");
    int32_t status = -1;
    CHECK(signet_child_wait(child, SIGNET_WAIT_FOREVER, &status) == SIGNET_OK && status == 0, "the args child exits 0");
    signet_handle_close(child);

    // Startup handles arrive in order, and leave the parent.
    enum { COUNT = 3 };
    signet_handle importers[COUNT], exporters[COUNT];
    for (unsigned i = 0; i < COUNT; ++i)
        CREATE_CHANNEL(Probe, importers[i], exporters[i]);
    child = create("handles", 7, importers, COUNT);
    for (unsigned i = 0; i < COUNT; ++i)
        CHECK(Probe_Imp_send_Ping(importers[i], 99) == SIGNET_BAD_HANDLE, "a given handle has left the parent");
    CHECK(signet_child_start(child) == SIGNET_OK, "start the handles child");
    for (unsigned i = 0; i < COUNT; ++i) {
        Probe_Exp_message request;
        CHECK(Probe_Exp_recv(exporters[i], &request) == Probe_Exp_Ping && request.as.Ping.seq == i, "startup handle i is the i-th given");
    }
    CHECK(signet_child_wait(child, SIGNET_WAIT_FOREVER, &status) == SIGNET_OK && status == COUNT, "the child saw 3 startup handles");
    for (unsigned i = 0; i < COUNT; ++i) {
        Probe_Exp_message request;
        CHECK(Probe_Exp_recv(exporters[i], &request) == Probe_Exp_CLOSED, "the child's end closed when it ended");
        signet_handle_close(exporters[i]);
    }
    signet_handle_close(child);

    // A receive waiting with too small a buffer: the message that comes is not
    // handed to it (a waiting receive is usually completed by the send itself);
    // it says LIMIT and how long the message is, which stays queued.
    signet_handle importer = 0, exporter = 0;
    CREATE_CHANNEL(Probe, importer, exporter);
    child = create("handles", 7, &importer, 1);
    CHECK(signet_child_start(child) == SIGNET_OK, "start the handles child");
    uint8_t small[2] = { 0xAA, 0xAA };
    uint32_t id = 77, length = 0;
    CHECK(signet_channel_recv(exporter, &id, small, sizeof small, &length) == SIGNET_LIMIT && length == sizeof(Probe_Ping),
        "a waiting receive too small for what comes is LIMIT, with the message's length");
    CHECK(id == 77 && small[0] == 0xAA && small[1] == 0xAA, "and it wrote neither the id nor the buffer");
    Probe_Exp_message request;
    CHECK(Probe_Exp_recv(exporter, &request) == Probe_Exp_Ping && request.as.Ping.seq == 0, "the message waits for a receive it fits");
    CHECK(signet_child_wait(child, SIGNET_WAIT_FOREVER, &status) == SIGNET_OK && status == 1, "the child saw 1 startup handle");
    signet_handle_close(exporter);
    signet_handle_close(child);
}

static void start_stop_wait(void)
{
    signet_handle child = create("sleep", 5, NULL, 0);
    CHECK(signet_child_start(child) == SIGNET_OK, "child_start ok");
    CHECK(signet_child_start(child) == SIGNET_INVALID_ARGUMENT, "child_start twice is INVALID_ARGUMENT");
    CHECK(signet_child_start(0) == SIGNET_BAD_HANDLE, "child_start on handle 0 is BAD_HANDLE");
    int32_t status = -1;
    CHECK(signet_child_wait(child, 0, &status) == SIGNET_TIMED_OUT && status == -1, "child_wait with timeout 0 on a sleeper: TIMED_OUT");
    uint64_t before = monotonic_ns();
    CHECK(signet_child_wait(child, 3000000, &status) == SIGNET_TIMED_OUT && status == -1, "child_wait with 3 ms on a sleeper: TIMED_OUT");
    CHECK(monotonic_ns() - before >= 3000000, "not before the timeout");
    CHECK(signet_child_wait(0, 0, &status) == SIGNET_BAD_HANDLE, "child_wait on handle 0 is BAD_HANDLE");
    CHECK(signet_child_wait(child, 0, BAD_POINTER) == SIGNET_OUT_OF_BOUNDS, "child_wait out_status out of bounds");
    CHECK(signet_child_stop(0) == SIGNET_BAD_HANDLE, "child_stop on handle 0 is BAD_HANDLE");
    CHECK(signet_child_stop(child) == SIGNET_OK, "child_stop ok");
    CHECK(signet_child_wait(child, SIGNET_WAIT_FOREVER, &status) == SIGNET_OK && status == 137, "a stopped child's status is 137");
    CHECK(signet_child_stop(child) == SIGNET_OK, "child_stop of a finished child is OK");
    CHECK(signet_child_wait(child, 0, &status) == SIGNET_OK && status == 137, "waiting again gives the status again");
    signet_handle_close(child);
}

static void exit_statuses(void)
{
    CHECK(run("exit\0" "0", 6) == 0, "exit 0 is 0");
    CHECK(run("exit\0" "1", 6) == 1, "exit 1 is 1");
    CHECK(run("exit\0" "42", 7) == 42, "exit 42 is 42");
    CHECK(run("exit\0" "255", 8) == 255, "exit 255 is 255");
    CHECK(run("exit\0" "300", 8) == 255, "exit 300 is 255");
    CHECK(run("exit\0" "-1", 7) == 255, "exit -1 is 255");
    CHECK(run("trap", 4) == 134, "a trap is 134");
}

static void closing_a_child_handle(void)
{
    // A started child keeps running when its handle is closed.
    signet_handle importer = 0, exporter = 0;
    CREATE_CHANNEL(Probe, importer, exporter);
    signet_handle child = create("serve", 5, &exporter, 1);
    CHECK(signet_child_start(child) == SIGNET_OK, "start a server");
    CHECK(signet_handle_close(child) == SIGNET_OK, "close its handle");
    Probe_Imp_message reply;
    CHECK(Probe_Imp_send_Ping(importer, 11) == SIGNET_OK && Probe_Imp_recv(importer, &reply) == Probe_Imp_Pong && reply.as.Pong.seq == 11,
        "the orphan still serves");
    CHECK(Probe_Imp_send_Bye(importer) == SIGNET_OK, "say goodbye");
    CHECK(Probe_Imp_recv(importer, &reply) == Probe_Imp_CLOSED, "the orphan ends and its end closes");
    signet_handle_close(importer);
}

static void table_full(void)
{
    static signet_handle handles[4096];
    unsigned count = 0;
    while (count + 2 <= 4096 && signet_channel_create(Token_descriptor, Token_DESCRIPTOR_SIZE, &handles[count], &handles[count + 1]) == SIGNET_OK)
        count += 2;
    CHECK(count == 4096, "fill the handle table");
    signet_handle child = 0xC0C0;
    CHECK(signet_child_create(CHILD, CHILD_LENGTH, NULL, 0, "exit\0" "0", 6, &child) == SIGNET_LIMIT && child == 0xC0C0,
        "child_create with a full table is LIMIT");
    // Giving a handle away makes room for the child's.
    child = create("exit\0" "0", 6, &handles[count - 1], 1);
    CHECK(child != 0, "giving one handle away makes room");
    CHECK(signet_child_start(child) == SIGNET_OK, "start it");
    int32_t status = -1;
    CHECK(signet_child_wait(child, SIGNET_WAIT_FOREVER, &status) == SIGNET_OK && status == 0, "it exits 0");
    signet_handle_close(child);
    while (--count)
        signet_handle_close(handles[count - 1]);
}

int main(void)
{
    child_create();
    arguments_and_handles();
    start_stop_wait();
    exit_statuses();
    closing_a_child_handle();
    table_full();
    return report("child conformance");
}
