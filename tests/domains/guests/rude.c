// Breaks the Calculator protocol: a second Add before the answer to the first.
// The kernel must stop it, wherever it runs.
#include <signet/abi.h>

#include "calculator.h"

#include <stdio.h>

int main(void)
{
    signet_handle importer, exporter;
    if (signet_channel_create(Calculator_descriptor, Calculator_DESCRIPTOR_SIZE, &importer, &exporter) != SIGNET_OK)
        return 1;
    printf("first Add: status %d\n", (int)Calculator_Imp_send_Add(importer, 1, 2));
    fflush(stdout);
    Calculator_Imp_send_Add(importer, 3, 4);
    printf("the kernel let a second Add through\n");
    return 0;
}
