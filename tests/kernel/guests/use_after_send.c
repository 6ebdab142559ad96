// Sends a block to itself, then touches it through the old pointer: the
// kernel must trap this SIP with "use after send". With an argument "small",
// the block is under a page (the copy path), which must behave the same.
#include <signet/abi.h>

#include "blockpipe.h"

static char s_memory_base[1];

void _start(void)
{
    signet_handle importer, exporter, block;
    uint32_t offset;
    uint32_t size = signet_arg_count() > 1 ? 48 : 256 * 1024;
    if (signet_channel_create(BlockPipe_descriptor, BlockPipe_DESCRIPTOR_SIZE, &importer, &exporter) != SIGNET_OK)
        signet_exit(10);
    if (signet_block_alloc(size, &block, &offset) != SIGNET_OK)
        signet_exit(11);
    volatile uint8_t* data = (volatile uint8_t*)(s_memory_base - (uintptr_t)s_memory_base) + offset;
    data[0] = 42;
    int32_t status = size < 64 ? BlockPipe_Imp_send_Small(importer, block) : BlockPipe_Imp_send_Data(importer, block);
    if (status != SIGNET_OK)
        signet_exit(12);
    uint32_t written;
    signet_stdio_write(SIGNET_STDOUT, "sent\n", 5, &written);
    data[0] = 43; // Use after send: traps.
    signet_exit(13);
}
