// The calculator server: serves one client on the endpoint it was started with.
#include <signet/abi.h>

#include "calculator.h"

#include <stdio.h>
#include <string.h>

int main(void)
{
    signet_handle client = 0;
    if (signet_startup_handle(0, &client) != SIGNET_OK) {
        fprintf(stderr, "calculator: started without a client endpoint\n");
        return 1;
    }
    unsigned served = 0;
    for (;;) {
        Calculator_Exp_message request;
        switch (Calculator_Exp_recv(client, &request)) {
        case Calculator_Exp_Add: {
            int64_t sum = (int64_t)request.as.Add.a + request.as.Add.b;
            if (sum > INT32_MAX || sum < INT32_MIN)
                Calculator_Exp_send_Overflow(client);
            else
                Calculator_Exp_send_Sum(client, sum);
            ++served;
            break;
        }
        case Calculator_Exp_Describe: {
            char text[256];
            int length = snprintf(text, sizeof text, "Hello %.*s, I am a calculator in SIP %llu.",
                (int)request.as.Describe.name.length, request.as.Describe.name.data, (unsigned long long)signet_self_id());
            Calculator_Exp_send_Text(client, text, (uint32_t)length);
            ++served;
            break;
        }
        case Calculator_Exp_Bye:
            printf("calculator: served %u requests, goodbye\n", served);
            return 0;
        case Calculator_Exp_CLOSED:
            printf("calculator: client left after %u requests\n", served);
            return 0;
        default:
            fprintf(stderr, "calculator: receive failed with status %d\n", (int)request.status);
            return 1;
        }
    }
}
