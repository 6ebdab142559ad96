// A test importer of the network driver (tests/net): `signet boot --service
// netecho` starts it as a supervisor, which starts two workers (this program
// again, with the argument "worker"), each with a Directory connection it opened
// at /service/directory, and starts a worker again whenever one ends. Each
// worker opens /service/net/http, so the driver has two importers of the port,
// and serves every client it accepts at once, from one select: each line a
// client sends comes back to it, except
//   "bye"   the worker closes the connection's endpoint (the driver then closes
//           the socket: the client reads the end of the stream);
//   "crash" the worker traps, with its other clients connected (the driver
//           closes their sockets when the kernel closes the worker's ends).
#include <signet/abi.h>

#include "Directory.h"
#include "Tcp.h"

#include <stdio.h>
#include <string.h>

#define WORKERS 2
#define CLIENTS_MAX 63 // with the listener, the 64 endpoints of one select
#define RESTARTS_MAX 8

static signet_handle open_path(signet_handle directory, char const* path, void const* descriptor, uint32_t size)
{
    static Directory_Imp_message answer;
    if (Directory_Imp_send_Open(directory, path, (uint32_t)strlen(path)) != SIGNET_OK || Directory_Imp_recv(directory, &answer) != Directory_Imp_Opened) {
        fprintf(stderr, "netecho: cannot open %s\n", path);
        return 0;
    }
    if (descriptor && signet_endpoint_check(answer.as.Opened.endpoint, descriptor, size, 0) != SIGNET_OK) {
        fprintf(stderr, "netecho: %s is not what it should be\n", path);
        return 0;
    }
    return answer.as.Opened.endpoint;
}

static signet_handle start_worker(signet_handle directory)
{
    signet_handle connection = open_path(directory, "/service/directory", Directory_descriptor, Directory_DESCRIPTOR_SIZE), child = 0;
    static char const args[] = "worker"; // argv[1]
    if (!connection || signet_child_create("netecho", 7, &connection, 1, args, sizeof args, &child) != SIGNET_OK || signet_child_start(child) != SIGNET_OK) {
        fprintf(stderr, "netecho: cannot start a worker\n");
        return 0;
    }
    return child;
}

static int supervise(signet_handle directory)
{
    signet_handle workers[WORKERS];
    for (int i = 0; i < WORKERS; ++i) {
        if (!(workers[i] = start_worker(directory)))
            return 1;
    }
    for (int restarts = 0; restarts < RESTARTS_MAX; ++restarts) {
        uint32_t ended = 0;
        int32_t status = 0;
        if (signet_channel_select(workers, WORKERS, SIGNET_WAIT_FOREVER, &ended) != SIGNET_OK)
            return 1;
        signet_child_wait(workers[ended], 0, &status);
        fprintf(stderr, "netecho: a worker ended with status %d; starting another\n", (int)status);
        signet_handle_close(workers[ended]);
        if (!(workers[ended] = start_worker(directory)))
            return 1;
    }
    return 0;
}

static TcpConnection_Imp_message reply;
static TcpConnection_Send echo;

static int work(signet_handle directory)
{
    signet_handle listener = open_path(directory, "/service/net/http", TcpListener_descriptor, TcpListener_DESCRIPTOR_SIZE);
    if (!listener)
        return 1;
    fprintf(stderr, "netecho: a worker opened /service/net/http\n");
    // Endpoint 0 is the listener with an Accept outstanding; the others are
    // clients, each with a Receive outstanding.
    signet_handle ends[1 + CLIENTS_MAX] = { listener };
    uint32_t count = 1;
    TcpListener_Imp_send_Accept(listener);
    TcpConnection_Receive receive = { .max = sizeof echo.data.data };
    for (;;) {
        uint32_t ready = 0;
        if (signet_channel_select(ends, count, SIGNET_WAIT_FOREVER, &ready) != SIGNET_OK)
            return 1;
        if (ready == 0) {
            static TcpListener_Imp_message accepted;
            if (TcpListener_Imp_recv(listener, &accepted) != TcpListener_Imp_Accepted)
                return 1;
            signet_handle client = accepted.as.Accepted.connection;
            if (count == 1 + CLIENTS_MAX || TcpConnection_Imp_send_Receive_message(client, &receive) != SIGNET_OK)
                signet_handle_close(client);
            else
                ends[count++] = client;
            TcpListener_Imp_send_Accept(listener);
            continue;
        }
        signet_handle client = ends[ready];
        bool keep = TcpConnection_Imp_recv(client, &reply) == TcpConnection_Imp_Received;
        if (keep) {
            uint32_t length = reply.as.Received.data.length;
            if (length >= 5 && memcmp(reply.as.Received.data.data, "crash", 5) == 0)
                __builtin_trap();
            keep = !(length >= 3 && memcmp(reply.as.Received.data.data, "bye", 3) == 0);
            if (keep) {
                echo.data.length = length;
                memcpy(echo.data.data, reply.as.Received.data.data, length);
                keep = TcpConnection_Imp_call_Send(client, &echo, &reply) == TcpConnection_Imp_Sent
                    && TcpConnection_Imp_send_Receive_message(client, &receive) == SIGNET_OK;
            }
        }
        if (!keep) {
            signet_handle_close(client);
            ends[ready] = ends[--count];
        }
    }
}

int main(int argc, char** argv)
{
    signet_handle directory = 0;
    if (signet_startup_handle(0, &directory) != SIGNET_OK) {
        fprintf(stderr, "netecho: started without a Directory connection\n");
        return 1;
    }
    return argc > 1 && strcmp(argv[1], "worker") == 0 ? work(directory) : supervise(directory);
}
