// The network driver SIP: the only program that holds the socket of the TCP
// port its manifest declares (a tcp-listen resource, "http"), and the bridge
// from it into channels. It registers /service/net/http with the directory;
// every Open of that path gives the opener a TcpListener of its own, and each
// Accept on one is answered with the next client's TcpConnection. The SIP has
// three kinds of threads (docs/network.md):
//
//  - the main thread serves the directory's provider channel (Open) and every
//    listener (Accept), and notices a listener's importer leave;
//  - the acceptor thread takes clients from the port (net_accept) while an
//    Accept waits and a connection slot is free, and hands each to the
//    listener that asked first;
//  - one thread per connection serves its TcpConnection (Receive, Send,
//    Finish) with net_recv, net_send and net_shutdown, and closes the socket
//    when the importer closes its end.
//
// A SIP's threads never run at the same instant and switch only when one
// blocks (see <signet/thread.h>), so the tables below, touched only between
// blocking calls, need no lock.
#include <signet/abi.h>
#include <signet/thread.h>

#include "Directory.h"
#include "Tcp.h"
#include "text.h"

#define NET_RESOURCE "http" /* the manifest's tcp-listen resource */
#define NET_SERVICE_PATH "/service/net/" NET_RESOURCE

/* Named limits, each with its policy when reached (docs/network.md). */
#define NET_CONNECTIONS_MAX 128u /* at once; then new clients wait in the port's backlog */
#define NET_LISTENERS_MAX 63u    /* TcpListener channels at once, with the provider the 64 of one select; then Open is declined */
#define NET_IO_MAX 16384u        /* the bytes of one Received or Send (the contract's bound) */
#define NET_PEER_MAX 64u         /* the peer's "address:port" (the contract's bound) */

/* Timeouts. A client that sends nothing for NET_RECEIVE_TIMEOUT_NS while the
 * importer waits for its bytes, or reads nothing for NET_SEND_TIMEOUT_NS while
 * the driver sends, fails the request with TIMED_OUT: no client holds a thread
 * for long by stalling. An importer that leaves (or is killed) mid-request
 * frees the connection before the timeout: a wait for the client's bytes is one
 * channel_select on the socket and the importer's end together, and a wait for
 * the client to take bytes (which a select cannot wait for) is cut into
 * NET_WATCH_NS slices, between which the thread looks at the importer's end. */
#define NET_RECEIVE_TIMEOUT_NS (30LL * 1000 * 1000 * 1000)
#define NET_SEND_TIMEOUT_NS (10LL * 1000 * 1000 * 1000)
#define NET_WATCH_NS (250LL * 1000 * 1000)

#define NET_STACK_SIZE (16u * 1024u)
#define NET_EXIT_BUG 70 /* an ABI call refused a handle or buffer of the driver's own */

/* ---- Listeners: the TcpListener channels importers opened ---- */

typedef struct listener {
    signet_handle endpoint; /* the Exp end; 0: a free slot */
    bool pending;           /* an Accept waits in the queue for the acceptor */
    bool answering;         /* the acceptor answers its Accept (and may block meanwhile) */
    bool gone;              /* the importer closed its end while pending or answering: the acceptor frees the slot */
} listener;

static listener listeners[NET_LISTENERS_MAX];

/* The Accepts that wait, in the order they came: slots of `listeners`. */
static uint32_t pending[NET_LISTENERS_MAX];
static uint32_t pending_first, pending_count;

/* The acceptor sleeps on this word until an Accept comes or a connection slot frees up. */
static uint32_t acceptor_wakeups;

static void wake_acceptor(void)
{
    uint32_t woken;
    acceptor_wakeups++;
    (void)signet_futex_wake(&acceptor_wakeups, 1, &woken);
}

static void free_listener(uint32_t index)
{
    signet_handle_close(listeners[index].endpoint);
    listeners[index] = (listener) { 0 };
}

/* ---- Connections: a slot, its thread and its buffers each ---- */

