// The network ABI from a driver's side (tests/kernel/NetTests.cpp).
//
//   statuses          every status net_* can return without a client; exits 0 if all were right
//   echo N            listens on "echo", serves N clients one after another: sends back
//                     what each sends until it finishes sending, then finishes too
//   accept            listens and waits for a client forever (a target for kill)
//   recv              takes one client and waits for its bytes forever (a target for kill)
//   leave             listens, then exits without closing anything
//   reset             takes one client and prints what its next receive says
//   flood MS          takes one client (which never reads) and sends 64 MiB with a
//                     timeout of MS milliseconds; prints the status and how much went
//   select            channel_select over sockets and an endpoint together: prints
//                     "listening", "accepted" and "peer-closed" where the test acts,
//                     and "select: N failures" at the end
//   select-forever    takes one client and selects on it and an endpoint forever (a target for kill)
//
// Prints "peer ADDRESS" for each client it takes, and "fail: ..." for what went wrong.
#include <signet/abi.h>
#include <signet/thread.h>

#include "blockpipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void expect(int32_t got, int32_t wanted, char const* what)
{
    if (got != wanted) {
        printf("fail: %s: status %d, wanted %d\n", what, (int)got, (int)wanted);
        ++failures;
    }
}

static uint32_t listen_or_exit(void)
{
    uint32_t listener = 0;
    int32_t status = signet_net_listen("echo", 4, &listener);
    if (status != SIGNET_OK) {
        printf("fail: listen: status %d\n", (int)status);
        exit(2);
    }
    return listener;
}

static uint32_t accept_or_exit(uint32_t listener)
{
    uint32_t connection = 0, length = 0;
    char peer[64];
    int32_t status = signet_net_accept(listener, -1, &connection, peer, sizeof peer - 1, &length);
    if (status != SIGNET_OK) {
        printf("fail: accept: status %d\n", (int)status);
        exit(2);
    }
    peer[length < sizeof peer - 1 ? length : sizeof peer - 1] = '\0';
    printf("peer %s\n", peer);
    fflush(stdout);
    return connection;
}

static int statuses(void)
{
    uint32_t listener = 0, other = 0, connection = 0, length = 0, count = 0;
    char buffer[16];
    expect(signet_net_listen("nope", 4, &listener), SIGNET_DENIED, "a port the manifest does not declare");
    expect(signet_net_listen("", 0, &listener), SIGNET_INVALID_ARGUMENT, "an empty name");
    expect(signet_net_listen((char const*)0xfffffff0u, 64, &listener), SIGNET_OUT_OF_BOUNDS, "a name outside memory");
    expect(signet_net_listen("echo", 4, (uint32_t*)0xfffffffcu), SIGNET_OUT_OF_BOUNDS, "an out pointer outside memory");
    expect(signet_net_listen("unbound", 7, &listener), SIGNET_NOT_FOUND, "a declared port the host bound nothing to");
    expect(signet_net_listen("echo", 4, &listener), SIGNET_OK, "listen");
    expect(signet_net_listen("echo", 4, &other), SIGNET_WOULD_BLOCK, "a second listen while the first is open");
    expect(signet_net_accept(listener, 0, &connection, buffer, sizeof buffer, &length), SIGNET_TIMED_OUT, "accept without waiting");
    expect(signet_net_accept(listener, 20 * 1000000, &connection, buffer, sizeof buffer, &length), SIGNET_TIMED_OUT, "accept for 20 ms");
    expect(signet_net_accept(listener, 0, (uint32_t*)0xfffffffcu, buffer, sizeof buffer, &length), SIGNET_OUT_OF_BOUNDS, "accept into nowhere");
    expect(signet_net_accept(listener + 1000, 0, &connection, buffer, sizeof buffer, &length), SIGNET_BAD_HANDLE, "accept on no handle");
    expect(signet_net_recv(listener, buffer, sizeof buffer, 0, &count), SIGNET_BAD_HANDLE, "recv on a listener");
    expect(signet_net_send(listener, buffer, sizeof buffer, 0, &count), SIGNET_BAD_HANDLE, "send on a listener");
    expect(signet_net_shutdown(listener), SIGNET_BAD_HANDLE, "shutdown of a listener");
    expect(signet_net_accept(123456, 0, &connection, buffer, sizeof buffer, &length), SIGNET_BAD_HANDLE, "accept on a forged handle");
    expect(signet_handle_close(listener), SIGNET_OK, "closing the listener");
    expect(signet_net_accept(listener, 0, &connection, buffer, sizeof buffer, &length), SIGNET_BAD_HANDLE, "accept on a closed listener");
    expect(signet_net_listen("echo", 4, &other), SIGNET_OK, "listen again once the first is closed");
    return failures ? 1 : 0;
}

static int echo(int clients)
{
    uint32_t listener = listen_or_exit();
    static char buffer[65536];
    for (int i = 0; i < clients; ++i) {
        uint32_t connection = accept_or_exit(listener);
        for (;;) {
            uint32_t got = 0, sent = 0;
            int32_t status = signet_net_recv(connection, buffer, sizeof buffer, 10ll * 1000000000, &got);
            if (status != SIGNET_OK) {
                printf("fail: recv: status %d\n", (int)status);
                break;
            }
            if (got == 0) {
                expect(signet_net_shutdown(connection), SIGNET_OK, "shutdown");
                break;
            }
            status = signet_net_send(connection, buffer, got, 10ll * 1000000000, &sent);
            if (status != SIGNET_OK || sent != got) {
                printf("fail: send: status %d, %u of %u bytes\n", (int)status, sent, got);
                break;
            }
        }
        expect(signet_handle_close(connection), SIGNET_OK, "closing a connection");
        fflush(stdout);
    }
    return failures ? 1 : 0;
}

