// The greeter server: starts its clients as children, one channel each, and
// serves them all at once with select. One client ("rude") sends a second
// Hello without waiting for its Greeting: the kernel stops that client for
// the protocol violation and reports it, its channel closes, and the server
// simply goes on serving the others, including one that starts afterwards.
//
//   signet run --program greeter-client=build/examples/protocol_client.wasm build/examples/protocol_server.wasm
#include <signet/abi.h>

#include "greeter.h"

#include <stdio.h>
#include <string.h>

enum { MAX_CLIENTS = 8 };

static signet_handle s_endpoints[MAX_CLIENTS];
static signet_handle s_children[MAX_CLIENTS];
static char const* s_names[MAX_CLIENTS];
static unsigned s_greeted[MAX_CLIENTS];
static unsigned s_open;

// Starts the client program with the importer end of a new channel.
static int start_client(char const* program, char const* name, char const* manner)
{
    signet_handle importer = 0, exporter = 0, child = 0;
    if (signet_channel_create(Greeter_descriptor, Greeter_DESCRIPTOR_SIZE, &importer, &exporter) != SIGNET_OK)
        return 0;
    char args[64];
    int length = snprintf(args, sizeof args, "%s%c%s", name, 0, manner);
    int32_t status = signet_child_create(program, (uint32_t)strlen(program), &importer, 1, args, (uint32_t)length, &child);
    if (status != SIGNET_OK) {
        fprintf(stderr, "greeter: cannot create '%s' (status %d); run with --program %s=protocol_client.wasm\n", program, (int)status, program);
        return 0;
    }
    signet_child_start(child);
    s_endpoints[s_open] = exporter;
    s_children[s_open] = child;
    s_names[s_open] = name;
    s_greeted[s_open] = 0;
    ++s_open;
    return 1;
}

// The client at `index` left: report how, and keep the open ones first.
static void client_left(unsigned index, char const* how)
{
    int32_t status = -1;
    signet_child_wait(s_children[index], SIGNET_WAIT_FOREVER, &status);
    printf("greeter: %s %s after %u greeting(s); it ended with status %d%s\n", s_names[index], how, s_greeted[index], (int)status,
        status == 134 ? " (stopped by the kernel)" : "");
    signet_handle_close(s_endpoints[index]);
    signet_handle_close(s_children[index]);
    --s_open;
    s_endpoints[index] = s_endpoints[s_open];
    s_children[index] = s_children[s_open];
    s_names[index] = s_names[s_open];
    s_greeted[index] = s_greeted[s_open];
}

int main(int argc, char** argv)
{
    char const* program = argc > 1 ? argv[1] : "greeter-client";
    if (!start_client(program, "ada", "polite") || !start_client(program, "bob", "rude") || !start_client(program, "cy", "polite"))
        return 1;
    int late_started = 0;
    unsigned served = 0;
    while (s_open) {
        uint32_t index = 0;
        Greeter_Exp_message message;
        switch (Greeter_Exp_select_recv(s_endpoints, s_open, SIGNET_WAIT_FOREVER, &index, &message)) {
        case Greeter_Exp_Hello: {
            char text[96];
            int length = snprintf(text, sizeof text, "Hello, %.*s! (greeting %u of this server)", (int)message.as.Hello.name.length,
                message.as.Hello.name.data, ++served);
            // A client that broke the protocol may be gone by now: then this is CLOSED, and its end shows it next.
            if (Greeter_Exp_send_Greeting(s_endpoints[index], text, (uint32_t)length) == SIGNET_OK)
                ++s_greeted[index];
            break;
        }
        case Greeter_Exp_Bye:
            client_left(index, "said goodbye");
            // One more client, after the rude one is gone: the server is none the worse.
            if (!late_started && s_open < MAX_CLIENTS) {
                late_started = 1;
                if (start_client(program, "dee", "polite"))
                    printf("greeter: a new client, dee, arrives\n");
            }
            break;
        case Greeter_Exp_CLOSED:
            client_left(index, "left without a word");
            break;
        default:
            fprintf(stderr, "greeter: receive failed with status %d\n", (int)message.status);
            return 1;
        }
    }
    printf("greeter: served %u greetings; no clients left\n", served);
    return 0;
}