typedef enum connection_state {
    CONNECTION_FREE,     /* no client; its thread (if started) sleeps on `state` */
    CONNECTION_ASSIGNED, /* the acceptor gave it a client; its thread serves it */
} connection_state;

typedef struct connection {
    uint32_t state; /* a connection_state: a futex word its thread sleeps on */
    signet_handle socket;
    signet_handle endpoint; /* the TcpConnection Exp end */
    bool thread_started;
    signet_handle thread;
    TcpConnection_Exp_message request;
    TcpConnection_Received received;
} connection;

static connection connections[NET_CONNECTIONS_MAX];
static uint32_t connection_count; /* slots not FREE */
static _Alignas(16) uint8_t connection_stacks[NET_CONNECTIONS_MAX][NET_STACK_SIZE];

/* Whether the importer closed its end while the driver works on its request.
 * During a request it is the driver's turn, so the importer can send nothing:
 * the end is ready only once the importer is gone. */
static bool importer_gone(connection* c)
{
    uint32_t ready = 0;
    return signet_channel_select(&c->endpoint, 1, 0, &ready) == SIGNET_OK;
}

typedef enum served {
    SERVED,        /* answered; the next request may come */
    IMPORTER_GONE, /* the importer left mid-request: the connection is over */
} served;

static served serve_receive(connection* c)
{
    uint32_t max = c->request.as.Receive.max;
    if (max == 0) {
        (void)TcpConnection_Exp_send_Failed(c->endpoint, SIGNET_INVALID_ARGUMENT);
        return SERVED;
    }
    if (max > NET_IO_MAX)
        max = NET_IO_MAX;
    uint64_t deadline = 0;
    (void)signet_time_now(SIGNET_CLOCK_MONOTONIC, &deadline);
    deadline += NET_RECEIVE_TIMEOUT_NS;
    for (int64_t timeout = NET_RECEIVE_TIMEOUT_NS;;) {
        // Wait for the client's bytes (or the end of its stream), or for the
        // importer to leave; the select returns at once if the bytes are there.
        signet_handle both[2] = { c->endpoint, c->socket };
        uint32_t ready = 0, received = 0;
        int32_t status = signet_channel_select(both, 2, timeout, &ready);
        if (status == SIGNET_OK && ready == 0)
            return IMPORTER_GONE;
        if (status == SIGNET_OK)
            status = signet_net_recv(c->socket, c->received.data.data, max, 0, &received);
        if (status == SIGNET_TIMED_OUT) {
            uint64_t now = 0;
            (void)signet_time_now(SIGNET_CLOCK_MONOTONIC, &now);
            if (now < deadline) {
                timeout = (int64_t)(deadline - now); // ready, then nothing to read after all: again
                continue;
            }
        }
        if (status == SIGNET_OK && received == 0) {
            (void)TcpConnection_Exp_send_Ended(c->endpoint);
            return SERVED;
        }
        if (status == SIGNET_OK) {
            c->received.data.length = received;
            (void)TcpConnection_Exp_send_Received_message(c->endpoint, &c->received);
            return SERVED;
        }
        if (status != SIGNET_TIMED_OUT && status != SIGNET_CLOSED) {
            // BAD_HANDLE, OUT_OF_BOUNDS, INVALID_ARGUMENT: the driver's own socket
            // and buffer, so a bug here; the importer is told, and the log says which.
            log_status("net: ", "receiving from a client failed: ", status);
        }
        (void)TcpConnection_Exp_send_Failed(c->endpoint, status);
        return SERVED;
    }
}