static signet_handle s_importer;
static _Alignas(16) uint8_t s_closer_stack[16 * 1024];

// Closes the importer's end after 50 ms, while the main thread waits in a select.
static void close_importer_later(void* unused)
{
    (void)unused;
    (void)signet_sleep(50 * 1000000);
    (void)signet_handle_close(s_importer);
    signet_thread_exit(0);
}

static void say(char const* line)
{
    printf("%s\n", line);
    fflush(stdout);
}

static int selects(void)
{
    uint32_t listener = listen_or_exit(), exporter = 0, connection = 0, length = 0, index = 99, got = 0;
    char buffer[16], peer[64];
    expect(signet_channel_create(BlockPipe_descriptor, BlockPipe_DESCRIPTOR_SIZE, &s_importer, &exporter), SIGNET_OK, "channel_create");
    uint32_t both[2] = { exporter, listener };
    expect(signet_channel_select(both, 2, 0, &index), SIGNET_TIMED_OUT, "select on an endpoint and a listener, nothing ready");
    say("listening");
    expect(signet_channel_select(both, 2, -1, &index), SIGNET_OK, "select until a client comes");
    expect((int32_t)index, 1, "the listener is the one ready");
    expect(signet_net_accept(listener, 0, &connection, peer, sizeof peer, &length), SIGNET_OK, "accept without waiting after the select");
    uint32_t talk[2] = { exporter, connection };
    expect(signet_channel_select(talk, 2, 20 * 1000000, &index), SIGNET_TIMED_OUT, "select for 20 ms on a client that sends nothing");
    say("accepted");
    expect(signet_channel_select(talk, 2, -1, &index), SIGNET_OK, "select until the client sends");
    expect((int32_t)index, 1, "the connection is the one ready");
    expect(signet_net_recv(connection, buffer, sizeof buffer, 0, &got), SIGNET_OK, "recv without waiting after the select");
    expect(got == 4 && memcmp(buffer, "ping", 4) == 0 ? 0 : 1, 0, "the client's bytes");
    // An endpoint whose peer goes while the select waits on both.
    signet_handle closer = 0;
    expect(signet_thread_start(close_importer_later, 0, s_closer_stack, sizeof s_closer_stack, &closer), SIGNET_OK, "thread_start");
    uint32_t reversed[2] = { connection, exporter };
    expect(signet_channel_select(reversed, 2, 10ll * 1000000000, &index), SIGNET_OK, "select until the importer's end closes");
    expect((int32_t)index, 1, "the endpoint is the one ready");
    int32_t joined = 0;
    expect(signet_thread_join(closer, -1, &joined), SIGNET_OK, "thread_join");
    say("peer-closed");
    // The client finishes sending: the end of its stream makes the connection ready.
    expect(signet_channel_select(&connection, 1, 10ll * 1000000000, &index), SIGNET_OK, "select until the client finishes");
    expect(signet_net_recv(connection, buffer, sizeof buffer, 0, &got), SIGNET_OK, "recv the end of the stream");
    expect((int32_t)got, 0, "the end of the stream");
    // Handles a select cannot wait on, and closed ones.
    expect(signet_channel_select(&closer, 1, 0, &index), SIGNET_BAD_HANDLE, "select on a thread handle");
    expect(signet_handle_close(connection), SIGNET_OK, "closing the connection");
    expect(signet_channel_select(&connection, 1, 0, &index), SIGNET_BAD_HANDLE, "select on a closed connection");
    printf("select: %d failures\n", failures);
    return failures ? 1 : 0;
}

int main(int argc, char** argv)
{
    char const* mode = argc > 1 ? argv[1] : "";
    char const* value = argc > 2 ? argv[2] : "0";
    int status = 0;
    if (strcmp(mode, "statuses") == 0) {
        status = statuses();
    } else if (strcmp(mode, "echo") == 0) {
        status = echo(atoi(value));
    } else if (strcmp(mode, "accept") == 0) {
        accept_or_exit(listen_or_exit());
    } else if (strcmp(mode, "recv") == 0) {
        uint32_t connection = accept_or_exit(listen_or_exit()), got = 0;
        static char buffer[16];
        signet_net_recv(connection, buffer, sizeof buffer, -1, &got);
    } else if (strcmp(mode, "leave") == 0) {
        listen_or_exit();
    } else if (strcmp(mode, "reset") == 0) {
        uint32_t connection = accept_or_exit(listen_or_exit()), got = 0;
        static char buffer[16];
        int32_t result;
        do
            result = signet_net_recv(connection, buffer, sizeof buffer, 10ll * 1000000000, &got);
        while (result == SIGNET_OK && got > 0);
        printf("recv: status %d, %u bytes\n", (int)result, got);
    } else if (strcmp(mode, "select") == 0) {
        status = selects();
    } else if (strcmp(mode, "select-forever") == 0) {
        uint32_t connection = accept_or_exit(listen_or_exit()), exporter = 0, index = 0;
        expect(signet_channel_create(BlockPipe_descriptor, BlockPipe_DESCRIPTOR_SIZE, &s_importer, &exporter), SIGNET_OK, "channel_create");
        uint32_t both[2] = { exporter, connection };
        say("selecting");
        signet_channel_select(both, 2, -1, &index);
        say("fail: the select ended");
    } else if (strcmp(mode, "flood") == 0) {
        uint32_t connection = accept_or_exit(listen_or_exit()), sent = 0;
        uint32_t const total = 64u << 20;
        char* data = calloc(total, 1);
        int32_t result = signet_net_send(connection, data, total, (int64_t)atoi(value) * 1000000, &sent);
        printf("send: status %d, %s\n", (int)result, sent > 0 && sent < total ? "partly sent" : "not partly sent");
    } else {
        status = 2;
    }
    return status;
}
