// A chain of SIPs. The head (started with no endpoints) creates a channel,
// starts the next link as its child with the exporter end, and each link does
// the same until the chain is N long. Requests then travel down to the tail
// and the answers back up, one channel at a time. Finally the head sends an
// endpoint down the chain inside a message: every link hands it on, the tail
// keeps it, and from then on head and tail talk directly.
//
//   signet run build/examples/chain.wasm [LENGTH [REQUESTS]]
//
// The program starts its links by its own name, "chain", which `signet run`
// registers for the module it runs.
#include <signet/abi.h>

#include "chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(char const* what)
{
    fprintf(stderr, "chain: %s\n", what);
    exit(1);
}

// Starts the link at `depth` with the exporter end of a new channel; returns the importer end.
static signet_handle start_link(uint32_t depth, uint32_t length, signet_handle* child)
{
    signet_handle importer = 0, exporter = 0;
    if (signet_channel_create(Relay_descriptor, Relay_DESCRIPTOR_SIZE, &importer, &exporter) != SIGNET_OK)
        fail("cannot create a channel");
    char args[64];
    int args_length = snprintf(args, sizeof args, "link%c%u%c%u", 0, (unsigned)depth, 0, (unsigned)length);
    if (signet_child_create("chain", 5, &exporter, 1, args, (uint32_t)args_length, child) != SIGNET_OK)
        fail("cannot create the next link; run the module as chain.wasm");
    if (signet_child_start(*child) != SIGNET_OK)
        fail("cannot start the next link");
    return importer;
}

// The tail answers requests, on the chain or directly.
static void answer(char* text, size_t size, uint32_t depth, char const* how, char const* request, uint32_t request_length)
{
    snprintf(text, size, "%.*s, answered %s by SIP %llu at depth %u", (int)request_length, request, how,
        (unsigned long long)signet_self_id(), (unsigned)depth);
}

// A link: serves its upstream neighbour on `upstream`, relaying to `downstream`
// unless it is the tail. The tail may also hold the head's shortcut.
static int link_main(uint32_t depth, uint32_t length)
{
    signet_handle upstream = 0, downstream = 0, child = 0, direct = 0;
    if (signet_startup_handle(0, &upstream) != SIGNET_OK)
        fail("a link needs its upstream endpoint");
    int tail = depth + 1 == length;
    if (!tail)
        downstream = start_link(depth + 1, length, &child);
    char text[128];
    for (;;) {
        // The tail waits on the chain and, once it has one, on the shortcut.
        signet_handle waiting[2] = { upstream, direct };
        uint32_t ready = 0;
        if (signet_channel_select(waiting, direct ? 2 : 1, SIGNET_WAIT_FOREVER, &ready) != SIGNET_OK)
            fail("select failed");
        if (ready == 1) {
            Direct_Exp_message ask;
            switch (Direct_Exp_recv(direct, &ask)) {
            case Direct_Exp_Ask:
                answer(text, sizeof text, depth, "directly", ask.as.Ask.text.data, ask.as.Ask.text.length);
                Direct_Exp_send_Answer(direct, ask.as.Ask.seq, text, (uint32_t)strlen(text));
                break;
            default: // Bye, or the head is gone
                signet_handle_close(direct);
                direct = 0;
                break;
            }
            continue;
        }
        Relay_Exp_message request;
        switch (Relay_Exp_recv(upstream, &request)) {
        case Relay_Exp_Request: {
            if (tail) {
                answer(text, sizeof text, depth, "down the chain", request.as.Request.text.data, request.as.Request.text.length);
                Relay_Exp_send_Reply(upstream, request.as.Request.seq, depth, text, (uint32_t)strlen(text));
                break;
            }
            Relay_Imp_message reply;
            Relay_Imp_send_Request(downstream, request.as.Request.seq, request.as.Request.text.data, request.as.Request.text.length);
            if (Relay_Imp_recv(downstream, &reply) != Relay_Imp_Reply)
                fail("the chain broke below");
            Relay_Exp_send_Reply_message(upstream, &reply.as.Reply);
            break;
        }
        case Relay_Exp_Connect:
            if (tail) {
                // The endpoint arrived as a new handle of this SIP; the head's is gone.
                direct = request.as.Connect.direct;
                Relay_Exp_send_Connected(upstream, depth);
                Direct_Exp_send_Hello(direct, depth);
            } else {
                // Hand it on: the handle leaves this SIP with the message.
                Relay_Imp_message connected;
                Relay_Imp_send_Connect(downstream, request.as.Connect.direct);
                if (Relay_Imp_recv(downstream, &connected) != Relay_Imp_Connected)
                    fail("the chain broke below");
                Relay_Exp_send_Connected(upstream, connected.as.Connected.depth);
            }
            break;
        case Relay_Exp_Bye:
        case Relay_Exp_CLOSED:
            if (!tail) {
                int32_t status = -1;
                Relay_Imp_send_Bye(downstream);
                signet_child_wait(child, SIGNET_WAIT_FOREVER, &status);
                return status;
            }
            return 0;
        default:
            fail("receive failed");
        }
    }
}