static served serve_send(connection* c)
{
    uint8_t const* data = c->request.as.Send.data.data;
    uint32_t left = c->request.as.Send.data.length;
    // The timeout counts time without progress: a slow client that reads goes on.
    for (int64_t stalled = 0; left > 0;) {
        uint32_t sent = 0;
        int32_t status = signet_net_send(c->socket, data, left, NET_WATCH_NS, &sent);
        if (sent > left)
            sent = left;
        data += sent;
        left -= sent;
        if (status == SIGNET_OK)
            break;
        if (status == SIGNET_TIMED_OUT) {
            if (importer_gone(c))
                return IMPORTER_GONE;
            stalled = sent ? 0 : stalled + NET_WATCH_NS;
            if (stalled < NET_SEND_TIMEOUT_NS)
                continue;
        } else if (status != SIGNET_CLOSED) {
            log_status("net: ", "sending to a client failed: ", status);
        }
        (void)TcpConnection_Exp_send_Failed(c->endpoint, status);
        return SERVED;
    }
    (void)TcpConnection_Exp_send_Sent(c->endpoint);
    return SERVED;
}

static void serve_finish(connection* c)
{
    int32_t status = signet_net_shutdown(c->socket);
    if (status == SIGNET_OK) {
        (void)TcpConnection_Exp_send_Finished(c->endpoint);
        return;
    }
    if (status != SIGNET_CLOSED)
        log_status("net: ", "finishing a connection failed: ", status);
    (void)TcpConnection_Exp_send_Failed(c->endpoint, status);
}

/* Serves one client until its importer closes its end (or breaks the protocol). */
static void serve_connection(connection* c)
{
    for (;;) {
        served result = SERVED;
        switch (TcpConnection_Exp_recv(c->endpoint, &c->request)) {
        case TcpConnection_Exp_Receive:
            result = serve_receive(c);
            break;
        case TcpConnection_Exp_Send:
            result = serve_send(c);
            break;
        case TcpConnection_Exp_Finish:
            serve_finish(c);
            break;
        default: // CLOSED: the importer is done with it; FAILED: it broke the contract.
            return;
        }
        if (result == IMPORTER_GONE)
            return;
    }
}

/* A connection slot's thread: serves each client the acceptor assigns to its slot. */
static void connection_thread(void* argument)
{
    connection* c = (connection*)argument;
    for (;;) {
        while (c->state != CONNECTION_ASSIGNED)
            (void)signet_futex_wait(&c->state, CONNECTION_FREE, SIGNET_WAIT_FOREVER);
        serve_connection(c);
        // Closing the socket closes the TCP connection (the client reads its end,
        // or a reset if it had sent bytes nobody read).
        signet_handle_close(c->socket);
        signet_handle_close(c->endpoint);
        c->socket = c->endpoint = 0;
        c->state = CONNECTION_FREE;
        connection_count--;
        wake_acceptor(); // it may wait for a free slot
    }
}

static connection* free_connection(void)
{
    for (uint32_t i = 0; i < NET_CONNECTIONS_MAX; ++i) {
        if (connections[i].state == CONNECTION_FREE)
            return &connections[i];
    }
    return 0;
}

/* Starts the slot's thread if it has none yet. */
static int32_t start_connection_thread(connection* c)
{
    if (c->thread_started)
        return SIGNET_OK;
    int32_t status = signet_thread_start(connection_thread, c, connection_stacks[c - connections], NET_STACK_SIZE, &c->thread);
    c->thread_started = status == SIGNET_OK;
    return status;
}

/* Gives slot `c`, whose thread is started, the client's socket and the channel's Exp end. */
static void assign_connection(connection* c, signet_handle socket, signet_handle endpoint)
{
    uint32_t woken;
    c->socket = socket;
    c->endpoint = endpoint;
    c->state = CONNECTION_ASSIGNED;
    connection_count++;
    (void)signet_futex_wake(&c->state, 1, &woken);
}

/* ---- The acceptor ---- */

static signet_handle port; /* net_listen's handle */

/* Takes the first Accept out of the queue: the acceptor answers it now. Its
 * importer may ask again as soon as the answer is out, and the main thread
 * then queue the listener anew while `answering` still holds the slot. */
static uint32_t pop_pending(void)
{
    uint32_t index = pending[pending_first];
    pending_first = (pending_first + 1) % NET_LISTENERS_MAX;
    pending_count--;
    listeners[index].pending = false;
    listeners[index].answering = true;
    return index;
}

