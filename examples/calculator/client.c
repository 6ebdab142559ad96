// The calculator client: creates a channel, starts a calculator server as its
// child with the exporter end, and asks it a few things.
#include <signet/abi.h>

#include "calculator.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char** argv)
{
    char const* server = argc > 1 ? argv[1] : "calculator-server";
    signet_handle importer, exporter, child;
    if (signet_channel_create(Calculator_descriptor, Calculator_DESCRIPTOR_SIZE, &importer, &exporter) != SIGNET_OK) {
        fprintf(stderr, "client: cannot create a channel\n");
        return 1;
    }
    int32_t status = signet_child_create(server, (uint32_t)strlen(server), &exporter, 1, "", 0, &child);
    if (status != SIGNET_OK) {
        fprintf(stderr, "client: cannot create '%s' (status %d); run with --program %s=server.wasm\n", server, (int)status, server);
        return 1;
    }
    signet_child_start(child);

    int32_t pairs[][2] = { { 2, 40 }, { -7, 7 }, { 2147483647, 1 } };
    for (unsigned i = 0; i < sizeof pairs / sizeof pairs[0]; ++i) {
        Calculator_Imp_send_Add(importer, pairs[i][0], pairs[i][1]);
        Calculator_Imp_message reply;
        switch (Calculator_Imp_recv(importer, &reply)) {
        case Calculator_Imp_Sum:
            printf("%d + %d = %lld\n", (int)pairs[i][0], (int)pairs[i][1], (long long)reply.as.Sum.value);
            break;
        case Calculator_Imp_Overflow:
            printf("%d + %d overflows\n", (int)pairs[i][0], (int)pairs[i][1]);
            break;
        default:
            fprintf(stderr, "client: unexpected reply (status %d)\n", (int)reply.status);
            return 1;
        }
    }
    Calculator_Imp_send_Describe(importer, "client", 6);
    Calculator_Imp_message text;
    if (Calculator_Imp_recv(importer, &text) == Calculator_Imp_Text)
        printf("%.*s\n", (int)text.as.Text.text.length, text.as.Text.text.data);
    Calculator_Imp_send_Bye(importer);
    int32_t exit_status = -1;
    signet_child_wait(child, SIGNET_WAIT_FOREVER, &exit_status);
    printf("server exited with status %d\n", (int)exit_status);
    return exit_status;
}
