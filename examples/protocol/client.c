// A greeter client: says hello a few times and leaves. A "rude" one sends its
// second Hello without waiting for the first Greeting, which the Greeter
// contract does not allow; the kernel stops it there.
//   greeter-client NAME polite|rude
#include <signet/abi.h>

#include "greeter.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char** argv)
{
    char const* name = argc > 1 ? argv[1] : "anonymous";
    int rude = argc > 2 && strcmp(argv[2], "rude") == 0;
    signet_handle server = 0;
    if (signet_startup_handle(0, &server) != SIGNET_OK) {
        fprintf(stderr, "greeter-client: started without a server endpoint\n");
        return 1;
    }
    uint32_t name_length = (uint32_t)strlen(name);
    for (int i = 0; i < 2; ++i) {
        Greeter_Imp_message reply;
        Greeter_Imp_send_Hello(server, name, name_length);
        if (rude)
            Greeter_Imp_send_Hello(server, name, name_length); // not allowed: the server's turn
        if (Greeter_Imp_recv(server, &reply) != Greeter_Imp_Greeting)
            return 2;
        printf("%s heard: %.*s\n", name, (int)reply.as.Greeting.text.length, reply.as.Greeting.text.data);
    }
    Greeter_Imp_send_Bye(server);
    return 0;
}