/* The Accept of listener `index` is answered (or dropped): its slot is freed
 * if its importer left meanwhile. */
static void answered(uint32_t index)
{
    listener* l = &listeners[index];
    l->answering = false;
    if (l->gone && !l->pending)
        free_listener(index);
}

/* The first Accept that waits, taken out of the queue, after dropping those
 * whose importer left; NET_LISTENERS_MAX if none waits. */
static uint32_t next_accept(void)
{
    while (pending_count) {
        uint32_t index = pop_pending();
        if (!listeners[index].gone)
            return index;
        answered(index);
    }
    return NET_LISTENERS_MAX;
}

/* Whether an Accept of an importer still there waits (dropping those of importers that left). */
static bool accept_waits(void)
{
    while (pending_count) {
        uint32_t index = pending[pending_first];
        if (!listeners[index].gone)
            return true;
        answered(pop_pending());
    }
    return false;
}

/* A client the port gave: its socket and peer, until an Accept takes it. */
typedef struct accepted_client {
    signet_handle socket; /* 0: none */
    char peer[NET_PEER_MAX];
    uint32_t peer_length;
} accepted_client;

/* Gives `client` to the first waiting Accept whose importer is still there, on
 * the free slot `c`. If every importer that asked has left, the client stays
 * in `client` for the next Accept. Each Accept leaves the queue before its
 * answer goes out: once answered, its importer may ask again at once, and the
 * main thread queue the listener anew. */
static void hand_over(accepted_client* client, connection* c)
{
    for (uint32_t index; client->socket && (index = next_accept()) != NET_LISTENERS_MAX;) {
        signet_handle importer = 0, exporter = 0;
        int32_t status = start_connection_thread(c);
        if (status == SIGNET_OK)
            status = signet_channel_create(TcpConnection_descriptor, TcpConnection_DESCRIPTOR_SIZE, &importer, &exporter);
        if (status != SIGNET_OK) {
            // No thread or no channel (the SIP's limits): this client cannot be
            // served. It is closed, and the importer told why.
            log_status("net: ", "cannot serve a client (its connection is closed): ", status);
            signet_handle_close(client->socket);
            client->socket = 0;
            (void)TcpListener_Exp_send_Failed(listeners[index].endpoint, status);
            answered(index);
            return;
        }
        status = TcpListener_Exp_send_Accepted(listeners[index].endpoint, importer, client->peer, client->peer_length);
        if (status != SIGNET_OK) {
            // The importer left after its Accept (CLOSED): the next one gets the client.
            signet_handle_close(importer);
            signet_handle_close(exporter);
            answered(index);
            continue;
        }
        answered(index);
        // The importer's first request waits in the channel until the slot's thread takes it.
        assign_connection(c, client->socket, exporter);
        client->socket = 0;
    }
}

/* Takes a client from the port whenever an Accept waits and a connection slot is
 * free; otherwise clients wait in the port's backlog in the kernel. */
static void acceptor_thread(void* argument)
{
    (void)argument;
    static accepted_client client;
    for (;;) {
        uint32_t seen = acceptor_wakeups;
        connection* c = free_connection();
        if (!c || !accept_waits()) {
            (void)signet_futex_wait(&acceptor_wakeups, seen, SIGNET_WAIT_FOREVER);
            continue;
        }
        if (!client.socket) {
            int32_t status = signet_net_accept(port, SIGNET_WAIT_FOREVER, &client.socket, client.peer, NET_PEER_MAX, &client.peer_length);
            if (status != SIGNET_OK) {
                client.socket = 0;
                if (status != SIGNET_LIMIT && status != SIGNET_IO) {
                    log_status("net: ", "accepting a client failed: ", status);
                    signet_exit(NET_EXIT_BUG);
                }
                // The SIP's handle table is full, or the host is out of file
                // descriptors: the client stays queued. The first importer that
                // asked is told; a pause keeps one that asks again at once from spinning.
                log_status("net: ", "cannot accept a client now: ", status);
                uint32_t index = next_accept();
                if (index != NET_LISTENERS_MAX) {
                    (void)TcpListener_Exp_send_Failed(listeners[index].endpoint, status);
                    answered(index);
                }
                (void)signet_sleep(100u * 1000 * 1000);
                continue;
            }
            if (client.peer_length > NET_PEER_MAX)
                client.peer_length = NET_PEER_MAX;
        }
        hand_over(&client, c);
    }
}