int main(int argc, char** argv)
{
    if (signet_startup_handle_count() == 1 && argc == 4 && strcmp(argv[1], "link") == 0)
        return link_main((uint32_t)atoi(argv[2]), (uint32_t)atoi(argv[3]));

    uint32_t length = argc > 1 ? (uint32_t)atoi(argv[1]) : 8;
    uint32_t requests = argc > 2 ? (uint32_t)atoi(argv[2]) : 3;
    if (length < 2 || length > 1000)
        fail("the chain is 2 to 1000 SIPs long");

    // 1. Build the chain: this SIP is depth 0 and starts depth 1, which starts depth 2, ...
    signet_handle child = 0;
    signet_handle chain = start_link(1, length, &child);
    printf("chain: %u SIPs, the head is SIP %llu\n", (unsigned)length, (unsigned long long)signet_self_id());

    // 2. Requests relay down to the tail and back: two messages per link each way.
    char text[64];
    for (uint32_t seq = 0; seq < requests; ++seq) {
        Relay_Imp_message reply;
        int text_length = snprintf(text, sizeof text, "request %u", (unsigned)seq);
        Relay_Imp_send_Request(chain, seq, text, (uint32_t)text_length);
        if (Relay_Imp_recv(chain, &reply) != Relay_Imp_Reply || reply.as.Reply.seq != seq)
            fail("no reply from the chain");
        printf("%.*s (%u channels each way)\n", (int)reply.as.Reply.text.length, reply.as.Reply.text.data,
            (unsigned)reply.as.Reply.depth);
    }

    // 3. Send the exporter end of a new channel down the chain; the tail keeps it.
    signet_handle direct = 0, direct_exporter = 0;
    if (signet_channel_create(Direct_descriptor, Direct_DESCRIPTOR_SIZE, &direct, &direct_exporter) != SIGNET_OK)
        fail("cannot create the shortcut");
    Relay_Imp_message connected;
    Relay_Imp_send_Connect(chain, direct_exporter);
    if (Relay_Imp_recv(chain, &connected) != Relay_Imp_Connected)
        fail("the shortcut did not reach the tail");
    Direct_Imp_message hello;
    if (Direct_Imp_recv(direct, &hello) != Direct_Imp_Hello)
        fail("the tail did not say hello");
    printf("the shortcut travelled down %u links; the tail answers directly now\n", (unsigned)hello.as.Hello.depth);
    for (uint32_t seq = 0; seq < requests; ++seq) {
        Direct_Imp_message answer_message;
        int text_length = snprintf(text, sizeof text, "question %u", (unsigned)seq);
        Direct_Imp_send_Ask(direct, seq, text, (uint32_t)text_length);
        if (Direct_Imp_recv(direct, &answer_message) != Direct_Imp_Answer)
            fail("no answer on the shortcut");
        printf("%.*s\n", (int)answer_message.as.Answer.text.length, answer_message.as.Answer.text.data);
    }

    // 4. Goodbye: the shortcut, then the chain, link by link.
    Direct_Imp_send_Bye(direct);
    Relay_Imp_send_Bye(chain);
    int32_t status = -1;
    signet_child_wait(child, SIGNET_WAIT_FOREVER, &status);
    printf("chain: all links ended, status %d\n", (int)status);
    return status;
}