/* ---- The directory: /service/net/http ---- */

static signet_handle provider; /* the Exp end of the provider channel; 0 once the directory is gone */

static void decline(char const* reason)
{
    (void)ServiceProvider_Exp_send_Declined(provider, reason, text_length(reason));
}

/* One request of the directory: an Open gets a new TcpListener. */
static void serve_provider(void)
{
    ServiceProvider_Exp_message message;
    switch (ServiceProvider_Exp_recv(provider, &message)) {
    case ServiceProvider_Exp_Open: {
        uint32_t index = 0;
        while (index < NET_LISTENERS_MAX && listeners[index].endpoint)
            ++index;
        if (index == NET_LISTENERS_MAX) {
            decline("net serves as many listeners as it can (63)");
            return;
        }
        signet_handle importer = 0, exporter = 0;
        if (signet_channel_create(TcpListener_descriptor, TcpListener_DESCRIPTOR_SIZE, &importer, &exporter) != SIGNET_OK) {
            decline("net cannot create a channel (its channel limits)");
            return;
        }
        if (ServiceProvider_Exp_send_Opened(provider, importer) != SIGNET_OK) {
            signet_handle_close(importer);
            signet_handle_close(exporter);
            return;
        }
        listeners[index] = (listener) { .endpoint = exporter };
        return;
    }
    case ServiceProvider_Exp_Connect:
        // A TcpListener's importer speaks first, so its Exp end cannot travel: a
        // Bind cannot reach here, but a hostile directory could send one.
        signet_handle_close(message.as.Connect.endpoint);
        decline("TcpListener clients speak first: Open " NET_SERVICE_PATH ", do not Bind it");
        return;
    default:
        // The directory is gone: net serves the listeners it has.
        signet_handle_close(provider);
        provider = 0;
        return;
    }
}

/* Registers NET_SERVICE_PATH over `directory`. False, with the reason logged, if it cannot. */
static bool register_service(signet_handle directory)
{
    signet_handle provider_imp = 0, provider_exp = 0;
    int32_t status = signet_channel_create(ServiceProvider_descriptor, ServiceProvider_DESCRIPTOR_SIZE, &provider_imp, &provider_exp);
    if (status != SIGNET_OK) {
        log_status("net: ", "cannot register " NET_SERVICE_PATH ": no channel for the directory: ", status);
        return false;
    }
    Directory_Imp_message answer;
    Directory_Imp_tag tag = Directory_Imp_FAILED;
    if (Directory_Imp_send_Register(directory, NET_SERVICE_PATH, sizeof NET_SERVICE_PATH - 1, provider_imp) == SIGNET_OK)
        tag = Directory_Imp_recv(directory, &answer);
    else
        signet_handle_close(provider_imp);
    if (tag == Directory_Imp_Registered) {
        provider = provider_exp;
        return true;
    }
    signet_handle_close(provider_exp);
    log_line line = { .length = 0 };
    if (tag == Directory_Imp_Refused) {
        put(&line, "net: the directory refused " NET_SERVICE_PATH " (code ");
        put_number(&line, answer.as.Refused.code);
        put(&line, "): ");
        put_bytes(&line, answer.as.Refused.reason.data, answer.as.Refused.reason.length);
    } else {
        put(&line, "net: cannot register " NET_SERVICE_PATH ": the directory connection is ");
        put(&line, tag == Directory_Imp_CLOSED ? "closed" : "broken");
    }
    log_write(&line);
    return false;
}

/* Takes the port's socket from the kernel. False, with the reason logged, if it cannot. */
static bool listen_on_port(void)
{
    int32_t status = signet_net_listen(NET_RESOURCE, sizeof NET_RESOURCE - 1, &port);
    if (status == SIGNET_OK)
        return true;
    char const* why = "";
    switch (status) {
    case SIGNET_DENIED:
        why = " (this program's manifest declares no tcp-listen resource '" NET_RESOURCE "')";
        break;
    case SIGNET_NOT_FOUND:
        why = " (the host bound no address to it: start the system with --listen " NET_RESOURCE "=ADDRESS:PORT)";
        break;
    case SIGNET_WOULD_BLOCK:
        why = " (another driver holds it)";
        break;
    case SIGNET_LIMIT:
        why = " (the handle table is full)";
        break;
    default:
        break;
    }
    log_line line = { .length = 0 };
    put(&line, "net: cannot listen on the port '" NET_RESOURCE "': ");
    put(&line, status_name(status));
    put(&line, why);
    log_write(&line);
    return false;
}

/* Serves the directory's Opens and every listener's Accepts until the directory
 * and every listener are gone. */
static void serve_listeners(void)
{
    for (;;) {
        signet_handle endpoints[1 + NET_LISTENERS_MAX];
        uint32_t slots[1 + NET_LISTENERS_MAX];
        uint32_t count = 0;
        if (provider) {
            endpoints[count] = provider;
            slots[count++] = NET_LISTENERS_MAX;
        }
        for (uint32_t i = 0; i < NET_LISTENERS_MAX; ++i) {
            if (listeners[i].endpoint && !listeners[i].gone) {
                endpoints[count] = listeners[i].endpoint;
                slots[count++] = i;
            }
        }
        if (count == 0)
            return;
        uint32_t ready = 0;
        int32_t status = signet_channel_select(endpoints, count, SIGNET_WAIT_FOREVER, &ready);
        if (status != SIGNET_OK || ready >= count) {
            log_status("net: ", "waiting for requests failed: ", status);
            signet_exit(NET_EXIT_BUG);
        }
        if (slots[ready] == NET_LISTENERS_MAX) {
            serve_provider();
            continue;
        }
        uint32_t index = slots[ready];
        listener* l = &listeners[index];
        TcpListener_Exp_message message;
        if (TcpListener_Exp_recv(l->endpoint, &message) == TcpListener_Exp_Accept) {
            // Its importer can send nothing more until it is answered: only its
            // leaving makes it ready again.
            l->pending = true;
            pending[(pending_first + pending_count) % NET_LISTENERS_MAX] = index;
            pending_count++;
            wake_acceptor();
            continue;
        }
        // The importer closed its end (or broke the contract). If an Accept of its
        // waits or is being answered, the acceptor frees the slot once done with it.
        if (l->pending || l->answering)
            l->gone = true;
        else
            free_listener(index);
    }
}

void _start(void)
{
    static _Alignas(16) uint8_t acceptor_stack[NET_STACK_SIZE];
    signet_handle directory = 0, acceptor = 0;
    if (signet_startup_handle(0, &directory) != SIGNET_OK) {
        log_status("net: ", "started without its directory connection: ", SIGNET_NOT_FOUND);
        signet_exit(1);
    }
    // The port first: /service/net/http is registered only once it can be served.
    if (!listen_on_port() || !register_service(directory))
        signet_exit(1);
    signet_handle_close(directory);
    int32_t status = signet_thread_start(acceptor_thread, 0, acceptor_stack, sizeof acceptor_stack, &acceptor);
    if (status != SIGNET_OK) {
        log_status("net: ", "cannot start the acceptor thread: ", status);
        signet_exit(1);
    }
    (void)signet_debug_log("net: listening on the port '" NET_RESOURCE "'; registered " NET_SERVICE_PATH,
        sizeof "net: listening on the port '" NET_RESOURCE "'; registered " NET_SERVICE_PATH - 1);
    serve_listeners();
    // Nobody can reach the driver any more: it ends once its connections have.
    while (connection_count)
        (void)signet_sleep(100u * 1000 * 1000);
    signet_exit(0);
}
